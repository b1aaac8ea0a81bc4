//! Service configuration: defaults for the embedded development setup, a TOML file, environment
//! variables and flags (flags and environment win over the file, the file over defaults), and the
//! production rules.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The thumbprint of the committed development key (keys-dev/jwks.json). Production refuses it
/// wherever the key file was copied to.
pub const DEV_KID: &str = include_str!("../../../keys-dev/kid.txt");

/// A secret held in memory: its `Debug` shows neither the value nor its length, and its bytes
/// are wiped when it is dropped. The value is reached only through [`Secret::expose`], so a
/// `{:?}` of a configuration, in a log or an error, cannot carry it.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret<T: zeroize::Zeroize>(T);

impl<T: zeroize::Zeroize> Secret<T> {
    /// Wraps a secret.
    pub fn new(value: T) -> Secret<T> {
        Secret(value)
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: zeroize::Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: zeroize::Zeroize> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret<String> {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

/// A database URL for `Debug`: the password, in the authority or as a `password=` parameter,
/// is replaced, and the rest kept so that an operator still sees which database is meant.
pub fn redact_database_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => match userinfo.split_once(':') {
                    Some((user, _)) => format!("{scheme}://{user}:[redacted]@{host}{path}"),
                    None => base.to_owned(),
                },
                None => base.to_owned(),
            }
        }
        None => base.to_owned(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=[redacted]"),
                _ => p.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// Everything the service needs; built by [`Config::load`]. Its `Debug` hides the token
/// secret and the database password.
#[derive(Clone)]
pub struct Config {
    /// Listen address.
    pub listen: SocketAddr,
    /// `sqlite:PATH` or `postgres://…`.
    pub database_url: String,
    /// Directory with `issuer.key.pem` (the current signing key).
    pub key_dir: PathBuf,
    /// The `iss` of credentials.
    pub issuer: String,
    /// Base URL under which this service is reached (status list URIs are built on it).
    pub public_url: String,
    /// Entries per status list.
    pub status_list_size: u32,
    /// Credential validity in days.
    pub credential_days: u32,
    /// HMAC secret for bearer tokens and login codes (32+ bytes).
    pub token_secret: Secret<Vec<u8>>,
    /// Officer token lifetime, seconds.
    pub token_ttl: i64,
    /// Tolerated clock difference, seconds.
    pub clock_skew: i64,
    /// Production rules apply.
    pub production: bool,
    /// Largest JSON body, bytes.
    pub max_json_body: usize,
    /// Largest image upload, bytes.
    pub max_image_body: usize,
    /// Request timeout, seconds.
    pub request_timeout_secs: u64,
    /// Concurrent password hashes (each uses ~19 MiB and a core for ~50 ms).
    pub max_concurrent_hashes: usize,
    /// A cap on the SQLite database's size in bytes (writes past it answer 503); `None`: the disk.
    pub sqlite_max_bytes: Option<u64>,
    /// Memory, in bytes, that image decodes of `POST /v1/verify` may hold at once, all together;
    /// also the most one image may need (`qrid_qr::decode_memory`).
    pub image_decode_memory: u64,
    /// Per-source limit of password logins (officers' and officials' together).
    pub login_limit: SourceRate,
    /// Per-source limit of `GET /authorize`.
    pub authorize_limit: SourceRate,
    /// Bounds on login transactions waiting for the wallet.
    pub pending_logins: qrid_store::PendingLoginBounds,
    /// How connections are bounded: header and idle timeouts, the connection limit and the
    /// shutdown drain.
    pub connections: ConnectionLimits,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Written out so that a field added later is a compile error here, not a leak.
        let Config {
            listen,
            database_url,
            key_dir,
            issuer,
            public_url,
            status_list_size,
            credential_days,
            token_secret,
            token_ttl,
            clock_skew,
            production,
            max_json_body,
            max_image_body,
            request_timeout_secs,
            max_concurrent_hashes,
            sqlite_max_bytes,
            image_decode_memory,
            login_limit,
            authorize_limit,
            pending_logins,
            connections,
        } = self;
        f.debug_struct("Config")
            .field("listen", listen)
            .field("database_url", &redact_database_url(database_url))
            .field("key_dir", key_dir)
            .field("issuer", issuer)
            .field("public_url", public_url)
            .field("status_list_size", status_list_size)
            .field("credential_days", credential_days)
            .field("token_secret", token_secret)
            .field("token_ttl", token_ttl)
            .field("clock_skew", clock_skew)
            .field("production", production)
            .field("max_json_body", max_json_body)
            .field("max_image_body", max_image_body)
            .field("request_timeout_secs", request_timeout_secs)
            .field("max_concurrent_hashes", max_concurrent_hashes)
            .field("sqlite_max_bytes", sqlite_max_bytes)
            .field("image_decode_memory", image_decode_memory)
            .field("login_limit", login_limit)
            .field("authorize_limit", authorize_limit)
            .field("pending_logins", pending_logins)
            .field("connections", connections)
            .finish()
    }
}

/// A per-source token bucket: `burst` requests at once, refilled at `per_minute`. A
/// `per_minute` of 0 turns the limit off (for a node behind a proxy, where every request
/// comes from the proxy's address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceRate {
    /// Requests a minute, sustained.
    pub per_minute: u32,
    /// Requests at once.
    pub burst: u32,
}

/// How the service bounds its connections (the server's connections module applies them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A request head must arrive complete within this time of its first byte, or of the
    /// connection's opening for its first request; otherwise the connection is closed.
    pub header_timeout: Duration,
    /// A connection with no request in flight and no byte received for this long is closed.
    pub idle_timeout: Duration,
    /// Connections open at once; the service accepts no more until one closes (they wait in
    /// the listen backlog).
    pub max_connections: usize,
    /// On SIGTERM, how long requests in flight may take to finish before their connections
    /// are dropped.
    pub drain_timeout: Duration,
}

/// Descriptors the service keeps for itself beyond its connections: the database pools
/// (SQLite: nine connections with their WAL and shared-memory files; PostgreSQL: 16 sockets),
/// the listener, the runtime's and the log's own, and files opened at start.
pub const RESERVED_DESCRIPTORS: u64 = 64;

/// The default connection limit where the descriptor limit allows more: past this, memory
/// (about 20 KiB per idle connection) rather than descriptors is what runs out.
pub const DEFAULT_MAX_CONNECTIONS: u64 = 16_384;

/// The connection limit: `setting` if the descriptor limit `nofile` (the soft RLIMIT_NOFILE,
/// `None` for unlimited) leaves room for it beside [`RESERVED_DESCRIPTORS`], otherwise an
/// error; without a setting, as many as the limit allows, at most [`DEFAULT_MAX_CONNECTIONS`].
/// So the process never runs out of descriptors because of connections.
pub fn connection_limit(setting: Option<u64>, nofile: Option<u64>) -> Result<usize> {
    let room = nofile.map(|n| n.saturating_sub(RESERVED_DESCRIPTORS));
    if room == Some(0) {
        bail!(
            "the descriptor limit ({}) leaves no room for connections: the service keeps {RESERVED_DESCRIPTORS} for itself; raise it (ulimit -n)",
            nofile.unwrap_or(0)
        );
    }
    let limit = match setting {
        Some(0) => bail!("max_connections must be at least 1"),
        Some(n) => {
            if let (Some(room), Some(nofile)) = (room, nofile) {
                if n > room {
                    bail!(
                        "max_connections {n} does not fit the descriptor limit {nofile} (the service keeps {RESERVED_DESCRIPTORS} for itself): lower it to {room} or raise the limit (ulimit -n)"
                    );
                }
            }
            n
        }
        None => room.map_or(DEFAULT_MAX_CONNECTIONS, |r| r.min(DEFAULT_MAX_CONNECTIONS)),
    };
    usize::try_from(limit).context("max_connections is too large for this machine")
}

/// The soft limit on open descriptors of this process (`None`: unlimited or unknown).
pub fn descriptor_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rustix::process::getrlimit(rustix::process::Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Settings from flags, environment or a file; `None` means "not given here". No `Debug`: it
/// holds the database URL as given, password and all.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// See [`Config::listen`].
    pub listen: Option<String>,
    /// See [`Config::database_url`].
    pub database_url: Option<String>,
    /// See [`Config::key_dir`].
    pub key_dir: Option<PathBuf>,
    /// See [`Config::issuer`].
    pub issuer: Option<String>,
    /// See [`Config::public_url`].
    pub public_url: Option<String>,
    /// See [`Config::status_list_size`].
    pub status_list_size: Option<u32>,
    /// See [`Config::credential_days`].
    pub credential_days: Option<u32>,
    /// Hex-encoded; see [`Config::token_secret`].
    pub token_secret: Option<Secret<String>>,
    /// See [`Config::production`].
    pub production: Option<bool>,
    /// See [`Config::clock_skew`] (seconds, 0 to 3600).
    pub clock_skew: Option<i64>,
    /// See [`Config::sqlite_max_bytes`].
    pub sqlite_max_bytes: Option<u64>,
    /// See [`Config::login_limit`]: per minute (0 = off).
    pub login_attempts_per_minute: Option<u32>,
    /// See [`Config::login_limit`]: burst (1 or more).
    pub login_burst: Option<u32>,
    /// See [`Config::authorize_limit`]: per minute (0 = off).
    pub authorize_per_minute: Option<u32>,
    /// See [`Config::authorize_limit`]: burst (1 or more).
    pub authorize_burst: Option<u32>,
    /// See [`Config::pending_logins`]: per client.
    pub max_pending_logins_per_client: Option<u32>,
    /// See [`Config::pending_logins`]: all clients together.
    pub max_pending_logins: Option<u32>,
    /// See [`ConnectionLimits::header_timeout`] (seconds, 1 to 300).
    pub header_timeout: Option<u64>,
    /// See [`ConnectionLimits::idle_timeout`] (seconds, 1 to 3600).
    pub idle_timeout: Option<u64>,
    /// See [`ConnectionLimits::max_connections`] (at least 1, within the descriptor limit).
    pub max_connections: Option<u64>,
    /// See [`ConnectionLimits::drain_timeout`] (seconds, 0 to 600).
    pub drain_timeout: Option<u64>,
}

impl Settings {
    /// Fills what `self` lacks from `other`.
    pub fn or(self, other: Settings) -> Settings {
        Settings {
            listen: self.listen.or(other.listen),
            database_url: self.database_url.or(other.database_url),
            key_dir: self.key_dir.or(other.key_dir),
            issuer: self.issuer.or(other.issuer),
            public_url: self.public_url.or(other.public_url),
            status_list_size: self.status_list_size.or(other.status_list_size),
            credential_days: self.credential_days.or(other.credential_days),
            token_secret: self.token_secret.or(other.token_secret),
            production: self.production.or(other.production),
            clock_skew: self.clock_skew.or(other.clock_skew),
            sqlite_max_bytes: self.sqlite_max_bytes.or(other.sqlite_max_bytes),
            login_attempts_per_minute: self
                .login_attempts_per_minute
                .or(other.login_attempts_per_minute),
            login_burst: self.login_burst.or(other.login_burst),
            authorize_per_minute: self.authorize_per_minute.or(other.authorize_per_minute),
            authorize_burst: self.authorize_burst.or(other.authorize_burst),
            max_pending_logins_per_client: self
                .max_pending_logins_per_client
                .or(other.max_pending_logins_per_client),
            max_pending_logins: self.max_pending_logins.or(other.max_pending_logins),
            header_timeout: self.header_timeout.or(other.header_timeout),
            idle_timeout: self.idle_timeout.or(other.idle_timeout),
            max_connections: self.max_connections.or(other.max_connections),
            drain_timeout: self.drain_timeout.or(other.drain_timeout),
        }
    }

    /// Reads a TOML config file (64 KiB at most).
    pub fn from_toml_file(path: &std::path::Path) -> Result<Settings> {
        let meta =
            std::fs::metadata(path).with_context(|| format!("config file {}", path.display()))?;
        if meta.len() > 64 * 1024 {
            bail!("config file {} is larger than 64 KiB", path.display());
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("config file {}", path.display()))
    }
}

impl Config {
    /// Resolves settings into a config, applying defaults in development and refusing missing or
    /// unsafe settings in production.
    pub fn load(s: Settings) -> Result<Config> {
        let production = s.production.unwrap_or(false);
        if production {
            // All at once: an operator fixing one per restart would restart six times.
            let missing: Vec<String> = [
                ("listen", s.listen.is_none()),
                ("database_url", s.database_url.is_none()),
                ("key_dir", s.key_dir.is_none()),
                ("issuer", s.issuer.is_none()),
                ("public_url", s.public_url.is_none()),
                ("token_secret", s.token_secret.is_none()),
            ]
            .into_iter()
            .filter(|(_, missing)| *missing)
            .map(|(name, _)| {
                if name == "token_secret" {
                    "token_secret (QRID_TOKEN_SECRET or the config file; never a flag)".to_owned()
                } else {
                    format!(
                        "{name} (--{}, QRID_{} or the config file)",
                        name.replace('_', "-"),
                        name.to_uppercase()
                    )
                }
            })
            .collect();
            if !missing.is_empty() {
                bail!(
                    "production mode needs explicit settings, {} missing: {}",
                    missing.len(),
                    missing.join("; ")
                );
            }
        }
        let listen: SocketAddr = s
            .listen
            .as_deref()
            .unwrap_or("127.0.0.1:8080")
            .parse()
            .context("listen must be an address such as 127.0.0.1:8080")?;
        let database_url = s
            .database_url
            .unwrap_or_else(|| "sqlite:data/qrid.db".into());
        let key_dir = s.key_dir.unwrap_or_else(|| PathBuf::from("keys-dev"));
        let token_secret = match s.token_secret {
            Some(hex_secret) => {
                let bytes = Secret::new(
                    // `.ok()`: hex's error names the offending character, a piece of the secret.
                    hex::decode(hex_secret.expose().trim())
                        .ok()
                        .context("token_secret must be hex")?,
                );
                if bytes.expose().len() < 32 {
                    bail!("token_secret must be at least 32 bytes (64 hex digits)");
                }
                bytes
            }
            // Development: a fresh secret per process, so tokens end with the process.
            None => {
                let mut b = vec![0u8; 32];
                rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
                Secret::new(b)
            }
        };
        let public_url = s
            .public_url
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        let status_list_size = s.status_list_size.unwrap_or(65_536);
        if !(8..=(1 << 24)).contains(&status_list_size) {
            bail!("status_list_size must be between 8 and 16777216");
        }
        let clock_skew = s.clock_skew.unwrap_or(300);
        if !(0..=3600).contains(&clock_skew) {
            bail!("clock_skew must be between 0 and 3600 seconds");
        }
        let credential_days = s.credential_days.unwrap_or(3650);
        if !(1..=36_500).contains(&credential_days) {
            bail!("credential_days must be between 1 and 36500");
        }
        let rate = |per_minute: Option<u32>, burst: Option<u32>, defaults: SourceRate, name| {
            let r = SourceRate {
                per_minute: per_minute.unwrap_or(defaults.per_minute),
                burst: burst.unwrap_or(defaults.burst),
            };
            if !(1..=1_000_000).contains(&r.burst) || r.per_minute > 1_000_000 {
                bail!("{name}: the burst must be 1 to 1000000 and the rate 0 (off) to 1000000 a minute");
            }
            Ok(r)
        };
        let login_limit = rate(
            s.login_attempts_per_minute,
            s.login_burst,
            SourceRate {
                per_minute: 30,
                burst: 10,
            },
            "login_attempts_per_minute, login_burst",
        )?;
        let authorize_limit = rate(
            s.authorize_per_minute,
            s.authorize_burst,
            SourceRate {
                per_minute: 60,
                burst: 20,
            },
            "authorize_per_minute, authorize_burst",
        )?;
        let pending_logins = qrid_store::PendingLoginBounds {
            per_client: i64::from(s.max_pending_logins_per_client.unwrap_or(1_000)),
            total: i64::from(s.max_pending_logins.unwrap_or(10_000)),
        };
        if pending_logins.per_client < 1 || pending_logins.total < 1 {
            bail!("max_pending_logins_per_client and max_pending_logins must be 1 or more");
        }
        let seconds =
            |v: Option<u64>, default: u64, name: &str, range: std::ops::RangeInclusive<u64>| {
                let v = v.unwrap_or(default);
                if !range.contains(&v) {
                    bail!(
                        "{name} must be between {} and {} seconds",
                        range.start(),
                        range.end()
                    );
                }
                Ok(Duration::from_secs(v))
            };
        let connections = ConnectionLimits {
            header_timeout: seconds(s.header_timeout, 10, "header_timeout", 1..=300)?,
            idle_timeout: seconds(s.idle_timeout, 75, "idle_timeout", 1..=3600)?,
            drain_timeout: seconds(s.drain_timeout, 10, "drain_timeout", 0..=600)?,
            max_connections: connection_limit(s.max_connections, descriptor_limit())?,
        };
        if public_url.len() > 200 {
            bail!("public_url must be at most 200 characters (status list URIs are built on it)");
        }
        Ok(Config {
            listen,
            database_url,
            key_dir,
            issuer: s.issuer.unwrap_or_else(|| "VN".into()),
            public_url,
            status_list_size,
            credential_days,
            token_secret,
            token_ttl: 15 * 60,
            clock_skew,
            production,
            max_json_body: 64 * 1024,
            max_image_body: 10 * 1024 * 1024,
            request_timeout_secs: 30,
            max_concurrent_hashes: 4,
            sqlite_max_bytes: s.sqlite_max_bytes,
            image_decode_memory: qrid_qr::DecodeLimits::default().max_memory,
            login_limit,
            authorize_limit,
            pending_logins,
            connections,
        })
    }

    /// The URI of status list `n`, as credentials reference it.
    pub fn status_list_uri(&self, n: i64) -> String {
        status_list_uri(&self.public_url, n)
    }
}

/// The URI of status list `n` of the service at `public_url` (no trailing `/`): what credentials
/// reference and what `GET /v1/status-lists/{n}` serves.
pub fn status_list_uri(public_url: &str, n: i64) -> String {
    format!("{public_url}/v1/status-lists/{n}")
}

/// Where a credential's status lives in this service's own lists: the list number of
/// [`status_list_uri`] and the index in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnStatusSlot {
    /// The list number, 1 or more.
    pub list: i64,
    /// The index in the list.
    pub index: u32,
}

impl OwnStatusSlot {
    /// The slot a status reference points at, if its URI is one [`status_list_uri`] makes
    /// (`…/v1/status-lists/N`, N ≥ 1). Only credentials signed by this service's own keys are
    /// asked about, so the host is not compared: the public URL may have changed since
    /// issuance (a new domain, a development port), and the list must still be consulted.
    pub fn of(status: &qrid_credential::StatusRef) -> Option<OwnStatusSlot> {
        let (_, n) = status.uri.rsplit_once("/v1/status-lists/")?;
        // Digits only: `+1` or ` 1` would parse as an integer but is not a URI we made.
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let list: i64 = n.parse().ok().filter(|n| *n > 0)?;
        Some(OwnStatusSlot {
            list,
            index: status.index.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_status_slots_are_read_back_from_the_uris_made_here() {
        let at = |uri: &str| {
            OwnStatusSlot::of(&qrid_credential::StatusRef {
                uri: uri.to_owned(),
                index: qrid_credential::StatusIndex(7),
            })
        };
        for base in [
            "http://127.0.0.1:8080",
            "https://id.gov.vn",
            "https://old.example/qrid",
        ] {
            assert_eq!(
                at(&status_list_uri(base, 12)),
                Some(OwnStatusSlot { list: 12, index: 7 })
            );
        }
        for other in [
            "https://id.gov.vn/v1/status-lists/0",
            "https://id.gov.vn/v1/status-lists/-3",
            "https://id.gov.vn/v1/status-lists/+3",
            "https://id.gov.vn/v1/status-lists/",
            "https://id.gov.vn/v1/status-lists/3/x",
            "https://id.gov.vn/v1/status-lists/99999999999999999999",
            "https://id.gov.vn/status/3",
        ] {
            assert_eq!(at(other), None, "{other}");
        }
    }

    #[test]
    fn debug_shows_neither_the_token_secret_nor_the_database_password() {
        let secret = "5ec2e7".repeat(11);
        let c = Config::load(Settings {
            database_url: Some("postgres://qrid:hunter2-pw@db.example:5432/qrid".into()),
            token_secret: Some(secret.clone().into()),
            ..Settings::default()
        })
        .unwrap();
        let shown = format!("{c:?} {c:#?}");
        assert!(!shown.contains("hunter2-pw"), "{shown}");
        assert!(!shown.contains(&secret[..12]), "{shown}");
        assert!(!shown.contains(&format!("{:?}", &c.token_secret.expose()[..4])));
        assert!(
            shown.contains("postgres://qrid:[redacted]@db.example:5432/qrid"),
            "{shown}"
        );
        assert_eq!(c.token_secret.expose(), &hex::decode(&secret).unwrap());
        // A bad secret is refused without quoting any of it.
        let bad = format!("{}zz", "ab".repeat(40));
        let Err(e) = Config::load(Settings {
            token_secret: Some(bad.into()),
            ..Settings::default()
        }) else {
            panic!("a secret that is not hex was accepted")
        };
        assert!(!format!("{e:#}").contains('z'), "{e:#}");
    }

    #[test]
    fn database_urls_lose_their_passwords_and_keep_the_rest() {
        for (url, shown) in [
            ("sqlite:data/qrid.db", "sqlite:data/qrid.db"),
            ("postgres://db.example/qrid", "postgres://db.example/qrid"),
            (
                "postgres://qrid@db.example/qrid",
                "postgres://qrid@db.example/qrid",
            ),
            (
                "postgres://qrid:p%40ss@db.example:5432/qrid?sslmode=require",
                "postgres://qrid:[redacted]@db.example:5432/qrid?sslmode=require",
            ),
            (
                "postgres://db.example/qrid?user=qrid&password=s3cret&sslmode=require",
                "postgres://db.example/qrid?user=qrid&password=[redacted]&sslmode=require",
            ),
            ("postgres://u:pw@h", "postgres://u:[redacted]@h"),
        ] {
            assert_eq!(redact_database_url(url), shown);
        }
    }

    #[test]
    fn defaults_are_the_embedded_development_setup() {
        let c = Config::load(Settings::default()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite:data/qrid.db");
        assert_eq!(c.clock_skew, 300);
        assert!(!c.production);
    }

    #[test]
    fn flags_win_over_the_file_and_bad_values_are_refused() {
        let file: Settings =
            toml::from_str("clock_skew = 60\nlisten = \"127.0.0.1:9000\"").unwrap();
        let flags = Settings {
            listen: Some("127.0.0.1:9001".into()),
            ..Settings::default()
        };
        let c = Config::load(flags.or(file)).unwrap();
        assert_eq!((c.listen.port(), c.clock_skew), (9001, 60));
        for bad in [
            "clock_skew = -1",
            "clock_skew = 7200",
            "credential_days = 0",
            "login_burst = 0",
            "authorize_burst = 0",
            "max_pending_logins = 0",
            "max_pending_logins_per_client = 0",
            "no_such_key = 1",
        ] {
            let parsed: Result<Settings, _> = toml::from_str(bad);
            assert!(
                parsed.map_or(true, |s| Config::load(s).is_err()),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn production_refuses_missing_settings() {
        let err = Config::load(Settings {
            production: Some(true),
            ..Settings::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("production mode needs"), "{err}");
        // Every missing setting is named in the one refusal.
        for name in [
            "listen",
            "database_url",
            "key_dir",
            "issuer",
            "public_url",
            "token_secret",
        ] {
            assert!(err.contains(name), "{name} not named: {err}");
        }
        assert!(err.contains("6 missing"), "{err}");
        let err = Config::load(Settings {
            production: Some(true),
            listen: Some("127.0.0.1:8080".into()),
            public_url: Some("https://id.example".into()),
            ..Settings::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("4 missing"), "{err}");
        assert!(
            !err.contains("listen") && !err.contains("public_url"),
            "{err}"
        );
    }

    #[test]
    fn the_connection_limit_follows_the_descriptor_limit() {
        // No setting: what the limit leaves beside the reserve, at most the default cap.
        assert_eq!(connection_limit(None, Some(256)).unwrap(), 192);
        assert_eq!(connection_limit(None, Some(1024)).unwrap(), 960);
        assert_eq!(connection_limit(None, Some(1 << 20)).unwrap(), 16_384);
        assert_eq!(connection_limit(None, None).unwrap(), 16_384);
        // A setting within the limit is kept, also above the default cap.
        assert_eq!(connection_limit(Some(100), Some(256)).unwrap(), 100);
        assert_eq!(connection_limit(Some(192), Some(256)).unwrap(), 192);
        assert_eq!(
            connection_limit(Some(50_000), Some(1 << 20)).unwrap(),
            50_000
        );
        // One that would run the process out of descriptors, or none at all, is refused.
        let err = connection_limit(Some(193), Some(256))
            .unwrap_err()
            .to_string();
        assert!(err.contains("descriptor limit 256"), "{err}");
        assert!(connection_limit(Some(0), Some(256)).is_err());
        assert!(connection_limit(None, Some(64)).is_err());
        assert!(connection_limit(None, Some(10)).is_err());
    }

    #[test]
    fn connection_timeouts_have_defaults_and_bounds() {
        let c = Config::load(Settings::default()).unwrap().connections;
        assert_eq!(
            (c.header_timeout, c.idle_timeout, c.drain_timeout),
            (
                Duration::from_secs(10),
                Duration::from_secs(75),
                Duration::from_secs(10)
            )
        );
        let file: Settings = toml::from_str(
            "header_timeout = 1\nidle_timeout = 2\ndrain_timeout = 0\nmax_connections = 5",
        )
        .unwrap();
        let c = Config::load(file).unwrap().connections;
        assert_eq!(
            (
                c.header_timeout,
                c.idle_timeout,
                c.drain_timeout,
                c.max_connections
            ),
            (
                Duration::from_secs(1),
                Duration::from_secs(2),
                Duration::ZERO,
                5
            )
        );
        for bad in [
            "header_timeout = 0",
            "header_timeout = 301",
            "idle_timeout = 0",
            "idle_timeout = 3601",
            "drain_timeout = 601",
            "max_connections = 0",
            "max_connections = -1",
        ] {
            let parsed: Result<Settings, _> = toml::from_str(bad);
            assert!(
                parsed.map_or(true, |s| Config::load(s).is_err()),
                "{bad} accepted"
            );
        }
    }
}
