//! The service side of the CLI: `serve`, officers, clients, key rotation, bulk issuance.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use qrid_credential::{CitizenInput, IssuerKey};
use qrid_server::state::{sign_credential, IssueTerms};
use qrid_server::{Config, Settings};
use qrid_store::{IssuedRow, NewCitizen, Role, Store};
use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::process::ExitCode;

fn now() -> i64 {
    qrid_server::state::now()
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub(crate) const DEFAULT_DB: &str = "sqlite:data/qrid.db";

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on [default 127.0.0.1:8080].
    #[arg(long, env = "QRID_LISTEN")]
    listen: Option<String>,
    /// sqlite:PATH or postgres://… [default sqlite:data/qrid.db].
    #[arg(long, env = "QRID_DATABASE_URL")]
    database_url: Option<String>,
    /// TOML config file (keys as the long flags, with underscores).
    #[arg(long, env = "QRID_CONFIG")]
    config: Option<PathBuf>,
    /// Directory holding issuer.key.pem [default keys-dev].
    #[arg(long, env = "QRID_KEY_DIR")]
    key_dir: Option<PathBuf>,
    /// The `iss` of credentials [default VN].
    #[arg(long, env = "QRID_ISSUER")]
    issuer: Option<String>,
    /// Public base URL of this service; status list URIs are built on it [default http://LISTEN].
    #[arg(long, env = "QRID_PUBLIC_URL")]
    public_url: Option<String>,
    /// Entries per status list [default 65536].
    #[arg(long, env = "QRID_STATUS_LIST_SIZE")]
    status_list_size: Option<u32>,
    /// Production mode: refuses development keys and missing settings.
    #[arg(long, env = "QRID_PRODUCTION")]
    production: bool,
    /// Tolerated clock difference with credential issuers, seconds [default 300].
    #[arg(long, env = "QRID_CLOCK_SKEW")]
    clock_skew: Option<i64>,
    /// Cap on the SQLite database's size, bytes: writes past it answer 503 and /healthz says
    /// so, before the disk itself fills [default: none].
    #[arg(long, env = "QRID_SQLITE_MAX_BYTES")]
    sqlite_max_bytes: Option<u64>,
    /// Password logins (officers' and officials') a minute per source address; 0 = no limit [default 30].
    #[arg(long, env = "QRID_LOGIN_ATTEMPTS_PER_MINUTE")]
    login_attempts_per_minute: Option<u32>,
    /// Password logins a source address may make at once [default 10].
    #[arg(long, env = "QRID_LOGIN_BURST")]
    login_burst: Option<u32>,
    /// GET /authorize calls a minute per source address; 0 = no limit [default 60].
    #[arg(long, env = "QRID_AUTHORIZE_PER_MINUTE")]
    authorize_per_minute: Option<u32>,
    /// GET /authorize calls a source address may make at once [default 20].
    #[arg(long, env = "QRID_AUTHORIZE_BURST")]
    authorize_burst: Option<u32>,
    /// Login transactions one client may have waiting for the wallet [default 1000].
    #[arg(long, env = "QRID_MAX_PENDING_LOGINS_PER_CLIENT")]
    max_pending_logins_per_client: Option<u32>,
    /// Login transactions all clients together may have waiting for the wallet [default 10000].
    #[arg(long, env = "QRID_MAX_PENDING_LOGINS")]
    max_pending_logins: Option<u32>,
    /// Seconds a request head may take to arrive, from its first byte (a new connection's first
    /// request: from the connection) [default 10].
    #[arg(long, env = "QRID_HEADER_TIMEOUT")]
    header_timeout: Option<u64>,
    /// Seconds a connection may stay open with no request in flight and nothing received
    /// [default 75].
    #[arg(long, env = "QRID_IDLE_TIMEOUT")]
    idle_timeout: Option<u64>,
    /// Connections open at once; more wait to be accepted [default: what the descriptor limit
    /// allows, at most 16384].
    #[arg(long, env = "QRID_MAX_CONNECTIONS")]
    max_connections: Option<u64>,
    /// Seconds requests in flight may take to finish after SIGTERM [default 10].
    #[arg(long, env = "QRID_DRAIN_TIMEOUT")]
    drain_timeout: Option<u64>,
}

pub fn serve(args: ServeArgs) -> Result<ExitCode> {
    // Log lines are formatted on the request's thread but written by a thread of their own,
    // through a buffer flushed whenever the queue runs dry: one write(2) per burst instead of
    // one per request. Not lossy: a full queue makes requests wait rather than drop lines, and
    // the guard flushes what is left when serve returns.
    let (writer, _log_guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(64 * 1024)
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stderr(),
        ));
    tracing_subscriber::fmt()
        .json()
        .with_writer(writer)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let flags = Settings {
        listen: args.listen,
        database_url: args.database_url,
        key_dir: args.key_dir,
        issuer: args.issuer,
        public_url: args.public_url,
        status_list_size: args.status_list_size,
        credential_days: None,
        clock_skew: args.clock_skew,
        sqlite_max_bytes: args.sqlite_max_bytes,
        header_timeout: args.header_timeout,
        idle_timeout: args.idle_timeout,
        max_connections: args.max_connections,
        drain_timeout: args.drain_timeout,
        // Secrets come from the environment or the file, never from a flag others can see in ps.
        token_secret: std::env::var("QRID_TOKEN_SECRET").ok(),
        production: args.production.then_some(true),
        login_attempts_per_minute: args.login_attempts_per_minute,
        login_burst: args.login_burst,
        authorize_per_minute: args.authorize_per_minute,
        authorize_burst: args.authorize_burst,
        max_pending_logins_per_client: args.max_pending_logins_per_client,
        max_pending_logins: args.max_pending_logins,
    };
    let file = match &args.config {
        Some(p) => Settings::from_toml_file(p)?,
        None => Settings::default(),
    };
    let config = Config::load(flags.or(file))?;
    let backend = if config.database_url.starts_with("sqlite:") {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    let rt = runtime()?;
    let served = rt.block_on(qrid_server::serve(config, |addr| {
        eprintln!("qrid: listening on http://{addr} ({backend})");
    }));
    // Requests dropped at the drain deadline may leave blocking work behind (an image being
    // decoded, a password being hashed) that cannot be interrupted; its result is no longer
    // wanted, and the process ends without waiting for it.
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    served?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum OfficerCommand {
    /// Create an officer; the password is read from standard input.
    Create {
        #[arg(long)]
        username: String,
        /// admin, issuer or auditor.
        #[arg(long)]
        role: String,
        #[arg(long, env = "QRID_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
    },
}

/// Reads one line (a password or secret) from stdin, at most 1 KiB.
pub(crate) fn read_secret_line() -> Result<zeroize::Zeroizing<String>> {
    let mut buf = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .take(1025)
        .read_line(&mut buf)
        .context("cannot read the password from standard input")?;
    let trimmed = zeroize::Zeroizing::new(buf.trim_end_matches(['\r', '\n']).to_owned());
    if trimmed.len() > 1024 {
        bail!("password longer than 1024 bytes");
    }
    Ok(trimmed)
}

pub fn officer(cmd: OfficerCommand) -> Result<ExitCode> {
    let OfficerCommand::Create {
        username,
        role,
        database_url,
    } = cmd;
    let role: Role = role.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    if !valid_username(&username) {
        bail!("username must be 1 to 64 letters, digits, '.', '_' or '-'");
    }
    let password = read_secret_line()?;
    if password.chars().count() < 12 {
        bail!("password must be at least 12 characters");
    }
    let hash = qrid_server::auth::hash_password(&password)
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    runtime()?.block_on(async {
        let store = connect(&database_url).await?;
        store
            .create_officer(&username, &hash, role, "cli", now())
            .await?;
        store.close().await;
        anyhow::Ok(())
    })?;
    eprintln!("qrid: officer {username} created with role {role}");
    Ok(ExitCode::SUCCESS)
}

/// A login name: 1 to 64 letters, digits, '.', '_' or '-' (never ':', which the throttling
/// tables use to tell officers from officials).
pub(crate) fn valid_username(username: &str) -> bool {
    !username.is_empty()
        && username.len() <= 64
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

pub(crate) async fn connect(url: &str) -> Result<Store> {
    // The store creates a missing SQLite directory and file, owner-only.
    Store::connect(url)
        .await
        .with_context(|| "cannot open the database".to_string())
}

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints client_id and client_secret once (only a digest is stored).
    /// Portal services that log citizens in (OpenID Connect) also give their redirect URIs.
    Create(ClientArgs),
}

#[derive(Args)]
pub struct ClientArgs {
    /// The name citizens see on the login page and in their wallet.
    #[arg(long)]
    name: String,
    #[arg(long, env = "QRID_DATABASE_URL", default_value = DEFAULT_DB)]
    database_url: String,
    /// An exact redirect URI (repeatable). Without one the client can only call /v1/verify.
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// A scope the client may ask for (repeatable): openid, profile, address, national_id.
    /// Default: openid profile.
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// ID token signing algorithm: RS256, ES256 or EdDSA.
    #[arg(long, default_value = "RS256")]
    id_token_alg: String,
    /// Sector for pairwise subjects (default: the host of the first redirect URI). Portals of
    /// one sector see the same `sub` for a citizen; other portals cannot match it.
    #[arg(long)]
    sector: Option<String>,
    /// Token endpoint authentication: client_secret_basic, client_secret_post, private_key_jwt.
    #[arg(long, default_value = "client_secret_basic")]
    token_auth_method: String,
    /// The client's public JWKS file (for private_key_jwt).
    #[arg(long)]
    jwks: Option<std::path::PathBuf>,
}

pub fn client(cmd: ClientCommand) -> Result<ExitCode> {
    let ClientCommand::Create(args) = cmd;
    let ClientArgs {
        name, database_url, ..
    } = &args;
    if name.trim().is_empty() || name.chars().count() > 200 {
        bail!("name must be 1 to 200 characters");
    }
    use qrid_server::oidc::client::ClientSettings;
    let jwks = match &args.jwks {
        Some(p) => Some(
            serde_json::from_slice(&crate::input::read_file(p, 64 * 1024, "client JWKS")?)
                .context("client JWKS")?,
        ),
        None => None,
    };
    let settings = ClientSettings {
        redirect_uris: args.redirect_uris.clone(),
        scopes: if args.scopes.is_empty() {
            vec!["openid".into(), "profile".into()]
        } else {
            args.scopes.clone()
        },
        id_token_signed_response_alg: args.id_token_alg.parse().map_err(anyhow::Error::msg)?,
        sector: args.sector.clone(),
        token_endpoint_auth_method: args.token_auth_method.parse().map_err(anyhow::Error::msg)?,
        jwks,
    };
    settings.validate().map_err(anyhow::Error::msg)?;
    let private_key_jwt =
        settings.token_endpoint_auth_method == qrid_server::oidc::client::AuthMethod::PrivateKeyJwt;
    let settings = serde_json::to_string(&settings)?;
    let mut id = [0u8; 8];
    let mut secret = zeroize::Zeroizing::new([0u8; 32]);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut id);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, secret.as_mut());
    let client_id = format!("c_{}", hex::encode(id));
    use base64::Engine;
    let secret = zeroize::Zeroizing::new(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret.as_ref()),
    );
    let digest = qrid_server::auth::secret_digest(&secret);
    runtime()?.block_on(async {
        let store = connect(database_url).await?;
        store
            .create_client(&client_id, name.trim(), &digest, &settings, "cli", now())
            .await?;
        store.close().await;
        anyhow::Ok(())
    })?;
    if private_key_jwt {
        // The client proves itself with its key; a secret it could also send would only be a
        // second, weaker credential (and two methods in one request are refused).
        println!("{}", serde_json::json!({"client_id": client_id}));
    } else {
        println!(
            "{}",
            serde_json::json!({"client_id": client_id, "client_secret": secret.as_str()})
        );
        eprintln!("qrid: store the secret now; it cannot be shown again");
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Make a new signing key in DIR (the old one is kept as retired-KID.key.pem) and publish it
    /// as current; the old public key stays in the JWKS so its credentials keep verifying.
    /// Running nodes trust the new key within seconds, and sign with it once their key
    /// directory holds it. One rotation at a time per directory (a lock file).
    Rotate {
        #[arg(long, env = "QRID_KEY_DIR")]
        key_dir: PathBuf,
        #[arg(long, env = "QRID_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
    },
}

pub fn key(cmd: KeyCommand) -> Result<ExitCode> {
    let KeyCommand::Rotate {
        key_dir,
        database_url,
    } = cmd;
    let current = key_dir.join("issuer.key.pem");
    // One rotation at a time per key directory: two at once both read the same outgoing key,
    // and the loser's files overwrote the winner's.
    let lock_path = key_dir.join(".rotate.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("cannot lock {}", lock_path.display()))?;
    let new = IssuerKey::generate();
    runtime()?.block_on(async {
        let store = connect(&database_url).await?;
        let mut replaces = None;
        let mut retired = None;
        if current.exists() {
            // Make sure the outgoing key is published before it stops being current, and kept
            // on disk under a name no later rotation reuses (create_new: never overwritten).
            let old = qrid_server::state::load_issuer_key(&key_dir)?;
            qrid_server::state::register_key(&store, &old).await?;
            let path = key_dir.join(format!("retired-{}.key.pem", old.kid()));
            crate::keys::write_new_private(&path, old.to_pkcs8_pem()?.as_bytes())?;
            replaces = Some(old.kid().to_string());
            retired = Some(path);
        }
        let staged = key_dir.join("issuer.key.pem.new");
        let _ = std::fs::remove_file(&staged);
        crate::keys::write_new_private(&staged, new.to_pkcs8_pem()?.as_bytes())?;
        let published = store
            .rotate_key(
                &new.kid().to_string(),
                &serde_json::to_string(&new.jwk())?,
                replaces.as_deref(),
                "cli",
                now(),
            )
            .await;
        if let Err(e) = published {
            // Nothing changed in the database: leave the key files as they were.
            let _ = std::fs::remove_file(&staged);
            if let Some(path) = retired {
                let _ = std::fs::remove_file(path);
            }
            store.close().await;
            return Err(anyhow::Error::new(e).context("the new key was not published"));
        }
        // The database names the new key current: the file follows, atomically.
        std::fs::rename(&staged, &current)
            .with_context(|| format!("cannot move the new key to {}", current.display()))?;
        store.close().await;
        anyhow::Ok(())
    })?;
    drop(lock);
    eprintln!(
        "qrid: new current key {} in {}; running nodes that read this key directory sign with it within {} s",
        new.kid(),
        current.display(),
        qrid_server::state::KEY_REFRESH.as_secs()
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct BulkArgs {
    #[arg(long, env = "QRID_DATABASE_URL")]
    database_url: String,
    /// citizens.csv (header row with the claim names) or citizens.jsonl (one object per line).
    #[arg(long)]
    input: PathBuf,
    #[arg(long, env = "QRID_KEY_DIR", default_value = "keys-dev")]
    key_dir: PathBuf,
    #[arg(long, env = "QRID_ISSUER", default_value = "VN")]
    issuer: String,
    /// Must be the service's public URL: credentials reference its status lists.
    #[arg(long, env = "QRID_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    public_url: String,
    #[arg(long, env = "QRID_STATUS_LIST_SIZE", default_value_t = 65_536)]
    status_list_size: u32,
    #[arg(long, default_value_t = 3650, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    valid_days: u32,
    /// Citizens per transaction. Larger batches write each index page fewer times (random
    /// ids touch pages all over the indexes): 10000 runs ~35% faster than 2000 on SQLite.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=20_000))]
    batch: u32,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub fn bulk_issue(args: BulkArgs) -> Result<ExitCode> {
    let key = qrid_server::state::load_issuer_key(&args.key_dir)?;
    if key.kid().to_string() == qrid_server::config::DEV_KID.trim() {
        eprintln!(
            "qrid: WARNING: signing with the DEVELOPMENT key in {} — not for real credentials",
            args.key_dir.display()
        );
    }
    let is_csv = args
        .input
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let file = std::fs::File::open(&args.input)
        .with_context(|| format!("cannot open {}", args.input.display()))?;
    let total_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let bar = if args.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(total_bytes)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {msg} ({eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let public_url = args.public_url.trim_end_matches('/').to_owned();
    let header: Option<Vec<String>> = if is_csv {
        let mut first = String::new();
        reader.read_line(&mut first)?;
        Some(crate::csv::split(first.trim_end_matches(['\r', '\n'])).context("CSV header")?)
    } else {
        None
    };
    let rt = runtime()?;
    let store = rt.block_on(connect(&args.database_url))?;
    rt.block_on(qrid_server::state::register_key(&store, &key))?;
    // Pipelined: this thread parses, filters, reserves slots and signs batch k+1 (on every
    // core) while the writer thread stores batch k, so the database and the signatures
    // overlap instead of taking turns.
    let (to_writer, from_reader) = std::sync::mpsc::sync_channel::<Vec<IssuedRow>>(1);
    let writer = {
        let store = store.clone();
        let handle = rt.handle().clone();
        std::thread::spawn(move || -> Result<usize> {
            let mut written = 0;
            for rows in from_reader {
                written += handle
                    .block_on(store.insert_issued(&rows, "bulk-issue", now()))
                    .context("storing a batch (nothing of it was stored; run again to continue)")?;
            }
            Ok(written)
        })
    };
    // Id numbers of the batches that may still be in flight to the writer: the database
    // cannot show them yet, so a repeat across batches is caught here.
    let mut in_flight: std::collections::VecDeque<std::collections::HashSet<String>> =
        std::collections::VecDeque::new();
    let (mut signed, mut skipped, mut refused, mut line_no, mut read) =
        (0usize, 0usize, 0usize, 1usize + usize::from(is_csv), 0u64);
    let started = std::time::Instant::now();
    let mut failed: Option<anyhow::Error> = None;
    loop {
        let mut batch = Vec::with_capacity(args.batch as usize);
        while batch.len() < args.batch as usize {
            match crate::input::next_line(&mut reader, qrid_credential::MAX_INPUT_JSON)? {
                None => break,
                Some(line) => {
                    let n = line_no;
                    line_no += 1;
                    let parsed = match line {
                        crate::input::Line::Text(t) => {
                            read += t.len() as u64 + 1;
                            if t.trim().is_empty() {
                                continue;
                            }
                            match &header {
                                Some(h) => crate::csv::to_input(h, &t),
                                None => CitizenInput::from_json(&t).map_err(anyhow::Error::from),
                            }
                        }
                        crate::input::Line::Refused(why) => Err(anyhow::anyhow!(why)),
                    };
                    match parsed.and_then(|i| i.to_citizen().map_err(anyhow::Error::from)) {
                        Ok(citizen) => batch.push(NewCitizen { citizen }),
                        Err(e) => {
                            refused += 1;
                            bar.suspend(|| eprintln!("qrid: line {n}: {e:#}"));
                        }
                    }
                }
            }
        }
        if batch.is_empty() {
            break;
        }
        let total = batch.len();
        let fresh: Vec<NewCitizen> = rt
            .block_on(store.not_enrolled(batch))?
            .into_iter()
            .filter(|c| {
                !in_flight
                    .iter()
                    .any(|ids| ids.contains(c.citizen.id_number.as_str()))
            })
            .collect();
        skipped += total - fresh.len();
        let at = now();
        let slots = rt.block_on(store.reserve_slots(fresh.len(), args.status_list_size, at))?;
        let terms = IssueTerms {
            issuer: &args.issuer,
            public_url: &public_url,
            issued_at: at,
            valid_days: args.valid_days,
        };
        let rows: Result<Vec<IssuedRow>, String> = {
            use rayon::prelude::*;
            fresh
                .into_par_iter()
                .zip(slots)
                .map(|(c, slot)| {
                    let credential = sign_credential(&key, terms, c.citizen.clone(), slot, None)?;
                    Ok(IssuedRow {
                        credential,
                        citizen: c,
                        slot,
                    })
                })
                .collect()
        };
        let rows = match rows {
            Ok(r) => r,
            Err(e) => {
                failed = Some(anyhow::anyhow!("signing failed: {e}"));
                break;
            }
        };
        signed += rows.len();
        in_flight.push_back(
            rows.iter()
                .map(|r| r.citizen.citizen.id_number.as_str().to_owned())
                .collect(),
        );
        if in_flight.len() > 3 {
            in_flight.pop_front();
        }
        if to_writer.send(rows).is_err() {
            break; // the writer stopped; its error is reported below
        }
        bar.set_position(read);
        bar.set_message(format!(
            "{signed} signed, {skipped} already enrolled, {refused} refused"
        ));
    }
    drop(to_writer);
    let written = writer
        .join()
        .map_err(|_| anyhow::anyhow!("the writer thread panicked"))?;
    rt.block_on(store.close());
    bar.finish_and_clear();
    let issued = written?;
    if let Some(e) = failed {
        return Err(e);
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "qrid: {issued} issued, {skipped} already enrolled (skipped), {refused} refused, in {secs:.1} s ({:.0}/s)",
        issued as f64 / secs.max(1e-9)
    );
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
