//! `mqtts://` against a real Mosquitto TLS listener with a certificate made
//! here: an untrusted certificate is refused as a TLS error (never silently
//! accepted), and the same broker is reached once its certificate is trusted.
//! Needs `mosquitto` and `openssl`; `.ci/run` installs them and runs it.

use crate::common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::broker::{config, free_port, wait_status};
use tars_mqtt::{self as mqtt, LinkState};

fn run(cmd: &mut Command) {
    let ok = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("spawn")
        .success();
    assert!(ok, "{cmd:?}");
}

/// A self-signed certificate for 127.0.0.1: PEM for Mosquitto, DER for us.
fn make_certificate(dir: &Path) {
    run(Command::new("openssl").current_dir(dir).args([
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "cert.pem",
        "-days",
        "1",
        "-subj",
        "/CN=tars-test",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
    ]));
    run(Command::new("openssl").current_dir(dir).args([
        "x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der",
    ]));
    // Mosquitto started as root drops to its own user: let it read the key.
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir.join("key.pem"), std::fs::Permissions::from_mode(0o644))
        .expect("chmod");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs mosquitto and openssl; .ci/run runs it"]
async fn mqtts_refuses_an_untrusted_broker_and_connects_to_a_trusted_one() {
    let dir = std::env::temp_dir().join(format!("tars-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    make_certificate(&dir);
    let port = free_port();
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\ncertfile {0}/cert.pem\nkeyfile {0}/key.pem\nallow_anonymous true\n",
            dir.display()
        ),
    )
    .expect("conf");
    let _broker = common::broker::BrokerProcess::mosquitto_with_config(&conf, port)
        .expect("mosquitto with a TLS listener");
    let url = format!("mqtts://127.0.0.1:{port}");

    // The system roots do not know this certificate: a TLS error, no link.
    let (client, mut status) = mqtt::connect(config(&url, "tls-untrusted"));
    let refused = wait_status(&mut status, Duration::from_secs(10), |s| {
        s.last_error
            .as_deref()
            .is_some_and(|e| e.to_lowercase().contains("tls") || e.contains("certificate"))
    })
    .await
    .unwrap_or_else(|| panic!("a TLS error is reported; status: {:?}", status.borrow()));
    assert_ne!(refused.state, LinkState::Connected, "{refused:?}");
    let _ = client.shutdown(Duration::from_millis(200)).await;

    // Trust it: the same broker is reached over TLS.
    let mut roots = rustls::RootCertStore::empty();
    let der = std::fs::read(dir.join("cert.der")).expect("der");
    roots
        .add(rustls::pki_types::CertificateDer::from(der))
        .expect("root");
    let tls = mqtt::roots_config(roots).expect("tls config");
    let mut trusted = config(&url, "tls-trusted");
    trusted.tls = Some(Arc::new(tls));
    let (client, mut status) = mqtt::connect(trusted);
    wait_status(&mut status, Duration::from_secs(10), |s| {
        s.state == LinkState::Connected
    })
    .await
    .expect("connected over TLS");
    let _ = client.shutdown(Duration::from_secs(1)).await;
    let _ = std::fs::remove_dir_all(dir);
}
