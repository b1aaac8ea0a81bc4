//! `qrid officer|client|official list|disable|enable|reset-…`: account administration, by
//! the service's [`qrid_service::admin`] operations on the database. Every change holds on every node at once: requests read the
//! account on arrival (see docs/api.md, "Accounts").

use crate::service::{connect, read_secret_line, runtime};
use crate::settings::SharedArgs;
use anyhow::Result;
use clap::Args;
use qrid_service::{admin, ServiceError};
use qrid_store::{AccountKind, StoreError, ACCOUNT_PAGE};
use std::process::ExitCode;

/// The account a command acts on, with the shared settings.
#[derive(Args)]
pub struct Target {
    /// The username (officers, officials) or client id (clients).
    #[arg(value_name = "NAME")]
    pub name: String,
    #[command(flatten)]
    pub shared: SharedArgs,
}

/// What to do.
pub enum Action {
    /// Refuse sign-in and end the tokens and sessions held.
    Disable,
    /// Allow sign-in again (tokens from before stay ended).
    Enable,
    /// New password from standard input; earlier tokens end.
    ResetPassword,
    /// A new client secret, printed once.
    ResetSecret,
    /// A new TOTP secret for an official, shown once.
    ResetTotp,
}

fn noun(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::Officer => "officer",
        AccountKind::Client => "client",
        AccountKind::Official => "official",
    }
}

/// Lists the accounts of `kind`, page by page, as JSON lines.
pub fn list(kind: AccountKind, shared: &SharedArgs) -> Result<ExitCode> {
    let config = shared.load()?;
    let (name_key, detail_key) = match kind {
        AccountKind::Officer => ("username", "role"),
        AccountKind::Client => ("client_id", "name"),
        AccountKind::Official => ("username", "full_name"),
    };
    runtime()?.block_on(async {
        let store = connect(&config.database_url).await?;
        let mut after: Option<String> = None;
        loop {
            let page = admin::list_accounts(&store, kind, after.as_deref()).await?;
            for a in &page {
                println!(
                    "{}",
                    serde_json::json!({
                        name_key: a.name, detail_key: a.detail,
                        "disabled": a.disabled,
                        "created_at": a.created_at,
                    })
                );
            }
            if page.len() < ACCOUNT_PAGE as usize {
                break;
            }
            after = page.last().map(|a| a.name.clone());
        }
        store.close().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Changes one account.
pub fn change(kind: AccountKind, action: Action, target: Target) -> Result<ExitCode> {
    let config = target.shared.load()?;
    let name = target.name.as_str();
    let now = crate::now();
    let what = noun(kind);
    let not_found = |e: ServiceError| match e {
        ServiceError::Store(StoreError::NotFound(_)) => anyhow::anyhow!("no {what} {name}"),
        e => e.into(),
    };
    let rt = runtime()?;
    match action {
        Action::Disable | Action::Enable => {
            let disabled = matches!(action, Action::Disable);
            rt.block_on(async {
                let store = connect(&config.database_url).await?;
                let r = admin::set_disabled(&store, kind, name, disabled, "cli", now).await;
                store.close().await;
                r.map_err(not_found)
            })?;
            eprintln!(
                "qrid: {what} {name} {}",
                if disabled {
                    "disabled: refused on every node from its next request"
                } else {
                    "enabled"
                }
            );
        }
        Action::ResetPassword => {
            let password = read_secret_line()?;
            // Refused before the database is opened.
            admin::check_new_password(&password)?;
            rt.block_on(async {
                let store = connect(&config.database_url).await?;
                let r = admin::reset_password(&store, kind, name, &password, "cli", now).await;
                store.close().await;
                r.map_err(not_found)
            })?;
            eprintln!("qrid: {what} {name}: password replaced; tokens issued before are refused");
        }
        Action::ResetSecret => {
            let secret = rt.block_on(async {
                let store = connect(&config.database_url).await?;
                let r = admin::reset_client_secret(&store, name, "cli", now).await;
                store.close().await;
                r.map_err(not_found)
            })?;
            println!(
                "{}",
                serde_json::json!({"client_id": name, "client_secret": secret.as_str()})
            );
            eprintln!("qrid: store the secret now; it cannot be shown again (the old one no longer works)");
        }
        Action::ResetTotp => {
            let kek = qrid_service::custody::Kek::load(&config.key_dir, config.production)?;
            let otpauth = rt.block_on(async {
                let store = connect(&config.database_url).await?;
                let issuer = format!("qrid {}", config.issuer);
                let r = admin::reset_official_totp(&store, &kek, name, &issuer, "cli", now).await;
                store.close().await;
                r.map_err(not_found)
            })?;
            if let Ok(symbol) = qrid_qr::Symbol::encode(&otpauth, qrid_qr::Ecc::L) {
                eprintln!(
                    "qrid: official {name}: new TOTP secret; scan this with the authenticator app now, it is not shown again:\n{}",
                    crate::official::terminal_qr(&symbol)
                );
            }
            println!(
                "{}",
                serde_json::json!({"username": name, "otpauth_uri": otpauth.as_str()})
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
