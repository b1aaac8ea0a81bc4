//! `qrid wallet`: a reference wallet in a directory. It holds the holder key the credential is
//! bound to (`cnf`), the credential, and the issuer's trust list; it answers login requests
//! (docs/login.md). A phone wallet does the same with the key in its secure element.
//!
//! Layout of the directory: `holder.key.pem` (PKCS#8, mode 0600), `holder.jwk.json`,
//! `credential.txt`, `trust.jwks.json`.

use crate::input::read_file;
use crate::keys::{load_key, write_private};
use anyhow::{bail, Context, Result};
use base64::Engine;
use clap::{Args, Subcommand};
use qrid_credential::{open, Credential, HolderKey, IssuerKey, Jwks, LoginRequest};
use signature::Signer;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const KEY: &str = "holder.key.pem";
const JWK: &str = "holder.jwk.json";
const CREDENTIAL: &str = "credential.txt";
const TRUST: &str = "trust.jwks.json";
/// Seconds of clock difference tolerated on a login request's expiry.
const SKEW: i64 = 60;

#[derive(Subcommand)]
pub enum WalletCommand {
    /// Make a holder key in DIR; prints its public JWK (give it to the issuer).
    Init {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Store a credential after checking its signature under the trust list and that it is
    /// bound to this wallet's key.
    Import(ImportArgs),
    /// Receive a credential from an issuer's offer (OpenID4VCI, pre-authorized code): the
    /// offer's QR or link and the PIN the office gives apart from it.
    Receive(ReceiveArgs),
    /// Answer a login request (a QR image or its text): check it, show who asks for what,
    /// and on consent sign the challenge and send the credential.
    Login(LoginArgs),
    /// Sign a document with the holder key: a detached signature (JWS) whose signer
    /// credential is this wallet's identity credential, written to FILE.sig (or --out).
    Sign(SignArgs),
}

#[derive(Args)]
pub struct SignArgs {
    #[arg(long)]
    dir: PathBuf,
    /// The document's media type [default: from its extension].
    #[arg(long)]
    media_type: Option<String>,
    /// Where to write the signature [default: FILE.sig].
    #[arg(long)]
    out: Option<PathBuf>,
    /// The document to sign.
    file: PathBuf,
}

#[derive(Args)]
pub struct ImportArgs {
    #[arg(long)]
    dir: PathBuf,
    /// The issuer's trust list (GET /.well-known/jwks.json).
    #[arg(long)]
    trust: PathBuf,
    /// The credential payload text.
    #[arg(long, conflicts_with_all = ["image", "file"])]
    payload: Option<String>,
    /// A QR image of the credential.
    #[arg(long, conflicts_with = "file")]
    image: Option<PathBuf>,
    /// A file holding the payload text.
    file: Option<PathBuf>,
}

#[derive(Args)]
pub struct ReceiveArgs {
    #[arg(long)]
    dir: PathBuf,
    /// The offer link (`openid-credential-offer://…` or the wallet link `https://…/wallet/offer?…`).
    #[arg(long, required_unless_present = "image", conflicts_with = "image")]
    offer: Option<String>,
    /// A picture of the offer QR.
    #[arg(long)]
    image: Option<PathBuf>,
    /// The PIN (transaction code) given with the offer; asked for on standard input if not
    /// given.
    #[arg(long)]
    pin: Option<String>,
    /// The issuer's trust list (GET /.well-known/jwks.json) [default: the one this wallet
    /// already holds].
    #[arg(long)]
    trust: Option<PathBuf>,
}

#[derive(Args)]
pub struct LoginArgs {
    #[arg(long)]
    dir: PathBuf,
    /// A picture of the login QR (a photo or a screenshot).
    #[arg(long, required_unless_present = "request", conflicts_with = "request")]
    image: Option<PathBuf>,
    /// The login request text (QL1:…).
    #[arg(long)]
    request: Option<String>,
    /// The two-digit confirmation code the login page shows beside the QR; asked for on
    /// standard input if not given (and required with --yes).
    #[arg(long)]
    code: Option<String>,
    /// Answer without asking.
    #[arg(long)]
    yes: bool,
}

pub fn wallet(cmd: WalletCommand) -> Result<ExitCode> {
    match cmd {
        WalletCommand::Init { dir } => init(&dir),
        WalletCommand::Import(a) => import(a),
        WalletCommand::Receive(a) => receive(a),
        WalletCommand::Login(a) => login(a),
        WalletCommand::Sign(a) => sign(a),
    }
}

fn init(dir: &Path) -> Result<ExitCode> {
    // Owner-only: the wallet holds the holder key and the citizen's credential (their claims).
    crate::keys::create_private_dir(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let key_path = dir.join(KEY);
    if key_path.exists() {
        bail!(
            "{} exists: this wallet already has a holder key",
            key_path.display()
        );
    }
    let key = IssuerKey::generate();
    write_private(&key_path, key.to_pkcs8_pem()?.as_bytes())?;
    let jwk = serde_json::to_string(&key.jwk())?;
    std::fs::write(dir.join(JWK), format!("{jwk}\n")).context("cannot write holder.jwk.json")?;
    println!("{jwk}");
    eprintln!("qrid: holder key {} in {}", key.kid(), dir.display());
    Ok(ExitCode::SUCCESS)
}

fn read_image(path: &Path) -> Result<Vec<String>> {
    let limits = qrid_qr::DecodeLimits::default();
    let bytes = read_file(path, limits.max_bytes as u64, "image")?;
    qrid_qr::decode_image(&bytes, &limits)
        .with_context(|| format!("no QR read in {}", path.display()))
}

fn load_trust(path: &Path) -> Result<Jwks> {
    Jwks::from_json(&read_file(
        path,
        qrid_credential::MAX_JWKS_BYTES as u64,
        "trust list",
    )?)
    .with_context(|| format!("trust list {}", path.display()))
}

fn import(a: ImportArgs) -> Result<ExitCode> {
    let key =
        load_key(&a.dir.join(KEY)).context("this directory has no wallet (qrid wallet init)")?;
    let trust = load_trust(&a.trust)?;
    let payload = match (&a.payload, &a.image, &a.file) {
        (Some(p), _, _) => p.trim().to_owned(),
        (_, Some(img), _) => read_image(img)?
            .into_iter()
            .find(|t| !t.starts_with("QL1:") && !t.starts_with("QS1:"))
            .context("the image holds no credential")?,
        (_, _, Some(f)) => String::from_utf8(read_file(f, 8192, "credential file")?)
            .context("credential file is not text")?
            .trim()
            .to_owned(),
        _ => bail!("give the credential: --payload, --image or a file"),
    };
    store_checked(&a.dir, &key, &trust, &payload)
}

/// Stores `payload` in the wallet after checking its signature under `trust`, that it is
/// bound to this wallet's key and unexpired; keeps `trust` as the wallet's trust list.
fn store_checked(dir: &Path, key: &IssuerKey, trust: &Jwks, payload: &str) -> Result<ExitCode> {
    let msg = open(payload).context("not a credential")?;
    let issuers = qrid_credential::candidates(&trust.keys, |k| &k.kid, msg.kid());
    if issuers.is_empty() {
        bail!("the credential's issuer key is not in the trust list");
    }
    let verified = issuers
        .iter()
        .any(|k| k.verifying_key().is_ok_and(|key| msg.verify(&key).is_ok()));
    if !verified {
        bail!("the credential's signature does not verify");
    }
    let cred = Credential::from_cbor(msg.payload())?;
    match &cred.holder {
        Some(HolderKey(k)) if *k == key.verifying_key() => {}
        Some(_) => bail!("the credential is bound to another holder key, not this wallet's"),
        None => bail!("the credential is not bound to a holder key (no cnf): it cannot log in"),
    }
    if cred.expires_at < crate::now() {
        bail!("the credential has expired");
    }
    write_private(&dir.join(CREDENTIAL), format!("{payload}\n").as_bytes())?;
    std::fs::write(dir.join(TRUST), trust.to_json() + "\n")?;
    eprintln!(
        "qrid: stored credential {} (expires at {})",
        cred.id, cred.expires_at
    );
    Ok(ExitCode::SUCCESS)
}

fn receive(a: ReceiveArgs) -> Result<ExitCode> {
    let key =
        load_key(&a.dir.join(KEY)).context("this directory has no wallet (qrid wallet init)")?;
    let trust = match &a.trust {
        Some(t) => load_trust(t)?,
        None => load_trust(&a.dir.join(TRUST))
            .context("give the issuer's trust list (--trust): this wallet holds none yet")?,
    };
    let link = match (&a.offer, &a.image) {
        (Some(o), _) => o.trim().to_owned(),
        (None, Some(img)) => read_image(img)?
            .into_iter()
            .find(|t| t.contains("credential_offer"))
            .context("the image holds no credential offer")?,
        (None, None) => bail!("give the offer: --offer or --image"),
    };
    let agent = crate::vci::agent();
    let offer = crate::vci::parse_offer(&link, &agent)?;
    let pin = match &a.pin {
        Some(p) => p.trim().to_owned(),
        None => {
            eprint!("Type the PIN the office gave you for {}: ", offer.issuer);
            std::io::stderr().flush()?;
            let mut line = String::new();
            std::io::stdin().lock().take(64).read_line(&mut line)?;
            line.trim().to_owned()
        }
    };
    let payload = crate::vci::receive(&agent, &offer, &pin, &key)?;
    store_checked(&a.dir, &key, &trust, &payload)
}

fn load_credential(dir: &Path) -> Result<String> {
    Ok(
        String::from_utf8(read_file(&dir.join(CREDENTIAL), 8192, "credential")?)
            .context("credential file is not text")?
            .trim()
            .to_owned(),
    )
}

fn sign(a: SignArgs) -> Result<ExitCode> {
    use qrid_credential::docsig::{DocumentRef, SignatureHeader};
    let key =
        load_key(&a.dir.join(KEY)).context("this directory has no wallet (qrid wallet init)")?;
    let credential = load_credential(&a.dir).context("import a credential first")?;
    let digest = crate::signature::hash_file(&a.file)?;
    let name = a
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .context("the document's file name is not UTF-8")?;
    let media_type = a
        .media_type
        .as_deref()
        .unwrap_or_else(|| crate::signature::media_type_of(&a.file));
    let document = DocumentRef::new(digest, name, media_type)?;
    // The signing time is the wallet's own clock: verifiers treat it as the holder's claim.
    let jws = SignatureHeader {
        kid: key.kid().clone(),
        signing_time: crate::now(),
        document,
        credential,
        signature_id: None,
    }
    .sign(key.signing_key())?;
    let out = a.out.unwrap_or_else(|| {
        let mut p = a.file.clone().into_os_string();
        p.push(".sig");
        PathBuf::from(p)
    });
    std::fs::write(&out, format!("{jws}\n"))
        .with_context(|| format!("cannot write {}", out.display()))?;
    eprintln!(
        "qrid: signed {name} (sha256 {}) into {}",
        hex::encode(digest),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn login(a: LoginArgs) -> Result<ExitCode> {
    let key =
        load_key(&a.dir.join(KEY)).context("this directory has no wallet (qrid wallet init)")?;
    let trust = load_trust(&a.dir.join(TRUST)).context("import a credential first")?;
    let credential = load_credential(&a.dir)?;
    let text = match (&a.request, &a.image) {
        (Some(r), _) => r.trim().to_owned(),
        (None, Some(img)) => read_image(img)?
            .into_iter()
            .find(|t| t.starts_with("QL1:"))
            .context("the image holds no login request (QL1:)")?,
        (None, None) => bail!("give the login request: --image or --request"),
    };
    let verified = match LoginRequest::verify(&text, &trust) {
        Ok(v) => v,
        Err(e) => {
            eprintln!(
                "qrid: login_request_invalid: {e}; not answering (the request may be forged)"
            );
            return Ok(ExitCode::from(1));
        }
    };
    let r = &verified.request;
    if r.is_expired(crate::now(), SKEW) {
        eprintln!("qrid: login_request_expired: the login request has expired");
        return Ok(ExitCode::from(1));
    }
    if !r.response_uri.starts_with(&format!("{}/", r.audience)) {
        eprintln!(
            "qrid: login_request_invalid: the response address is not the identity service's"
        );
        return Ok(ExitCode::from(1));
    }
    eprintln!(
        "{} ({}) asks you to log in through {}\nand to share: {}\nThe request expires in {} s.",
        r.client_name,
        r.client_id,
        r.audience,
        r.scopes.join(", "),
        (r.expires_at - crate::now()).max(0)
    );
    if !a.yes {
        eprint!("Answer with your identity? [y/N] ");
        std::io::stderr().flush()?;
        let mut line = String::new();
        // One short answer; a pasted novel is not read whole.
        std::io::stdin().lock().take(64).read_line(&mut line)?;
        if !matches!(line.trim(), "y" | "Y" | "yes") {
            eprintln!("qrid: declined; nothing was sent");
            return Ok(ExitCode::from(1));
        }
    }
    // The code on the login page: a QR relayed without its page cannot be answered, and a
    // citizen who did not start a login has no page to read it from.
    let code = match (&a.code, a.yes) {
        (Some(c), _) => c.trim().to_owned(),
        (None, true) => bail!("give --code: the two-digit code the login page shows"),
        (None, false) => {
            eprint!("Type the two-digit code shown on the login page: ");
            std::io::stderr().flush()?;
            let mut line = String::new();
            std::io::stdin().lock().take(64).read_line(&mut line)?;
            line.trim().to_owned()
        }
    };
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_digit()) {
        eprintln!("qrid: the code is two digits, as the login page shows it; nothing was sent");
        return Ok(ExitCode::from(1));
    }
    let sig = key
        .signing_key()
        .try_sign(&LoginRequest::response_message(&verified.payload))
        .context("the holder key could not sign")?;
    let body = serde_json::json!({
        "tx": r.tx,
        "credential": credential,
        "signature": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig.to_bytes()),
        "code": code,
    });
    let agent = ureq::AgentBuilder::new()
        .timeout(std::time::Duration::from_secs(30))
        .redirects(0)
        .build();
    match agent.post(&r.response_uri).send_json(body) {
        Ok(_) => {
            eprintln!("qrid: accepted; go back to your browser");
            Ok(ExitCode::SUCCESS)
        }
        Err(ureq::Error::Status(code, resp)) => {
            let text = resp.into_string().unwrap_or_default();
            let problem: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            eprintln!(
                "qrid: refused ({code}): {}: {}",
                problem["type"]
                    .as_str()
                    .unwrap_or("unknown")
                    .rsplit(':')
                    .next()
                    .unwrap_or(""),
                problem["detail"].as_str().unwrap_or("")
            );
            Ok(ExitCode::from(1))
        }
        Err(e) => bail!("cannot reach {}: {e}", r.response_uri),
    }
}
