//! The reference for the signing benchmark (bench/sign.sh): how long this machine's SHA-256
//! (the `sha2` crate the service hashes uploads with) takes over a document of N MiB, median of
//! R runs. Usage: sha256_rate [MIB] [RUNS]
use sha2::{Digest, Sha256};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(21);
    let doc: Vec<u8> = (0..mib * 1024 * 1024)
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            // Hash in the 64 KiB pieces an upload arrives in.
            let mut h = Sha256::new();
            for chunk in doc.chunks(64 * 1024) {
                h.update(chunk);
            }
            std::hint::black_box(h.finalize());
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!("{:.2}", times[times.len() / 2]);
}
