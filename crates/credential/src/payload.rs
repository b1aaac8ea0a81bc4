//! The transport layer of a credential: COSE bytes, zlib when it shrinks them, base45 text.

use crate::base45;
use crate::error::Error;
use flate2::{Decompress, FlushDecompress, Status};
use std::cell::RefCell;

/// The longest payload text accepted: the alphanumeric capacity of a version-40 QR at level L.
pub const MAX_PAYLOAD_CHARS: usize = 4296;
/// The most bytes a credential may decompress to; real ones are under 1 KiB.
pub const MAX_DECOMPRESSED: usize = 16 * 1024;
/// First byte of every zlib stream with a 32 KiB window and deflate (RFC 1950 CMF).
const ZLIB_MAGIC: u8 = 0x78;

/// Prefixes of other QR kinds. A credential never starts with one: its third base45 character
/// is always `F`, `Q` or `G` (the first byte is 0x78 for zlib, 0xD2 for tag 18, 0x84 for an
/// untagged COSE_Sign1).
pub mod prefix {
    /// A qrid login request shown by the OpenID provider.
    pub const LOGIN_REQUEST: &str = "QL1:";
    /// A qrid signature stamp printed on a signed document.
    pub const SIGNATURE_STAMP: &str = "QS1:";
    /// A wallet's live presentation of a credential (docs/credential-format.md, "The live
    /// QR").
    pub const PRESENTATION: &str = "QP1:";
    /// An EU Digital COVID Certificate.
    pub const EU_DCC: &str = "HC1:";
    pub(crate) const ALL: [&str; 4] = [LOGIN_REQUEST, SIGNATURE_STAMP, PRESENTATION, EU_DCC];
}

thread_local! {
    // Compressor and decompressor state is hundreds of KiB; building it per credential would
    // dominate bulk issuance, so each thread keeps one.
    static COMPRESSOR: RefCell<libdeflater::Compressor> =
        RefCell::new(libdeflater::Compressor::new(libdeflater::CompressionLvl::new(9).unwrap_or_default()));
    static DECOMPRESSOR: RefCell<Decompress> = RefCell::new(Decompress::new(true));
}

/// Compresses into a zlib stream (RFC 1950) at level 9. libdeflate reaches the size of zlib's
/// level 9 on credentials in about half the time (docs/benchmarks.md); its bytes differ from
/// zlib's, which any inflater reads the same. `None` only if the library refuses, which it does
/// not for a buffer of its own bound.
pub(crate) fn zlib(data: &[u8]) -> Option<Vec<u8>> {
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        let mut out = vec![0u8; c.zlib_compress_bound(data.len())];
        let n = c.zlib_compress(data, &mut out).ok()?;
        out.truncate(n);
        Some(out)
    })
}

/// Inflates a zlib stream into at most `limit` bytes.
pub(crate) fn unzlib(data: &[u8], limit: usize, what: &'static str) -> Result<Vec<u8>, Error> {
    DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        d.reset(true);
        // One spare byte tells "exactly at the limit" from "over it".
        let mut out = Vec::with_capacity(limit.saturating_add(1).min(1 << 20));
        loop {
            if out.len() == out.capacity() {
                if out.len() > limit {
                    return Err(Error::TooLarge { what, limit });
                }
                let grow = out.capacity().min(limit + 1 - out.len());
                out.reserve_exact(grow);
            }
            let before_in = d.total_in();
            let before_out = d.total_out();
            let consumed = usize::try_from(d.total_in()).unwrap_or(usize::MAX);
            let rest = data.get(consumed..).unwrap_or(&[]);
            let status = d
                .decompress_vec(rest, &mut out, FlushDecompress::Finish)
                .map_err(|e| Error::Decompression(e.to_string()))?;
            if out.len() > limit {
                return Err(Error::TooLarge { what, limit });
            }
            match status {
                Status::StreamEnd => break,
                _ if d.total_in() == before_in && d.total_out() == before_out => {
                    return Err(Error::Decompression("truncated zlib stream".into()));
                }
                _ => {}
            }
        }
        if d.total_in() != data.len() as u64 {
            return Err(Error::Decompression(
                "bytes after the end of the zlib stream".into(),
            ));
        }
        Ok(out)
    })
}

/// COSE bytes to payload text: zlib only when it makes the bytes smaller, then base45.
pub fn encode(cose: &[u8]) -> String {
    match zlib(cose) {
        Some(z) if z.len() < cose.len() => base45::encode(&z),
        _ => base45::encode(cose),
    }
}

/// Payload text to COSE bytes: trims line ends and tabs that scanners add (not spaces: space is
/// a base45 character), refuses
/// other QR kinds, oversize text, bad base45, corrupt zlib and zlib bombs.
pub fn decode(text: &str) -> Result<Vec<u8>, Error> {
    let text = text.trim_matches(|c: char| matches!(c, '\r' | '\n' | '\t'));
    if text.len() > MAX_PAYLOAD_CHARS {
        return Err(Error::TooLarge {
            what: "payload text",
            limit: MAX_PAYLOAD_CHARS,
        });
    }
    if let Some(p) = prefix::ALL.iter().find(|p| text.starts_with(**p)) {
        return Err(Error::BadPrefix { prefix: p });
    }
    let bytes = base45::decode(text)?;
    if bytes.first() == Some(&ZLIB_MAGIC) {
        unzlib(&bytes, MAX_DECOMPRESSED, "decompressed credential")
    } else {
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn compresses_only_when_smaller() {
        let text = vec![b'a'; 300];
        let p = encode(&text);
        assert!(base45::decode(&p).unwrap()[0] == ZLIB_MAGIC);
        assert_eq!(decode(&p).unwrap(), text);
        let random: Vec<u8> = (0..200u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mut cose = vec![0x84];
        cose.extend_from_slice(&random);
        let p = encode(&cose);
        assert_eq!(base45::decode(&p).unwrap(), cose);
    }

    #[test]
    fn bombs_and_corruption_are_refused() {
        let bomb = zlib(&vec![0u8; 10 * 1024 * 1024]).unwrap();
        assert!(bomb.len() < 20_000);
        let e = unzlib(&bomb, MAX_DECOMPRESSED, "x").unwrap_err();
        assert_eq!(e.kind(), "too_large");
        let ok = zlib(b"hello world hello world").unwrap();
        assert_eq!(
            unzlib(&ok[..ok.len() - 3], 100, "x").unwrap_err().kind(),
            "decompression"
        );
        let mut trailing = ok.clone();
        trailing.push(0);
        assert_eq!(
            unzlib(&trailing, 100, "x").unwrap_err().kind(),
            "decompression"
        );
        assert_eq!(
            unzlib(&[0x78, 0x9c, 0xff, 0xff], 100, "x")
                .unwrap_err()
                .kind(),
            "decompression"
        );
        // Exactly at the limit is fine; one over is not.
        let exact = zlib(&[1u8; 100]).unwrap();
        assert_eq!(unzlib(&exact, 100, "x").unwrap().len(), 100);
        assert_eq!(unzlib(&exact, 99, "x").unwrap_err().kind(), "too_large");
    }

    #[test]
    fn prefixes_and_sizes() {
        assert_eq!(decode("QL1:ABC").unwrap_err().kind(), "bad_prefix");
        assert_eq!(decode("HC1:6BF").unwrap_err().kind(), "bad_prefix");
        assert_eq!(
            decode(&"0".repeat(MAX_PAYLOAD_CHARS + 3))
                .unwrap_err()
                .kind(),
            "too_large"
        );
        assert_eq!(decode("BB8\r\n").unwrap(), b"AB");
        assert_eq!(decode("BB8 ").unwrap_err().kind(), "base45");
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut with_magic = vec![ZLIB_MAGIC];
            with_magic.extend_from_slice(&bytes);
            let _ = decode(&base45::encode(&with_magic));
            let _ = decode(&base45::encode(&bytes));
        }

        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 1..1500)) {
            let mut cose = vec![0x84];
            cose.extend_from_slice(&bytes);
            prop_assert_eq!(decode(&encode(&cose)).unwrap(), cose);
        }
    }
}
