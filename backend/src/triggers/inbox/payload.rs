//! ① and ② of the flow: a registry's delivery read into push events (Docker Hub's payload, a
//! distribution envelope, Harbor's), each checked by `PushEvent::checked`.

use domain::registry_events::{self, PushEvent};

/// What sent a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Docker Hub's webhook payload.
    DockerHub,
    /// A CNCF distribution notification envelope.
    Distribution,
    /// Harbor's webhook payload.
    Harbor,
}

impl Source {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::DockerHub => "docker_hub",
            Source::Distribution => "distribution",
            Source::Harbor => "harbor",
        }
    }
}

/// Reads a Docker Hub listener body.
pub fn read_docker_hub(body: &[u8]) -> std::result::Result<Vec<PushEvent>, String> {
    registry_events::docker_hub(body).map(|e| vec![e.checked()])
}

/// Reads a registry listener body: a distribution envelope or Harbor's payload. Pulls, blob
/// pushes and manifests pushed by digest alone (the per-platform parts of a multi-architecture
/// image, whose index carries the tag) are left out.
pub fn read_registry(body: &[u8]) -> std::result::Result<(Source, Vec<PushEvent>), String> {
    read_registry_unchecked(body)
        .map(|(source, events)| (source, events.into_iter().map(PushEvent::checked).collect()))
}

fn read_registry_unchecked(body: &[u8]) -> std::result::Result<(Source, Vec<PushEvent>), String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    if v.get("events").is_some() {
        let events = registry_events::distribution(body)?
            .into_iter()
            .filter(|e| e.tag.is_some())
            .collect();
        Ok((Source::Distribution, events))
    } else if v.get("type").is_some() && v.get("event_data").is_some() {
        Ok((Source::Harbor, registry_events::harbor(body)?))
    } else {
        Err(
            "neither a distribution envelope (events) nor a Harbor payload (type, event_data)"
                .to_owned(),
        )
    }
}
