//! ID token keys (RS256, ES256, EdDSA) and the pairwise-subject secret, from the key directory.

use super::client::IdTokenAlg;
use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use hmac::{Hmac, Mac};
use jsonwebtoken::{EncodingKey, Header};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::Path;

/// File names in the key directory.
pub const RS256_FILE: &str = "oidc-rs256.pem";
/// See [`RS256_FILE`].
pub const ES256_FILE: &str = "oidc-es256.pem";
/// See [`RS256_FILE`].
pub const EDDSA_FILE: &str = "oidc-ed25519.pem";
/// Hex, 32 bytes or more.
pub const PAIRWISE_FILE: &str = "pairwise.key";

const DEV_PEMS: [&str; 3] = [
    include_str!("../../../../keys-dev/oidc-rs256.pem"),
    include_str!("../../../../keys-dev/oidc-es256.pem"),
    include_str!("../../../../keys-dev/oidc-ed25519.pem"),
];
const DEV_PAIRWISE: &str = include_str!("../../../../keys-dev/pairwise.key");

struct SigningKey {
    alg: IdTokenAlg,
    kid: String,
    key: EncodingKey,
    jwk: Value,
}

/// The provider's ID token keys and pairwise secret.
pub struct OidcKeys {
    keys: Vec<SigningKey>,
    pairwise: zeroize::Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for OidcKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        write!(f, "OidcKeys({kids:?})")
    }
}

impl OidcKeys {
    /// Loads the three keys and the pairwise secret from `dir`. In production, refuses the
    /// committed development keys wherever they were copied to.
    pub fn load(dir: &Path, production: bool) -> Result<OidcKeys> {
        let read = |name: &str| -> Result<zeroize::Zeroizing<String>> {
            let path = dir.join(name);
            let meta = std::fs::metadata(&path).with_context(|| {
                format!(
                    "login key {} is missing; `qrid keygen --out {} --login-keys` adds the \
                     login keys beside an existing issuer key",
                    path.display(),
                    dir.display()
                )
            })?;
            if meta.len() > 64 * 1024 {
                bail!("{} is larger than 64 KiB", path.display());
            }
            Ok(zeroize::Zeroizing::new(
                std::fs::read_to_string(&path)
                    .with_context(|| format!("OpenID Connect key {}", path.display()))?,
            ))
        };
        let mut keys = Vec::new();
        for (alg, file) in [
            (IdTokenAlg::RS256, RS256_FILE),
            (IdTokenAlg::ES256, ES256_FILE),
            (IdTokenAlg::EdDSA, EDDSA_FILE),
        ] {
            let pem = read(file)?;
            let key = signing_key(alg, &pem)
                .with_context(|| format!("{file}: not a usable {alg:?} private key"))?;
            if production {
                for dev in DEV_PEMS {
                    if signing_key(alg, dev).is_ok_and(|d| d.kid == key.kid) {
                        bail!("production mode refuses the development key {file} (keys-dev/)");
                    }
                }
            }
            keys.push(key);
        }
        let hex_text = read(PAIRWISE_FILE)?;
        let pairwise = hex::decode(hex_text.trim()).context("pairwise.key must be hex")?;
        if pairwise.len() < 32 {
            bail!("pairwise.key must hold at least 32 bytes (64 hex digits)");
        }
        if production && hex_text.trim() == DEV_PAIRWISE.trim() {
            bail!("production mode refuses the development pairwise.key (keys-dev/)");
        }
        Ok(OidcKeys {
            keys,
            pairwise: zeroize::Zeroizing::new(pairwise),
        })
    }

    /// The public keys as a JWKS document.
    pub fn jwks(&self) -> Value {
        json!({"keys": self.keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()})
    }

    /// Signs `claims` as a JWT with the key of `alg`.
    pub fn sign<T: Serialize>(&self, alg: IdTokenAlg, claims: &T) -> Result<String, String> {
        let k = self
            .keys
            .iter()
            .find(|k| k.alg == alg)
            .ok_or("no key for this algorithm")?;
        let mut header = Header::new(alg.jwt());
        header.kid = Some(k.kid.clone());
        jsonwebtoken::encode(&header, claims, &k.key).map_err(|e| e.to_string())
    }

    /// The pairwise subject of `citizen_id` for `sector` (OpenID Connect Core §8.1):
    /// base64url(HMAC-SHA256(secret, sector ‖ 0x00 ‖ citizen id)).
    pub fn pairwise_sub(&self, sector: &str, citizen_id: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.pairwise) else {
            // HMAC accepts keys of any length; this cannot happen.
            return String::new();
        };
        mac.update(sector.as_bytes());
        mac.update(&[0]);
        mac.update(citizen_id.as_bytes());
        B64URL.encode(mac.finalize().into_bytes())
    }
}

/// Writes fresh ID token keys and a pairwise secret into `dir` (each file mode 0600 through
/// `write_private`), refusing to overwrite any. What `qrid keygen` runs for a real deployment.
pub fn generate(dir: &Path, write_private: &dyn Fn(&Path, &[u8]) -> Result<()>) -> Result<()> {
    for f in [RS256_FILE, ES256_FILE, EDDSA_FILE, PAIRWISE_FILE] {
        if dir.join(f).exists() {
            bail!("{} exists; move it away first", dir.join(f).display());
        }
    }
    let mut rng = rand_core::OsRng;
    let rsa_pem = {
        use rsa::pkcs8::EncodePrivateKey;
        rsa::RsaPrivateKey::new(&mut rng, 2048)
            .context("RSA key generation")?
            .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .context("RSA key encoding")?
    };
    let ec_pem = {
        use p256::pkcs8::EncodePrivateKey;
        p256::SecretKey::random(&mut rng)
            .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
            .context("P-256 key encoding")?
    };
    let ed_pem = {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        ed25519_dalek::SigningKey::generate(&mut rng)
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .context("Ed25519 key encoding")?
    };
    let mut secret = zeroize::Zeroizing::new([0u8; 32]);
    rand_core::RngCore::fill_bytes(&mut rng, secret.as_mut());
    let pairwise = zeroize::Zeroizing::new(hex::encode(secret.as_ref()) + "\n");
    write_private(&dir.join(RS256_FILE), rsa_pem.as_bytes())?;
    write_private(&dir.join(ES256_FILE), ec_pem.as_bytes())?;
    write_private(&dir.join(EDDSA_FILE), ed_pem.as_bytes())?;
    write_private(&dir.join(PAIRWISE_FILE), pairwise.as_bytes())?;
    Ok(())
}

fn thumbprint(canonical: &str) -> String {
    B64URL.encode(Sha256::digest(canonical.as_bytes()))
}

fn signing_key(alg: IdTokenAlg, pem: &str) -> Result<SigningKey> {
    let (key, jwk) = match alg {
        IdTokenAlg::RS256 => {
            use rsa::pkcs8::DecodePrivateKey;
            use rsa::traits::PublicKeyParts;
            let private = rsa::RsaPrivateKey::from_pkcs8_pem(pem)
                .or_else(|_| {
                    use rsa::pkcs1::DecodeRsaPrivateKey;
                    rsa::RsaPrivateKey::from_pkcs1_pem(pem)
                })
                .context("RSA private key (PKCS#8 or PKCS#1 PEM)")?;
            if private.size() < 256 {
                bail!("RSA keys must have at least 2048 bits");
            }
            let n = B64URL.encode(private.n().to_bytes_be());
            let e = B64URL.encode(private.e().to_bytes_be());
            let kid = thumbprint(&format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#));
            (
                EncodingKey::from_rsa_pem(pem.as_bytes())?,
                json!({"kty": "RSA", "n": n, "e": e, "kid": kid, "alg": "RS256", "use": "sig"}),
            )
        }
        IdTokenAlg::ES256 => {
            use p256::pkcs8::DecodePrivateKey;
            let secret = p256::SecretKey::from_pkcs8_pem(pem).context("P-256 PKCS#8 PEM")?;
            let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(
                &secret.public_key(),
                false,
            );
            let (Some(x), Some(y)) = (point.x(), point.y()) else {
                bail!("P-256 public key has no coordinates");
            };
            let (x, y) = (B64URL.encode(x), B64URL.encode(y));
            let kid = thumbprint(&format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#
            ));
            (
                EncodingKey::from_ec_pem(pem.as_bytes())?,
                json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "alg": "ES256", "use": "sig"}),
            )
        }
        IdTokenAlg::EdDSA => {
            use ed25519_dalek::pkcs8::DecodePrivateKey;
            let sk =
                ed25519_dalek::SigningKey::from_pkcs8_pem(pem).context("Ed25519 PKCS#8 PEM")?;
            let x = B64URL.encode(sk.verifying_key().as_bytes());
            let kid = thumbprint(&format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#));
            (
                EncodingKey::from_ed_pem(pem.as_bytes())?,
                json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}),
            )
        }
    };
    let kid = jwk["kid"].as_str().unwrap_or_default().to_owned();
    Ok(SigningKey { alg, kid, key, jwk })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev() -> OidcKeys {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../keys-dev");
        OidcKeys::load(&dir, false).unwrap()
    }

    #[test]
    fn dev_keys_load_sign_and_are_refused_in_production() {
        let keys = dev();
        assert_eq!(keys.jwks()["keys"].as_array().unwrap().len(), 3);
        for alg in [IdTokenAlg::RS256, IdTokenAlg::ES256, IdTokenAlg::EdDSA] {
            let jwt = keys.sign(alg, &json!({"sub": "x"})).unwrap();
            let header = jsonwebtoken::decode_header(&jwt).unwrap();
            assert_eq!(header.alg, alg.jwt());
            // The JWKS entry with the header's kid verifies it.
            let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(
                keys.jwks()["keys"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|k| k["kid"] == header.kid.clone().unwrap().as_str())
                    .unwrap()
                    .clone(),
            )
            .unwrap();
            let mut v = jsonwebtoken::Validation::new(alg.jwt());
            v.required_spec_claims.clear();
            v.validate_exp = false;
            jsonwebtoken::decode::<Value>(
                &jwt,
                &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(),
                &v,
            )
            .unwrap();
        }
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../keys-dev");
        let err = OidcKeys::load(&dir, true).unwrap_err().to_string();
        assert!(err.contains("development key"), "{err}");
    }

    #[test]
    fn generated_keys_load_in_production() {
        let dir = std::env::temp_dir().join(format!("qrid-oidc-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let write = |p: &Path, b: &[u8]| -> Result<()> { Ok(std::fs::write(p, b)?) };
        generate(&dir, &write).unwrap();
        let keys = OidcKeys::load(&dir, true).unwrap();
        assert_eq!(keys.jwks()["keys"].as_array().unwrap().len(), 3);
        assert!(generate(&dir, &write).is_err(), "never overwrites");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn pairwise_subjects_differ_by_sector_and_citizen() {
        let keys = dev();
        let a = keys.pairwise_sub("portal-a.example", "c1");
        assert_eq!(a, keys.pairwise_sub("portal-a.example", "c1"));
        assert_ne!(a, keys.pairwise_sub("portal-b.example", "c1"));
        assert_ne!(a, keys.pairwise_sub("portal-a.example", "c2"));
        // No ambiguity between ("ab", "c") and ("a", "bc").
        assert_ne!(keys.pairwise_sub("ab", "c"), keys.pairwise_sub("a", "bc"));
        assert_eq!(a.len(), 43);
    }
}
