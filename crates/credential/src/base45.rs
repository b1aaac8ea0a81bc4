//! Base45 (RFC 9285): two bytes become three characters of the QR alphanumeric set.

use thiserror::Error;

const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Maps an ASCII byte to its base45 value; 0xFF marks a byte outside the alphabet.
const DECODE: [u8; 256] = {
    let mut table = [0xFFu8; 256];
    let mut i = 0;
    while i < 45 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Why a string is not base45.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Base45Error {
    /// A character outside the 45-character alphabet (lower case letters included).
    #[error("character at position {0} is outside the base45 alphabet")]
    InvalidCharacter(usize),
    /// The length leaves one character over (length mod 3 == 1).
    #[error("length {0} is not a valid base45 length")]
    InvalidLength(usize),
    /// A group decodes to a value larger than its byte width allows.
    #[error("group at position {0} encodes a value out of range")]
    Overflow(usize),
}

/// Encodes bytes as base45.
///
/// ```
/// assert_eq!(qrid_credential::base45::encode(b"AB"), "BB8");
/// ```
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(2) * 3);
    let mut chunks = bytes.chunks_exact(2);
    for pair in &mut chunks {
        let n = u32::from(pair[0]) * 256 + u32::from(pair[1]);
        push(&mut out, n % 45);
        push(&mut out, (n / 45) % 45);
        push(&mut out, n / 2025);
    }
    if let [last] = chunks.remainder() {
        let n = u32::from(*last);
        push(&mut out, n % 45);
        push(&mut out, n / 45);
    }
    out
}

fn push(out: &mut String, v: u32) {
    out.push(char::from(ALPHABET[v as usize % 45]));
}

/// Decodes base45 text. Refuses characters outside the alphabet, impossible lengths and
/// out-of-range groups; never panics.
///
/// ```
/// assert_eq!(qrid_credential::base45::decode("BB8").unwrap(), b"AB");
/// assert!(qrid_credential::base45::decode("bb8").is_err());
/// ```
pub fn decode(text: &str) -> Result<Vec<u8>, Base45Error> {
    let input = text.as_bytes();
    if input.len() % 3 == 1 {
        return Err(Base45Error::InvalidLength(input.len()));
    }
    let groups = input.chunks_exact(3);
    let tail = groups.remainder();
    // Sized up front and filled by index: a verifier decodes one of these per request, and
    // per-byte pushes with their capacity checks cost several times the arithmetic.
    let mut out = vec![0u8; input.len() / 3 * 2 + tail.len() / 2];
    let (pairs, last) = out.split_at_mut(input.len() / 3 * 2);
    for (i, (g, pair)) in groups.zip(pairs.chunks_exact_mut(2)).enumerate() {
        let (a, b, c) = (
            DECODE[usize::from(g[0])],
            DECODE[usize::from(g[1])],
            DECODE[usize::from(g[2])],
        );
        // Alphabet values are below 64; only the 0xFF marker has the top bit.
        if (a | b | c) & 0x80 != 0 {
            return Err(bad_character(input, i * 3));
        }
        let n = u32::from(a) + u32::from(b) * 45 + u32::from(c) * 2025;
        if n > 0xFFFF {
            return Err(Base45Error::Overflow(i * 3));
        }
        pair[0] = (n >> 8) as u8;
        pair[1] = n as u8;
    }
    if let ([x, y], [byte]) = (tail, last) {
        let pos = input.len() - 2;
        let (a, b) = (DECODE[usize::from(*x)], DECODE[usize::from(*y)]);
        if (a | b) & 0x80 != 0 {
            return Err(bad_character(input, pos));
        }
        let n = u32::from(a) + u32::from(b) * 45;
        if n > 0xFF {
            return Err(Base45Error::Overflow(pos));
        }
        *byte = n as u8;
    }
    Ok(out)
}

/// The first character at or after `from` that is outside the alphabet.
fn bad_character(input: &[u8], from: usize) -> Base45Error {
    let pos = input
        .iter()
        .skip(from)
        .position(|&b| DECODE[usize::from(b)] == 0xFF)
        .map_or(from, |p| from + p);
    Base45Error::InvalidCharacter(pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc9285_examples() {
        assert_eq!(encode(b"AB"), "BB8");
        assert_eq!(encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(decode("QED8WEX0").unwrap(), b"ietf!");
        assert_eq!(encode(b""), "");
    }

    #[test]
    fn rejections() {
        assert_eq!(decode("GGW"), Err(Base45Error::Overflow(0)));
        assert_eq!(decode("ZZ"), Err(Base45Error::Overflow(0)));
        assert_eq!(decode("A"), Err(Base45Error::InvalidLength(1)));
        assert_eq!(decode("BB8a"), Err(Base45Error::InvalidLength(4)));
        assert_eq!(decode("BBb"), Err(Base45Error::InvalidCharacter(2)));
        assert_eq!(decode("BB8é"), Err(Base45Error::InvalidCharacter(3)));
    }

    /// RFC 9285 read literally, one character at a time: what the indexed decoder must equal,
    /// errors and their positions included.
    fn reference_decode(input: &[u8]) -> Result<Vec<u8>, Base45Error> {
        if input.len() % 3 == 1 {
            return Err(Base45Error::InvalidLength(input.len()));
        }
        let value = |pos: usize| match ALPHABET.iter().position(|&a| a == input[pos]) {
            Some(v) => Ok(v as u32),
            None => Err(Base45Error::InvalidCharacter(pos)),
        };
        let mut out = Vec::new();
        let mut pos = 0;
        while pos + 3 <= input.len() {
            let n = value(pos)? + value(pos + 1)? * 45 + value(pos + 2)? * 2025;
            if n > 0xFFFF {
                return Err(Base45Error::Overflow(pos));
            }
            out.extend_from_slice(&(n as u16).to_be_bytes());
            pos += 3;
        }
        if pos + 2 == input.len() {
            let n = value(pos)? + value(pos + 1)? * 45;
            if n > 0xFF {
                return Err(Base45Error::Overflow(pos));
            }
            out.push(n as u8);
        }
        Ok(out)
    }

    proptest! {
        #[test]
        fn decode_is_the_reference(text in "[0-9A-Z $%*+./:a-]{0,40}") {
            prop_assert_eq!(decode(&text), reference_decode(text.as_bytes()));
        }

        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let text = encode(&bytes);
            prop_assert!(text.bytes().all(|b| ALPHABET.contains(&b)));
            prop_assert_eq!(decode(&text).unwrap(), bytes);
        }

        #[test]
        fn decode_never_panics(text in "\\PC{0,64}") {
            let _ = decode(&text);
        }
    }
}
