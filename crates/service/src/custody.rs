//! Custody of officials' secrets: each official's Ed25519 signing key and TOTP secret are
//! stored only sealed under the service's key-encryption key (KEK), with ChaCha20-Poly1305.
//!
//! The KEK is 32 bytes, hex, in `KEY_DIR/kek.key` (mode 0600; `qrid keygen` writes one). The
//! committed development KEK in keys-dev/ is refused in production mode wherever it was copied
//! to. A sealed secret is bound to what it belongs to (its purpose, the official's username
//! and key id, as associated data): a sealed key copied onto another official's row, or a
//! TOTP secret swapped for a signing key, fails to open instead of being used.
//!
//! Layout of a sealed secret: `version (1) ‖ KEK id (8) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`.
//! The KEK id (a digest of the KEK) tells "sealed under another KEK" from "tampered with".

use anyhow::{bail, Context, Result};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};
use std::path::Path;
use zeroize::Zeroizing;

/// The KEK's file name in the key directory.
pub const KEK_FILE: &str = "kek.key";
const DEV_KEK: &str = include_str!("../../../keys-dev/kek.key");
const VERSION: u8 = 1;
const HEADER: usize = 1 + 8 + 12;
/// Largest secret that is sealed (keys and TOTP secrets are 20 to 32 bytes).
const MAX_SECRET: usize = 1024;

/// What a sealed secret is for; part of the associated data, so one cannot pass for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An official's Ed25519 signing key (32 bytes).
    SigningKey,
    /// An official's TOTP secret.
    TotpSecret,
    /// An official's P-256 PDF signing key (32 bytes), bound to the certificate's serial.
    PdfKey,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::SigningKey => b"qrid/official-signing-key/v1",
            Purpose::TotpSecret => b"qrid/official-totp-secret/v1",
            Purpose::PdfKey => b"qrid/official-pdf-key/v1",
        }
    }
}

/// Why a sealed secret could not be opened. [`CustodyError::kind`] is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustodyError {
    /// Too short, too long or of an unknown version.
    #[error("the sealed secret is malformed")]
    Malformed,
    /// Sealed under a KEK other than the one configured (a restored backup, a wrong key dir).
    #[error("the secret was sealed under another key-encryption key")]
    OtherKek,
    /// Authentication failed: changed bytes, or bound to another official or purpose.
    #[error("the sealed secret failed authentication (altered, or bound to something else)")]
    Tampered,
}

impl CustodyError {
    /// A stable machine-readable name.
    pub fn kind(&self) -> &'static str {
        match self {
            CustodyError::Malformed => "sealed_secret_malformed",
            CustodyError::OtherKek => "sealed_under_other_kek",
            CustodyError::Tampered => "sealed_secret_tampered",
        }
    }
}

/// The key-encryption key. Its bytes never leave this type (no `Debug` of them, zeroised on
/// drop).
pub struct Kek {
    key: Zeroizing<[u8; 32]>,
    id: [u8; 8],
    development: bool,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kek({})", hex::encode(self.id))
    }
}

fn parse_hex_key(text: &str) -> Result<Zeroizing<[u8; 32]>> {
    let bytes = Zeroizing::new(hex::decode(text.trim()).context("kek.key must be hex")?);
    let key: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| anyhow::anyhow!("kek.key must hold exactly 32 bytes (64 hex digits)"))?;
    Ok(Zeroizing::new(key))
}

impl Kek {
    /// A KEK from its 32 bytes.
    pub fn from_bytes(key: [u8; 32]) -> Kek {
        let key = Zeroizing::new(key);
        let dev = parse_hex_key(DEV_KEK).ok();
        let development = dev.is_some_and(|d| *d == *key);
        let digest = Sha256::new_with_prefix(b"qrid-kek-id\0")
            .chain_update(key.as_ref())
            .finalize();
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        Kek {
            key,
            id,
            development,
        }
    }

    /// Loads `DIR/kek.key`. In production, refuses the committed development KEK.
    pub fn load(dir: &Path, production: bool) -> Result<Kek> {
        let path = dir.join(KEK_FILE);
        let meta = std::fs::metadata(&path).with_context(|| {
            format!(
                "key-encryption key {} is missing; `qrid keygen --out {} --login-keys` adds it",
                path.display(),
                dir.display()
            )
        })?;
        if meta.len() > 1024 {
            bail!("{} is too large to be a key", path.display());
        }
        let text = Zeroizing::new(
            std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        );
        let kek = Kek::from_bytes(*parse_hex_key(&text)?);
        if production && kek.development {
            bail!("production mode refuses the development key-encryption key (keys-dev/kek.key)");
        }
        Ok(kek)
    }

    /// Whether this is the committed development KEK.
    pub fn is_development(&self) -> bool {
        self.development
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(self.key.as_ref()))
    }

    /// Seals `secret` for `purpose`, bound to `binding` (the official's username and key id).
    /// A fresh random nonce each time: sealing the same secret twice gives different bytes.
    pub fn seal(&self, purpose: Purpose, binding: &str, secret: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut nonce);
        let aad = aad(purpose, binding);
        // Encryption with a 32-byte key and a 12-byte nonce fails only for inputs of more
        // than 256 GiB; an empty result would then fail to open, never leak.
        let ct = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret,
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(HEADER + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&self.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Opens a sealed secret of `purpose` bound to `binding`.
    pub fn open(
        &self,
        purpose: Purpose,
        binding: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CustodyError> {
        if sealed.len() < HEADER + 16 || sealed.len() > HEADER + 16 + MAX_SECRET {
            return Err(CustodyError::Malformed);
        }
        if sealed[0] != VERSION {
            return Err(CustodyError::Malformed);
        }
        if sealed[1..9] != self.id {
            return Err(CustodyError::OtherKek);
        }
        let aad = aad(purpose, binding);
        self.cipher()
            .decrypt(
                Nonce::from_slice(&sealed[9..HEADER]),
                Payload {
                    msg: &sealed[HEADER..],
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CustodyError::Tampered)
    }
}

/// What a sealed secret of an official is bound to.
pub fn binding(username: &str, kid: &str) -> String {
    format!("{username}\0{kid}")
}

fn aad(purpose: Purpose, binding: &str) -> Vec<u8> {
    let mut aad = purpose.label().to_vec();
    aad.push(0);
    aad.extend_from_slice(binding.as_bytes());
    aad
}

/// Writes a fresh KEK into `dir` (mode 0600 through `write_private`) unless one exists: a new
/// KEK would make every sealed secret unreadable. Returns whether it wrote one.
pub fn generate(dir: &Path, write_private: &dyn Fn(&Path, &[u8]) -> Result<()>) -> Result<bool> {
    let path = dir.join(KEK_FILE);
    if path.exists() {
        return Ok(false);
    }
    let mut key = Zeroizing::new([0u8; 32]);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, key.as_mut());
    let text = Zeroizing::new(hex::encode(key.as_ref()) + "\n");
    write_private(&path, text.as_bytes())?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek(b: u8) -> Kek {
        Kek::from_bytes([b; 32])
    }

    #[test]
    fn sealed_secrets_open_only_with_their_kek_purpose_and_binding() {
        let k = kek(1);
        let b = binding("minh", "kid-1");
        let sealed = k.seal(Purpose::SigningKey, &b, b"thirty-two bytes of signing key!");
        assert!(!sealed
            .windows(8)
            .any(|w| w == b"thirty-t" || w == b"bytes of"));
        assert_eq!(
            k.open(Purpose::SigningKey, &b, &sealed).unwrap().as_slice(),
            b"thirty-two bytes of signing key!"
        );
        assert_eq!(
            k.open(Purpose::TotpSecret, &b, &sealed),
            Err(CustodyError::Tampered)
        );
        assert_eq!(
            k.open(Purpose::SigningKey, &binding("lan", "kid-1"), &sealed),
            Err(CustodyError::Tampered)
        );
        assert_eq!(
            kek(2).open(Purpose::SigningKey, &b, &sealed),
            Err(CustodyError::OtherKek)
        );
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(k.open(Purpose::SigningKey, &b, &bad).is_err(), "byte {i}");
        }
        assert_eq!(
            k.open(Purpose::SigningKey, &b, &sealed[..20]),
            Err(CustodyError::Malformed)
        );
        assert_ne!(
            sealed,
            k.seal(Purpose::SigningKey, &b, b"thirty-two bytes of signing key!")
        );
    }

    #[test]
    fn the_development_kek_is_known_and_refused_in_production() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../keys-dev");
        let dev = Kek::load(&dir, false).unwrap();
        assert!(dev.is_development());
        let err = Kek::load(&dir, true).unwrap_err().to_string();
        assert!(err.contains("development"), "{err}");
        assert!(!kek(7).is_development());
        assert!(!format!("{dev:?}").contains(DEV_KEK.trim()));
    }
}
