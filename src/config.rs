//! config.toml: raw structs that refuse unknown keys, validated into per-crate settings.

use anyhow::{bail, Context as _, Result};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tributary_server::tls::TlsSettings;
use tributary_server::ServerSettings;
use tributary_store::StoreSettings;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub storage: RawStorage,
    #[serde(default)]
    pub log: RawLog,
    #[serde(default)]
    pub tls: RawTls,
    #[serde(default)]
    pub metrics: RawMetrics,
    #[serde(default)]
    pub ingest: RawIngest,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub pull: RawPull,
    #[serde(default)]
    pub secrets: RawSecrets,
    /// Webhook sources declared here instead of (or besides) `tributary source add`.
    #[serde(default)]
    pub sources: Vec<SourceDecl>,
}

/// A `[[sources]]` entry: applied at `serve` start (created or updated).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDecl {
    pub id: String,
    pub user: String,
    pub calendar: Option<String>,
    pub priority: Option<i64>,
    pub privacy: Option<String>,
    pub policy: Option<String>,
    pub window_past_days: Option<i64>,
    pub window_future_days: Option<i64>,
    /// SHA-256 (hex) of the API key(s) — `tributary source hash-key` prints it; the
    /// key itself never goes in the file.
    #[serde(default)]
    pub api_key_sha256: Vec<String>,
    /// Or: the name of an environment variable holding the key.
    pub api_key_env: Option<String>,
}

/// `[limits]`: per-user storage quota (RFC 4331).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub quota_bytes: Option<RawQuota>,
    pub quota_objects: Option<RawQuota>,
}

/// `[pull]`: fetching ICS feeds.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPull {
    pub allow_private_networks: Option<bool>,
    pub max_feed_bytes: Option<u64>,
    pub timeout_secs: Option<u64>,
    pub user_agent: Option<String>,
    pub max_concurrent: Option<usize>,
}

/// `[secrets]`: the key that seals remote-account passwords in the database.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecrets {
    pub key_file: Option<String>,
}

/// A quota value: a number (0 means the default) or the word "unlimited".
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawQuota {
    Number(i64),
    Word(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIngest {
    pub max_body_bytes: Option<usize>,
    pub admin_api_key: Option<String>,
    pub history_retention_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: Option<String>,
    pub max_body_bytes: Option<usize>,
    pub max_resource_bytes: Option<usize>,
    pub max_connections: Option<usize>,
    pub header_timeout_secs: Option<u64>,
    pub body_timeout_secs: Option<u64>,
    pub http_redirect_listen: Option<String>,
    pub max_instances: Option<u32>,
    pub trusted_proxies: Option<Vec<String>>,
    pub max_header_bytes: Option<usize>,
    pub max_headers: Option<usize>,
    pub password_checks: Option<usize>,
    pub password_queue: Option<usize>,
    pub max_dead_properties: Option<usize>,
    pub max_dead_property_bytes: Option<usize>,
    pub write_timeout_secs: Option<u64>,
    pub max_report_bytes: Option<usize>,
    pub max_streams_per_user: Option<usize>,
    pub max_feed_streams: Option<usize>,
    pub public_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorage {
    pub path: Option<String>,
    pub tombstone_retention_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    pub cert: Option<String>,
    pub key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub level: Option<String>,
    pub format: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    pub enabled: Option<bool>,
    pub bearer_token: Option<String>,
}

/// The sections of config.toml (also the `TRIBUTARY_<SECTION>_` prefixes).
const SECTIONS: &[&str] = &[
    "server", "storage", "tls", "log", "metrics", "ingest", "limits", "pull", "secrets",
];

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable (on a terminal).
    Human,
    /// One JSON object per line (under systemd or when configured).
    Json,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerSettings,
    pub store: StoreSettings,
    /// Certificate and key; `None` serves plain HTTP.
    pub tls: Option<TlsSettings>,
    /// How long deleted members stay in the change log (RFC 6578 tombstones).
    pub tombstone_retention: Duration,
    /// How long the webhook delivery history is kept.
    pub history_retention: Duration,
    pub log_level: String,
    pub log_format: LogFormat,
    pub sources: Vec<SourceDecl>,
    /// A plain-HTTP listener that only redirects to HTTPS.
    pub http_redirect: Option<SocketAddr>,
    /// Fetching pulled sources.
    pub pull: tributary_pull::PullSettings,
    /// `[secrets] key_file`: the key sealing remote-account passwords (default
    /// `secrets.key` beside the database). `TRIBUTARY_SECRETS_KEY` overrides it; the
    /// secrets crate reads that variable itself.
    pub secrets_key_file: PathBuf,
}

impl Config {
    /// Load `explicit`, else `./config.toml` when present, else the built-in defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        match explicit {
            Some(p) => Self::from_file(p),
            None if Path::new("config.toml").is_file() => Self::from_file(Path::new("config.toml")),
            None => Self::defaults(),
        }
    }

    fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        let table: toml::Table = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), one_line(&e.to_string())))?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let raw = Self::raw_with_env(table, std::env::vars())
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Self::from_raw(raw, base)
    }

    fn defaults() -> Result<Config> {
        let raw = Self::raw_with_env(toml::Table::new(), std::env::vars())?;
        Self::from_raw(raw, Path::new("."))
    }

    /// Apply `TRIBUTARY_<SECTION>_<KEY>` environment overrides (for secrets such as
    /// `TRIBUTARY_METRICS_BEARER_TOKEN`) and deserialize. Variables whose section is not
    /// a config section are left alone; an unknown key in a known section is an error.
    pub fn raw_with_env(
        mut table: toml::Table,
        vars: impl Iterator<Item = (String, String)>,
    ) -> Result<RawConfig> {
        for (name, value) in vars {
            let Some(rest) = name.strip_prefix("TRIBUTARY_") else {
                continue;
            };
            // The secrets key itself, not a `[secrets] key` setting: tributary-secrets
            // reads it, and it never enters the config structs (or their Debug output).
            if rest == "SECRETS_KEY" {
                continue;
            }
            let lower = rest.to_ascii_lowercase();
            let Some(section) = SECTIONS
                .iter()
                .find(|s| lower.starts_with(&format!("{s}_")))
            else {
                continue;
            };
            let key = &lower[section.len() + 1..];
            let parsed = if let Ok(i) = value.parse::<i64>() {
                toml::Value::Integer(i)
            } else if let Ok(b) = value.parse::<bool>() {
                toml::Value::Boolean(b)
            } else {
                toml::Value::String(value)
            };
            let entry = table
                .entry(section.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => {
                    t.insert(key.to_string(), parsed);
                }
                _ => bail!("{section}: is not a table"),
            }
        }
        toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| anyhow::anyhow!("{}", one_line(&e.to_string())))
    }

    /// Validate raw values; relative paths resolve against `base` (the config's folder).
    ///
    /// The steps run in the order of the checks they make, so a file with several
    /// mistakes always reports the same one first.
    pub fn from_raw(raw: RawConfig, base: &Path) -> Result<Config> {
        let mut server = server_bounds(&raw.server)?;
        let db_path = storage_path(&raw.storage, base)?;
        let secrets_key_file = secrets_key_file(&raw.secrets, &db_path, base)?;
        let tls = tls_settings(&raw.tls, base)?;
        let log_level = log_level(raw.log.level)?;
        let tombstone_retention = tombstone_retention(&raw.storage)?;
        server.trusted_proxies.extend(trusted_proxies(&raw.server)?);
        let history_retention = ingest_settings(raw.ingest, &mut server)?;
        let http_redirect = http_redirect(&raw.server, tls.is_some())?;
        server.quota = quota(&raw.limits)?;
        server.public_url = raw
            .server
            .public_url
            .as_deref()
            .map(public_url)
            .transpose()?;
        server.metrics_enabled = raw.metrics.enabled.unwrap_or(true);
        server.metrics_token = raw.metrics.bearer_token.filter(|t| !t.is_empty());
        let log_format = log_format(raw.log.format.as_deref())?;
        check_sources(&raw.sources)?;
        let pull = pull_settings(&raw.pull, server.limits())?;
        Ok(Config {
            pull,
            secrets_key_file,
            http_redirect,
            sources: raw.sources,
            server,
            store: StoreSettings::new(db_path),
            tls,
            tombstone_retention,
            history_retention,
            log_level,
            log_format,
        })
    }
}

/// `[server]`'s address, sizes, counts and timeouts, checked in the order of the keys.
fn server_bounds(raw: &RawServer) -> Result<ServerSettings> {
    let mut s = ServerSettings::default();
    if let Some(l) = &raw.listen {
        s.listen = socket_addr("server.listen", l)?;
    }
    set_positive(
        &mut s.max_body_bytes,
        "server.max_body_bytes",
        raw.max_body_bytes,
    )?;
    set_positive(
        &mut s.max_resource_bytes,
        "server.max_resource_bytes",
        raw.max_resource_bytes,
    )?;
    set_positive(
        &mut s.max_connections,
        "server.max_connections",
        raw.max_connections,
    )?;
    set_secs(
        &mut s.header_timeout,
        "server.header_timeout_secs",
        raw.header_timeout_secs,
    )?;
    set_secs(
        &mut s.body_timeout,
        "server.body_timeout_secs",
        raw.body_timeout_secs,
    )?;
    if let Some(v) = raw.max_instances {
        s.max_instances = positive("server.max_instances", v as usize)? as u32;
    }
    if let Some(v) = raw.max_header_bytes {
        if !(8192..=1024 * 1024).contains(&v) {
            bail!("server.max_header_bytes: must be between 8192 and 1048576");
        }
        s.max_header_bytes = v;
    }
    set_positive(&mut s.max_headers, "server.max_headers", raw.max_headers)?;
    if let Some(v) = raw.password_checks {
        s.password_checks = v;
    }
    if let Some(v) = raw.password_queue {
        s.password_queue = v;
    }
    held_bounds(raw, &mut s)?;
    Ok(s)
}

/// `[server]`'s bounds on what one request may make the server hold: dead
/// properties, the write timeout, REPORT bodies and open streams.
fn held_bounds(raw: &RawServer, s: &mut ServerSettings) -> Result<()> {
    set_positive(
        &mut s.max_dead_properties,
        "server.max_dead_properties",
        raw.max_dead_properties,
    )?;
    set_positive(
        &mut s.max_dead_property_bytes,
        "server.max_dead_property_bytes",
        raw.max_dead_property_bytes,
    )?;
    set_secs(
        &mut s.write_timeout,
        "server.write_timeout_secs",
        raw.write_timeout_secs,
    )?;
    set_positive(
        &mut s.max_report_bytes,
        "server.max_report_bytes",
        raw.max_report_bytes,
    )?;
    set_positive(
        &mut s.max_streams_per_user,
        "server.max_streams_per_user",
        raw.max_streams_per_user,
    )?;
    set_positive(
        &mut s.max_feed_streams,
        "server.max_feed_streams",
        raw.max_feed_streams,
    )?;
    Ok(())
}

/// `[storage] path`: the database, `tributary.db` beside the config by default; a
/// `file:` URI is taken as written.
fn storage_path(raw: &RawStorage, base: &Path) -> Result<PathBuf> {
    let db = raw.path.as_deref().unwrap_or("tributary.db");
    if db.is_empty() {
        bail!("storage.path: must not be empty");
    }
    Ok(if Path::new(db).is_absolute() || db.starts_with("file:") {
        PathBuf::from(db)
    } else {
        base.join(db)
    })
}

/// `[secrets] key_file`, else `secrets.key` beside the database.
fn secrets_key_file(raw: &RawSecrets, db_path: &Path, base: &Path) -> Result<PathBuf> {
    Ok(match raw.key_file.as_deref() {
        Some("") => bail!("secrets.key_file: must not be empty"),
        Some(p) => resolve(base, p),
        None => default_key_file(db_path, base),
    })
}

/// `[tls]`: both files or neither (`None` serves plain HTTP).
fn tls_settings(raw: &RawTls, base: &Path) -> Result<Option<TlsSettings>> {
    Ok(match (raw.cert.as_deref(), raw.key.as_deref()) {
        (None, None) => None,
        (Some(""), _) => bail!("tls.cert: must not be empty"),
        (_, Some("")) => bail!("tls.key: must not be empty"),
        (Some(cert), Some(key)) => Some(TlsSettings {
            cert: resolve(base, cert),
            key: resolve(base, key),
        }),
        _ => bail!("tls: set both tls.cert and tls.key, or neither"),
    })
}

/// `[log] level`, `info` by default.
fn log_level(level: Option<String>) -> Result<String> {
    let log_level = level.unwrap_or_else(|| "info".into());
    if !["error", "warn", "info", "debug", "trace"].contains(&log_level.as_str()) {
        bail!("log.level: {log_level:?} is not one of error, warn, info, debug, trace");
    }
    Ok(log_level)
}

/// `[storage] tombstone_retention_days`: 90 by default, at least a week.
fn tombstone_retention(raw: &RawStorage) -> Result<Duration> {
    let days = raw.tombstone_retention_days.unwrap_or(90);
    if days < 7 {
        bail!("storage.tombstone_retention_days: must be at least 7 (clients that sync weekly would miss deletions)");
    }
    Ok(Duration::from_secs(u64::from(days) * 86_400))
}

/// `[server] trusted_proxies`: addresses whose forwarding headers are believed.
fn trusted_proxies(raw: &RawServer) -> Result<Vec<std::net::IpAddr>> {
    raw.trusted_proxies
        .iter()
        .flatten()
        .map(|p| {
            p.parse::<std::net::IpAddr>()
                .map_err(|_| anyhow::anyhow!("server.trusted_proxies: {p:?} is not an IP address"))
        })
        .collect()
}

/// `[ingest]`: the webhook body bound and admin key go into `server`; returns how
/// long the delivery history is kept.
fn ingest_settings(raw: RawIngest, server: &mut ServerSettings) -> Result<Duration> {
    set_positive(
        &mut server.webhook_max_body_bytes,
        "ingest.max_body_bytes",
        raw.max_body_bytes,
    )?;
    server.admin_api_key = raw.admin_api_key.filter(|k| !k.is_empty());
    if server.admin_api_key.as_ref().is_some_and(|k| k.len() < 16) {
        bail!("ingest.admin_api_key: must be at least 16 characters");
    }
    let history_days = raw.history_retention_days.unwrap_or(90);
    Ok(Duration::from_secs(
        u64::from(positive("ingest.history_retention_days", history_days as usize)? as u32)
            * 86_400,
    ))
}

/// `[server] http_redirect_listen`: only with TLS, since it redirects to HTTPS.
fn http_redirect(raw: &RawServer, tls: bool) -> Result<Option<SocketAddr>> {
    match &raw.http_redirect_listen {
        None => Ok(None),
        Some(_) if !tls => {
            bail!("server.http_redirect_listen: only with [tls] (it redirects to HTTPS)")
        }
        Some(l) => socket_addr("server.http_redirect_listen", l).map(Some),
    }
}

/// `[limits]`: the per-user quota (RFC 4331).
fn quota(raw: &RawLimits) -> Result<tributary_store::Quota> {
    Ok(tributary_store::Quota {
        max_bytes: quota_limit(
            "limits.quota_bytes",
            raw.quota_bytes.as_ref(),
            tributary_store::Quota::DEFAULT_BYTES,
        )?,
        max_objects: quota_limit(
            "limits.quota_objects",
            raw.quota_objects.as_ref(),
            tributary_store::Quota::DEFAULT_OBJECTS,
        )?,
    })
}

/// `[log] format`: `auto` picks JSON under systemd, else human-readable lines.
fn log_format(format: Option<&str>) -> Result<LogFormat> {
    Ok(match format.unwrap_or("auto") {
        "json" => LogFormat::Json,
        "human" => LogFormat::Human,
        // Under systemd stderr goes to the journal: JSON is easier to query there.
        "auto" if std::env::var_os("JOURNAL_STREAM").is_some() => LogFormat::Json,
        "auto" => LogFormat::Human,
        other => bail!("log.format: {other:?} is not one of auto, human, json"),
    })
}

/// `[[sources]]`: each names an id, a user and a key (a SHA-256 digest or a variable).
fn check_sources(sources: &[SourceDecl]) -> Result<()> {
    for (i, src) in sources.iter().enumerate() {
        if src.id.is_empty() || src.user.is_empty() {
            bail!("sources[{i}]: id and user are required");
        }
        if src.api_key_sha256.is_empty() && src.api_key_env.is_none() {
            bail!(
                "sources[{i}] ({}): set api_key_sha256 or api_key_env",
                src.id
            );
        }
        if let Some(bad) = src
            .api_key_sha256
            .iter()
            .find(|h| h.len() != 64 || !h.chars().all(|c| c.is_ascii_hexdigit()))
        {
            bail!("sources[{i}].api_key_sha256: {bad:?} is not a SHA-256 hex digest");
        }
    }
    Ok(())
}

/// `l` as an `IP:PORT` socket address; the error names `key`.
fn socket_addr(key: &str, l: &str) -> Result<SocketAddr> {
    l.parse::<SocketAddr>()
        .map_err(|_| anyhow::anyhow!("{key}: {l:?} is not an IP:PORT address"))
}

/// Overwrite `slot` with `v` when it is given and positive.
fn set_positive(slot: &mut usize, key: &str, v: Option<usize>) -> Result<()> {
    if let Some(v) = v {
        *slot = positive(key, v)?;
    }
    Ok(())
}

/// Overwrite `slot` with `v` seconds when it is given and positive.
fn set_secs(slot: &mut Duration, key: &str, v: Option<u64>) -> Result<()> {
    if let Some(v) = v {
        *slot = Duration::from_secs(positive(key, v as usize)? as u64);
    }
    Ok(())
}

/// `[server] public_url`: the address clients and feed readers reach the server at
/// (`https://cal.example.com`, maybe with a path prefix behind a proxy), without a
/// trailing slash.
fn public_url(u: &str) -> Result<String> {
    let t = u.trim().trim_end_matches('/');
    let rest = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
        .ok_or_else(|| {
            anyhow::anyhow!("server.public_url: {u:?} must start with https:// or http://")
        })?;
    if rest.is_empty() || rest.starts_with('/') || t.contains(['?', '#', ' ']) {
        bail!("server.public_url: {u:?} is not a URL of the server (https://host[:port][/prefix])");
    }
    Ok(t.to_string())
}

/// `[pull]` validated: every bound positive, a User-Agent that fits in a header.
fn pull_settings(
    raw: &RawPull,
    limits: tributary_calendar::Limits,
) -> Result<tributary_pull::PullSettings> {
    let mut p = tributary_pull::PullSettings {
        limits,
        ..Default::default()
    };
    p.allow_private_networks = raw.allow_private_networks.unwrap_or(false);
    if let Some(n) = raw.max_feed_bytes {
        p.max_feed_bytes = positive("pull.max_feed_bytes", n as usize)? as u64;
    }
    if let Some(n) = raw.timeout_secs {
        p.timeout = Duration::from_secs(positive("pull.timeout_secs", n as usize)? as u64);
    }
    if let Some(n) = raw.max_concurrent {
        p.max_concurrent = positive("pull.max_concurrent", n)?;
    }
    if let Some(ua) = &raw.user_agent {
        if ua.trim().is_empty() || ua.len() > 256 || ua.chars().any(char::is_control) {
            bail!("pull.user_agent: 1-256 printable characters");
        }
        p.user_agent = ua.trim().to_string();
    }
    Ok(p)
}

/// `secrets.key` in the database's folder (a `file:` URI database: the config's folder).
impl Config {
    /// `[pull]` with the secrets key read now (`None` when there is none yet: a remote
    /// CalDAV source then fails saying so). A key file with loose permissions or a
    /// malformed key is an error.
    pub fn pull_settings(&self) -> Result<tributary_pull::PullSettings> {
        let mut p = self.pull.clone();
        p.secrets = tributary_secrets::SecretKey::load(&self.secrets_key_file, false)
            .with_context(|| format!("secrets key {}", self.secrets_key_file.display()))?
            .map(std::sync::Arc::new);
        Ok(p)
    }
}

fn default_key_file(db_path: &Path, base: &Path) -> PathBuf {
    let folder = if db_path.to_string_lossy().starts_with("file:") {
        base
    } else {
        db_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(base)
    };
    folder.join("secrets.key")
}

/// `p` as given when absolute, else relative to the config file's folder.
fn resolve(base: &Path, p: &str) -> PathBuf {
    if Path::new(p).is_absolute() {
        PathBuf::from(p)
    } else {
        base.join(p)
    }
}

/// A quota limit: absent or 0 is `default`, "unlimited" is none.
fn quota_limit(key: &str, v: Option<&RawQuota>, default: u64) -> Result<Option<u64>> {
    match v {
        None | Some(RawQuota::Number(0)) => Ok(Some(default)),
        Some(RawQuota::Number(n)) => match u64::try_from(*n) {
            Ok(n) => Ok(Some(n)),
            Err(_) => {
                bail!("{key}: must not be negative (0 means the default, \"unlimited\" none)")
            }
        },
        Some(RawQuota::Word(w)) if w == "unlimited" => Ok(None),
        Some(RawQuota::Word(w)) => bail!("{key}: {w:?} is not a number or \"unlimited\""),
    }
}

fn positive(key: &str, v: usize) -> Result<usize> {
    if v == 0 {
        bail!("{key}: must be greater than zero");
    }
    Ok(v)
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses() {
        let text = include_str!("../config.toml");
        let raw: RawConfig = toml::from_str(text).unwrap();
        let c = Config::from_raw(raw, Path::new("/etc/tributary")).unwrap();
        assert_eq!(c.server.listen.port(), 5232);
        assert_eq!(c.store.path, PathBuf::from("/etc/tributary/tributary.db"));
        let defaults = ServerSettings::default();
        assert_eq!(c.server.max_dead_properties, defaults.max_dead_properties);
        assert_eq!(
            c.server.max_dead_property_bytes,
            defaults.max_dead_property_bytes
        );
    }

    #[test]
    fn stream_bounds_default_as_documented_and_are_read() {
        let text = include_str!("../config.toml");
        let raw: RawConfig = toml::from_str(text).unwrap();
        let c = Config::from_raw(raw, Path::new(".")).unwrap();
        let d = ServerSettings::default();
        assert_eq!(c.server.write_timeout, d.write_timeout);
        assert_eq!(c.server.max_report_bytes, d.max_report_bytes);
        assert_eq!(c.server.max_streams_per_user, d.max_streams_per_user);
        assert_eq!(c.server.max_feed_streams, d.max_feed_streams);
        let raw: RawConfig = toml::from_str(
            "[server]\nwrite_timeout_secs = 5\nmax_report_bytes = 1024\nmax_streams_per_user = 2\nmax_feed_streams = 3\n",
        )
        .unwrap();
        let c = Config::from_raw(raw, Path::new(".")).unwrap();
        assert_eq!(c.server.write_timeout, Duration::from_secs(5));
        assert_eq!(c.server.max_report_bytes, 1024);
        assert_eq!(c.server.max_streams_per_user, 2);
        assert_eq!(c.server.max_feed_streams, 3);
        let zero: RawConfig = toml::from_str("[server]\nmax_streams_per_user = 0\n").unwrap();
        assert!(Config::from_raw(zero, Path::new(".")).is_err());
    }

    #[test]
    fn environment_overrides_secrets() {
        let vars = vec![
            (
                "TRIBUTARY_METRICS_BEARER_TOKEN".to_string(),
                "s3cret".to_string(),
            ),
            (
                "TRIBUTARY_SERVER_MAX_CONNECTIONS".to_string(),
                "7".to_string(),
            ),
            (
                "TRIBUTARY_URL".to_string(),
                "ignored: not a section".to_string(),
            ),
        ];
        let raw = Config::raw_with_env(toml::Table::new(), vars.into_iter()).unwrap();
        let c = Config::from_raw(raw, Path::new(".")).unwrap();
        assert_eq!(c.server.metrics_token.as_deref(), Some("s3cret"));
        assert_eq!(c.server.max_connections, 7);
        let bad = vec![("TRIBUTARY_SERVER_NOPE".to_string(), "1".to_string())];
        let err = Config::raw_with_env(toml::Table::new(), bad.into_iter())
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn quota_defaults_zero_and_unlimited() {
        let quota = |text: &str| {
            let raw: RawConfig = toml::from_str(text).unwrap();
            Config::from_raw(raw, Path::new(".")).map(|c| c.server.quota)
        };
        let default = tributary_store::Quota::default();
        assert_eq!(quota("").unwrap(), default);
        assert_eq!(quota("[limits]\nquota_bytes = 0\n").unwrap(), default);
        let q = quota("[limits]\nquota_bytes = 5000\nquota_objects = \"unlimited\"\n").unwrap();
        assert_eq!((q.max_bytes, q.max_objects), (Some(5000), None));
        let err = quota("[limits]\nquota_bytes = -1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("limits.quota_bytes"), "{err}");
        let err = quota("[limits]\nquota_objects = \"lots\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("limits.quota_objects"), "{err}");
        let vars = vec![(
            "TRIBUTARY_LIMITS_QUOTA_BYTES".to_string(),
            "unlimited".to_string(),
        )];
        let raw = Config::raw_with_env(toml::Table::new(), vars.into_iter()).unwrap();
        let c = Config::from_raw(raw, Path::new(".")).unwrap();
        assert_eq!(c.server.quota.max_bytes, None);
    }

    #[test]
    fn secrets_key_file_defaults_beside_the_database_and_resolves_relative_paths() {
        let key_file = |text: &str| {
            let raw: RawConfig = toml::from_str(text).unwrap();
            Config::from_raw(raw, Path::new("/etc/tributary")).map(|c| c.secrets_key_file)
        };
        assert_eq!(
            key_file("").unwrap(),
            PathBuf::from("/etc/tributary/secrets.key")
        );
        assert_eq!(
            key_file("[storage]\npath = \"/var/lib/tributary/t.db\"\n").unwrap(),
            PathBuf::from("/var/lib/tributary/secrets.key")
        );
        assert_eq!(
            key_file("[storage]\npath = \"data/t.db\"\n").unwrap(),
            PathBuf::from("/etc/tributary/data/secrets.key")
        );
        assert_eq!(
            key_file("[storage]\npath = \"file:t?mode=memory\"\n").unwrap(),
            PathBuf::from("/etc/tributary/secrets.key")
        );
        assert_eq!(
            key_file("[secrets]\nkey_file = \"keys/s.key\"\n").unwrap(),
            PathBuf::from("/etc/tributary/keys/s.key")
        );
        assert_eq!(
            key_file("[secrets]\nkey_file = \"/root/s.key\"\n").unwrap(),
            PathBuf::from("/root/s.key")
        );
        let err = key_file("[secrets]\nkey_file = \"\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("secrets.key_file"), "{err}");
    }

    #[test]
    fn secrets_key_variable_is_not_a_config_key() {
        let vars = vec![
            ("TRIBUTARY_SECRETS_KEY".to_string(), "00".repeat(32)),
            (
                "TRIBUTARY_SECRETS_KEY_FILE".to_string(),
                "/run/keys/s.key".to_string(),
            ),
        ];
        let raw = Config::raw_with_env(toml::Table::new(), vars.into_iter()).unwrap();
        assert!(!format!("{raw:?}").contains(&"00".repeat(32)));
        let c = Config::from_raw(raw, Path::new(".")).unwrap();
        assert_eq!(c.secrets_key_file, PathBuf::from("/run/keys/s.key"));
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = toml::from_str::<RawConfig>("[server]\nlisten_addr = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen_addr"), "{err}");
    }

    #[test]
    fn several_mistakes_report_the_same_first_one() {
        let first = |text: &str| {
            let raw: RawConfig = toml::from_str(text).unwrap();
            Config::from_raw(raw, Path::new("."))
                .unwrap_err()
                .to_string()
        };
        let err = first("[server]\nlisten = \"x\"\nmax_headers = 0\n[tls]\ncert = \"c\"\n");
        assert!(err.starts_with("server.listen:"), "{err}");
        let err = first("[tls]\ncert = \"c\"\n[log]\nlevel = \"loud\"\n");
        assert!(err.starts_with("tls:"), "{err}");
        let err =
            first("[server]\ntrusted_proxies = [\"x\"]\n[storage]\ntombstone_retention_days = 1\n");
        assert!(
            err.starts_with("storage.tombstone_retention_days:"),
            "{err}"
        );
        let err =
            first("[server]\nhttp_redirect_listen = \"x\"\n[ingest]\nadmin_api_key = \"short\"\n");
        assert!(err.starts_with("ingest.admin_api_key:"), "{err}");
        let err = first("[server]\nhttp_redirect_listen = \"x\"\n");
        assert!(err.contains("only with [tls]"), "{err}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let raw: RawConfig = toml::from_str("[server]\nlisten = \"nope\"\n").unwrap();
        let err = Config::from_raw(raw, Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.listen"), "{err}");
    }
}
