//! Endpoints: what Wharf connects to. This release has Docker Registry endpoints; Kubernetes
//! endpoints join them with the Kubernetes work.

use crate::names::{parse_label, NameError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An endpoint's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EndpointName(String);

impl EndpointName {
    /// The longest name accepted.
    pub const MAX_CHARS: usize = 64;

    /// Parses a name as typed.
    pub fn parse(input: &str) -> Result<Self, NameError> {
        parse_label(input, "endpoint name", Self::MAX_CHARS).map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EndpointName {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EndpointName> for String {
    fn from(value: EndpointName) -> Self {
        value.0
    }
}

/// Which kind of Docker registry an endpoint points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistryServerType {
    /// Docker Hub: validated by signing in to its API.
    DockerHub,
    /// A registry speaking the v2 API (CNCF distribution).
    DockerRegistry,
    /// Harbor (a v2 registry with a token service).
    Harbor,
}

impl RegistryServerType {
    /// Every server type.
    pub const ALL: [RegistryServerType; 3] = [
        RegistryServerType::DockerHub,
        RegistryServerType::DockerRegistry,
        RegistryServerType::Harbor,
    ];

    /// The stable string form.
    pub fn as_str(self) -> &'static str {
        match self {
            RegistryServerType::DockerHub => "docker_hub",
            RegistryServerType::DockerRegistry => "docker_registry",
            RegistryServerType::Harbor => "harbor",
        }
    }

    /// Parses the stable string form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The label people read.
    pub fn label(self) -> &'static str {
        match self {
            RegistryServerType::DockerHub => "Docker Hub",
            RegistryServerType::DockerRegistry => "Docker Registry (v2)",
            RegistryServerType::Harbor => "Harbor",
        }
    }
}

/// The last Validate of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    /// Whether it succeeded.
    pub ok: bool,
    /// What it found, in words ("Authenticated as alice.", "Wrong user name or password.").
    pub message: String,
    /// When it ran.
    pub at: DateTime<Utc>,
}

/// An endpoint as lists show it: credentials never included, only whether one is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointRow {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The registry's server type.
    pub server_type: RegistryServerType,
    /// The registry's URL.
    pub url: String,
    /// The user name, if any.
    pub username: Option<String>,
    /// Whether a password or token is stored.
    pub has_secret: bool,
    /// Whether only project administrators may use it.
    pub restricted: bool,
    /// The accepted certificate's SHA-256, for https endpoints.
    pub certificate_sha256: Option<String>,
    /// The last Validate, if any.
    pub last_validation: Option<Validation>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_names_follow_the_label_rule() {
        assert_eq!(
            EndpointName::parse(" hub.docker.com prod ")
                .unwrap()
                .as_str(),
            "hub.docker.com prod"
        );
        assert!(EndpointName::parse("../x").is_err());
        assert!(EndpointName::parse("").is_err());
        assert!(EndpointName::parse(&"e".repeat(65)).is_err());
    }

    #[test]
    fn server_types_round_trip() {
        for t in RegistryServerType::ALL {
            assert_eq!(RegistryServerType::parse(t.as_str()), Some(t));
        }
        assert_eq!(RegistryServerType::parse("quay"), None);
    }
}
