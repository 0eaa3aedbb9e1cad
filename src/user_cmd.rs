//! `tributary user …`: add, list, change passwords and delete users.

use crate::config::Config;
use anyhow::{bail, Context as _, Result};
use clap::Subcommand;
use std::io::{BufRead, IsTerminal, Write};
use tributary_store::{password, Store};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user with a calendar home and a default calendar. The password is read
    /// from standard input (first line) when it is not a terminal, else prompted twice.
    Add {
        /// User name (may be an e-mail address).
        name: String,
        /// Allow this user to use the management API.
        #[arg(long)]
        admin: bool,
    },
    /// List users.
    List,
    /// Change a user's password (read like `user add`).
    Passwd {
        /// User name.
        name: String,
    },
    /// Delete a user and all of its calendars.
    Delete {
        /// User name.
        name: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

pub fn run(config: &Config, cmd: UserCommand) -> Result<()> {
    let store = Store::open(&config.store)
        .with_context(|| format!("cannot open database {}", config.store.path.display()))?;
    match cmd {
        UserCommand::Add { name, admin } => {
            validate_name(&name)?;
            let pw = read_password()?;
            let hash = password::hash(&pw)?;
            match store.put_user(&name, &hash, admin) {
                // The stored name: Unicode NFC, whatever form the shell passed.
                Ok(user) => println!("created user {}", user.name),
                Err(tributary_store::Error::AlreadyExists) => bail!("user {name} already exists"),
                Err(e) => return Err(e.into()),
            }
        }
        UserCommand::List => {
            for u in store.list_users()? {
                println!("{}{}", u.name, if u.is_admin { " (admin)" } else { "" });
            }
        }
        UserCommand::Passwd { name } => {
            store
                .get_user(&name)
                .map_err(|_| anyhow::anyhow!("no user named {name}"))?;
            let pw = read_password()?;
            store.put_password(&name, &password::hash(&pw)?)?;
            println!("password changed for {name}");
        }
        UserCommand::Delete { name, yes } => {
            store
                .get_user(&name)
                .map_err(|_| anyhow::anyhow!("no user named {name}"))?;
            if !yes
                && !confirm(&format!(
                    "Delete user {name} and all of its calendars? [y/N] "
                ))?
            {
                bail!("not deleted");
            }
            store.delete_user(&name)?;
            println!("deleted user {name}");
        }
    }
    Ok(())
}

/// User names appear in URLs: refuse what could never be a path segment.
fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 256 || name == "." || name == ".." {
        bail!("user name must be 1 to 256 characters and not . or ..");
    }
    if name
        .chars()
        .any(|c| c == '/' || c == ':' || c.is_control() || c.is_whitespace())
    {
        bail!("user name must not contain '/', ':', spaces or control characters");
    }
    Ok(())
}

fn read_password() -> Result<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        let pw = line.trim_end_matches(['\r', '\n']).to_string();
        if pw.is_empty() {
            bail!("empty password on standard input");
        }
        return Ok(pw);
    }
    let first = rpassword::prompt_password("Password: ")?;
    let second = rpassword::prompt_password("Repeat password: ")?;
    if first != second {
        bail!("the passwords do not match");
    }
    if first.is_empty() {
        bail!("the password must not be empty");
    }
    Ok(first)
}

fn confirm(question: &str) -> Result<bool> {
    print!("{question}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}
