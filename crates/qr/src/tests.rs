//! Tests across rendering and decoding, and helpers shared by the modules' own tests.

use crate::{decode_image, render, DecodeLimits, Ecc, Format, Symbol};
use proptest::prelude::*;

pub(crate) const BASE45: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Deterministic pseudo-random bytes (64-bit LCG, high bits): reproducible test images.
pub(crate) struct Lcg(pub u64);

impl Lcg {
    pub(crate) fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
}

/// A deterministic string over the base45 alphabet, like a credential payload.
pub(crate) fn base45_payload(len: usize, seed: u64) -> String {
    let mut rng = Lcg(seed);
    (0..len)
        .map(|_| char::from(BASE45[rng.next() as usize % BASE45.len()]))
        .collect()
}

fn round_trip(text: &str, ecc: Ecc, scale: u32) -> Vec<String> {
    let png = Symbol::encode(text, ecc).unwrap().to_png(scale).unwrap();
    decode_image(&png, &DecodeLimits::default()).unwrap()
}

#[test]
fn round_trips_every_level_and_several_lengths() {
    for ecc in [Ecc::L, Ecc::M, Ecc::Q, Ecc::H] {
        for len in [1, 20, 45, 311, 312, 600, 601, 1000] {
            let text = base45_payload(len, len as u64);
            assert_eq!(round_trip(&text, ecc, 4), [text.as_str()], "{len} at {ecc}");
        }
    }
}

#[test]
fn round_trips_byte_mode_and_scale_one_and_svg_free_render() {
    let text = "qrid: Ünïcode & lower case";
    assert_eq!(round_trip(text, Ecc::M, 4), [text]);
    let text = base45_payload(600, 1);
    assert_eq!(round_trip(&text, Ecc::M, 1), [text.as_str()]);
    let png = render(&text, Ecc::M, 4, Format::Png).unwrap();
    assert_eq!(
        decode_image(&png, &DecodeLimits::default()).unwrap(),
        [text]
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]
    #[test]
    fn round_trips_random_alphanumeric_text(
        text in proptest::collection::vec(proptest::sample::select(BASE45), 1..700)
            .prop_map(|b| String::from_utf8(b).unwrap()),
        ecc in proptest::sample::select(vec![Ecc::L, Ecc::M, Ecc::Q, Ecc::H]),
    ) {
        prop_assert_eq!(round_trip(&text, ecc, 3), vec![text]);
    }
}

/// zbar is a reader written independently of rqrr and of our encoder, so agreement with it
/// shows the symbols follow the standard rather than just our own decoder's reading of it.
#[test]
fn independent_reader_zbarimg_reads_our_png() {
    let present = std::process::Command::new("zbarimg")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        present,
        "zbarimg is not installed (apt-get install zbar-tools): the independent QR reader is part of the test"
    );
    let dir = tempfile::tempdir().unwrap();
    for (len, ecc) in [(1, Ecc::L), (311, Ecc::M), (600, Ecc::M), (900, Ecc::Q)] {
        let text = base45_payload(len, 99 + len as u64);
        let path = dir.path().join(format!("qr-{len}.png"));
        std::fs::write(&path, render(&text, ecc, 4, Format::Png).unwrap()).unwrap();
        let out = std::process::Command::new("zbarimg")
            .args(["--raw", "-q"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "zbarimg failed on {len} chars at {ecc}"
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            stdout.strip_suffix('\n'),
            Some(text.as_str()),
            "{len} at {ecc}"
        );
    }
}
