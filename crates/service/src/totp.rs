//! Time-based one-time passwords (RFC 6238 over HOTP, RFC 4226): HMAC-SHA-1, 6 digits, 30-second
//! steps, as every authenticator app reads them from an `otpauth://` URI.
//!
//! A code is accepted for the step it belongs to and one step either side (clock drift between
//! the phone and the service), and only once: the caller records the accepted step and refuses
//! any step not after it (`Store::accept_totp_step`).

use hmac::{Hmac, Mac};
use sha1::Sha1;
use zeroize::Zeroizing;

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Bytes of a generated secret (160 bits, RFC 4226's recommendation).
pub const SECRET_BYTES: usize = 20;

/// Why a code was not accepted. [`TotpError::kind`] is stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// Not exactly six ASCII digits.
    #[error("a TOTP code is six digits")]
    Malformed,
    /// Not the code of this step or a neighbouring one.
    #[error("the TOTP code is wrong")]
    Wrong,
    /// The code was right but its step was used already.
    #[error("this TOTP code has been used already; wait for the next one")]
    Reused,
}

impl TotpError {
    /// A stable machine-readable name.
    pub fn kind(&self) -> &'static str {
        match self {
            TotpError::Malformed => "totp_malformed",
            TotpError::Wrong => "totp_invalid",
            TotpError::Reused => "totp_reused",
        }
    }
}

/// A fresh random secret.
pub fn generate_secret() -> Zeroizing<Vec<u8>> {
    let mut s = Zeroizing::new(vec![0u8; SECRET_BYTES]);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, s.as_mut_slice());
    s
}

/// The step that Unix time `t` falls in.
pub fn step_at(t: i64) -> i64 {
    t.div_euclid(STEP_SECS)
}

/// The HOTP value of `secret` at counter `step`, with `digits` digits (RFC 4226 §5.3).
pub fn hotp(secret: &[u8], step: i64, digits: u32) -> u32 {
    // HMAC takes keys of any length, so new_from_slice cannot fail.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return u32::MAX;
    };
    mac.update(&(step as u64).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([
        h[offset] & 0x7f,
        h[offset + 1],
        h[offset + 2],
        h[offset + 3],
    ]);
    bin % 10u32.pow(digits)
}

/// The 6-digit code of `secret` at Unix time `t`, zero-padded.
pub fn code_at(secret: &[u8], t: i64) -> String {
    format!("{:06}", hotp(secret, step_at(t), DIGITS))
}

/// The step whose code `code` is, among the steps of `now` and one either side; the caller
/// must still make sure the step was not used before. Every candidate is computed and
/// compared without an early exit, so timing does not tell which one matched.
pub fn matching_step(secret: &[u8], code: &str, now: i64) -> Result<i64, TotpError> {
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TotpError::Malformed);
    }
    let given: u32 = code.parse().map_err(|_| TotpError::Malformed)?;
    let current = step_at(now);
    let mut found = None;
    for step in [current - 1, current, current + 1] {
        let matches = hotp(secret, step, DIGITS) == given;
        if matches && found.is_none() {
            found = Some(step);
        }
    }
    found.ok_or(TotpError::Wrong)
}

/// Base32 (RFC 4648, no padding), as `otpauth://` secrets are written.
pub fn base32(bytes: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(bytes)
}

/// Everything but RFC 3986's unreserved characters is escaped in the label and the issuer.
const ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, ESCAPED).to_string()
}

/// The enrolment URI an authenticator app scans (Key Uri Format): label `issuer:account`,
/// the secret in base32, SHA1, 6 digits, 30 s. It holds the secret: show it once, never log it.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> Zeroizing<String> {
    Zeroizing::new(format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        percent(issuer),
        percent(account),
        base32(secret),
        percent(issuer)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1 rows (8 digits), secret "12345678901234567890".
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc6238_test_vectors() {
        for (t, want) in [
            (59, 94287082),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(hotp(RFC_SECRET, step_at(t), 8), want, "t = {t}");
        }
        assert_eq!(code_at(RFC_SECRET, 1111111109), "081804");
    }

    #[test]
    fn rfc4226_hotp_vectors() {
        let want = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583,
        ];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, i as i64, 6), *w, "counter {i}");
        }
    }

    #[test]
    fn codes_match_within_one_step_and_nothing_else() {
        let now = 1_800_000_015;
        let code = code_at(RFC_SECRET, now);
        assert_eq!(matching_step(RFC_SECRET, &code, now), Ok(step_at(now)));
        assert_eq!(matching_step(RFC_SECRET, &code, now + 30), Ok(step_at(now)));
        assert_eq!(matching_step(RFC_SECRET, &code, now - 30), Ok(step_at(now)));
        assert_eq!(
            matching_step(RFC_SECRET, &code, now + 60),
            Err(TotpError::Wrong)
        );
        for bad in ["", "12345", "1234567", "12a456", " 12345", "١٢٣٤٥٦"] {
            assert_eq!(
                matching_step(RFC_SECRET, bad, now),
                Err(TotpError::Malformed),
                "{bad:?}"
            );
        }
        // A code one off from this step's, and not by chance a neighbour's, is wrong.
        let neighbours: Vec<String> = [-30, 0, 30]
            .iter()
            .map(|d| code_at(RFC_SECRET, now + d))
            .collect();
        let wrong = (1..)
            .map(|k| format!("{:06}", (code.parse::<u32>().unwrap() + k) % 1_000_000))
            .find(|c| !neighbours.contains(c))
            .unwrap();
        assert_eq!(
            matching_step(RFC_SECRET, &wrong, now),
            Err(TotpError::Wrong)
        );
    }

    #[test]
    fn base32_and_uri() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            percent("Bộ Công_an.vn~/:?"),
            "B%E1%BB%99%20C%C3%B4ng_an.vn~%2F%3A%3F"
        );
        let uri = otpauth_uri("qrid VN", "minh.nguyen", RFC_SECRET);
        assert_eq!(
            uri.as_str(),
            "otpauth://totp/qrid%20VN:minh.nguyen?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=qrid%20VN&algorithm=SHA1&digits=6&period=30"
        );
    }
}
