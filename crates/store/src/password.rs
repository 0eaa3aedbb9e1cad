//! Password hashing with argon2id (PHC strings with their own salt and parameters).

use crate::{Error, Result};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;

/// Hash a password with argon2id and a random salt.
pub fn hash(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Password(e.to_string()))
}

/// Verify a password against a PHC hash. The comparison inside argon2 is constant-time.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// The most argon2 memory a stored hash may ask a [`Verifier`] for (256 MiB). Hashes
/// made by [`hash`] use 19 MiB; a larger cost only comes from a hand-edited row.
const MAX_BLOCKS: usize = 256 * 1024;

/// Verifies passwords with one argon2 work area that is kept and reused, so a thread
/// that verifies many passwords holds one buffer (19 MiB for [`hash`]'s parameters)
/// instead of allocating and freeing one per check. [`verify`] allocates per call.
#[derive(Default)]
pub struct Verifier {
    blocks: Vec<Block>,
}

impl Verifier {
    /// A verifier whose work area is allocated on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes held by the work area.
    pub fn memory_bytes(&self) -> usize {
        self.blocks.len() * Block::SIZE
    }

    /// Give the work area back (the next check allocates it again).
    pub fn release(&mut self) {
        self.blocks = Vec::new();
    }

    /// Verify `password` against a PHC argon2 string, as [`verify`] does. The final
    /// comparison is constant-time.
    pub fn verify(&mut self, password: &str, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
            return false;
        };
        let version = match parsed.version.map(Version::try_from).transpose() {
            Ok(v) => v.unwrap_or_default(),
            Err(_) => return false,
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return false;
        };
        let mut salt_buf = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
            return false;
        };
        let needed = params.block_count();
        if needed > MAX_BLOCKS {
            return false;
        }
        if self.blocks.len() < needed {
            self.blocks.resize(needed, Block::default());
        }
        let mut out = [0u8; 64];
        let Some(out) = out.get_mut(..expected.len()) else {
            return false;
        };
        let argon = Argon2::new(algorithm, version, params);
        if argon
            .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut self.blocks[..])
            .is_err()
        {
            return false;
        }
        out.ct_eq(expected.as_bytes()).into()
    }
}

/// A hash of a random password, verified against when the user does not exist, so a
/// wrong user name costs as much time as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("tributary-dummy-password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #[test]
    fn hash_and_verify() {
        let h = super::hash("s3cret").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("s3cret", &h));
        assert!(!super::verify("s3cret!", &h));
        assert!(!super::verify("s3cret", "not a hash"));
    }

    #[test]
    fn reusing_verifier_agrees_with_verify() {
        let h = super::hash("s3cret").unwrap();
        let mut v = super::Verifier::new();
        for _ in 0..2 {
            assert!(v.verify("s3cret", &h));
            assert!(!v.verify("s3cret!", &h));
            assert!(!v.verify("", &h));
        }
        assert!(!v.verify("s3cret", "not a hash"));
        // argon2i and argon2d hashes with other parameters verify through the same buffer
        let salt = argon2::password_hash::SaltString::generate(
            &mut argon2::password_hash::rand_core::OsRng,
        );
        for alg in [super::Algorithm::Argon2i, super::Algorithm::Argon2d] {
            let params = super::Params::new(8192, 3, 1, Some(32)).unwrap();
            let a = super::Argon2::new(alg, super::Version::V0x13, params);
            use argon2::password_hash::PasswordHasher;
            let phc = a.hash_password(b"other", &salt).unwrap().to_string();
            assert!(v.verify("other", &phc), "{phc}");
            assert!(!v.verify("other2", &phc));
            assert!(super::verify("other", &phc));
        }
        // one 19 MiB work area, kept
        assert_eq!(v.memory_bytes(), 19 * 1024 * 1024);
        // a hash asking for more than the cap is refused without allocating it
        let huge = super::Params::new(1024 * 1024, 1, 1, Some(32)).unwrap();
        let phc = format!(
            "$argon2id$v=19$m={},t=1,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            huge.m_cost()
        );
        assert!(!v.verify("x", &phc));
        assert_eq!(v.memory_bytes(), 19 * 1024 * 1024);
        v.release();
        assert_eq!(v.memory_bytes(), 0);
        assert!(v.verify("s3cret", &h));
    }
}
