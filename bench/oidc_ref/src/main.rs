//! Raw ID token signing rate: `jsonwebtoken::encode` of claims shaped like the service's ID
//! token, with the development keys, on 1 thread and on every core. Usage:
//! `oidc-ref KEY_DIR [SECONDS_PER_FIGURE]`.
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    auth_time: i64,
    nonce: &'a str,
    acr: &'a str,
    amr: [&'a str; 2],
}

fn rate(alg: Algorithm, key: &EncodingKey, threads: usize, secs: f64) -> f64 {
    let claims = Claims {
        iss: "http://127.0.0.1:8080",
        sub: "m3mYk2sL0bYb4l0Wc8VQ9p2C3V1bq8m0x7gX0C0oYtA",
        aud: "c_0123456789abcdef0123456789abcdef",
        iat: 1_790_000_000,
        exp: 1_790_000_600,
        auth_time: 1_790_000_000,
        nonce: "n-0123456789abcdef",
        acr: "urn:qrid:acr:holder-key",
        amr: ["pop", "swk"],
    };
    let mut header = Header::new(alg);
    header.kid = Some("0123456789abcdef0123456789abcdef0123456789a".into());
    let until = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0u64;
                    while start.elapsed() < until {
                        for _ in 0..8 {
                            std::hint::black_box(encode(&header, &claims, key).unwrap());
                        }
                        n += 8;
                    }
                    n
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "keys-dev".into());
    let secs: f64 = args.next().map(|s| s.parse().unwrap()).unwrap_or(2.0);
    let read = |f: &str| std::fs::read(format!("{dir}/{f}")).expect(f);
    let keys = [
        ("RS256", Algorithm::RS256, EncodingKey::from_rsa_pem(&read("oidc-rs256.pem")).unwrap()),
        ("ES256", Algorithm::ES256, EncodingKey::from_ec_pem(&read("oidc-es256.pem")).unwrap()),
        ("EdDSA", Algorithm::EdDSA, EncodingKey::from_ed_pem(&read("oidc-ed25519.pem")).unwrap()),
    ];
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for (name, alg, key) in &keys {
        let one = rate(*alg, key, 1, secs);
        let all = rate(*alg, key, cores, secs);
        println!(
            "raw {name} id_token sign: {one:8.0}/s on 1 thread ({:.1} us each), {all:8.0}/s on {cores} threads",
            1e6 / one
        );
    }
}
