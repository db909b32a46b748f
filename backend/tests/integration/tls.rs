//! Accept certificate: fetch a real registry's certificate, pin it, and notice when it changes.

use crate::support::Registry;
use backend::clients::registry::{check_v2, client, RegistryAccess, RegistryProblem};
use backend::clients::tls::{fetch_certificate, fingerprint, pinned_client};

fn self_signed() -> (String, String, Vec<u8>) {
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    (
        ck.cert.pem(),
        ck.key_pair.serialize_pem(),
        ck.cert.der().to_vec(),
    )
}

#[tokio::test]
async fn a_certificate_is_described_pinned_and_a_changed_one_is_refused_until_accepted_again() {
    let (cert, key, der) = self_signed();
    let registry = Registry::with_tls(&cert, &key, None);

    // the dialog's facts
    let info = fetch_certificate(&Default::default(), "127.0.0.1", registry.port)
        .await
        .unwrap();
    assert_eq!(info.sha256, fingerprint(&der));
    assert!(info.subject.contains("rcgen"), "{}", info.subject);
    assert!(info.not_before < info.not_after);
    assert_eq!(info.chain_len, 1);

    // not accepted yet: the ordinary client refuses a self-signed certificate, in words
    let e = check_v2(&client(&Default::default()).unwrap(), &registry.url, None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, RegistryProblem::Certificate(ref m) if m.contains("not signed by an authority")),
        "{e:?}"
    );

    // accepted: pinned to its fingerprint, validation succeeds
    let pinned = pinned_client(&Default::default(), &info.sha256).unwrap();
    assert_eq!(
        check_v2(&pinned, &registry.url, None).await.unwrap(),
        RegistryAccess::Anonymous
    );

    // the registry restarts with a new certificate: refused until accepted again
    let port = registry.port;
    drop(registry);
    let (cert2, key2, der2) = self_signed();
    let registry = Registry::with_tls(&cert2, &key2, Some(port));
    // every Validate builds its client from the stored pin, as here
    let pinned = pinned_client(&Default::default(), &info.sha256).unwrap();
    let e = check_v2(&pinned, &registry.url, None).await.unwrap_err();
    assert!(
        matches!(e, RegistryProblem::Certificate(ref m) if m.contains("changed since it was accepted")),
        "{e:?}"
    );
    let again = fetch_certificate(&Default::default(), "127.0.0.1", port)
        .await
        .unwrap();
    assert_eq!(again.sha256, fingerprint(&der2));
    assert_ne!(again.sha256, info.sha256);
    let repinned = pinned_client(&Default::default(), &again.sha256).unwrap();
    assert_eq!(
        check_v2(&repinned, &registry.url, None).await.unwrap(),
        RegistryAccess::Anonymous
    );
}

#[tokio::test]
async fn a_plain_http_port_and_a_closed_one_read_alike_so_fetching_scans_no_ports() {
    let registry = Registry::with_htpasswd("a", "b");
    let plain = fetch_certificate(&Default::default(), "127.0.0.1", registry.port)
        .await
        .unwrap_err()
        .to_string();
    let closed = fetch_certificate(
        &Default::default(),
        "127.0.0.1",
        crate::support::CLOSED_PORT,
    )
    .await
    .unwrap_err()
    .to_string();
    assert_eq!(
        plain,
        format!("no TLS server answered at 127.0.0.1:{}", registry.port)
    );
    assert_eq!(
        closed,
        format!(
            "no TLS server answered at 127.0.0.1:{}",
            crate::support::CLOSED_PORT
        )
    );
    // and the outbound policy applies before any connection
    let refused = fetch_certificate(&Default::default(), "169.254.169.254", 443)
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("outbound policy refuses"), "{refused}");
}
