//! Passwords and secrets at rest: argon2id hashes of officers' and officials' passwords, and
//! the SHA-256 digests under which client secrets are stored.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};

/// Hashes a password with argon2id (default parameters: 19 MiB, 2 passes). CPU-heavy: call it
/// off the async runtime.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// A fixed hash that unknown usernames are checked against, so that "no such officer" takes as
/// long as "wrong password" and timing reveals nothing.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("qrid-dummy-password").unwrap_or_default())
}

/// Whether `password` matches the argon2id `hash` (false for a hash that does not parse).
/// CPU-heavy: call it off the async runtime.
pub fn password_matches(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A new client secret (32 random bytes, base64url) and its stored form.
pub fn new_client_secret() -> (zeroize::Zeroizing<String>, [u8; 32]) {
    use base64::Engine;
    let mut secret = zeroize::Zeroizing::new([0u8; 32]);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, secret.as_mut());
    let secret = zeroize::Zeroizing::new(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret.as_ref()),
    );
    let digest = secret_digest(&secret);
    (secret, digest)
}

/// The stored form of a client secret.
pub fn secret_digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Whether two secrets (or digests) are equal, in time that depends on their lengths only.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_matches_its_password_only() {
        let h = hash_password("correct horse").unwrap();
        assert!(password_matches(&h, "correct horse"));
        assert!(!password_matches(&h, "correct horsf"));
        assert!(!password_matches("not a hash", "correct horse"));
        assert!(!password_matches(dummy_hash(), ""));
    }

    #[test]
    fn equal_digests_compare_equal_and_others_do_not() {
        assert!(constant_time_eq(&secret_digest("s"), &secret_digest("s")));
        assert!(!constant_time_eq(&secret_digest("s"), &secret_digest("t")));
        assert!(!constant_time_eq(b"ab", b"abc"));
    }
}
