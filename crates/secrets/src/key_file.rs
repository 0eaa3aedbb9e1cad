//! The key file: read only when no one else may read it, created with mode 0600.

use crate::{Result, SecretKey, SecretsError};
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::Path;
use zeroize::Zeroizing;

/// The key in `path`; when there is none and `create` is true, a new one written there.
pub(crate) fn load(path: &Path, create: bool) -> Result<Option<SecretKey>> {
    match read(path)? {
        Some(key) => Ok(Some(key)),
        None if create => create_key(path).map(Some),
        None => Ok(None),
    }
}

fn io_error(path: &Path, source: std::io::Error) -> SecretsError {
    SecretsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The key in `path`, `None` when the file does not exist.
fn read(path: &Path) -> Result<Option<SecretKey>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path, e)),
    };
    check_private(path, &file)?;
    let mut text = Zeroizing::new(String::new());
    // A key file is 65 bytes; reading at most 1 KiB keeps a wrong path (a log, a device)
    // from being read whole.
    file.take(1024)
        .read_to_string(&mut text)
        .map_err(|e| io_error(path, e))?;
    SecretKey::parse(&text, &path.display().to_string()).map(Some)
}

/// Refuse a key file that group or others may access, as OpenSSH refuses a private key
/// with any of the mode bits 077 set (`sshkey_perm_ok` in OpenSSH's authfile.c). Checked on
/// the open file, so the file checked is the file read.
#[cfg(unix)]
fn check_private(path: &Path, file: &File) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = file
        .metadata()
        .map_err(|e| io_error(path, e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(SecretsError::Permissions {
            path: path.to_path_buf(),
            mode: mode & 0o7777,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _file: &File) -> Result<()> {
    Ok(())
}

/// Write a new random key to `path`. The key is written and synced under a temporary name
/// in the same folder, then hard-linked to `path`, which fails if `path` exists: a second
/// process creating the key at the same moment never sees a half-written file, and the one
/// that loses the race reads the winner's key.
fn create_key(path: &Path) -> Result<SecretKey> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let key = SecretKey::generate();
    let name = path.file_name().map_or_else(
        || "secrets.key".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let tmp = dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
    let written = write_private(&tmp, &key);
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return read(path)?.ok_or_else(|| io_error(path, e));
        }
        // A file system without hard links: create the file itself, exclusively.
        Err(_) => write_private(path, &key).map_err(|e| io_error(path, e))?,
    }
    sync_dir(dir).map_err(|e| io_error(dir, e))?;
    Ok(key)
}

/// Create `path` (it must not exist) with mode 0600 from the start, write the key as hex
/// and sync it.
fn write_private(path: &Path, key: &SecretKey) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    let mut text = key.to_hex();
    text.push('\n');
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Make the new directory entry durable (a crash right after must not lose the key that
/// secrets were already sealed with).
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}
