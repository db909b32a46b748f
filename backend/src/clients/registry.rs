//! Talking to a Docker registry's v2 API: is there a registry at this URL, and do these
//! credentials open it? Follows the `WWW-Authenticate` challenge of `GET /v2/`, basic or bearer
//! (a token service, as Docker Hub and Harbor use), and says the outcome in words.

use crate::platform::secrets::SecretValue;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::{Client, StatusCode};
use std::collections::BTreeMap;
use std::time::Duration;

/// A user name and password or access token for a registry.
#[derive(Debug, Clone)]
pub struct RegistryCredentials {
    /// The user name.
    pub username: String,
    /// The password or access token.
    pub secret: SecretValue,
}

/// What a successful check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryAccess {
    /// The registry asks for no sign-in.
    Anonymous,
    /// The credentials were accepted.
    Authenticated {
        /// Who they sign in as.
        username: String,
    },
}

impl RegistryAccess {
    /// The outcome in words.
    pub fn describe(&self) -> String {
        match self {
            RegistryAccess::Anonymous => "Reachable; this registry needs no sign-in.".to_owned(),
            RegistryAccess::Authenticated { username } => format!("Authenticated as {username}."),
        }
    }
}

/// Why a check failed, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryProblem {
    /// Nothing answers, or what answers is not a registry.
    #[error("No registry at this URL: {0}")]
    NoRegistry(String),
    /// The registry refused the credentials.
    #[error("Wrong user name or password.")]
    WrongCredentials,
    /// The registry wants credentials and none were given.
    #[error("This registry needs a user name and password.")]
    CredentialsNeeded,
    /// The TLS certificate was not accepted.
    #[error("Certificate not accepted: {0}")]
    Certificate(String),
    /// Anything else the registry answered.
    #[error("{0}")]
    Unexpected(String),
}

/// An authentication challenge from `WWW-Authenticate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `basic` or `bearer`, lower-cased.
    pub scheme: String,
    /// Its parameters (realm, service, scope …).
    pub params: BTreeMap<String, String>,
}

/// Parses `Bearer realm="https://auth.example/token",service="registry",scope="…"`.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.is_empty() {
        return None;
    }
    let mut params = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',')).collect();
        if key.trim().is_empty() {
            break;
        }
        if chars.next() != Some('=') {
            return None;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('"') => break,
                    Some(c) => value.push(c),
                    None => return None,
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ','))
                .collect::<String>()
                .trim()
                .to_owned();
        }
        params.insert(key.trim().to_lowercase(), value);
    }
    Some(Challenge {
        scheme: scheme.to_lowercase(),
        params,
    })
}

/// The HTTP client for registry checks under the outbound policy: 10 s timeouts, no
/// cookies, no redirects, Wharf's user agent.
pub fn client(policy: &crate::clients::outbound::OutboundPolicy) -> reqwest::Result<Client> {
    policy.builder().timeout(Duration::from_secs(10)).build()
}

fn describe_send_error(e: &reqwest::Error, url: &str) -> RegistryProblem {
    let chain = crate::error::error_chain(e);
    let lower = chain.to_lowercase();
    if let Some(refusal) = crate::error::policy_refusal(&chain) {
        return RegistryProblem::NoRegistry(refusal);
    }
    // rustls reports the pin's error by its Debug name (ChangedCertificate), not its Display
    if lower.contains("changed since it was accepted") || lower.contains("changedcertificate") {
        RegistryProblem::Certificate(
            "the server's certificate changed since it was accepted. Review the new certificate and accept it again."
                .to_owned(),
        )
    } else if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
        RegistryProblem::Certificate(
            "it is not signed by an authority Wharf trusts. Accept the certificate on the endpoint to trust it."
                .to_owned(),
        )
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("ssl") {
        RegistryProblem::Certificate(chain.trim().to_owned())
    } else if e.is_timeout() {
        RegistryProblem::NoRegistry(format!("{url} did not answer within 10 seconds."))
    } else {
        RegistryProblem::NoRegistry(format!("nothing answers at {url}."))
    }
}

fn basic(creds: &RegistryCredentials) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", creds.username, creds.secret.expose()))
    )
}

/// Checks that `base_url` is a v2 registry and that `creds` (if any) open it.
pub async fn check_v2(
    client: &Client,
    base_url: &str,
    creds: Option<&RegistryCredentials>,
) -> Result<RegistryAccess, RegistryProblem> {
    let url = format!("{}/v2/", base_url.trim_end_matches('/'));
    let res = client
        .get(&url)
        .send()
        .await
        .map_err(|e| describe_send_error(&e, base_url))?;
    match res.status() {
        s if s.is_success() => return Ok(RegistryAccess::Anonymous),
        StatusCode::UNAUTHORIZED => {}
        s => {
            return Err(RegistryProblem::NoRegistry(format!(
                "GET /v2/ answered {s}; a registry answers 200 or 401."
            )))
        }
    }
    let challenge = res
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_challenge)
        .ok_or_else(|| {
            RegistryProblem::Unexpected(
                "The registry asked for authentication without saying how (no WWW-Authenticate)."
                    .to_owned(),
            )
        })?;
    let creds = creds.ok_or(RegistryProblem::CredentialsNeeded)?;
    let authorization = match challenge.scheme.as_str() {
        "basic" => basic(creds),
        "bearer" => format!("Bearer {}", bearer_token(client, &challenge, creds).await?),
        other => {
            return Err(RegistryProblem::Unexpected(format!(
                "The registry asks for {other} authentication, which Wharf does not speak."
            )))
        }
    };
    let res = client
        .get(&url)
        .header(reqwest::header::AUTHORIZATION, authorization)
        .send()
        .await
        .map_err(|e| describe_send_error(&e, base_url))?;
    match res.status() {
        s if s.is_success() => Ok(RegistryAccess::Authenticated {
            username: creds.username.clone(),
        }),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(RegistryProblem::WrongCredentials),
        s => Err(RegistryProblem::Unexpected(format!(
            "GET /v2/ with credentials answered {s}."
        ))),
    }
}

/// Asks the challenge's token service for a token with the credentials (Docker's token
/// authentication: `GET realm?service=…&scope=…` with basic auth).
async fn bearer_token(
    client: &Client,
    challenge: &Challenge,
    creds: &RegistryCredentials,
) -> Result<String, RegistryProblem> {
    let realm = challenge.params.get("realm").ok_or_else(|| {
        RegistryProblem::Unexpected(
            "The registry's bearer challenge names no token service.".to_owned(),
        )
    })?;
    let query: Vec<(&str, &str)> = ["service", "scope"]
        .into_iter()
        .filter_map(|k| challenge.params.get(k).map(|v| (k, v.as_str())))
        .collect();
    let res = client
        .get(realm)
        .query(&query)
        .header(reqwest::header::AUTHORIZATION, basic(creds))
        .send()
        .await
        .map_err(|e| describe_send_error(&e, realm))?;
    match res.status() {
        s if s.is_success() => {}
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            return Err(RegistryProblem::WrongCredentials)
        }
        s => {
            return Err(RegistryProblem::Unexpected(format!(
                "The token service at {realm} answered {s}."
            )))
        }
    }
    #[derive(serde::Deserialize)]
    struct TokenAnswer {
        token: Option<String>,
        access_token: Option<String>,
    }
    let answer: TokenAnswer = res.json().await.map_err(|_| {
        RegistryProblem::Unexpected(format!(
            "The token service at {realm} did not answer with a token."
        ))
    })?;
    answer.token.or(answer.access_token).ok_or_else(|| {
        RegistryProblem::Unexpected(format!(
            "The token service at {realm} did not answer with a token."
        ))
    })
}

/// The manifest media types Wharf asks for: Docker and OCI images and image lists.
const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// The `Authorization` for `scope` (`repository:NAME:pull,push`), following `GET /v2/`'s
/// challenge; `None` when the registry needs none.
async fn authorization(
    client: &Client,
    base_url: &str,
    creds: Option<&RegistryCredentials>,
    scope: &str,
) -> Result<Option<String>, RegistryProblem> {
    let url = format!("{}/v2/", base_url.trim_end_matches('/'));
    let res = client
        .get(&url)
        .send()
        .await
        .map_err(|e| describe_send_error(&e, base_url))?;
    if res.status().is_success() {
        return Ok(None);
    }
    let mut challenge = res
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_challenge)
        .ok_or_else(|| {
            RegistryProblem::NoRegistry(format!(
                "GET /v2/ answered {} without an authentication challenge.",
                res.status()
            ))
        })?;
    let creds = creds.ok_or(RegistryProblem::CredentialsNeeded)?;
    match challenge.scheme.as_str() {
        "basic" => Ok(Some(basic(creds))),
        "bearer" => {
            challenge
                .params
                .insert("scope".to_owned(), scope.to_owned());
            Ok(Some(format!(
                "Bearer {}",
                bearer_token(client, &challenge, creds).await?
            )))
        }
        other => Err(RegistryProblem::Unexpected(format!(
            "The registry asks for {other} authentication, which Wharf does not speak."
        ))),
    }
}

/// What a retag did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retagged {
    /// The manifest's digest (`sha256:…`), the same under both references.
    pub digest: String,
    /// The manifest's media type.
    pub media_type: String,
}

/// Gives `repository:reference` (a tag or a digest) the tag `tag` through the v2 API: the
/// manifest is fetched as stored and put, byte for byte, under the new tag, so the digest does
/// not change.
pub async fn retag(
    client: &Client,
    base_url: &str,
    creds: Option<&RegistryCredentials>,
    repository: &str,
    reference: &str,
    tag: &str,
) -> Result<Retagged, RegistryProblem> {
    let base = base_url.trim_end_matches('/');
    // 1. a token (or basic credentials) for pulling and pushing this repository
    let scope = format!("repository:{repository}:pull,push");
    let auth = authorization(client, base, creds, &scope).await?;
    let with_auth = |r: reqwest::RequestBuilder| match &auth {
        Some(a) => r.header(reqwest::header::AUTHORIZATION, a),
        None => r,
    };
    // 2. the manifest by reference, its digest checked when the reference is one
    let get = client
        .get(format!("{base}/v2/{repository}/manifests/{reference}"))
        .header(reqwest::header::ACCEPT, MANIFEST_TYPES);
    let (body, media_type) =
        fetch_manifest(with_auth(get), base_url, repository, reference).await?;
    let digest = {
        use sha2::{Digest, Sha256};
        format!("sha256:{}", hex::encode(Sha256::digest(&body)))
    };
    if reference.starts_with("sha256:") && reference != digest {
        return Err(RegistryProblem::Unexpected(format!(
            "The registry sent a manifest whose digest is {digest}, not {reference}."
        )));
    }
    // 3. the same bytes put under the new tag
    let put = client
        .put(format!("{base}/v2/{repository}/manifests/{tag}"))
        .header(reqwest::header::CONTENT_TYPE, &media_type)
        .body(body);
    let res = with_auth(put)
        .send()
        .await
        .map_err(|e| describe_send_error(&e, base_url))?;
    if !res.status().is_success() {
        let status = res.status();
        let detail = res.text().await.unwrap_or_default();
        let detail: String = detail.chars().take(300).collect();
        return Err(RegistryProblem::Unexpected(format!(
            "PUT {repository}:{tag} answered {status}: {}",
            detail.trim()
        )));
    }
    Ok(Retagged { digest, media_type })
}

/// The most of a manifest Wharf reads: CNCF distribution refuses manifests over 4 MiB, so a
/// longer answer is not a manifest (and is not read further).
const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// Step 2 of [`retag`]: GETs the manifest and reads it (at most [`MAX_MANIFEST_BYTES`]) with
/// its media type; a missing image or refused credentials are said in words.
async fn fetch_manifest(
    get: reqwest::RequestBuilder,
    base_url: &str,
    repository: &str,
    reference: &str,
) -> Result<(Vec<u8>, String), RegistryProblem> {
    let mut res = get
        .send()
        .await
        .map_err(|e| describe_send_error(&e, base_url))?;
    match res.status() {
        s if s.is_success() => {}
        StatusCode::NOT_FOUND => {
            return Err(RegistryProblem::Unexpected(format!(
                "The registry has no image {repository}:{reference}."
            )))
        }
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            return Err(RegistryProblem::Unexpected(format!(
                "The registry refused to show {repository}:{reference} to these credentials ({}).",
                res.status()
            )))
        }
        s => {
            return Err(RegistryProblem::Unexpected(format!(
                "GET the manifest of {repository}:{reference} answered {s}."
            )))
        }
    }
    let media_type = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/vnd.docker.distribution.manifest.v2+json")
        .to_owned();
    let mut body = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| describe_send_error(&e, base_url))?
    {
        if body.len() + chunk.len() > MAX_MANIFEST_BYTES {
            return Err(RegistryProblem::Unexpected(format!(
                "The manifest of {repository}:{reference} is over {} MiB: not a manifest.",
                MAX_MANIFEST_BYTES / (1024 * 1024)
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, media_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_and_bearer_challenges_are_parsed() {
        let c = parse_challenge(r#"Basic realm="wharf-test""#).unwrap();
        assert_eq!(c.scheme, "basic");
        assert_eq!(c.params["realm"], "wharf-test");
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.docker.io/token");
        assert_eq!(c.params["service"], "registry.docker.io");
        assert_eq!(c.params["scope"], "repository:library/nginx:pull,push");
    }

    #[test]
    fn escapes_unquoted_values_and_odd_spacing_are_handled() {
        let c = parse_challenge(r#"bearer  realm = "a\"b" , service=reg ,"#).unwrap();
        assert_eq!(c.params["realm"], "a\"b");
        assert_eq!(c.params["service"], "reg");
    }

    #[test]
    fn broken_challenges_are_refused() {
        assert!(parse_challenge("").is_none());
        assert!(parse_challenge(r#"Bearer realm="never closed"#).is_none());
        assert!(parse_challenge("Bearer realm").is_none());
    }
}
