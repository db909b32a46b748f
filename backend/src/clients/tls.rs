//! Certificates of https endpoints, as Aria's "Accept certificate": fetch the chain a server
//! presents and describe it (subject, issuer, validity, SHA-256 fingerprint), then talk to that
//! server only while it presents the accepted certificate (pinning by fingerprint). Pinning
//! replaces CA and host-name checks: the person accepted this exact certificate. The TLS
//! signatures are still verified, so the server must hold the certificate's private key.

use chrono::{DateTime, Utc};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the Accept certificate dialog shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// The certificate's subject.
    pub subject: String,
    /// Who issued it.
    pub issuer: String,
    /// Valid from.
    pub not_before: DateTime<Utc>,
    /// Valid until.
    pub not_after: DateTime<Utc>,
    /// SHA-256 of the DER certificate, as `AB:CD:…`: what Wharf pins.
    pub sha256: String,
    /// How many certificates the server presented (itself and intermediates).
    pub chain_len: usize,
}

/// Why a certificate could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsProblem {
    /// Nothing answers at the address. Worded as [`TlsProblem::NotTls`] is: which ports of a
    /// host are open is not for a person who names that host to learn.
    #[error("no TLS server answered at {0}")]
    Unreachable(String),
    /// Something answered but did not complete a TLS handshake (the detail is logged only).
    #[error("no TLS server answered at {0}")]
    NotTls(String, String),
    /// The outbound policy refuses the address.
    #[error("{0}")]
    Refused(String),
    /// The certificate could not be read.
    #[error("the certificate could not be read: {0}")]
    Unreadable(String),
}

/// The fingerprint Wharf pins: SHA-256 of the DER bytes, upper-case hex pairs joined by `:`.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The error a pinned connection fails with when the certificate changed. Its text is what
/// reaches the person: review and accept again.
#[derive(Debug)]
struct ChangedCertificate;

impl std::fmt::Display for ChangedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(CHANGED)
    }
}

impl std::error::Error for ChangedCertificate {}

/// The words for a changed certificate.
pub const CHANGED: &str =
    "the server's certificate changed since it was accepted; review the new certificate and accept it again";

#[derive(Debug)]
struct Verifier {
    provider: Arc<CryptoProvider>,
    /// `Some(pin)`: accept only this fingerprint. `None`: accept anything and record it.
    pin: Option<String>,
    seen: Mutex<Vec<CertificateDer<'static>>>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match &self.pin {
            Some(pin) if !fingerprint(end_entity.as_ref()).eq_ignore_ascii_case(pin) => {
                Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                    rustls::OtherError(Arc::new(ChangedCertificate)),
                )))
            }
            _ => {
                if let Ok(mut seen) = self.seen.lock() {
                    *seen = std::iter::once(end_entity)
                        .chain(intermediates)
                        .map(|c| c.clone().into_owned())
                        .collect();
                }
                Ok(ServerCertVerified::assertion())
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn config(verifier: Arc<Verifier>) -> Result<rustls::ClientConfig, rustls::Error> {
    Ok(
        rustls::ClientConfig::builder_with_provider(verifier.provider.clone())
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth(),
    )
}

/// Connects to `host:port`, completes a TLS handshake and describes the certificate presented.
pub async fn fetch_certificate(
    policy: &crate::clients::outbound::OutboundPolicy,
    host: &str,
    port: u16,
) -> Result<CertificateInfo, TlsProblem> {
    let address = format!("{host}:{port}");
    let allowed = policy
        .resolve(host, port)
        .await
        .map_err(TlsProblem::Refused)?;
    let verifier = Arc::new(Verifier {
        provider: provider(),
        pin: None,
        seen: Mutex::new(Vec::new()),
    });
    let cfg =
        config(verifier.clone()).map_err(|e| TlsProblem::NotTls(address.clone(), e.to_string()))?;
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| TlsProblem::Unreachable(format!("{address} ({e})")))?;
    let tcp = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect(allowed.as_slice()),
    )
    .await
    .map_err(|_| TlsProblem::Unreachable(address.clone()))?
    .map_err(|_| TlsProblem::Unreachable(address.clone()))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    tokio::time::timeout(Duration::from_secs(5), connector.connect(name, tcp))
        .await
        .map_err(|_| {
            TlsProblem::NotTls(address.clone(), "no handshake within 5 seconds".to_owned())
        })?
        .map_err(|e| TlsProblem::NotTls(address.clone(), e.to_string()))?;
    let chain = verifier.seen.lock().map(|c| c.clone()).unwrap_or_default();
    let leaf = chain
        .first()
        .ok_or_else(|| TlsProblem::Unreadable("the server presented no certificate".to_owned()))?;
    describe(leaf.as_ref(), chain.len())
}

fn describe(der: &[u8], chain_len: usize) -> Result<CertificateInfo, TlsProblem> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| TlsProblem::Unreadable(e.to_string()))?;
    let time = |t: x509_parser::time::ASN1Time| {
        DateTime::<Utc>::from_timestamp(t.timestamp(), 0)
            .ok_or_else(|| TlsProblem::Unreadable("validity out of range".to_owned()))
    };
    Ok(CertificateInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: time(cert.validity().not_before)?,
        not_after: time(cert.validity().not_after)?,
        sha256: fingerprint(der),
        chain_len,
    })
}

/// A certificate verifier that accepts only the certificate whose fingerprint is `pin`, for
/// clients built on rustls directly (the Kubernetes client).
pub fn pinned_verifier(pin: &str) -> Arc<dyn ServerCertVerifier> {
    Arc::new(Verifier {
        provider: provider(),
        pin: Some(pin.to_owned()),
        seen: Mutex::new(Vec::new()),
    })
}

/// An HTTP client that talks only to a server presenting the certificate with `pin` as its
/// fingerprint; any other certificate fails with [`CHANGED`] in the error.
pub fn pinned_client(
    policy: &crate::clients::outbound::OutboundPolicy,
    pin: &str,
) -> Result<reqwest::Client, reqwest::Error> {
    let verifier = Arc::new(Verifier {
        provider: provider(),
        pin: Some(pin.to_owned()),
        seen: Mutex::new(Vec::new()),
    });
    let builder = policy.builder().timeout(Duration::from_secs(10));
    match config(verifier) {
        Ok(cfg) => builder.use_preconfigured_tls(cfg).build(),
        // cannot happen with ring's provider; if it did, the default client verifies against
        // the usual CAs, so a self-signed server is refused: this fails closed
        Err(_) => builder.build(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_sha256_in_colon_separated_hex() {
        let f = fingerprint(b"abc");
        assert_eq!(f.len(), 32 * 3 - 1);
        assert!(f.starts_with("BA:78:16:BF"));
    }
}
