//! `source add --caldav` and `source remote-calendars`: remote CalDAV accounts.

use super::{cli_runtime, parse_refresh, show_secs, show_time, AddArgs};
use crate::config::Config;
use anyhow::{bail, Context as _, Result};
use std::io::{BufRead, IsTerminal, Read};
use tributary_secrets::SecretKey;
use tributary_store::{NewRemote, Privacy, SourceKind, Store};

/// Longest password read from standard input.
const MAX_PASSWORD: usize = 1024;

/// `source add NAME --caldav URL --remote-user R --password-stdin …`.
pub(super) fn add(config: &Config, store: &Store, a: &AddArgs, url: &str) -> Result<()> {
    let mut url =
        tributary_pull::parse_feed_url(url).map_err(|e| anyhow::anyhow!("--caldav: {e}"))?;
    // The account's credentials travel in --remote-user and --password-stdin, never
    // in the URL (which `source list` shows).
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let Some(remote_user) = a.remote_user.clone() else {
        bail!("--caldav needs --remote-user");
    };
    if !a.password_stdin {
        bail!("--caldav needs --password-stdin: the password is read from standard input, never taken from the command line");
    }
    let two_way = match a.direction.as_str() {
        "pull" => false,
        "both" => true,
        other => bail!("--direction must be pull or both, not {other:?}"),
    };
    let mut new = a.source(store, SourceKind::Caldav)?;
    if two_way && new.privacy == Privacy::BusyOnly {
        bail!("a busy-only source is pull-only: its calendar holds redacted copies, which must not be pushed back");
    }
    new.two_way = two_way;
    let refresh = a.refresh.as_deref().map(parse_refresh).transpose()?;
    let password = read_password()?;
    let key = SecretKey::load(&config.secrets_key_file, true)
        .with_context(|| format!("secrets key {}", config.secrets_key_file.display()))?
        .context("no secrets key could be made")?;
    let remote = NewRemote {
        remote_user,
        sealed_password: key.seal(password.as_bytes(), &a.id),
        remote_calendar: a.remote_calendar.clone(),
    };
    store
        .put_remote_source(&new, url.as_str(), refresh, &remote)
        .with_context(|| format!("cannot save source {}", a.id))?;
    let every = show_secs(refresh.unwrap_or(tributary_pull::DEFAULT_REFRESH_SECS));
    println!(
        "source {} mirrors {} ({}) into {} every {every}; the running server picks it up, or run `tributary source sync {}`",
        a.id,
        tributary_pull::redact(&url),
        if two_way { "two-way" } else { "pull only" },
        a.href(),
        a.id
    );
    Ok(())
}

/// One line of standard input (a prompt on a terminal), without its line end.
fn read_password() -> Result<zeroize::Zeroizing<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(rpassword::prompt_password("CalDAV password: ")?.into());
    }
    let mut line = zeroize::Zeroizing::new(String::new());
    stdin
        .lock()
        .take(MAX_PASSWORD as u64 + 2)
        .read_line(&mut line)?;
    let password = zeroize::Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string());
    if password.is_empty() {
        bail!("no password on standard input");
    }
    if password.len() > MAX_PASSWORD {
        bail!("the password is longer than {MAX_PASSWORD} bytes");
    }
    Ok(password)
}

/// `source remote-calendars NAME`: what discovery finds, the mirrored one marked.
pub(super) fn calendars(config: &Config, store: Store, id: &str) -> Result<()> {
    let puller = tributary_pull::Puller::new(store, config.pull_settings()?, "cli");
    let (found, chosen) = cli_runtime()?
        .block_on(puller.remote_calendars(id))
        .map_err(|e| anyhow::anyhow!("{id}: {e}"))?;
    for c in &found {
        let mark = if chosen.as_deref() == Ok(c.href.as_str()) {
            "*"
        } else {
            " "
        };
        let components = if c.components.is_empty() {
            "any".to_string()
        } else {
            c.components.join(",")
        };
        println!(
            "{mark} {}\t{}\t{components}",
            printable(c.display_name.as_deref().unwrap_or("(no name)")),
            printable(&c.href)
        );
    }
    if let Err(why) = chosen {
        println!("(none chosen: {})", printable(&why));
    }
    Ok(())
}

/// What a remote server named, safe for a terminal: control characters (an escape
/// sequence a hostile server put in a display name) become `?`.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The account part of a `source list` line.
pub(super) fn list_fields(store: &Store, id: &str) -> Result<String> {
    let r = store.get_remote(id)?;
    let queued = store.outbox(id)?.len();
    let two_way = store.get_source(id)?.two_way;
    Ok(format!(
        " remote_user={} direction={} remote_calendar={} queued_pushes={queued}{}",
        r.remote_user,
        if two_way { "both" } else { "pull" },
        r.calendar_url
            .as_deref()
            .map_or_else(|| "-".into(), tributary_pull::display_url),
        r.auth_failed_at.map_or_else(String::new, |t| format!(
            " stopped=\"credentials refused at {}\"",
            show_time(Some(t))
        ))
    ))
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn names_from_a_remote_lose_their_control_characters() {
        assert_eq!(printable("Work\u{1b}[2J\tx"), "Work?[2J?x");
        assert_eq!(printable("Família"), "Família");
    }
}
