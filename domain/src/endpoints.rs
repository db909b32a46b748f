//! Endpoints: what Wharf connects to: Docker registries (where images live) and Kubernetes
//! clusters (where they run).

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

/// What an endpoint connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "db",
    derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum),
    sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")
)]
pub enum EndpointKind {
    /// A Docker registry: Docker Hub, a v2 registry or Harbor.
    DockerRegistry,
    /// A Kubernetes cluster's API server.
    Kubernetes,
}

impl EndpointKind {
    /// Every kind.
    pub const ALL: [EndpointKind; 2] = [EndpointKind::DockerRegistry, EndpointKind::Kubernetes];

    /// The stable string form.
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointKind::DockerRegistry => "docker_registry",
            EndpointKind::Kubernetes => "kubernetes",
        }
    }

    /// Parses the stable string form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The label people read.
    pub fn label(self) -> &'static str {
        match self {
            EndpointKind::DockerRegistry => "Docker Registry",
            EndpointKind::Kubernetes => "Kubernetes",
        }
    }
}

/// How Wharf proves who it is to a Kubernetes API server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "db",
    derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum),
    sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")
)]
pub enum KubernetesAuth {
    /// A bearer token (a service account's, say): the secret is the token.
    BearerToken,
    /// User name and password (HTTP basic): the secret is the password.
    Basic,
    /// A client certificate (public, PEM) and its key (the secret, PEM).
    ClientCertificate,
}

impl KubernetesAuth {
    /// Every method.
    pub const ALL: [KubernetesAuth; 3] = [
        KubernetesAuth::BearerToken,
        KubernetesAuth::Basic,
        KubernetesAuth::ClientCertificate,
    ];

    /// The stable string form.
    pub fn as_str(self) -> &'static str {
        match self {
            KubernetesAuth::BearerToken => "bearer_token",
            KubernetesAuth::Basic => "basic",
            KubernetesAuth::ClientCertificate => "client_certificate",
        }
    }

    /// Parses the stable string form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The label people read.
    pub fn label(self) -> &'static str {
        match self {
            KubernetesAuth::BearerToken => "Bearer token",
            KubernetesAuth::Basic => "User name and password",
            KubernetesAuth::ClientCertificate => "Client certificate and key",
        }
    }

    /// What the secret field holds for this method.
    pub fn secret_label(self) -> &'static str {
        match self {
            KubernetesAuth::BearerToken => "Token",
            KubernetesAuth::Basic => "Password",
            KubernetesAuth::ClientCertificate => "Client key (PEM)",
        }
    }
}

/// Parses a Kubernetes namespace name (an RFC 1123 label: lower-case letters, digits and `-`,
/// starting and ending with a letter or digit, at most 63 characters). Empty means `default`.
pub fn parse_namespace(input: &str) -> Result<String, NameError> {
    let ns = input.trim();
    if ns.is_empty() {
        return Ok("default".to_owned());
    }
    let ok = ns.len() <= 63
        && ns
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !ns.starts_with('-')
        && !ns.ends_with('-');
    if ok {
        Ok(ns.to_owned())
    } else {
        Err(NameError {
            field: "namespace",
            message: "A namespace has at most 63 lower-case letters, digits and '-', and starts and ends with a letter or digit.".to_owned(),
        })
    }
}

/// A Kubernetes endpoint's settings that are not secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KubernetesSettings {
    /// How Wharf authenticates.
    pub auth: KubernetesAuth,
    /// The namespace tasks use unless they name another.
    pub namespace: String,
    /// The CA certificates (PEM) that sign the API server's certificate, when given.
    pub ca_data: Option<String>,
    /// The client certificate (PEM), for client-certificate authentication.
    pub client_certificate: Option<String>,
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
    /// What it connects to.
    pub kind: EndpointKind,
    /// The registry's server type (Docker Registry endpoints).
    pub server_type: Option<RegistryServerType>,
    /// Cluster settings (Kubernetes endpoints).
    pub kubernetes: Option<KubernetesSettings>,
    /// The registry's or API server's URL.
    pub url: String,
    /// The user name, if any.
    pub username: Option<String>,
    /// Whether a password, token or key is stored.
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

/// What the New/Edit Endpoint form sends. An empty `secret` on an edit keeps the stored one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointForm {
    /// `docker_registry` or `kubernetes`.
    pub kind: String,
    /// The name.
    pub name: String,
    /// Docker Registry: `docker_hub`, `docker_registry` or `harbor`.
    pub server_type: String,
    /// The registry's or API server's URL.
    pub url: String,
    /// The user name.
    pub username: String,
    /// The password, token or client key (empty on an edit: keep the stored one).
    pub secret: String,
    /// Only administrators may use it.
    pub restricted: bool,
    /// The accepted certificate's fingerprint (none: keep the stored one if the URL is unchanged).
    pub certificate_sha256: Option<String>,
    /// Kubernetes: `bearer_token`, `basic` or `client_certificate`.
    pub auth_method: String,
    /// Kubernetes: the default namespace.
    pub namespace: String,
    /// Kubernetes: CA certificates (PEM).
    pub ca_data: String,
    /// Kubernetes: the client certificate (PEM).
    pub client_certificate: String,
}

/// A server's certificate, as the Accept certificate dialog shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateView {
    /// The certificate's subject.
    pub subject: String,
    /// Who issued it.
    pub issuer: String,
    /// Valid from.
    pub not_before: DateTime<Utc>,
    /// Valid until.
    pub not_after: DateTime<Utc>,
    /// Its SHA-256 fingerprint (`AB:CD:…`).
    pub sha256: String,
    /// How many certificates the server presented.
    pub chain_len: usize,
    /// Whether it had expired when fetched (by the server's clock; browsers' clocks differ).
    pub expired: bool,
}

/// One page of a project's endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointPage {
    /// The endpoints on this page, by name.
    pub rows: Vec<EndpointRow>,
    /// How many the project has in all.
    pub total: u64,
    /// This page (from 1).
    pub page: u64,
    /// Endpoints per page.
    pub page_size: u64,
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
    fn namespaces_follow_rfc_1123_labels() {
        assert_eq!(parse_namespace("").unwrap(), "default");
        assert_eq!(parse_namespace(" web-prod ").unwrap(), "web-prod");
        for bad in [
            "Web",
            "-web",
            "web-",
            "web_prod",
            "a/b",
            "../x",
            &"a".repeat(64),
        ] {
            assert!(parse_namespace(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kinds_and_auth_methods_round_trip() {
        for k in EndpointKind::ALL {
            assert_eq!(EndpointKind::parse(k.as_str()), Some(k));
        }
        for a in KubernetesAuth::ALL {
            assert_eq!(KubernetesAuth::parse(a.as_str()), Some(a));
        }
        assert_eq!(KubernetesAuth::parse("oidc"), None);
    }

    #[test]
    fn server_types_round_trip() {
        for t in RegistryServerType::ALL {
            assert_eq!(RegistryServerType::parse(t.as_str()), Some(t));
        }
        assert_eq!(RegistryServerType::parse("quay"), None);
    }
}
