//! The installation's key file: 64 random bytes that sign session cookies and, later, seal
//! stored secrets. It lives on disk beside the data, never in the database, so a copy of the
//! database alone opens nothing.

use rand::RngCore;
use std::io::Write;
use std::path::Path;

/// The key material, kept out of `Debug` output.
#[derive(Clone)]
pub struct MasterKey([u8; 64]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    /// The raw bytes.
    pub fn bytes(&self) -> &[u8; 64] {
        &self.0
    }

    /// Reads the key file, or creates it (mode 0600, never overwriting) when it does not exist.
    pub fn load_or_create(path: &Path) -> std::io::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "{} is not a Wharf key file (expected 128 hex digits)",
                        path.display()
                    ),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(path),
            Err(e) => Err(e),
        }
    }

    fn parse(text: &str) -> Option<Self> {
        let bytes = hex::decode(text.trim()).ok()?;
        let array: [u8; 64] = bytes.try_into().ok()?;
        Some(Self(array))
    }

    fn create(path: &Path) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut bytes = [0u8; 64];
        rand::rng().fill_bytes(&mut bytes);
        // written whole under a name of its own, then linked into place: of processes starting
        // at the same moment (replicas sharing the file), one links its key and the others
        // read that finished file, never a half-written one
        let draft = path.with_file_name(format!(
            ".{}.{}.draft",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("wharf.key"),
            std::process::id()
        ));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let written = (|| {
            let mut file = options.open(&draft)?;
            file.write_all(hex::encode(bytes).as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            std::fs::hard_link(&draft, path)
        })();
        let _ = std::fs::remove_file(&draft);
        match written {
            Ok(()) => Ok(Self(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load_or_create(path),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_file_is_private_and_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("wharf.key");
        let first = MasterKey::load_or_create(&path).unwrap();
        let again = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(first.bytes(), again.bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_key_file_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wharf.key");
        std::fs::write(&path, "not hex").unwrap();
        assert!(MasterKey::load_or_create(&path).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not hex");
    }

    #[test]
    fn debug_output_hides_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = MasterKey::load_or_create(&dir.path().join("k")).unwrap();
        assert_eq!(format!("{key:?}"), "MasterKey(***)");
    }
}
