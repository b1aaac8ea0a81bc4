//! The settings that `serve` and every command touching its database or keys share: one
//! configuration file, one set of environment variables, one set of flags, resolved by the
//! service's own [`Config::load`]. So an official, a client or a bulk-issued credential made
//! from the command line names the status lists, issuer and keys the running service uses.

use anyhow::Result;
use clap::Args;
use qrid_service::{Config, Settings};
use std::path::PathBuf;

/// Flags (each also an environment variable) shared by `serve` and the admin commands.
#[derive(Args, Clone, Debug, Default)]
pub struct SharedArgs {
    /// TOML config file (keys as the long flags, with underscores); flags and environment
    /// override it.
    #[arg(long, env = "QRID_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address the service listens on [default 127.0.0.1:8080]; also the default public URL.
    #[arg(long, env = "QRID_LISTEN")]
    pub listen: Option<String>,
    /// sqlite:PATH or postgres://… [default sqlite:data/qrid.db].
    #[arg(long, env = "QRID_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Directory holding issuer.key.pem (and kek.key) [default keys-dev].
    #[arg(long, env = "QRID_KEY_DIR")]
    pub key_dir: Option<PathBuf>,
    /// The `iss` of credentials [default VN].
    #[arg(long, env = "QRID_ISSUER")]
    pub issuer: Option<String>,
    /// Public base URL of the service; status list URIs are built on it [default http://LISTEN].
    #[arg(long, env = "QRID_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Entries per status list [default 65536].
    #[arg(long, env = "QRID_STATUS_LIST_SIZE")]
    pub status_list_size: Option<u32>,
    /// Production mode: refuses development keys and missing settings.
    #[arg(long, env = "QRID_PRODUCTION")]
    pub production: bool,
}

impl SharedArgs {
    /// The settings the flags and environment give, with nothing from the file yet.
    pub fn flag_settings(&self) -> Settings {
        Settings {
            listen: self.listen.clone(),
            database_url: self.database_url.clone(),
            key_dir: self.key_dir.clone(),
            issuer: self.issuer.clone(),
            public_url: self.public_url.clone(),
            status_list_size: self.status_list_size,
            // Secrets come from the environment or the file, never from a flag others can see
            // in ps.
            token_secret: std::env::var("QRID_TOKEN_SECRET").ok().map(Into::into),
            production: self.production.then_some(true),
            ..Settings::default()
        }
    }

    /// `extra` (settings of the command's own flags) over these flags, over the file.
    pub fn settings_with(&self, extra: Settings) -> Result<Settings> {
        let file = match &self.config {
            Some(p) => Settings::from_toml_file(p)?,
            None => Settings::default(),
        };
        Ok(extra.or(self.flag_settings()).or(file))
    }

    /// The resolved configuration, as `serve` would resolve it, except that the connection
    /// limit is not checked against this process's descriptor limit: it is the service's
    /// setting, and an administrator's shell with a lower `ulimit -n` must still be able to
    /// disable an account.
    pub fn load(&self) -> Result<Config> {
        let mut settings = self.settings_with(Settings::default())?;
        settings.max_connections = None;
        Config::load(settings)
    }
}
