//! Kubernetes clusters through kube-rs: a client for an endpoint's settings (bearer token, user
//! name and password, or client certificate; CA data or an accepted certificate's pin) and the
//! Validate check: `/version`, then a one-item list of Deployments in the default namespace.

use crate::clients::tls;
use crate::platform::secrets::SecretValue;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use domain::endpoints::KubernetesAuth;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, ListParams};
use kube::client::ConfigExt;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use secrecy::SecretString;
use std::time::Duration;
use tower::{BoxError, ServiceBuilder};

/// How long a Validate may take in all.
const CHECK_TIMEOUT: Duration = Duration::from_secs(20);

/// Everything needed to reach a cluster.
#[derive(Debug, Clone)]
pub struct ClusterAccess {
    /// The API server's URL.
    pub url: String,
    /// How Wharf authenticates.
    pub auth: KubernetesAuth,
    /// The user name (basic authentication).
    pub username: Option<String>,
    /// The token, password or client key (PEM).
    pub secret: Option<SecretValue>,
    /// CA certificates (PEM) that sign the API server's certificate.
    pub ca_data: Option<String>,
    /// The client certificate (PEM).
    pub client_certificate: Option<String>,
    /// The default namespace.
    pub namespace: String,
    /// The accepted certificate's fingerprint: when set, only that certificate is trusted.
    pub pin: Option<String>,
}

/// Why a cluster could not be reached or used, in words for the person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KubeProblem {
    /// Nothing answers, or what answers is not a Kubernetes API server.
    #[error("No Kubernetes API at this URL: {0}")]
    NoCluster(String),
    /// The API server refused the credentials (401).
    #[error("The cluster did not accept these credentials (401 Unauthorized).")]
    Unauthorized,
    /// The identity is known but lacks a permission (403).
    #[error("{0}")]
    Forbidden(String),
    /// The TLS certificate was not accepted.
    #[error("Certificate not accepted: {0}")]
    Certificate(String),
    /// The settings cannot make a client (bad PEM, say).
    #[error("{0}")]
    Settings(String),
    /// Anything else the API server answered.
    #[error("{0}")]
    Unexpected(String),
}

/// Whether `pem` holds at least one certificate; the error says what is wrong.
pub fn check_certificates_pem(pem: &str) -> Result<usize, String> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("This is not PEM: {e}."))?;
    if certs.is_empty() {
        return Err("Paste one or more certificates, each between -----BEGIN CERTIFICATE----- and -----END CERTIFICATE-----.".to_owned());
    }
    for cert in &certs {
        x509_parser::parse_x509_certificate(cert.as_ref())
            .map_err(|e| format!("A certificate could not be read: {e}."))?;
    }
    Ok(certs.len())
}

/// Whether `pem` holds a private key (PKCS#8, PKCS#1 or SEC1).
pub fn check_private_key_pem(pem: &str) -> Result<(), String> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes())
        .map(|_| ())
        .map_err(|_| {
            "Paste the client key in PEM, between -----BEGIN … PRIVATE KEY----- lines.".to_owned()
        })
}

fn problem_from_chain(e: &(dyn std::error::Error + 'static), url: &str) -> KubeProblem {
    let chain = crate::error::error_chain(e);
    let lower = chain.to_lowercase();
    if let Some(refusal) = crate::error::policy_refusal(&chain) {
        KubeProblem::NoCluster(refusal)
    } else if lower.contains("changed since it was accepted")
        || lower.contains("changedcertificate")
    {
        KubeProblem::Certificate(
            "the server's certificate changed since it was accepted. Review the new certificate and accept it again."
                .to_owned(),
        )
    } else if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
        KubeProblem::Certificate(
            "it is not signed by the CA data given, nor by an authority Wharf trusts. Add the cluster's CA data or accept its certificate."
                .to_owned(),
        )
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        KubeProblem::Certificate(chain.trim().to_owned())
    } else if lower.contains("timed out") || lower.contains("elapsed") {
        KubeProblem::NoCluster(format!("{url} did not answer in time."))
    } else {
        KubeProblem::NoCluster(format!("nothing answers at {url}."))
    }
}

/// A cluster's `Status` message as Wharf repeats it: a real API server's short sentence, never
/// the body of whatever else answered (an HTML error page, a foreign service's text).
fn status_words(message: &str, reason: &str) -> String {
    let foreign = message.chars().count() > 300
        || message.contains('<')
        || message.chars().any(|c| c.is_control())
        || reason.to_lowercase().contains("failed to parse");
    if foreign {
        "the answer was not a Kubernetes Status".to_owned()
    } else {
        message.to_owned()
    }
}

pub(crate) fn problem(e: kube::Error, url: &str, doing: &str) -> KubeProblem {
    let e = match e {
        kube::Error::Api(mut status) => {
            status.message = status_words(&status.message, &status.reason);
            kube::Error::Api(status)
        }
        other => other,
    };
    match e {
        kube::Error::Api(status) if status.code == 401 => KubeProblem::Unauthorized,
        kube::Error::Api(status) if status.code == 403 => KubeProblem::Forbidden(format!(
            "Authenticated, but not allowed to {doing}: {}",
            status.message
        )),
        kube::Error::Api(status) if status.code == 404 => KubeProblem::NoCluster(format!(
            "{url} answered 404 to {doing}; is this a Kubernetes API server?"
        )),
        kube::Error::Api(status) => KubeProblem::Unexpected(format!(
            "The API server answered {} to {doing}: {}",
            status.code, status.message
        )),
        kube::Error::SerdeError(_) => KubeProblem::NoCluster(format!(
            "{url} did not answer like a Kubernetes API server."
        )),
        other => problem_from_chain(&other, url),
    }
}

/// A kube-rs client for `access`. Nothing is sent until the client is used.
pub fn client(
    policy: &crate::clients::outbound::OutboundPolicy,
    access: &ClusterAccess,
) -> Result<kube::Client, KubeProblem> {
    let uri: http::Uri = access
        .url
        .parse()
        .map_err(|e| KubeProblem::Settings(format!("The URL cannot be used: {e}.")))?;
    if let Some(ip) = uri
        .host()
        .and_then(|h| h.trim_start_matches('[').trim_end_matches(']').parse().ok())
    {
        policy.decide(ip).map_err(KubeProblem::Settings)?;
    }
    let mut config = kube::Config::new(uri);
    config.default_namespace = access.namespace.clone();
    config.connect_timeout = Some(Duration::from_secs(5));
    config.read_timeout = Some(Duration::from_secs(15));
    if let Some(ca) = &access.ca_data {
        let roots = CertificateDer::pem_slice_iter(ca.as_bytes())
            .map(|c| c.map(|c| c.as_ref().to_vec()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| KubeProblem::Settings(format!("The CA data is not PEM: {e}.")))?;
        config.root_cert = Some(roots);
    }
    let secret = || {
        access
            .secret
            .as_ref()
            .map(|s| SecretString::from(s.expose().to_owned()))
    };
    match access.auth {
        KubernetesAuth::BearerToken => config.auth_info.token = secret(),
        KubernetesAuth::Basic => {
            config.auth_info.username = access.username.clone();
            config.auth_info.password = secret();
        }
        KubernetesAuth::ClientCertificate => {
            config.auth_info.client_certificate_data = access
                .client_certificate
                .as_ref()
                .map(|c| STANDARD.encode(c));
            config.auth_info.client_key_data = access
                .secret
                .as_ref()
                .map(|k| SecretString::from(STANDARD.encode(k.expose())));
        }
    }
    let mut tls_config = config
        .rustls_client_config()
        .map_err(|e| KubeProblem::Settings(format!("The TLS settings cannot be used: {e}.")))?;
    if let Some(pin) = &access.pin {
        tls_config
            .dangerous()
            .set_certificate_verifier(tls::pinned_verifier(pin));
    }
    let mut http = HttpConnector::new_with_resolver(policy.hyper_resolver());
    http.enforce_http(false);
    http.set_connect_timeout(config.connect_timeout);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls_config)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let auth = config
        .auth_layer()
        .map_err(|e| KubeProblem::Settings(format!("The credentials cannot be used: {e}.")))?;
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(auth)
        .map_err(BoxError::from)
        .service(hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(https));
    Ok(kube::Client::new(service, config.default_namespace))
}

/// Validate: the server's version, then whether the identity may list Deployments in the
/// default namespace. Returns what was found, in words.
pub async fn check(
    policy: &crate::clients::outbound::OutboundPolicy,
    access: &ClusterAccess,
) -> Result<String, KubeProblem> {
    let url = access.url.clone();
    let run = async {
        let client = client(policy, access)?;
        let version = client
            .apiserver_version()
            .await
            .map_err(|e| problem(e, &url, "GET /version"))?;
        let deployments: Api<Deployment> = Api::namespaced(client, &access.namespace);
        let listed = deployments
            .list(&ListParams::default().limit(1))
            .await
            .map_err(|e| {
                problem(
                    e,
                    &url,
                    &format!("list Deployments in namespace \"{}\"", access.namespace),
                )
            })?;
        let _ = listed;
        Ok(format!(
            "Connected to Kubernetes {}; can list Deployments in namespace \"{}\".",
            version.git_version, access.namespace
        ))
    };
    tokio::time::timeout(CHECK_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| {
            Err(KubeProblem::NoCluster(format!(
                "{url} did not answer within {} seconds.",
                CHECK_TIMEOUT.as_secs()
            )))
        })
}
