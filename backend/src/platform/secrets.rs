//! Sealing secrets at rest: XChaCha20-Poly1305 (RustCrypto) under a key derived with
//! HKDF-SHA256 from the key file. The database holds only sealed text; a copy of it without the
//! key file opens nothing. Each sealed value is bound to its purpose (the associated data), so
//! a value sealed for one place cannot be moved to another.

use crate::platform::keys::MasterKey;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;
use std::fmt;

const VERSION: &str = "v1.";
const NONCE_LEN: usize = 24;

/// A secret value in memory: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(***)")
    }
}

/// Why a sealed value could not be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    /// Not something this version of Wharf sealed.
    #[error("not a sealed value")]
    Malformed,
    /// Sealed under another key, for another purpose, or altered.
    #[error("the sealed value does not open with this key file")]
    WrongKeyOrTampered,
}

/// Sealing failed (only possible for absurdly large values).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the value could not be sealed")]
pub struct SealError;

/// Seals and opens secrets under the installation's key.
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(***)")
    }
}

impl Sealer {
    /// Derives the sealing key from the key file.
    pub fn new(master: &MasterKey) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(b"wharf"), master.bytes());
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit of 8160, so expand cannot fail
        if hk.expand(b"wharf secrets v1", &mut key).is_err() {
            unreachable!("HKDF output length is fixed and valid");
        }
        Self {
            cipher: XChaCha20Poly1305::new(&key.into()),
        }
    }

    /// Seals `value` for `purpose` (for example `"variable"`): `v1.` + base64url(nonce ‖ ciphertext).
    pub fn seal(&self, value: &SecretValue, purpose: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: value.expose().as_bytes(),
            aad: purpose.as_bytes(),
        };
        // with a valid key and nonce this fails only for messages beyond 256 GiB
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .map_err(|_| SealError)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// Opens what [`Sealer::seal`] produced for the same `purpose`.
    pub fn open(&self, sealed: &str, purpose: &str) -> Result<SecretValue, OpenError> {
        let body = sealed.strip_prefix(VERSION).ok_or(OpenError::Malformed)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| OpenError::Malformed)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(OpenError::Malformed);
        }
        let (nonce, ct) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| OpenError::WrongKeyOrTampered)?;
        String::from_utf8(plain)
            .map(SecretValue)
            .map_err(|_| OpenError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(dir: &tempfile::TempDir, name: &str) -> Sealer {
        Sealer::new(&MasterKey::load_or_create(&dir.path().join(name)).unwrap())
    }

    #[test]
    fn a_sealed_value_opens_with_the_same_key_and_purpose_only() {
        let dir = tempfile::tempdir().unwrap();
        let s = sealer(&dir, "a");
        let v = SecretValue::new("hunter2 🔑");
        let sealed = s.seal(&v, "variable").unwrap();
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("hunter2"));
        assert_eq!(s.open(&sealed, "variable").unwrap(), v);
        assert_eq!(
            s.open(&sealed, "endpoint").unwrap_err(),
            OpenError::WrongKeyOrTampered
        );
        let other = sealer(&dir, "b");
        assert_eq!(
            other.open(&sealed, "variable").unwrap_err(),
            OpenError::WrongKeyOrTampered
        );
    }

    #[test]
    fn sealing_twice_gives_different_text() {
        let dir = tempfile::tempdir().unwrap();
        let s = sealer(&dir, "a");
        let v = SecretValue::new("same");
        assert_ne!(s.seal(&v, "p").unwrap(), s.seal(&v, "p").unwrap());
    }

    #[test]
    fn altered_or_foreign_text_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let s = sealer(&dir, "a");
        let sealed = s.seal(&SecretValue::new("x"), "p").unwrap();
        let mut chars: Vec<char> = sealed.chars().collect();
        let last = chars.len() - 1;
        chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
        let altered: String = chars.into_iter().collect();
        assert!(s.open(&altered, "p").is_err());
        assert_eq!(s.open("plain text", "p").unwrap_err(), OpenError::Malformed);
        assert_eq!(s.open("v1.!!!", "p").unwrap_err(), OpenError::Malformed);
        assert_eq!(s.open("v1.AAAA", "p").unwrap_err(), OpenError::Malformed);
    }

    #[test]
    fn debug_output_hides_values() {
        assert_eq!(format!("{:?}", SecretValue::new("pw")), "SecretValue(***)");
    }
}
