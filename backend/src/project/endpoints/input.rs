//! What an endpoint form or API call sends, parsed and checked: URLs, pinned certificates, PEM, authentication and its secret.

use super::*;
use crate::clients::kubernetes::{self};
use crate::platform::secrets::SecretValue;
use crate::{Error, Result};
use domain::endpoints::{
    parse_namespace, EndpointKind, EndpointName, KubernetesAuth, RegistryServerType,
};

/// What the New/Edit endpoint forms and the API send.
#[derive(Debug, Clone)]
pub struct EndpointInput {
    /// `docker_registry` or `kubernetes`; fixed once created.
    pub kind: String,
    /// The name.
    pub name: String,
    /// Docker Registry endpoints: `docker_hub`, `docker_registry` or `harbor`.
    pub server_type: String,
    /// The registry's URL (for Docker Hub, the registry's or Hub's address as the person knows it).
    pub url: String,
    /// The user name (empty: none).
    pub username: String,
    /// The password, token or client key; on an edit, `None` keeps the stored one.
    pub secret: Option<SecretValue>,
    /// Only administrators may use it.
    pub restricted: bool,
    /// The accepted certificate's SHA-256, for https URLs.
    pub certificate_sha256: Option<String>,
    /// Kubernetes endpoints: `bearer_token`, `basic` or `client_certificate`.
    pub auth_method: String,
    /// Kubernetes endpoints: the default namespace (empty: `default`).
    pub namespace: String,
    /// Kubernetes endpoints: CA certificates in PEM (empty: none).
    pub ca_data: String,
    /// Kubernetes endpoints: the client certificate in PEM (empty: none).
    pub client_certificate: String,
}

impl EndpointInput {
    /// An input for a Docker Registry endpoint, its Kubernetes fields empty.
    pub fn registry(
        name: impl Into<String>,
        server_type: RegistryServerType,
        url: impl Into<String>,
        username: impl Into<String>,
        secret: Option<SecretValue>,
    ) -> Self {
        Self {
            kind: EndpointKind::DockerRegistry.as_str().to_owned(),
            name: name.into(),
            server_type: server_type.as_str().to_owned(),
            url: url.into(),
            username: username.into(),
            secret,
            restricted: false,
            certificate_sha256: None,
            auth_method: String::new(),
            namespace: String::new(),
            ca_data: String::new(),
            client_certificate: String::new(),
        }
    }

    /// An input for a Kubernetes endpoint with bearer-token authentication.
    pub fn kubernetes_token(
        name: impl Into<String>,
        url: impl Into<String>,
        token: SecretValue,
        namespace: impl Into<String>,
    ) -> Self {
        Self {
            kind: EndpointKind::Kubernetes.as_str().to_owned(),
            server_type: String::new(),
            auth_method: KubernetesAuth::BearerToken.as_str().to_owned(),
            namespace: namespace.into(),
            ..Self::registry(
                name,
                RegistryServerType::DockerRegistry,
                url,
                "",
                Some(token),
            )
        }
    }
}

pub(super) fn parse_url(input: &str) -> Result<reqwest::Url> {
    let url = reqwest::Url::parse(input.trim())
        .map_err(|_| Error::invalid("url", "Enter a URL such as https://registry.example.com."))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::invalid(
            "url",
            "The URL starts with https:// (or http://) and names a host.",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            "url",
            "Put the user name and password in their own fields, not in the URL.",
        ));
    }
    Ok(url)
}

pub(super) fn parse_pin(pin: Option<String>) -> Result<Option<String>> {
    let Some(pin) = pin
        .map(|p| p.trim().to_uppercase())
        .filter(|p| !p.is_empty())
    else {
        return Ok(None);
    };
    let well_formed = pin.len() == 95
        && pin.split(':').count() == 32
        && pin
            .split(':')
            .all(|pair| pair.len() == 2 && pair.chars().all(|c| c.is_ascii_hexdigit()));
    if well_formed {
        Ok(Some(pin))
    } else {
        Err(Error::invalid(
            "certificate_sha256",
            "That is not a SHA-256 fingerprint (32 hex pairs joined by ':').",
        ))
    }
}

pub(super) struct Parsed {
    pub(super) name: EndpointName,
    pub(super) kind: EndpointKind,
    pub(super) server_type: String,
    pub(super) url: reqwest::Url,
    pub(super) username: Option<String>,
    pub(super) pin: Option<String>,
    pub(super) auth: Option<KubernetesAuth>,
    pub(super) namespace: Option<String>,
    pub(super) ca_data: Option<String>,
    pub(super) client_certificate: Option<String>,
}

pub(super) fn pem_field(input: &str, field: &'static str) -> Result<Option<String>> {
    let pem = input.trim();
    if pem.is_empty() {
        return Ok(None);
    }
    if pem.len() > MAX_PEM {
        return Err(Error::invalid(field, "At most 64 KiB of PEM."));
    }
    kubernetes::check_certificates_pem(pem).map_err(|m| Error::invalid(field, m))?;
    Ok(Some(format!("{pem}\n")))
}

pub(super) fn parse(input: &EndpointInput) -> Result<Parsed> {
    // 1. what every endpoint has
    let name = EndpointName::parse(&input.name)?;
    let kind = EndpointKind::parse(&input.kind)
        .ok_or_else(|| Error::invalid("kind", "Pick Docker Registry or Kubernetes."))?;
    let url = parse_url(&input.url)?;
    let username = parse_username(&input.username)?;
    let pin = parse_pin(input.certificate_sha256.clone())?;
    if pin.is_some() && url.scheme() != "https" {
        return Err(Error::invalid(
            "certificate_sha256",
            "Only https endpoints have a certificate to accept.",
        ));
    }
    let mut parsed = Parsed {
        name,
        kind,
        server_type: String::new(),
        url,
        username,
        pin,
        auth: None,
        namespace: None,
        ca_data: None,
        client_certificate: None,
    };
    // 2. what its kind adds
    match kind {
        EndpointKind::DockerRegistry => {
            let server_type = RegistryServerType::parse(&input.server_type).ok_or_else(|| {
                Error::invalid("server_type", "Pick Docker Hub, Docker Registry or Harbor.")
            })?;
            parsed.server_type = server_type.as_str().to_owned();
        }
        EndpointKind::Kubernetes => parse_kubernetes(input, &mut parsed)?,
    }
    Ok(parsed)
}

fn parse_username(input: &str) -> Result<Option<String>> {
    let username = Some(input.trim().to_owned()).filter(|u| !u.is_empty());
    if username
        .as_ref()
        .is_some_and(|u| u.chars().count() > 256 || u.chars().any(char::is_control))
    {
        return Err(Error::invalid(
            "username",
            "A user name has at most 256 characters and no control characters.",
        ));
    }
    Ok(username)
}

/// A Kubernetes endpoint's namespace, CA data and authentication method, with what the method
/// needs.
fn parse_kubernetes(input: &EndpointInput, parsed: &mut Parsed) -> Result<()> {
    let auth = KubernetesAuth::parse(&input.auth_method).ok_or_else(|| {
        Error::invalid(
            "auth_method",
            "Pick bearer token, user name and password, or client certificate.",
        )
    })?;
    parsed.server_type = KUBERNETES_SERVER.to_owned();
    parsed.namespace = Some(parse_namespace(&input.namespace)?);
    parsed.ca_data = pem_field(&input.ca_data, "ca_data")?;
    if parsed.ca_data.is_some() && parsed.url.scheme() != "https" {
        return Err(Error::invalid(
            "ca_data",
            "CA data is for https API servers; this URL is plain http.",
        ));
    }
    match auth {
        KubernetesAuth::Basic if parsed.username.is_none() => {
            return Err(Error::invalid(
                "username",
                "User name and password authentication needs a user name.",
            ))
        }
        KubernetesAuth::ClientCertificate => {
            parsed.client_certificate = pem_field(&input.client_certificate, "client_certificate")?;
            if parsed.client_certificate.is_none() {
                return Err(Error::invalid(
                    "client_certificate",
                    "Client certificate authentication needs the certificate (PEM).",
                ));
            }
            if let Some(key) = &input.secret {
                kubernetes::check_private_key_pem(key.expose())
                    .map_err(|m| Error::invalid("secret", m))?;
            }
        }
        _ => {}
    }
    if auth != KubernetesAuth::Basic {
        parsed.username = None;
    }
    parsed.auth = Some(auth);
    Ok(())
}

/// A Kubernetes endpoint must hold the secret its method needs: a token, a password or a key.
pub(super) fn require_secret(auth: Option<KubernetesAuth>, has_secret: bool) -> Result<()> {
    match auth {
        Some(auth) if !has_secret => Err(Error::invalid(
            "secret",
            format!(
                "{} authentication needs the {}.",
                auth.label(),
                auth.secret_label().to_lowercase()
            ),
        )),
        _ => Ok(()),
    }
}
