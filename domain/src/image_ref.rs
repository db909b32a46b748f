//! Image references as the distribution reference grammar defines them, parsed into newtypes:
//! whatever a registry's payload says is checked here before Wharf uses it (Activity, pipeline
//! inputs, Kubernetes manifests). Hand-written parsers rather than regular expressions, so a
//! 200 KB string costs one pass.
//!
//! ```text
//! host       := domain-component ('.' domain-component)* (':' port)?  |  '[' ipv6 ']' (':' port)?
//! repository := path-component ('/' path-component)*            (at most 255 characters)
//! path-component := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
//! tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//! digest     := algorithm ':' hex                               (hex: at least 32 digits)
//! ```

use std::fmt;

/// The longest repository name the grammar allows.
pub const MAX_REPOSITORY: usize = 255;
/// The longest tag.
pub const MAX_TAG: usize = 128;

/// Why a reference was refused, in words (the value itself is never repeated: it may be huge
/// or hostile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefError(pub String);

impl fmt::Display for RefError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(m: impl Into<String>) -> Result<T, RefError> {
    Err(RefError(m.into()))
}

/// A registry host: `registry.example.com`, `127.0.0.1:5000`, `[::1]:5000`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryHost(String);

impl RegistryHost {
    /// Parses a host with an optional port.
    pub fn parse(s: &str) -> Result<Self, RefError> {
        if s.is_empty() || s.len() > 255 {
            return err("the registry host is empty or longer than 255 characters");
        }
        let (name, port) = if let Some(rest) = s.strip_prefix('[') {
            let Some((v6, after)) = rest.split_once(']') else {
                return err("the registry host has an unclosed '['");
            };
            if v6.is_empty() || !v6.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
                return err("the registry host is not a valid IPv6 address");
            }
            match after {
                "" => (None, None),
                p => match p.strip_prefix(':') {
                    Some(p) => (None, Some(p)),
                    None => return err("the registry host has text after its IPv6 address"),
                },
            }
        } else {
            match s.rsplit_once(':') {
                Some((n, p)) => (Some(n), Some(p)),
                None => (Some(s), None),
            }
        };
        if let Some(name) = name {
            let component_ok = |c: &str| {
                !c.is_empty()
                    && c.chars().all(|x| x.is_ascii_alphanumeric() || x == '-')
                    && !c.starts_with('-')
                    && !c.ends_with('-')
            };
            if !name.split('.').all(component_ok) {
                return err("the registry host is not a host name or address");
            }
        }
        if let Some(p) = port {
            if p.is_empty() || p.len() > 5 || !p.chars().all(|c| c.is_ascii_digit()) {
                return err("the registry host's port is not a number");
            }
        }
        Ok(Self(s.to_owned()))
    }

    /// The host as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A repository path: `acme/web`, `library/nginx`, `svendowideit/testhook`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryPath(String);

impl RepositoryPath {
    /// Parses a repository path (lower case, components joined by `/`).
    pub fn parse(s: &str) -> Result<Self, RefError> {
        if s.is_empty() {
            return err("the repository is empty");
        }
        if s.len() > MAX_REPOSITORY {
            return err(format!(
                "the repository is longer than {MAX_REPOSITORY} characters"
            ));
        }
        for component in s.split('/') {
            if !path_component(component) {
                return err(
                    "the repository is not a valid name (lower-case letters and digits, \
                     separated by '.', '_', '__' or '-', components joined by '/')",
                );
            }
        }
        Ok(Self(s.to_owned()))
    }

    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Everything before the last `/` (empty when there is none).
    pub fn namespace(&self) -> &str {
        self.0.rsplit_once('/').map_or("", |(ns, _)| ns)
    }
}

fn alnum_lower(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `[a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*`
fn path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let mut i = 0;
    let run = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && alnum_lower(b[*i]) {
            *i += 1;
        }
        *i > start
    };
    if !run(&mut i) {
        return false;
    }
    while i < b.len() {
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
        if !run(&mut i) {
            return false;
        }
    }
    true
}

/// A tag: `latest`, `v1.2.3`, `1.0_rc-2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag(String);

impl Tag {
    /// Parses a tag.
    pub fn parse(s: &str) -> Result<Self, RefError> {
        let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        let b = s.as_bytes();
        if b.is_empty() {
            return err("the tag is empty");
        }
        if b.len() > MAX_TAG {
            return err(format!("the tag is longer than {MAX_TAG} characters"));
        }
        if !word(b[0]) || !b.iter().all(|&c| word(c) || c == b'.' || c == b'-') {
            return err(
                "the tag is not valid (letters, digits, '_', '.' and '-', not starting with \
                 '.' or '-')",
            );
        }
        Ok(Self(s.to_owned()))
    }

    /// The tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A content digest: `sha256:` and its hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest(String);

impl Digest {
    /// Parses a digest.
    pub fn parse(s: &str) -> Result<Self, RefError> {
        let Some((algorithm, hex)) = s.split_once(':') else {
            return err("the digest is not algorithm:hex");
        };
        let algorithm_ok = !algorithm.is_empty()
            && algorithm.len() <= 64
            && algorithm.split(['+', '.', '_', '-']).all(|part| {
                part.as_bytes()
                    .first()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                    && part.chars().all(|c| c.is_ascii_alphanumeric())
            });
        if !algorithm_ok {
            return err("the digest's algorithm is not valid");
        }
        if hex.len() < 32 || hex.len() > 128 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return err("the digest is not algorithm:hex (32 to 128 hex digits)");
        }
        if algorithm == "sha256" && hex.len() != 64 {
            return err("a sha256 digest has 64 hex digits");
        }
        Ok(Self(s.to_owned()))
    }

    /// The digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";

    #[test]
    fn hosts_are_names_or_addresses_with_a_port() {
        for ok in [
            "registry.example.com",
            "127.0.0.1:5000",
            "localhost",
            "[::1]:5000",
            "harbor.local",
            "a-b.c",
        ] {
            assert!(RegistryHost::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "h/x",
            "h:port",
            "h:",
            "-h.com",
            "h .com",
            "h\n.com",
            "[::1",
            "[zz]",
            "évil.com",
            "h..com",
        ] {
            assert!(RegistryHost::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn repositories_follow_the_path_grammar() {
        for ok in [
            "web",
            "acme/web",
            "svendowideit/testhook",
            "a/b/c",
            "my_app",
            "my__app",
            "my--app",
            "v1.0",
        ] {
            assert!(RepositoryPath::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Acme/web",
            "h/<script>x</script>",
            "../../etc",
            "a//b",
            "/a",
            "a/",
            "a___b",
            "a_",
            "-a",
            "a b",
            "a\nb",
            "web:latest",
            "é",
            "😀",
        ] {
            assert!(RepositoryPath::parse(bad).is_err(), "{bad:?}");
        }
        assert!(RepositoryPath::parse(&"a".repeat(256)).is_err());
        assert_eq!(RepositoryPath::parse("a/b/c").unwrap().namespace(), "a/b");
    }

    #[test]
    fn tags_are_short_words() {
        for ok in ["latest", "v1.2.3", "1.0_rc-2", "_x", "A"] {
            assert!(Tag::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".x",
            "-x",
            "x\n      hostPID: true",
            "x\r\ny",
            "a b",
            "../../x",
            "x/y",
            "😀",
            "a:b",
        ] {
            assert!(Tag::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Tag::parse(&"a".repeat(128)).is_ok());
        assert!(Tag::parse(&"a".repeat(129)).is_err());
        assert!(Tag::parse(&"a".repeat(200_000)).is_err());
    }

    #[test]
    fn digests_are_algorithm_and_hex() {
        assert!(Digest::parse(SHA).is_ok());
        assert!(Digest::parse(&format!("sha512:{}", "ab".repeat(64))).is_ok());
        for bad in [
            "",
            "sha256",
            "sha256:xyz",
            "sha256:abcd",
            ":abcdabcdabcdabcdabcdabcdabcdabcd",
            "sha256:6c3c\n624b",
            "1sha:abcdabcdabcdabcdabcdabcdabcdabcd",
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad:?}");
        }
    }
}
