//! What registries send when an image is pushed, read into one shape: Docker Hub's webhook
//! payload (as its documentation prints it: float timestamps, escapes strict JSON refuses),
//! CNCF distribution notifications (several events per envelope) and Harbor's `PUSH_ARTIFACT`.
//! Also the image and tag patterns of webhook cards. Pure: no I/O.

use crate::image_ref::{Digest, RefError, RegistryHost, RepositoryPath, Tag};
use regex_lite::Regex;
use serde_json::Value;

mod lenient;
pub use lenient::lenient_json;
use lenient::{lenient_read, Pick};

/// An image push, normalised.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PushEvent {
    /// The registry's id for the event (distribution), if any.
    pub event_id: Option<String>,
    /// Who pushed (Docker Hub's pusher, distribution's actor, Harbor's operator).
    pub owner: String,
    /// The registry host for non-Hub registries (`127.0.0.1:5000`), `None` for Docker Hub.
    pub host: Option<String>,
    /// The namespace (`svendowideit`, `library`, `acme`); empty when the name has none.
    pub namespace: String,
    /// The repository's full name (`svendowideit/testhook`).
    pub repository: String,
    /// The tag, when the push named one.
    pub tag: Option<String>,
    /// The manifest digest, when the registry sent one.
    pub digest: Option<String>,
    /// Where Docker Hub wants the result (callback), if anywhere.
    pub callback_url: Option<String>,
    /// When the registry says the push happened (Docker Hub's `pushed_at`, as sent).
    #[serde(default)]
    pub pushed_at: Option<String>,
    /// Why the event was refused (it starts nothing), when it was: its fields are then kept
    /// only shortened and with control characters escaped, for Activity to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
}

/// The most characters of a refused event's field that Activity keeps.
const REJECTED_FIELD_CHARS: usize = 120;

/// A free-text field (owner, event id): at most `max` characters, no control characters.
fn plain_text(what: &str, v: &str, max: usize) -> Result<(), RefError> {
    if v.chars().count() > max {
        return Err(RefError(format!(
            "the {what} is longer than {max} characters"
        )));
    }
    if v.chars().any(char::is_control) {
        return Err(RefError(format!("the {what} holds control characters")));
    }
    Ok(())
}

/// `v` as a refused event keeps it: shortened, control characters escaped.
fn defused(v: &str) -> String {
    let mut out: String = v
        .chars()
        .take(REJECTED_FIELD_CHARS)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_debug().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if v.chars().count() > REJECTED_FIELD_CHARS {
        out.push('…');
    }
    out
}

impl PushEvent {
    /// Every field parsed with the distribution reference grammar (and free text bounded):
    /// the event as it may be used, or the reason it may not.
    pub fn check(&self) -> Result<(), RefError> {
        if let Some(h) = &self.host {
            RegistryHost::parse(h)?;
        }
        RepositoryPath::parse(&self.repository)?;
        if !self.namespace.is_empty() {
            RepositoryPath::parse(&self.namespace)
                .map_err(|_| RefError("the repository's namespace is not a valid name".into()))?;
        }
        match (&self.tag, &self.digest) {
            (None, None) => return Err(RefError("the event names no tag".into())),
            (Some(t), _) => {
                Tag::parse(t)?;
            }
            (None, Some(_)) => {}
        }
        if let Some(d) = &self.digest {
            Digest::parse(d)?;
        }
        plain_text("pusher", &self.owner, 256)?;
        if let Some(id) = &self.event_id {
            plain_text("event id", id, 256)?;
        }
        if let Some(at) = &self.pushed_at {
            plain_text("push time", at, 64)?;
        }
        if let Some(u) = &self.callback_url {
            plain_text("callback URL", u, 2048)?;
        }
        Ok(())
    }

    /// The event checked: unchanged when valid, else marked rejected with its fields defused.
    pub fn checked(self) -> Self {
        match self.check() {
            Ok(()) => self,
            Err(why) => {
                let opt = |v: Option<String>| v.map(|v| defused(&v));
                PushEvent {
                    event_id: opt(self.event_id),
                    owner: defused(&self.owner),
                    host: opt(self.host),
                    namespace: defused(&self.namespace),
                    repository: defused(&self.repository),
                    tag: opt(self.tag),
                    digest: opt(self.digest),
                    callback_url: None,
                    pushed_at: opt(self.pushed_at),
                    rejected: Some(why.0),
                }
            }
        }
    }
    /// The full image reference a pipeline deploys: `host/repo:tag` (Hub: `repo:tag`), or
    /// `@digest` when there is no tag.
    pub fn image(&self) -> String {
        let name = match &self.host {
            Some(h) => format!("{h}/{}", self.repository),
            None => self.repository.clone(),
        };
        match (&self.tag, &self.digest) {
            (Some(t), _) => format!("{name}:{t}"),
            (None, Some(d)) => format!("{name}@{d}"),
            (None, None) => name,
        }
    }

    /// What makes two pushes the same within the duplicate window: repository, tag and digest
    /// (Docker Hub, which sends no digest: its `pushed_at` instead). The registry's event id, when
    /// it sends one, is checked on its own.
    pub fn dedup_material(&self) -> String {
        format!(
            "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
            self.host.as_deref().unwrap_or(""),
            self.repository,
            self.tag.as_deref().unwrap_or(""),
            self.digest.as_deref().unwrap_or(""),
            if self.digest.is_some() {
                ""
            } else {
                self.pushed_at.as_deref().unwrap_or("")
            }
        )
    }

    /// The values of the Docker inputs a pipeline gets from this push.
    pub fn docker_inputs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("DOCKER_EVENT_OWNER_NAME", self.owner.clone()),
            ("DOCKER_IMAGE", self.image()),
            ("DOCKER_REPO_NAME", self.repo_name().to_owned()),
            ("DOCKER_REPO_NAMESPACE", self.namespace.clone()),
            ("DOCKER_TAG", self.tag.clone().unwrap_or_default()),
            ("DOCKER_DIGEST", self.digest.clone().unwrap_or_default()),
        ]
    }

    /// The repository's name without its namespace.
    pub fn repo_name(&self) -> &str {
        self.repository
            .rsplit_once('/')
            .map_or(self.repository.as_str(), |(_, n)| n)
    }
}

/// Media types of image manifests and indexes: pushes of anything else (blobs) are dropped.
pub const MANIFEST_TYPES: [&str; 5] = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

fn text(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_str().map(str::to_owned).filter(|s| !s.is_empty())
}

fn split_namespace(repository: &str) -> String {
    repository
        .rsplit_once('/')
        .map(|(ns, _)| ns.to_owned())
        .unwrap_or_default()
}

/// What [`docker_hub`] reads of a payload.
static HUB_MEMBERS: Pick = Pick(&[
    ("callback_url", None),
    ("push_data", None),
    ("repository", Some(&HUB_REPOSITORY)),
]);
static HUB_REPOSITORY: Pick = Pick(&[
    ("repo_name", None),
    ("namespace", None),
    ("name", None),
    ("owner", None),
]);

/// Docker Hub's webhook payload.
pub fn docker_hub(bytes: &[u8]) -> Result<PushEvent, String> {
    let v = lenient_read(bytes, &HUB_MEMBERS)?;
    if !v.is_object() {
        return Err("the body is not a JSON object".to_owned());
    }
    let repository = text(&v, &["repository", "repo_name"])
        .or_else(|| {
            match (
                text(&v, &["repository", "namespace"]),
                text(&v, &["repository", "name"]),
            ) {
                (Some(ns), Some(n)) => Some(format!("{ns}/{n}")),
                (None, Some(n)) => Some(n),
                _ => None,
            }
        })
        .ok_or("repository.repo_name is missing")?;
    let namespace =
        text(&v, &["repository", "namespace"]).unwrap_or_else(|| split_namespace(&repository));
    Ok(PushEvent {
        event_id: None,
        owner: text(&v, &["push_data", "pusher"])
            .or_else(|| text(&v, &["repository", "owner"]))
            .unwrap_or_default(),
        host: None,
        namespace,
        repository,
        tag: text(&v, &["push_data", "tag"]),
        digest: text(&v, &["push_data", "digest"]),
        callback_url: text(&v, &["callback_url"]),
        pushed_at: v
            .get("push_data")
            .and_then(|p| p.get("pushed_at"))
            .filter(|p| !p.is_null())
            .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned)),
        rejected: None,
    })
}

/// A CNCF distribution notification envelope: its manifest pushes (pulls and blob pushes are
/// left out).
pub fn distribution(bytes: &[u8]) -> Result<Vec<PushEvent>, String> {
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the body is not JSON: {e}"))?;
    let events = v
        .get("events")
        .and_then(Value::as_array)
        .ok_or("an envelope has an events list")?;
    let mut out = Vec::new();
    for e in events {
        if text(e, &["action"]).as_deref() != Some("push") {
            continue;
        }
        let media = text(e, &["target", "mediaType"]).unwrap_or_default();
        if !MANIFEST_TYPES.contains(&media.as_str()) {
            continue;
        }
        let repository =
            text(e, &["target", "repository"]).ok_or("an event has no target.repository")?;
        out.push(PushEvent {
            event_id: text(e, &["id"]),
            owner: text(e, &["actor", "name"]).unwrap_or_default(),
            host: text(e, &["request", "host"]),
            namespace: split_namespace(&repository),
            repository,
            tag: text(e, &["target", "tag"]),
            digest: text(e, &["target", "digest"]),
            callback_url: None,
            pushed_at: text(e, &["timestamp"]),
            rejected: None,
        });
    }
    Ok(out)
}

/// Harbor's webhook payload: its `PUSH_ARTIFACT` resources.
pub fn harbor(bytes: &[u8]) -> Result<Vec<PushEvent>, String> {
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the body is not JSON: {e}"))?;
    if text(&v, &["type"]).as_deref() != Some("PUSH_ARTIFACT") {
        return Ok(Vec::new());
    }
    let repository = text(&v, &["event_data", "repository", "repo_full_name"])
        .ok_or("event_data.repository.repo_full_name is missing")?;
    let owner = text(&v, &["operator"]).unwrap_or_default();
    let resources = v["event_data"]["resources"]
        .as_array()
        .ok_or("event_data.resources is missing")?;
    Ok(resources
        .iter()
        .map(|r| {
            let host = text(r, &["resource_url"])
                .and_then(|u| u.split_once('/').map(|(h, _)| h.to_owned()));
            PushEvent {
                event_id: None,
                owner: owner.clone(),
                host,
                namespace: text(&v, &["event_data", "repository", "namespace"])
                    .unwrap_or_else(|| split_namespace(&repository)),
                repository: repository.clone(),
                tag: text(r, &["tag"]),
                digest: text(r, &["digest"]),
                callback_url: None,
                pushed_at: text(&v, &["occur_at"]),
                rejected: None,
            }
        })
        .collect())
}

/// A webhook card's image or tag pattern: text between slashes is a regular expression
/// (`/^v[0-9]+$/`), text with `*` or `?` a glob (`v*`), anything else exact; empty matches all.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// Anything.
    Any,
    /// Exactly this.
    Exact(String),
    /// A glob or a regular expression, compiled (anchored).
    Regex(Regex, String),
}

impl Pattern {
    /// Parses a pattern; the error says what is wrong with a regular expression.
    pub fn parse(src: &str) -> Result<Pattern, String> {
        let src = src.trim();
        if src.is_empty() {
            return Ok(Pattern::Any);
        }
        if src.len() > 256 {
            return Err("a pattern has at most 256 characters".to_owned());
        }
        if let Some(re) = src.strip_prefix('/').and_then(|s| s.strip_suffix('/')) {
            let anchored = format!("^(?:{re})$");
            return Regex::new(&anchored)
                .map(|r| Pattern::Regex(r, src.to_owned()))
                .map_err(|e| format!("not a valid regular expression: {e}"));
        }
        if src.contains(['*', '?']) {
            let mut re = String::from("^");
            for c in src.chars() {
                match c {
                    '*' => re.push_str(".*"),
                    '?' => re.push('.'),
                    c => re.push_str(&regex_lite::escape(&c.to_string())),
                }
            }
            re.push('$');
            return Regex::new(&re)
                .map(|r| Pattern::Regex(r, src.to_owned()))
                .map_err(|e| format!("not a valid pattern: {e}"));
        }
        Ok(Pattern::Exact(src.to_owned()))
    }

    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Exact(s) => s == value,
            Pattern::Regex(r, _) => r.is_match(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example payload exactly as Aria's documentation prints it (seed 000).
    const HUB_EXAMPLE: &str = include_str!("../../testkit/fixtures/docker_hub_example.json");

    #[test]
    fn the_documented_docker_hub_example_is_read_despite_its_escapes_and_floats() {
        assert!(
            serde_json::from_str::<Value>(HUB_EXAMPLE).is_err(),
            "strict JSON refuses \\]"
        );
        let e = docker_hub(HUB_EXAMPLE.as_bytes()).unwrap();
        assert_eq!(e.repository, "svendowideit/testhook");
        assert_eq!(e.namespace, "svendowideit");
        assert_eq!(e.repo_name(), "testhook");
        assert_eq!(e.tag.as_deref(), Some("latest"));
        assert_eq!(e.owner, "trustedbuilder");
        assert_eq!(e.image(), "svendowideit/testhook:latest");
        assert!(e
            .callback_url
            .unwrap()
            .starts_with("https://registry.hub.docker.com/"));
        assert!(docker_hub(b"[1, 2]").is_err());
        assert!(docker_hub(b"{\"push_data\": {}}").is_err());
    }

    #[test]
    fn distribution_envelopes_keep_manifest_pushes_only() {
        let body = br#"{"events": [
          {"id": "e1", "action": "push", "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:aa", "repository": "acme/web", "tag": "1.0"}, "request": {"host": "127.0.0.1:5000"}, "actor": {"name": "alice"}},
          {"id": "e2", "action": "push", "target": {"mediaType": "application/octet-stream", "digest": "sha256:bb", "repository": "acme/web"}},
          {"id": "e3", "action": "pull", "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "repository": "acme/web", "tag": "1.0"}}
        ]}"#;
        let events = distribution(body).unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.image(), "127.0.0.1:5000/acme/web:1.0");
        assert_eq!((e.namespace.as_str(), e.owner.as_str()), ("acme", "alice"));
        assert_eq!(e.event_id.as_deref(), Some("e1"));
        assert!(distribution(b"{}").is_err());
    }

    #[test]
    fn harbor_push_artifact_is_read() {
        let body = br#"{"type": "PUSH_ARTIFACT", "occur_at": 1700000000, "operator": "admin",
          "event_data": {"resources": [{"digest": "sha256:cc", "tag": "v2", "resource_url": "harbor.local/library/web:v2"}],
          "repository": {"name": "web", "namespace": "library", "repo_full_name": "library/web"}}}"#;
        let e = &harbor(body).unwrap()[0];
        assert_eq!(e.image(), "harbor.local/library/web:v2");
        assert_eq!(e.digest.as_deref(), Some("sha256:cc"));
        assert!(harbor(br#"{"type": "PULL_ARTIFACT"}"#).unwrap().is_empty());
    }

    #[test]
    fn patterns_are_exact_glob_or_regex() {
        assert!(Pattern::parse("").unwrap().matches("anything"));
        let exact = Pattern::parse("latest").unwrap();
        assert!(exact.matches("latest") && !exact.matches("latest2"));
        let glob = Pattern::parse("v*").unwrap();
        assert!(glob.matches("v2") && glob.matches("v1.0.3") && !glob.matches("latest"));
        let dots = Pattern::parse("1.?").unwrap();
        assert!(dots.matches("1.2") && !dots.matches("102"));
        let re = Pattern::parse("/v[0-9]+/").unwrap();
        assert!(re.matches("v12") && !re.matches("v12-rc"));
        assert!(Pattern::parse("/v[/").is_err());
    }
}
