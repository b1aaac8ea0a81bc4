//! The service side of the CLI: `serve`, officers, clients, key rotation, bulk issuance.

use crate::settings::SharedArgs;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use qrid_credential::{CitizenInput, IssuerKey};
use qrid_service::issuance::{sign_credential, BulkIssuance, IssueTerms};
use qrid_service::{Config, Settings};
use qrid_store::{IssuedRow, NewCitizen, Role, Store};
use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::process::ExitCode;

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    shared: SharedArgs,
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
    let own = Settings {
        clock_skew: args.clock_skew,
        sqlite_max_bytes: args.sqlite_max_bytes,
        header_timeout: args.header_timeout,
        idle_timeout: args.idle_timeout,
        max_connections: args.max_connections,
        drain_timeout: args.drain_timeout,
        login_attempts_per_minute: args.login_attempts_per_minute,
        login_burst: args.login_burst,
        authorize_per_minute: args.authorize_per_minute,
        authorize_burst: args.authorize_burst,
        max_pending_logins_per_client: args.max_pending_logins_per_client,
        max_pending_logins: args.max_pending_logins,
        ..Settings::default()
    };
    let config = Config::load(args.shared.settings_with(own)?)?;
    let backend = if config.database_url.starts_with("sqlite:") {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    run_server(config, backend)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "server")]
fn run_server(config: Config, backend: &'static str) -> Result<()> {
    let rt = runtime()?;
    let served = rt.block_on(qrid_server::serve(config, |addr| {
        eprintln!("qrid: listening on http://{addr} ({backend})");
    }));
    // Requests dropped at the drain deadline may leave blocking work behind (an image being
    // decoded, a password being hashed) that cannot be interrupted; its result is no longer
    // wanted, and the process ends without waiting for it.
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    served
}

/// Built without the HTTP server (`--no-default-features`): every other command works.
#[cfg(not(feature = "server"))]
fn run_server(_config: Config, _backend: &'static str) -> Result<()> {
    anyhow::bail!("this qrid was built without the HTTP server (the `server` feature)")
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
        #[command(flatten)]
        shared: SharedArgs,
    },
    /// List officers: username, role, disabled, created (JSON lines; no hashes).
    List(SharedArgs),
    /// Disable an officer: sign-in refused and their tokens ended, on every node at once.
    Disable(crate::accounts::Target),
    /// Enable a disabled officer (tokens from before stay ended).
    Enable(crate::accounts::Target),
    /// Replace an officer's password (standard input, as for create); earlier tokens end.
    ResetPassword(crate::accounts::Target),
}

/// Reads one line (a password or secret) from stdin, at most 1 KiB. On a terminal it asks for
/// it, twice, with the echo off, so that the password is neither shown nor mistyped; from a
/// pipe it reads one line without a prompt.
pub(crate) fn read_secret_line() -> Result<zeroize::Zeroizing<String>> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return read_line_limited();
    }
    let first = prompt_hidden("Password (not shown): ")?;
    let again = prompt_hidden("Password again: ")?;
    if *first != *again {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(first)
}

fn read_line_limited() -> Result<zeroize::Zeroizing<String>> {
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

/// Prompts on stderr and reads a line from the terminal with its echo off, restoring the
/// terminal's settings afterwards (also when the read fails).
fn prompt_hidden(prompt: &str) -> Result<zeroize::Zeroizing<String>> {
    eprint!("{prompt}");
    #[cfg(unix)]
    {
        use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions};
        let stdin = std::io::stdin();
        let saved = tcgetattr(&stdin).context("cannot read the terminal's settings")?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        // Keep the line ending visible, so the next prompt starts on its own line.
        quiet.local_modes.insert(LocalModes::ECHONL);
        tcsetattr(&stdin, OptionalActions::Drain, &quiet)
            .context("cannot turn the terminal's echo off")?;
        let line = read_line_limited();
        let restored = tcsetattr(&stdin, OptionalActions::Drain, &saved);
        let line = line?;
        restored.context("cannot restore the terminal's settings")?;
        Ok(line)
    }
    #[cfg(not(unix))]
    {
        read_line_limited()
    }
}

pub fn officer(cmd: OfficerCommand) -> Result<ExitCode> {
    use crate::accounts::{change, list, Action};
    use qrid_store::AccountKind::Officer;
    let (username, role, shared) = match cmd {
        OfficerCommand::Create {
            username,
            role,
            shared,
        } => (username, role, shared),
        OfficerCommand::List(shared) => return list(Officer, &shared),
        OfficerCommand::Disable(t) => return change(Officer, Action::Disable, t),
        OfficerCommand::Enable(t) => return change(Officer, Action::Enable, t),
        OfficerCommand::ResetPassword(t) => return change(Officer, Action::ResetPassword, t),
    };
    let database_url = shared.load()?.database_url;
    let role: Role = role.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    qrid_service::admin::check_username(&username)?;
    let password = read_secret_line()?;
    qrid_service::admin::check_new_password(&password)?;
    runtime()?.block_on(async {
        let store = connect(&database_url).await?;
        let r = qrid_service::admin::create_officer(
            &store,
            &username,
            role,
            &password,
            "cli",
            crate::now(),
        )
        .await;
        store.close().await;
        anyhow::Ok(r?)
    })?;
    eprintln!("qrid: officer {username} created with role {role}");
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn connect(url: &str) -> Result<Store> {
    // The store creates a missing SQLite directory and file, owner-only.
    // The store's error names the database and why, once.
    Ok(Store::connect(url).await?)
}

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints client_id and client_secret once (only a digest is stored).
    /// Portal services that log citizens in (OpenID Connect) also give their redirect URIs.
    Create(ClientArgs),
    /// List clients: client_id, name, disabled, created (JSON lines; no secrets).
    List(SharedArgs),
    /// Disable a client: its next request is refused, on every node.
    Disable(crate::accounts::Target),
    /// Enable a disabled client.
    Enable(crate::accounts::Target),
    /// Replace a client's secret: prints the new one once; the old one stops working at once.
    ResetSecret(crate::accounts::Target),
}

#[derive(Args)]
pub struct ClientArgs {
    /// The name citizens see on the login page and in their wallet.
    #[arg(long)]
    name: String,
    #[command(flatten)]
    shared: SharedArgs,
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
    jwks: Option<PathBuf>,
}

/// A new client secret (256 random bits, base64url) and the SHA-256 that is stored.
pub fn client(cmd: ClientCommand) -> Result<ExitCode> {
    use crate::accounts::{change, list, Action};
    use qrid_store::AccountKind::Client;
    let args = match cmd {
        ClientCommand::Create(args) => args,
        ClientCommand::List(shared) => return list(Client, &shared),
        ClientCommand::Disable(t) => return change(Client, Action::Disable, t),
        ClientCommand::Enable(t) => return change(Client, Action::Enable, t),
        ClientCommand::ResetSecret(t) => return change(Client, Action::ResetSecret, t),
    };
    let ClientArgs { name, shared, .. } = &args;
    let database_url = &shared.load()?.database_url;
    use qrid_service::oidc::client::ClientSettings;
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
    let registered = runtime()?.block_on(async {
        let store = connect(database_url).await?;
        let r = qrid_service::oidc::client::register(
            &store,
            &qrid_service::SystemClock,
            name,
            &settings,
            "cli",
        )
        .await;
        store.close().await;
        anyhow::Ok(r?)
    })?;
    let client_id = registered.client_id;
    match registered.secret {
        // The client proves itself with its key (and two methods in one request are refused).
        None => println!("{}", serde_json::json!({"client_id": client_id})),
        Some(secret) => {
            println!(
                "{}",
                serde_json::json!({"client_id": client_id, "client_secret": secret.as_str()})
            );
            eprintln!("qrid: store the secret now; it cannot be shown again");
        }
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
        #[command(flatten)]
        shared: SharedArgs,
    },
}

pub fn key(cmd: KeyCommand) -> Result<ExitCode> {
    let KeyCommand::Rotate { shared } = cmd;
    // The development keys are public and committed: a rotation must name its key directory
    // (flag, environment or file), never fall back to keys-dev/.
    if shared.settings_with(Settings::default())?.key_dir.is_none() {
        bail!("key rotate needs the key directory: --key-dir, QRID_KEY_DIR or key_dir in the config file (it never rotates the development keys in keys-dev/)");
    }
    let Config {
        key_dir,
        database_url,
        ..
    } = shared.load()?;
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
            let old = qrid_service::keys::load_issuer_key(&key_dir)?;
            qrid_service::keys::register_key(&store, &old, &qrid_service::SystemClock).await?;
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
                crate::now(),
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
        qrid_service::keys::KEY_REFRESH.as_secs()
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct BulkArgs {
    #[command(flatten)]
    shared: SharedArgs,
    /// citizens.csv (header row with the claim names) or citizens.jsonl (one object per line).
    #[arg(long)]
    input: PathBuf,
    /// Days each credential is valid [default: the service's credential_days, 3650].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    valid_days: Option<u32>,
    /// Citizens per transaction. Larger batches write each index page fewer times (random
    /// ids touch pages all over the indexes): 10000 runs ~35% faster than 2000 on SQLite.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=20_000))]
    batch: u32,
    /// Where to record what was issued, one CSV row per credential (input line, id number,
    /// credential id), appended after each batch is committed; owner-only, since it holds id
    /// numbers [default: the input's path with `.issued.csv` added].
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// A batch on its way to the writer: the rows, and the input line of each.
type Batch = (Vec<IssuedRow>, Vec<usize>);

pub fn bulk_issue(args: BulkArgs) -> Result<ExitCode> {
    let config = args.shared.load()?;
    let key = qrid_service::keys::load_issuer_key(&config.key_dir)?;
    if key.kid().to_string() == qrid_service::config::DEV_KID.trim() {
        if config.production {
            bail!("production mode refuses the development issuer key");
        }
        eprintln!(
            "qrid: WARNING: signing with the DEVELOPMENT key in {} — not for real credentials",
            config.key_dir.display()
        );
    }
    let valid_days = args.valid_days.unwrap_or(config.credential_days);
    let is_csv = args
        .input
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let file = std::fs::File::open(&args.input)
        .with_context(|| format!("cannot open {}", args.input.display()))?;
    let total_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
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
    let public_url = config.public_url.trim_end_matches('/').to_owned();
    let mut citizens = if is_csv {
        Citizens::Csv(
            crate::csv::CitizenCsv::new(file, qrid_credential::MAX_INPUT_JSON)
                .with_context(|| args.input.display().to_string())?,
        )
    } else {
        Citizens::Jsonl {
            reader: std::io::BufReader::with_capacity(1 << 16, file),
            line: 0,
            read: 0,
        }
    };
    let manifest_path = args.manifest.clone().unwrap_or_else(|| {
        let mut p = args.input.clone().into_os_string();
        p.push(".issued.csv");
        PathBuf::from(p)
    });
    // Opened before anything is issued, so that a run never issues what it cannot record.
    let (manifest, new_manifest) = crate::keys::append_private(&manifest_path)?;
    let mut manifest = ::csv::Writer::from_writer(manifest);
    if new_manifest {
        manifest.write_record(["line", "id_number", "credential_id"])?;
        manifest.flush()?;
    }
    let rt = runtime()?;
    let store = rt.block_on(connect(&config.database_url))?;
    rt.block_on(qrid_service::keys::register_key(
        &store,
        &key,
        &qrid_service::SystemClock,
    ))?;
    let bulk = BulkIssuance::new(store.clone(), config.status_list_size);
    // Pipelined: this thread parses, filters, reserves slots and signs batch k+1 (on every
    // core) while the writer thread stores batch k, so the database and the signatures
    // overlap instead of taking turns.
    let (to_writer, from_reader) = std::sync::mpsc::sync_channel::<Batch>(1);
    let writer = {
        let bulk = bulk.clone();
        let handle = rt.handle().clone();
        let manifest_path = manifest_path.clone();
        std::thread::spawn(move || -> Result<usize> {
            let mut written = 0;
            let mut out = manifest;
            for (rows, lines) in from_reader {
                written += handle
                    .block_on(bulk.store_batch(&rows, "bulk-issue", crate::now()))
                    .context("storing a batch (nothing of it was stored; run again to continue)")?;
                // Committed: only now does it go into the manifest, so the manifest never names
                // a credential that does not exist.
                for (row, line) in rows.iter().zip(&lines) {
                    out.write_record([
                        line.to_string().as_str(),
                        row.citizen.citizen.id_number.as_str(),
                        row.credential.id.to_string().as_str(),
                    ])?;
                }
                out.flush()
                    .with_context(|| format!("writing {}", manifest_path.display()))?;
            }
            out.into_inner()
                .map_err(|e| e.into_error())?
                .sync_all()
                .with_context(|| format!("writing {}", manifest_path.display()))?;
            Ok(written)
        })
    };
    // Id numbers of the batches that may still be in flight to the writer: the database
    // cannot show them yet, so a repeat across batches is caught here.
    let mut in_flight: std::collections::VecDeque<std::collections::HashSet<String>> =
        std::collections::VecDeque::new();
    let (mut signed, mut skipped, mut refused) = (0usize, 0usize, 0usize);
    let started = std::time::Instant::now();
    let mut failed: Option<anyhow::Error> = None;
    // An input that cannot be read on: what came before it is still issued.
    let mut stopped: Option<anyhow::Error> = None;
    loop {
        let mut batch = Vec::with_capacity(args.batch as usize);
        // The input line of each id number in this batch (the first, as the store keeps it).
        let mut lines_of: std::collections::HashMap<String, usize> =
            std::collections::HashMap::new();
        while batch.len() < args.batch as usize && stopped.is_none() {
            let (n, place, parsed) = match citizens.next() {
                Ok(Some(item)) => item,
                Ok(None) => break,
                Err(e) => {
                    stopped = Some(e);
                    break;
                }
            };
            match parsed.and_then(|i| i.to_citizen().map_err(anyhow::Error::from)) {
                Ok(citizen) => {
                    lines_of
                        .entry(citizen.id_number.as_str().to_owned())
                        .or_insert(n);
                    batch.push(NewCitizen { citizen });
                }
                Err(e) => {
                    refused += 1;
                    bar.suspend(|| eprintln!("qrid: {place}: {e:#}"));
                }
            }
        }
        if batch.is_empty() {
            break;
        }
        let total = batch.len();
        let fresh: Vec<NewCitizen> = rt
            .block_on(bulk.not_enrolled(batch))?
            .into_iter()
            .filter(|c| {
                !in_flight
                    .iter()
                    .any(|ids| ids.contains(c.citizen.id_number.as_str()))
            })
            .collect();
        skipped += total - fresh.len();
        let at = crate::now();
        let slots = rt.block_on(bulk.reserve_slots(fresh.len(), at))?;
        let terms = IssueTerms {
            issuer: &config.issuer,
            public_url: &public_url,
            issued_at: at,
            valid_days,
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
        let lines = rows
            .iter()
            .map(|r| {
                lines_of
                    .get(r.citizen.citizen.id_number.as_str())
                    .copied()
                    .unwrap_or(0)
            })
            .collect();
        if to_writer.send((rows, lines)).is_err() {
            break; // the writer stopped; its error is reported below
        }
        bar.set_position(citizens.bytes_read());
        bar.set_message(format!(
            "{signed} signed, {skipped} already enrolled, {refused} refused"
        ));
        if stopped.is_some() {
            break;
        }
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
        "qrid: {issued} issued, {skipped} already enrolled (skipped), {refused} refused, in {secs:.1} s ({:.0}/s); the credential ids are in {}",
        issued as f64 / secs.max(1e-9),
        manifest_path.display()
    );
    if let Some(e) = stopped {
        return Err(e.context(args.input.display().to_string()));
    }
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// bulk-issue's input: CSV records or JSON lines.
enum Citizens {
    Csv(crate::csv::CitizenCsv<std::fs::File>),
    Jsonl {
        reader: std::io::BufReader<std::fs::File>,
        /// The number of the line last read.
        line: usize,
        read: u64,
    },
}

impl Citizens {
    /// The next citizen: the line it starts on, where it is for a message, and its claims or
    /// why they are refused; `None` at the end. An error is an input that cannot be read on.
    fn next(&mut self) -> Result<Option<(usize, String, Result<CitizenInput>)>> {
        match self {
            Citizens::Csv(csv) => Ok(csv.read_record()?.map(|r| {
                let line = usize::try_from(r.line).unwrap_or(usize::MAX);
                (line, r.place(), r.input)
            })),
            Citizens::Jsonl { reader, line, read } => loop {
                let max = qrid_credential::MAX_INPUT_JSON;
                let Some(text) = crate::input::next_line(reader, max)? else {
                    return Ok(None);
                };
                *line += 1;
                let parsed = match text {
                    crate::input::Line::Text(t) => {
                        *read += t.len() as u64 + 1;
                        if t.trim().is_empty() {
                            continue;
                        }
                        CitizenInput::from_json(&t).map_err(anyhow::Error::from)
                    }
                    crate::input::Line::Refused(why) => Err(anyhow::anyhow!(why)),
                };
                return Ok(Some((*line, format!("line {line}"), parsed)));
            },
        }
    }

    /// Bytes of the input read so far (for the progress bar).
    fn bytes_read(&self) -> u64 {
        match self {
            Citizens::Csv(csv) => csv.bytes_read(),
            Citizens::Jsonl { read, .. } => *read,
        }
    }
}
