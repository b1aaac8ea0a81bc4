use anyhow::{bail, Context, Result};
use clap::Args;
use qrid_credential::{IssuerKey, Jwks};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct KeygenArgs {
    /// Directory to write issuer.key.pem and jwks.json into (created if missing), and, unless
    /// they exist, the login keys (oidc-rs256.pem, oidc-es256.pem, oidc-ed25519.pem),
    /// pairwise.key and kek.key (the key-encryption key of officials' secrets).
    #[arg(long)]
    out: PathBuf,
    /// Replace an existing key (the old one is gone for good).
    #[arg(long)]
    force: bool,
    /// Only add the login keys (ID token keys, pairwise.key) and kek.key to a directory that
    /// has an issuer key already; existing files are kept.
    #[arg(long, conflicts_with = "force")]
    login_keys: bool,
}

pub fn keygen(args: KeygenArgs) -> Result<ExitCode> {
    create_private_dir(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let key_path = args.out.join("issuer.key.pem");
    if args.login_keys {
        return login_keys(&args.out);
    }
    if key_path.exists() && !args.force {
        bail!("{} exists; pass --force to replace it", key_path.display());
    }
    let key = IssuerKey::generate();
    write_private(&key_path, key.to_pkcs8_pem()?.as_bytes())?;
    let jwks = Jwks {
        keys: vec![key.jwk()],
    };
    std::fs::write(args.out.join("jwks.json"), jwks.to_json() + "\n")
        .context("cannot write jwks.json")?;
    eprintln!(
        "qrid: wrote {} and jwks.json (kid {})",
        key_path.display(),
        key.kid()
    );
    login_keys(&args.out)
}

/// Writes the login keys unless some already exist (they are never overwritten: a new
/// pairwise key would change every citizen's `sub` at every portal).
fn login_keys(dir: &Path) -> Result<ExitCode> {
    use qrid_service::oidc::keys as oidc;
    let files = [
        oidc::RS256_FILE,
        oidc::ES256_FILE,
        oidc::EDDSA_FILE,
        oidc::PAIRWISE_FILE,
    ];
    if files.iter().all(|f| !dir.join(f).exists()) {
        oidc::generate(dir, &write_private)?;
        eprintln!("qrid: wrote the ID token keys and pairwise.key (OpenID Connect login)");
    } else {
        eprintln!("qrid: kept the existing ID token keys and pairwise.key");
    }
    // Never replaced: a new CA would leave every certificate it issued unverifiable.
    if qrid_service::pades::generate_ca(dir, "qrid", crate::now(), &write_private)? {
        eprintln!("qrid: wrote ca.key.pem and ca.pem (the CA of officials' PDF signing keys)");
    } else {
        eprintln!("qrid: kept the existing CA (ca.key.pem, ca.pem)");
    }
    // Never replaced: a new KEK would make every official's sealed key unreadable.
    if qrid_service::custody::generate(dir, &write_private)? {
        eprintln!("qrid: wrote kek.key (seals officials' signing keys and TOTP secrets)");
    } else {
        eprintln!("qrid: kept the existing kek.key");
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes a secret file readable by its owner only, created with that mode so that it is never
/// readable by others, not even for a moment.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        opts.mode(0o600);
        let mut f = opts
            .open(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        // An existing file keeps its old mode through open(); set it explicitly.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    #[cfg(not(unix))]
    {
        let mut f = opts
            .open(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        f.write_all(bytes)?;
    }
    Ok(())
}

/// Creates a directory (and missing parents) that only its owner can enter: it will hold
/// private keys or personal data.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes a new owner-only file; refuses to replace an existing one.
pub fn write_new_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// Opens an owner-only file for appending, creating it if missing (an existing one is tightened
/// to owner-only); `true` with it if it was empty, so that the caller writes a header once.
pub fn append_private(path: &Path) -> Result<(std::fs::File, bool)> {
    let mut opts = std::fs::OpenOptions::new();
    opts.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let f = opts
        .open(path)
        .with_context(|| format!("cannot open {} for appending", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot make {} owner-only", path.display()))?;
    }
    let empty = f.metadata()?.len() == 0;
    Ok((f, empty))
}

/// Reads an issuer key file (PKCS#8 PEM).
pub fn load_key(path: &Path) -> Result<IssuerKey> {
    let pem = crate::input::read_file(path, 64 * 1024, "key file")?;
    let pem = String::from_utf8(pem).context("key file is not text")?;
    IssuerKey::from_pkcs8_pem(&pem).with_context(|| format!("cannot use {}", path.display()))
}
