//! `qrid official create`: an official who signs documents, with a signing key generated and
//! sealed here (it never leaves the service's database in the clear), a signer credential
//! signed by the issuer key, and TOTP enrolment shown once; `qrid official rotate-key`: a new
//! key and signer credential for an official, the old ones revoked.

use crate::service::{connect, read_secret_line, runtime};
use crate::settings::SharedArgs;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use qrid_credential::Official;
use qrid_service::issuance::SIGNER_DAYS;
use qrid_service::officials::provision;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum OfficialCommand {
    /// Create an official: password on standard input; prints the TOTP enrolment (an
    /// otpauth:// URI and its QR) once, and the official's id, key id and signer credential.
    Create(CreateArgs),
    /// List officials: username, full name, disabled, created (JSON lines; no secrets).
    List(SharedArgs),
    /// Disable an official: sign-in and signing refused, tokens and signing sessions ended,
    /// on every node at once.
    Disable(crate::accounts::Target),
    /// Enable a disabled official (tokens and sessions from before stay ended).
    Enable(crate::accounts::Target),
    /// Replace an official's password (standard input); tokens and signing sessions end.
    ResetPassword(crate::accounts::Target),
    /// Re-enrol an official's TOTP (a lost phone): a new secret shown once; tokens and signing
    /// sessions end, and codes of the old secret stop working.
    ResetTotp(crate::accounts::Target),
    /// Rotate an official's signing key: a new key (the TOTP secret stays), a new signer
    /// credential, the old one revoked (new signatures with it refused, its PDF certificate on
    /// the CRL; signatures made before stay valid); tokens and signing sessions end. Prints
    /// the new kid and signer credential.
    RotateKey(crate::accounts::Target),
}

#[derive(Args)]
pub struct CreateArgs {
    /// Login name: 1 to 64 letters, digits, '.', '_' or '-'.
    #[arg(long)]
    username: String,
    /// The name signatures show.
    #[arg(long)]
    full_name: String,
    /// Title (position), e.g. "Chairman of the People's Committee".
    #[arg(long)]
    title: String,
    /// The agency the official signs for.
    #[arg(long)]
    agency: String,
    #[command(flatten)]
    shared: SharedArgs,
    /// Days the signer credential is valid.
    #[arg(long, default_value_t = SIGNER_DAYS, value_parser = clap::value_parser!(u32).range(1..=3650))]
    valid_days: u32,
    /// Also write the TOTP enrolment QR as a PNG here (mode 0600: it holds the secret).
    #[arg(long)]
    totp_qr: Option<PathBuf>,
}

pub fn official(cmd: OfficialCommand) -> Result<ExitCode> {
    use crate::accounts::{change, list, Action};
    use qrid_store::AccountKind::Official as Kind;
    let a = match cmd {
        OfficialCommand::Create(a) => a,
        OfficialCommand::List(shared) => return list(Kind, &shared),
        OfficialCommand::Disable(t) => return change(Kind, Action::Disable, t),
        OfficialCommand::Enable(t) => return change(Kind, Action::Enable, t),
        OfficialCommand::ResetPassword(t) => return change(Kind, Action::ResetPassword, t),
        OfficialCommand::ResetTotp(t) => return change(Kind, Action::ResetTotp, t),
        OfficialCommand::RotateKey(t) => return rotate_key(&t),
    };
    let config = a.shared.load()?;
    qrid_service::admin::check_username(&a.username)?;
    let details =
        Official::new(&a.full_name, &a.title, &a.agency).context("full name, title and agency")?;
    let password = read_secret_line()?;
    qrid_service::admin::check_new_password(&password)?;
    let issuer_key = qrid_service::keys::load_issuer_key(&config.key_dir)?;
    let is_dev = issuer_key.kid().to_string() == qrid_service::config::DEV_KID.trim();
    if is_dev && config.production {
        bail!("production mode refuses the development issuer key");
    }
    let kek = qrid_service::custody::Kek::load(&config.key_dir, config.production)?;
    if is_dev || kek.is_development() {
        eprintln!("qrid: WARNING: development keys: this official's signatures prove nothing");
    }
    let provisioned = provision(
        &kek,
        &a.username,
        &details,
        &password,
        &format!("qrid {}", config.issuer),
    )
    .map_err(|e| anyhow::anyhow!("cannot provision the official: {e}"))?;
    let (record, credential) = runtime()?.block_on(async {
        let store = connect(&config.database_url).await?;
        let r = qrid_service::officials::create(
            &store,
            &config,
            &qrid_service::SystemClock,
            &issuer_key,
            &provisioned.official,
            a.valid_days,
            "cli",
        )
        .await;
        store.close().await;
        anyhow::Ok(r?)
    })?;
    if let Some(path) = &a.totp_qr {
        let png = qrid_qr::render(
            &provisioned.otpauth_uri,
            qrid_qr::Ecc::M,
            6,
            qrid_qr::Format::Png,
        )?;
        crate::keys::write_private(path, &png)?;
    }
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "qrid: official {} created (id {}, key {}); scan this with an authenticator app now, it is not shown again:",
        record.username, record.id, record.kid
    )?;
    if let Ok(symbol) = qrid_qr::Symbol::encode(&provisioned.otpauth_uri, qrid_qr::Ecc::L) {
        writeln!(err, "{}", terminal_qr(&symbol))?;
    }
    drop(err);
    println!(
        "{}",
        serde_json::json!({
            "official_id": record.id, "username": record.username, "kid": record.kid,
            "signer_credential_id": credential.id, "signer_credential_expires_at": credential.expires_at,
            "otpauth_uri": provisioned.otpauth_uri.as_str(),
        })
    );
    Ok(ExitCode::SUCCESS)
}

/// `qrid official rotate-key NAME`: [`qrid_service::officials::rotate_key`] with the key
/// directory's issuer key and KEK, audited as `cli`.
fn rotate_key(t: &crate::accounts::Target) -> Result<ExitCode> {
    let config = t.shared.load()?;
    let issuer_key = qrid_service::keys::load_issuer_key(&config.key_dir)?;
    let is_dev = issuer_key.kid().to_string() == qrid_service::config::DEV_KID.trim();
    if is_dev && config.production {
        bail!("production mode refuses the development issuer key");
    }
    let kek = qrid_service::custody::Kek::load(&config.key_dir, config.production)?;
    let name = t.name.as_str();
    let rotation = runtime()?.block_on(async {
        let store = connect(&config.database_url).await?;
        let r = qrid_service::officials::rotate_key(
            &store,
            &config,
            &qrid_service::SystemClock,
            &kek,
            &issuer_key,
            name,
            "cli",
        )
        .await;
        store.close().await;
        match r {
            Err(qrid_service::officials::RotateError::NotFound) => bail!("no official {name}"),
            r => anyhow::Ok(r?),
        }
    })?;
    eprintln!(
        "qrid: official {name}: key rotated ({} → {}); old signer credentials revoked: {}; tokens and signing sessions ended",
        rotation.previous_kid,
        rotation.official.kid,
        rotation.revoked.len()
    );
    let revoked: Vec<&str> = rotation.revoked.iter().map(|r| r.id.as_str()).collect();
    println!(
        "{}",
        serde_json::json!({
            "official_id": rotation.official.id, "username": rotation.official.username,
            "kid": rotation.official.kid, "previous_kid": rotation.previous_kid,
            "signer_credential_id": rotation.signer_credential.id,
            "signer_credential_expires_at": rotation.signer_credential.expires_at,
            "revoked_signer_credentials": revoked,
        })
    );
    Ok(ExitCode::SUCCESS)
}

/// The symbol in Unicode half blocks, two rows of modules per line, with a quiet zone. Light
/// modules are drawn as blocks and dark ones as blanks, so that on the usual dark terminal the
/// code shows dark on light, as scanners expect.
pub(crate) fn terminal_qr(s: &qrid_qr::Symbol) -> String {
    let n = s.modules() as isize;
    let q = 2isize;
    let dark = |x: isize, y: isize| {
        x >= 0 && y >= 0 && x < n && y < n && s.is_dark(x as usize, y as usize)
    };
    let mut out = String::new();
    let mut y = -q;
    while y < n + q {
        for x in -q..n + q {
            out.push(match (dark(x, y), dark(x, y + 1)) {
                (false, false) => '█',
                (false, true) => '▀',
                (true, false) => '▄',
                (true, true) => ' ',
            });
        }
        out.push('\n');
        y += 2;
    }
    out
}
