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
mod wallet;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

// Verification and issuance allocate many small, short-lived buffers (CBOR values, JSON
// verdicts) across threads; glibc's malloc cost ~10% of a /v1/verify request in profiles.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
