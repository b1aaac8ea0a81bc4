//! The reference figure for bench/cli.sh: raw ed25519-dalek signing and strict verification
//! over the same number of messages as the CLI run, on all cores (rayon), in this process.
//!
//! `cargo run --release -p qrid-cli --example raw_ed25519 -- 100000`

use qrid_credential::{Signature, SigningKey};
use rayon::prelude::*;
use signature::Signer;
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let key = SigningKey::from_bytes(&[42u8; 32]);
    let vk = key.verifying_key();
    // Messages the size of a credential's Sig_structure (~450 bytes), each different.
    let msgs: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let mut m = vec![0x5Au8; 450];
            m[..8].copy_from_slice(&(i as u64).to_le_bytes());
            m
        })
        .collect();
    let t = Instant::now();
    let sigs: Vec<Signature> = msgs.par_iter().map(|m| key.sign(m)).collect();
    let sign_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let ok = msgs
        .par_iter()
        .zip(sigs.par_iter())
        .filter(|(m, s)| vk.verify_strict(m, s).is_ok())
        .count();
    let verify_s = t.elapsed().as_secs_f64();
    assert_eq!(ok, n);
    println!(
        "{{\"n\":{n},\"threads\":{},\"sign_per_s\":{:.0},\"verify_strict_per_s\":{:.0}}}",
        rayon::current_num_threads(),
        n as f64 / sign_s,
        n as f64 / verify_s
    );
}
