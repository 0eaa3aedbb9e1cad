//! `tributary --config FILE check-config`: every problem in a configuration file, each
//! named by its key, rather than only the first one that stops the server.
//!
//! Serde stops at the first unknown key and [`Config::from_raw`] at the first bad
//! value, so each key is checked on its own: a one-key file is deserialized into
//! [`RawConfig`] (unknown keys, wrong types) and validated (bad values). When every key
//! passes alone, the whole file is validated once more for rules that span keys.

use crate::config::{Config, RawConfig};
use anyhow::{bail, Context as _, Result};
use std::path::{Path, PathBuf};

/// Check `explicit`, else `./config.toml`; print the problems, or a summary of the
/// settings in effect. Fails when there is any problem.
pub fn check_config(explicit: Option<&Path>) -> Result<()> {
    let path: PathBuf = match explicit {
        Some(p) => p.to_path_buf(),
        None if Path::new("config.toml").is_file() => PathBuf::from("config.toml"),
        None => {
            println!("no --config given and no ./config.toml: the built-in defaults apply");
            return Ok(());
        }
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let found = problems(&text, base);
    if !found.is_empty() {
        for p in &found {
            println!("{}: {p}", path.display());
        }
        bail!("{} problem(s) in {}", found.len(), path.display());
    }
    let raw: RawConfig = toml::from_str(&text)?;
    let config = Config::from_raw(raw, base)?;
    println!("{}: OK", path.display());
    println!("  listen    {}", config.server.listen);
    println!("  database  {}", config.store.path.display());
    println!("  log level {}", config.log_level);
    println!("  secrets   {}", config.secrets_key_file.display());
    let limit = |v: Option<u64>| v.map_or("unlimited".to_string(), |n| n.to_string());
    println!(
        "  quota     {} bytes, {} objects per user",
        limit(config.server.quota.max_bytes),
        limit(config.server.quota.max_objects)
    );
    if let Some(tls) = &config.tls {
        // Load them as the server would: readable, valid PEM, key matching certificate.
        tributary_server::tls::load_server_config(tls)
            .with_context(|| format!("{}: [tls]", path.display()))?;
        println!("  tls cert  {}", tls.cert.display());
        println!("  tls key   {}", tls.key.display());
    }
    Ok(())
}

/// Every problem in a config text, each starting with the key it concerns.
pub fn problems(text: &str, base: &Path) -> Vec<String> {
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => return vec![one_line(&e.to_string())],
    };
    let mut out = Vec::new();
    for (section, value) in &table {
        let toml::Value::Table(keys) = value else {
            out.push(format!("{section}: must be a [{section}] table"));
            continue;
        };
        if let Err(e) = parse_single(section, None) {
            out.push(format!("{section}: unknown section ({})", one_line(&e)));
            continue;
        }
        for (key, v) in keys {
            let raw = match parse_single(section, Some((key, v))) {
                Ok(raw) => raw,
                Err(e) => {
                    out.push(format!("{section}.{key}: {}", one_line(&e)));
                    continue;
                }
            };
            // Alone, a key may break a rule that spans keys (one of a pair set without
            // the other); only problems naming this key count here.
            if let Err(e) = Config::from_raw(raw, base) {
                let message = format!("{e:#}");
                if message.starts_with(&format!("{section}.{key}:")) {
                    out.push(message);
                }
            }
        }
    }
    // The whole file, for the rules that span keys.
    if let Ok(raw) = toml::from_str::<RawConfig>(text) {
        if let Err(e) = Config::from_raw(raw, base) {
            let message = format!("{e:#}");
            if !out.contains(&message) {
                out.push(message);
            }
        }
    }
    out
}

/// A file holding only `[section]` (and `key = value`), deserialized.
fn parse_single(
    section: &str,
    entry: Option<(&String, &toml::Value)>,
) -> Result<RawConfig, String> {
    let mut inner = toml::Table::new();
    if let Some((key, value)) = entry {
        inner.insert(key.clone(), value.clone());
    }
    let mut outer = toml::Table::new();
    outer.insert(section.to_string(), toml::Value::Table(inner));
    outer.try_into::<RawConfig>().map_err(|e| e.to_string())
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
    fn example_config_has_no_problems() {
        let text = include_str!("../config.toml");
        assert_eq!(
            problems(text, Path::new("/etc/tributary")),
            Vec::<String>::new()
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let text = "[server]\nlisten = \"nope\"\nlisten_addr = 1\nmax_connections = 0\nmax_body_bytes = \"big\"\n\
                    [storage]\npath = \"\"\n[log]\nlevel = \"loud\"\n[extra]\nx = 1\n";
        let found = problems(text, Path::new("."));
        let keys = [
            "server.listen",
            "server.listen_addr",
            "server.max_connections",
            "server.max_body_bytes",
            "storage.path",
            "log.level",
            "extra",
        ];
        for key in keys {
            assert!(
                found.iter().any(|p| p.starts_with(key)),
                "{key} missing from {found:#?}"
            );
        }
        assert_eq!(found.len(), keys.len(), "{found:#?}");
    }

    #[test]
    fn syntax_error_is_reported_alone() {
        let found = problems("[server\nlisten = 1\n", Path::new("."));
        assert_eq!(found.len(), 1, "{found:?}");
    }
}
