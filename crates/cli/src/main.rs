//! `qrid`: the command-line face of the qrid crates. Thin: it parses arguments, reads and
//! writes files, and calls the libraries. Exit codes: 0 success (every credential valid), 1 some
//! credential invalid or some input line refused, 2 usage or I/O error.

mod accounts;
mod csv;
mod input;
mod keys;
mod official;
mod offline;
mod service;
mod settings;
mod signature;
mod vci;
mod wallet;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Unix seconds now: the command reads the system clock here alone, as the service does
/// through its clock.
pub(crate) fn now() -> i64 {
    qrid_service::Clock::now(&qrid_service::SystemClock)
}

// Verification and issuance allocate many small, short-lived buffers (CBOR values, JSON
// verdicts) across threads; glibc's malloc cost ~10% of a /v1/verify request in profiles.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's settings for a long-running service, each kept if the environment already gives
/// it: freed memory goes back to the system after 10 ms rather than a second, and arenas are
/// committed as they are used rather than at once. With mimalloc's defaults, four hostile
/// image uploads at once took the service to 257 MiB although their decodes are bounded to
/// 96 MiB together; with these, 109–120 MiB (docs/benchmarks.md, tests/tests/images.rs).
const SERVE_ALLOCATOR_SETTINGS: [(&str, &str); 2] = [
    ("MIMALLOC_PURGE_DELAY", "10"),
    ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
];

/// mimalloc reads its settings from the environment as the process starts, before `main`, so
/// `serve` sets them and replaces itself once with the same arguments (exec: the same process
/// id, nothing started yet). Once they are all in the environment this does nothing, so it
/// runs at most once; if exec fails, the service starts with the defaults and says so.
fn allocator_settings_for_serve() {
    if SERVE_ALLOCATOR_SETTINGS
        .iter()
        .all(|(name, _)| std::env::var_os(name).is_some())
    {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let mut again = std::process::Command::new(exe);
        if let Some(arg0) = args.next() {
            again.arg0(arg0);
        }
        again.args(args);
        for (name, value) in SERVE_ALLOCATOR_SETTINGS {
            if std::env::var_os(name).is_none() {
                again.env(name, value);
            }
        }
        // Returns only if the exec failed.
        let error = again.exec();
        eprintln!("qrid: starting with the allocator's default settings ({error})");
    }
}

#[derive(Parser)]
#[command(
    name = "qrid",
    version,
    about = "National digital identity: signed QR credentials, offline verification"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make an issuer key: DIR/issuer.key.pem (PKCS#8, mode 0600) and DIR/jwks.json.
    Keygen(keys::KeygenArgs),
    /// Sign citizens' claims into credential payloads, one per line.
    Issue(offline::IssueArgs),
    /// Render the payload read on stdin as a QR code (PNG or SVG).
    Qr(offline::QrArgs),
    /// Verify credentials from --payload, --image, or stdin (one payload per line).
    Verify(offline::VerifyArgs),
    /// Write a signed status list token (IETF Token Status List, CWT form).
    StatusList(offline::StatusListArgs),
    /// Run the service (issuance, revocation, publication, verification) over HTTP.
    Serve(service::ServeArgs),
    /// Manage officers (the people who enrol and issue).
    #[command(subcommand)]
    Officer(service::OfficerCommand),
    /// Manage officials (the people who sign documents with keys the service holds).
    #[command(subcommand)]
    Official(official::OfficialCommand),
    /// Verify a document signature offline: who signed, when, whether the file matches, and
    /// whether the signer credential was valid then and is now.
    VerifySignature(signature::VerifySignatureArgs),
    /// Manage registered clients (portal services and counters calling /v1/verify).
    #[command(subcommand)]
    Client(service::ClientCommand),
    /// Manage issuer keys.
    #[command(subcommand)]
    Key(service::KeyCommand),
    /// Enrol and issue from a CSV or JSONL file straight into the database; re-runs skip
    /// citizens already enrolled.
    BulkIssue(service::BulkArgs),
    /// A reference wallet: holder key, credential, login answers.
    #[command(subcommand)]
    Wallet(wallet::WalletCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Serve(_)) {
        allocator_settings_for_serve();
    }
    let result = match cli.command {
        Command::Keygen(a) => keys::keygen(a),
        Command::Issue(a) => offline::issue(a),
        Command::Qr(a) => offline::qr(a),
        Command::Verify(a) => offline::verify(a),
        Command::StatusList(a) => offline::status_list(a),
        Command::Serve(a) => service::serve(a),
        Command::Officer(c) => service::officer(c),
        Command::Official(c) => official::official(c),
        Command::VerifySignature(a) => signature::verify_signature(a),
        Command::Client(c) => service::client(c),
        Command::Key(c) => service::key(c),
        Command::BulkIssue(a) => service::bulk_issue(a),
        Command::Wallet(c) => wallet::wallet(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("qrid: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
