//! Newtypes for the values with rules: parse once at the edge, then trust the type.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a value was refused. The message is written for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct NameError {
    /// The form field or JSON property the value came from.
    pub field: &'static str,
    /// What is wrong, in words.
    pub message: String,
}

impl NameError {
    pub(crate) fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// An e-mail address, trimmed and lower-cased so that one person has one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// The longest address SMTP allows.
    pub const MAX_LEN: usize = 254;

    /// Parses an address typed by a person.
    pub fn parse(input: &str) -> Result<Self, NameError> {
        const FIELD: &str = "email";
        let s = input.trim().to_lowercase();
        if s.is_empty() {
            return Err(NameError::new(FIELD, "Enter an e-mail address."));
        }
        if s.len() > Self::MAX_LEN {
            return Err(NameError::new(FIELD, "That e-mail address is too long."));
        }
        if has_control(&s) || s.chars().any(char::is_whitespace) {
            return Err(NameError::new(
                FIELD,
                "An e-mail address cannot contain spaces.",
            ));
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(NameError::new(
                FIELD,
                "An e-mail address needs an @, as in ada@example.com.",
            ));
        };
        let domain_ok = !domain.is_empty()
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.contains('@') || !domain_ok {
            return Err(NameError::new(
                FIELD,
                "That is not an e-mail address, as in ada@example.com.",
            ));
        }
        Ok(Self(s))
    }

    /// The address as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's name as shown in the header and member lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    /// The longest name accepted, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Parses a display name: trimmed, 1 to 100 characters, no control characters.
    pub fn parse(input: &str) -> Result<Self, NameError> {
        const FIELD: &str = "display_name";
        let s = input.trim();
        if s.is_empty() {
            return Err(NameError::new(FIELD, "Enter a name."));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(NameError::new(
                FIELD,
                format!("A name has at most {} characters.", Self::MAX_CHARS),
            ));
        }
        if has_control(s) {
            return Err(NameError::new(
                FIELD,
                "A name cannot contain control characters.",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DisplayName {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DisplayName> for String {
    fn from(value: DisplayName) -> Self {
        value.0
    }
}

/// A project's name: what people pick from the project selector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProjectName(String);

impl ProjectName {
    /// The longest name accepted, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Parses a project name: 1 to 64 characters of letters, digits, spaces, `-`, `_` and `.`,
    /// starting with a letter or digit. Inner runs of spaces are kept as typed.
    pub fn parse(input: &str) -> Result<Self, NameError> {
        parse_label(input, "project name", Self::MAX_CHARS).map(Self)
    }

    /// The name as typed (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key that makes names unique regardless of case: `Web` and `web` are one project.
    pub fn unique_key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl TryFrom<String> for ProjectName {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ProjectName> for String {
    fn from(value: ProjectName) -> Self {
        value.0
    }
}

/// The rule for names people pick from lists (projects, endpoints): 1 to `max` characters of
/// letters, digits, spaces, `-`, `_` and `.`, starting with a letter or digit.
pub(crate) fn parse_label(input: &str, what: &str, max: usize) -> Result<String, NameError> {
    const FIELD: &str = "name";
    let s = input.trim();
    if s.is_empty() {
        return Err(NameError::new(FIELD, format!("Enter a {what}.")));
    }
    if s.chars().count() > max {
        return Err(NameError::new(
            FIELD,
            format!("A {what} has at most {max} characters."),
        ));
    }
    let first_ok = s.chars().next().is_some_and(char::is_alphanumeric);
    let all_ok = s
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'));
    if !first_ok || !all_ok {
        return Err(NameError::new(
            FIELD,
            "Use letters, digits, spaces, '-', '_' and '.', starting with a letter or digit.",
        ));
    }
    Ok(s.to_owned())
}

/// A new password that meets the policy. It is never serialised: it only travels inward.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// The shortest password accepted, in characters.
    pub const MIN_CHARS: usize = 12;
    /// The longest password accepted, in bytes: bounds the hashing work an attacker can ask for.
    pub const MAX_BYTES: usize = 1024;

    /// Checks a new password against the policy. Spaces are allowed and kept: pass phrases are good.
    pub fn parse(input: &str) -> Result<Self, NameError> {
        const FIELD: &str = "password";
        if input.chars().count() < Self::MIN_CHARS {
            return Err(NameError::new(
                FIELD,
                format!("A password has at least {} characters.", Self::MIN_CHARS),
            ));
        }
        if input.len() > Self::MAX_BYTES {
            return Err(NameError::new(
                FIELD,
                format!("A password has at most {} bytes.", Self::MAX_BYTES),
            ));
        }
        if input.trim().is_empty() {
            return Err(NameError::new(FIELD, "A password cannot be only spaces."));
        }
        Ok(Self(input.to_owned()))
    }

    /// The password, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A path on this site to go to after signing in: `next` parsed so that no spelling of it
/// (tabs and newlines browsers drop, backslashes they read as slashes, encoded slashes, `//`)
/// can lead to another host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPath(String);

impl LocalPath {
    /// Parses `next`; anything that is not plainly a path on this site is refused.
    pub fn parse(input: &str) -> Option<Self> {
        let printable = |c: char| c.is_ascii_graphic() && c != '\\';
        if input.len() > 2048 || !input.starts_with('/') || !input.chars().all(printable) {
            return None;
        }
        // the path as a browser may read it: percent-decoded once, backslashes as slashes
        let decoded = percent_decoded(input)?.replace('\\', "/");
        let starts_like_a_host = |s: &str| {
            let rest =
                s.trim_start_matches(|c: char| c == '/' || c.is_whitespace() || c.is_control());
            s.len() - rest.len() > 1
        };
        if starts_like_a_host(input) || starts_like_a_host(&decoded) {
            return None;
        }
        Some(Self(input.to_owned()))
    }

    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn percent_decoded(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        let e = Email::parse("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "ada.lovelace@example.com");
    }

    #[test]
    fn email_without_at_or_domain_is_refused_with_a_reason() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@@x.com",
            "a b@x.com",
            "ada@x..com",
            "ada@.x",
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert_eq!(err.field, "email", "{bad}");
            assert!(!err.message.is_empty());
        }
    }

    #[test]
    fn email_domain_with_markup_is_refused() {
        assert!(Email::parse("ada@<b>.com").is_err());
        assert!(Email::parse("ada@exa mple.com").is_err());
    }

    #[test]
    fn email_longer_than_smtp_allows_is_refused() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn display_name_keeps_unicode_and_refuses_control_characters() {
        assert_eq!(
            DisplayName::parse(" Zoë Ångström ").unwrap().as_str(),
            "Zoë Ångström"
        );
        assert!(DisplayName::parse("bad\u{0}name").is_err());
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
    }

    #[test]
    fn project_name_rules() {
        assert_eq!(
            ProjectName::parse(" web-frontend ").unwrap().as_str(),
            "web-frontend"
        );
        assert_eq!(
            ProjectName::parse("Payments API v2").unwrap().unique_key(),
            "payments api v2"
        );
        for bad in [
            "",
            "-lead",
            "../etc",
            "a/b",
            "<b>x</b>",
            "drop'; --",
            &"p".repeat(65),
        ] {
            assert!(ProjectName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_policy_counts_characters_and_bounds_bytes() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("            ").is_err());
        assert!(Password::parse("correct horse battery").is_ok());
        assert!(Password::parse(&"x".repeat(1025)).is_err());
    }

    #[test]
    fn password_debug_never_shows_the_value() {
        let p = Password::parse("correct horse battery").unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
    }

    #[test]
    fn deserialising_goes_through_parse() {
        let bad: Result<Email, _> = serde_json::from_str("\"nope\"");
        assert!(bad.is_err());
        let good: ProjectName = serde_json::from_str("\" web \"").unwrap();
        assert_eq!(good.as_str(), "web");
    }

    #[test]
    fn local_path_takes_paths_on_this_site_only() {
        use super::LocalPath;
        for ok in [
            "/",
            "/projects/3",
            "/executions?status=FAILED&q=a%20b",
            "/a//b",
        ] {
            assert_eq!(
                LocalPath::parse(ok).map(|p| p.0),
                Some(ok.to_owned()),
                "{ok}"
            );
        }
        for bad in [
            "//evil.example/x",
            "https://evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/\t/evil.example",
            "/%09/evil.example",
            "/%2f/evil.example",
            "/%2F%2Fevil.example",
            "/%5c/evil.example",
            "/%5C%5Cevil.example",
            "/ /evil.example",
            "/\n/evil.example",
            "/%0a/evil.example",
            "/%zz",
            "",
            "evil.example",
            "javascript:alert(1)",
        ] {
            assert_eq!(LocalPath::parse(bad), None, "{bad:?}");
        }
    }
}
