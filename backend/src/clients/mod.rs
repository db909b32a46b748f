//! Outbound clients, and nothing else: the one outbound policy (which addresses, bounded
//! bodies, redirects), TLS with accepted certificates, the Docker Registry v2 API, Docker Hub's
//! API and Kubernetes. No database: callers hand them what they need.

pub mod dockerhub;
pub mod kubernetes;
pub mod outbound;
pub mod registry;
pub mod tls;
