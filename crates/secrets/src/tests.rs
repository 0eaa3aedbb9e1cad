use super::*;
use std::path::{Path, PathBuf};

/// A fresh folder under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "tributary-secrets-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

#[test]
fn seal_then_open_round_trips() {
    let key = SecretKey::generate();
    let sealed = key.seal(b"app-specific-password", "icloud");
    assert_eq!(sealed[0], VERSION);
    assert_eq!(sealed.len(), 1 + NONCE_LEN + 21 + TAG_LEN);
    assert!(!sealed
        .windows(b"app-specific".len())
        .any(|w| w == b"app-specific"));
    assert_eq!(
        &key.open(&sealed, "icloud").unwrap()[..],
        b"app-specific-password"
    );
    assert_eq!(
        &*key.open_string(&sealed, "icloud").unwrap(),
        "app-specific-password"
    );
    // A fresh nonce per seal: the same secret never seals to the same bytes.
    assert_ne!(sealed, key.seal(b"app-specific-password", "icloud"));
    let empty = key.seal(b"", "icloud");
    assert!(key.open(&empty, "icloud").unwrap().is_empty());
}

#[test]
fn wrong_key_does_not_open() {
    let sealed = SecretKey::generate().seal(b"pw", "icloud");
    let other = SecretKey::generate();
    assert!(matches!(
        other.open(&sealed, "icloud"),
        Err(SecretsError::Undecryptable)
    ));
}

#[test]
fn wrong_context_does_not_open() {
    let key = SecretKey::generate();
    let sealed = key.seal(b"pw", "icloud");
    assert!(matches!(
        key.open(&sealed, "fastmail"),
        Err(SecretsError::Undecryptable)
    ));
    assert!(matches!(
        key.open(&sealed, ""),
        Err(SecretsError::Undecryptable)
    ));
}

#[test]
fn any_flipped_byte_does_not_open() {
    let key = SecretKey::generate();
    let sealed = key.seal(b"password", "src");
    for i in 0..sealed.len() {
        let mut bad = sealed.clone();
        bad[i] ^= 0x01;
        assert!(
            matches!(key.open(&bad, "src"), Err(SecretsError::Undecryptable)),
            "byte {i} flipped still opened"
        );
    }
}

#[test]
fn truncated_or_extended_blob_does_not_open() {
    let key = SecretKey::generate();
    let sealed = key.seal(b"password", "src");
    for len in 0..sealed.len() {
        assert!(
            matches!(
                key.open(&sealed[..len], "src"),
                Err(SecretsError::Undecryptable)
            ),
            "{len} bytes opened"
        );
    }
    let mut longer = sealed.clone();
    longer.push(0);
    assert!(matches!(
        key.open(&longer, "src"),
        Err(SecretsError::Undecryptable)
    ));
}

#[test]
fn not_utf8_is_undecryptable_as_string() {
    let key = SecretKey::generate();
    let sealed = key.seal(&[0xff, 0xfe], "src");
    assert!(key.open(&sealed, "src").is_ok());
    assert!(matches!(
        key.open_string(&sealed, "src"),
        Err(SecretsError::Undecryptable)
    ));
}

#[test]
fn debug_shows_nothing_of_the_key() {
    let key = SecretKey::parse(HEX_KEY, "test").unwrap();
    assert_eq!(format!("{key:?}"), "SecretKey(..)");
}

#[test]
fn key_parses_from_hex_and_base64() {
    use base64::Engine as _;
    let bytes: Vec<u8> = (0u8..32).collect();
    let from_hex = SecretKey::parse(HEX_KEY, "env").unwrap();
    assert_eq!(&from_hex.0[..], &bytes[..]);
    let upper = SecretKey::parse(&format!("  {}\n", HEX_KEY.to_uppercase()), "env").unwrap();
    assert_eq!(&upper.0[..], &bytes[..]);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    assert!(b64.ends_with('='));
    assert_eq!(&SecretKey::parse(&b64, "env").unwrap().0[..], &bytes[..]);
    let unpadded = b64.trim_end_matches('=');
    assert_eq!(
        &SecretKey::parse(unpadded, "env").unwrap().0[..],
        &bytes[..]
    );
    // What one key seals, the same key written the other way opens.
    let sealed = from_hex.seal(b"pw", "c");
    assert!(SecretKey::parse(&b64, "env")
        .unwrap()
        .open(&sealed, "c")
        .is_ok());
}

#[test]
fn malformed_keys_are_refused_with_their_origin() {
    use base64::Engine as _;
    let short_b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 16]);
    for bad in [
        "",
        "not a key",
        &HEX_KEY[..62],
        &format!("{HEX_KEY}00"),
        &HEX_KEY.replace('0', "g"),
        &short_b64,
    ] {
        match SecretKey::parse(bad, KEY_ENV) {
            Err(e @ SecretsError::BadKey { .. }) => {
                assert!(e.to_string().contains(KEY_ENV), "{e}")
            }
            other => panic!("{bad:?} gave {other:?}"),
        }
    }
}

#[test]
fn environment_value_wins_over_the_file() {
    let dir = TempDir::new();
    let file = dir.path().join("secrets.key");
    let key = SecretKey::load_with_env(Some(HEX_KEY), &file, true)
        .unwrap()
        .unwrap();
    assert_eq!(key.0[31], 31);
    assert!(
        !file.exists(),
        "no file is made when the key comes from the environment"
    );
    // Set but empty counts as unset.
    assert!(SecretKey::load_with_env(Some(" "), &file, false)
        .unwrap()
        .is_none());
    assert!(matches!(
        SecretKey::load_with_env(Some("short"), &file, true),
        Err(SecretsError::BadKey { .. })
    ));
}

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn missing_file_without_create_is_none() {
    let dir = TempDir::new();
    let file = dir.path().join("secrets.key");
    assert!(SecretKey::load_with_env(None, &file, false)
        .unwrap()
        .is_none());
    assert!(!file.exists());
}

#[cfg(unix)]
#[test]
fn created_file_is_mode_0600_and_loads_the_same_key() {
    let dir = TempDir::new();
    let file = dir.path().join("sub").join("secrets.key");
    let key = SecretKey::load_with_env(None, &file, true)
        .unwrap()
        .unwrap();
    assert_eq!(mode_of(&file), 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.trim().len(), 64, "{text:?}");
    // Nothing but the key file is left in the folder (no temporary file).
    let names: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("secrets.key")]);
    let sealed = key.seal(b"pw", "src");
    let again = SecretKey::load_with_env(None, &file, true)
        .unwrap()
        .unwrap();
    assert_eq!(&again.open(&sealed, "src").unwrap()[..], b"pw");
}

#[cfg(unix)]
#[test]
fn group_or_world_accessible_file_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TempDir::new();
    let file = dir.path().join("secrets.key");
    std::fs::write(&file, format!("{HEX_KEY}\n")).unwrap();
    for mode in [0o640, 0o604, 0o660, 0o644, 0o700 | 0o070] {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        match SecretKey::load_with_env(None, &file, true) {
            Err(e @ SecretsError::Permissions { .. }) => {
                let text = e.to_string();
                assert!(text.contains("chmod 600"), "{text}");
                assert!(text.contains(&format!("{mode:04o}")), "{text}");
            }
            other => panic!("mode {mode:o} gave {other:?}"),
        }
    }
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o400)).unwrap();
    let key = SecretKey::load_with_env(None, &file, false)
        .unwrap()
        .unwrap();
    assert_eq!(key.0[1], 1);
}

#[test]
fn malformed_file_names_the_file() {
    let dir = TempDir::new();
    let file = dir.path().join("secrets.key");
    std::fs::write(&file, "nope\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let err = SecretKey::load_with_env(None, &file, true).unwrap_err();
    assert!(matches!(err, SecretsError::BadKey { .. }));
    assert!(err.to_string().contains("secrets.key"), "{err}");
}
