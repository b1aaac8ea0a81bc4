//! Bounded CBOR decoding and small accessors over `ciborium::Value`.

use crate::error::Error;
use ciborium::Value;

/// Nesting deeper than this is refused: our structures need 5 levels, and ciborium recurses.
pub(crate) const MAX_DEPTH: usize = 16;
/// Larger maps are refused (see `check_unique_keys`).
pub(crate) const MAX_MAP_ENTRIES: usize = 256;

/// Decodes exactly one CBOR item, refusing trailing bytes, deep nesting and duplicate map keys.
pub(crate) fn decode(bytes: &[u8]) -> Result<Value, Error> {
    let mut cursor = std::io::Cursor::new(bytes);
    // The parser's own scratch is 4 KiB zeroed on every call, which for our few-hundred-byte
    // items cost more than the parse. No text or byte string is longer than the input, so a
    // scratch of the input's length is always enough. This entry point nests up to 256
    // levels (a bounded recursion on a stack of megabytes); MAX_DEPTH is checked below.
    let mut scratch = vec![0u8; bytes.len().clamp(1, 4096)];
    let value: Value = ciborium::de::from_reader_with_buffer(&mut cursor, &mut scratch)
        .map_err(|e| Error::Cbor(describe(e)))?;
    if cursor.position() != bytes.len() as u64 {
        return Err(Error::Cbor("trailing bytes after the CBOR item".into()));
    }
    check(&value, 1)?;
    Ok(value)
}

fn describe<T: std::fmt::Debug>(e: ciborium::de::Error<T>) -> String {
    match e {
        ciborium::de::Error::Io(_) => "truncated input".into(),
        ciborium::de::Error::Syntax(at) => format!("syntax error at byte {at}"),
        ciborium::de::Error::Semantic(_, msg) => msg,
        ciborium::de::Error::RecursionLimitExceeded => too_deep(),
    }
}

fn too_deep() -> String {
    format!("nested deeper than {MAX_DEPTH} levels")
}

/// Refuses nesting deeper than MAX_DEPTH, oversized maps and duplicate map keys. The parser
/// bounds the depth this recursion can reach.
fn check(value: &Value, depth: usize) -> Result<(), Error> {
    let nested = matches!(value, Value::Map(_) | Value::Array(_) | Value::Tag(..));
    if nested && depth > MAX_DEPTH {
        return Err(Error::Cbor(too_deep()));
    }
    match value {
        Value::Map(entries) => {
            // Our maps have a few dozen entries at most; a cap keeps the pairwise check cheap.
            if entries.len() > MAX_MAP_ENTRIES {
                return Err(Error::Cbor(format!(
                    "map with more than {MAX_MAP_ENTRIES} entries"
                )));
            }
            for (i, (k, v)) in entries.iter().enumerate() {
                if entries[..i].iter().any(|(other, _)| other == k) {
                    return Err(Error::Cbor("duplicate map key".into()));
                }
                check(k, depth + 1)?;
                check(v, depth + 1)?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(|v| check(v, depth + 1)),
        Value::Tag(_, inner) => check(inner, depth + 1),
        _ => Ok(()),
    }
}

/// Serialises a value; writing to a Vec cannot fail for the values this crate builds.
pub(crate) fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    // ciborium only fails on writer errors, and Vec<u8> never errors.
    let _ = ciborium::ser::into_writer(value, &mut out);
    out
}

/// Looks up an integer key in a CBOR map.
pub(crate) fn get_int(map: &[(Value, Value)], key: i64) -> Option<&Value> {
    map.iter()
        .find(|(k, _)| {
            k.as_integer()
                .is_some_and(|i| i128::from(i) == i128::from(key))
        })
        .map(|(_, v)| v)
}

/// Looks up a text key in a CBOR map.
pub(crate) fn get_text<'a>(map: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.as_text() == Some(key))
        .map(|(_, v)| v)
}

/// The value of a CBOR integer as i64, if it fits.
pub(crate) fn as_i64(value: &Value) -> Option<i64> {
    value.as_integer().and_then(|i| i64::try_from(i).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_trailing_bytes_duplicates_and_depth() {
        assert!(matches!(decode(&[0x01, 0x02]), Err(Error::Cbor(_))));
        // {1: 1, 1: 2}
        assert!(matches!(
            decode(&[0xA2, 0x01, 0x01, 0x01, 0x02]),
            Err(Error::Cbor(_))
        ));
        let mut deep = vec![0x81u8; 1000];
        deep.push(0x00);
        assert!(matches!(decode(&deep), Err(Error::Cbor(_))));
        // A definite-length array claiming 2^32 items in a 6-byte input must fail, not allocate.
        assert!(matches!(
            decode(&[0x9A, 0xFF, 0xFF, 0xFF, 0xFF, 0x00]),
            Err(Error::Cbor(_))
        ));
        assert!(matches!(decode(&[]), Err(Error::Cbor(_))));
    }

    #[test]
    fn nesting_is_refused_beyond_max_depth_however_it_nests() {
        let nested = |depth: usize, open: &[u8]| {
            let mut v: Vec<u8> = open
                .iter()
                .copied()
                .cycle()
                .take(depth * open.len())
                .collect();
            v.push(0x00);
            v
        };
        // Arrays, maps ({0: …}) and tags, each MAX_DEPTH deep decode; one more is refused,
        // with the same message whichever check (ours, the parser's) finds it.
        for open in [&[0x81u8][..], &[0xA1, 0x00], &[0xC6]] {
            assert!(decode(&nested(MAX_DEPTH, open)).is_ok(), "{open:?}");
            for depth in [MAX_DEPTH + 1, 300] {
                assert_eq!(
                    decode(&nested(depth, open)),
                    Err(Error::Cbor(too_deep())),
                    "{open:?} {depth}"
                );
            }
        }
        // Strings as long as the input itself fit the scratch buffer.
        let mut text = vec![0x79, 0x01, 0x00];
        text.extend(std::iter::repeat_n(b'a', 256));
        assert_eq!(decode(&text), Ok(Value::Text("a".repeat(256))));
    }
}
