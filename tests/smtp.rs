//! Mail delivered to a real SMTP server (Python's `smtpd` debugging server) when
//! `--smtp-url` is set: a registered candidate's invitation arrives there.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::serve::Server;

#[tokio::test]
async fn the_outbox_is_delivered_by_smtp() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut smtpd = Command::new("python3")
        .args([
            "-u",
            "-W",
            "ignore",
            "-m",
            "smtpd",
            "-n",
            "-c",
            "DebuggingServer",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m smtpd (Python 3.11)");
    // Wait for the SMTP server to listen.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "smtpd did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("smtp://127.0.0.1:{port}");
    let server = Server::start_with(
        dir.path(),
        None,
        &[
            "--smtp-url",
            &url,
            "--smtp-from",
            "Certifications <certif@langcert.invalid>",
        ],
    );
    let http = reqwest::Client::new();
    let admin = server.session("centre_admin").await;
    let r = http
        .post(format!("{}/api/v1/candidates", server.base))
        .bearer_auth(&admin)
        .json(&json!({ "email": "smtp.test@example.org", "first_names": "Inès", "last_name": "Smtp", "cefr_target": "B1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // The delivery loop runs every 2 s; give it a few rounds.
    tokio::time::sleep(Duration::from_secs(6)).await;
    server.stop();
    smtpd.kill().unwrap();
    let mut out = String::new();
    smtpd
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(
        out.contains("MESSAGE FOLLOWS"),
        "a message reached the SMTP server: {out}"
    );
    assert!(out.contains("smtp.test@example.org"), "{out}");
    assert!(out.contains("certif@langcert.invalid"), "{out}");
}
