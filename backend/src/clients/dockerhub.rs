//! Docker Hub's API (hub.docker.com), the part Wharf needs to sign in: `POST /v2/users/login`
//! with a password, or `POST /v2/auth/token` with a personal or organisation access token
//! (`dckr_pat_…`, `dckr_oat_…`). The base URL is configurable so tests use a stand-in.

use crate::clients::registry::{RegistryCredentials, RegistryProblem};
use reqwest::{Client, StatusCode};
use serde::Deserialize;

/// Docker Hub's API base URL.
pub const DEFAULT_BASE_URL: &str = "https://hub.docker.com";

/// A signed-in Docker Hub session.
#[derive(Clone, PartialEq, Eq)]
pub struct HubSession {
    /// Who signed in.
    pub username: String,
    /// The JWT for `Authorization: Bearer` on later calls.
    pub token: String,
}

impl std::fmt::Debug for HubSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubSession")
            .field("username", &self.username)
            .field("token", &"***")
            .finish()
    }
}

/// Whether the secret is an access token rather than a password.
pub fn is_access_token(secret: &str) -> bool {
    secret.starts_with("dckr_pat_") || secret.starts_with("dckr_oat_")
}

#[derive(Deserialize)]
struct TokenAnswer {
    token: Option<String>,
    access_token: Option<String>,
}

/// Signs in to Docker Hub's API at `base_url` with the credentials.
pub async fn login(
    client: &Client,
    base_url: &str,
    creds: &RegistryCredentials,
) -> Result<HubSession, RegistryProblem> {
    let base = base_url.trim_end_matches('/');
    let secret = creds.secret.expose();
    let (url, body) = if is_access_token(secret) {
        (
            format!("{base}/v2/auth/token"),
            serde_json::json!({ "identifier": creds.username, "secret": secret }),
        )
    } else {
        (
            format!("{base}/v2/users/login"),
            serde_json::json!({ "username": creds.username, "password": secret }),
        )
    };
    let res = client.post(&url).json(&body).send().await.map_err(|e| {
        if e.is_timeout() {
            RegistryProblem::NoRegistry(format!(
                "Docker Hub at {base} did not answer within 10 seconds."
            ))
        } else {
            RegistryProblem::NoRegistry(format!("Docker Hub's API does not answer at {base}."))
        }
    })?;
    match res.status() {
        s if s.is_success() => {}
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            return Err(RegistryProblem::WrongCredentials)
        }
        StatusCode::TOO_MANY_REQUESTS => {
            return Err(RegistryProblem::Unexpected(
                "Docker Hub refuses more sign-ins for now (too many requests). Try again later."
                    .to_owned(),
            ))
        }
        s => {
            return Err(RegistryProblem::Unexpected(format!(
                "Docker Hub answered {s} to the sign-in."
            )))
        }
    }
    let answer: TokenAnswer = res.json().await.map_err(|_| {
        RegistryProblem::Unexpected("Docker Hub's sign-in answer had no token.".to_owned())
    })?;
    let token = answer.token.or(answer.access_token).ok_or_else(|| {
        RegistryProblem::Unexpected("Docker Hub's sign-in answer had no token.".to_owned())
    })?;
    Ok(HubSession {
        username: creds.username.clone(),
        token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_tokens_are_told_from_passwords_by_their_prefix() {
        assert!(is_access_token("dckr_pat_abc"));
        assert!(is_access_token("dckr_oat_abc"));
        assert!(!is_access_token("hunter2"));
        assert!(!is_access_token("DCKR_PAT_abc"));
    }

    #[test]
    fn debug_output_hides_the_session_token() {
        let s = HubSession {
            username: "svendowideit".into(),
            token: "jwt".into(),
        };
        assert!(!format!("{s:?}").contains("jwt"));
    }
}
