//! Mail delivered to a real SMTP server (Python's `smtpd` debugging server) when
//! `--smtp-url` is set: a registered candidate's invitation arrives there.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::kit::Server;

#[tokio::test]
async fn the_outbox_is_delivered_by_smtp() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut smtpd = Smtpd(
        Command::new("python3")
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
            .expect("python3 -m smtpd (Python 3.11)"),
    );
    // What it prints, line by line, as it comes.
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    let stdout = smtpd.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
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
    let admin = server.api("centre_admin").await;
    let (status, _) = admin
        .post("/api/v1/candidates", json!({ "email": "smtp.test@example.org", "first_names": "Inès", "last_name": "Smtp", "cefr_target": "B1" }))
        .await;
    assert_eq!(status, 201);
    // The delivery loop runs every 2 s: wait for the whole message, 20 s at most.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut out = String::new();
    while !out.contains("END MESSAGE") {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                out.push_str(&line);
                out.push('\n');
            }
            Err(_) => break,
        }
    }
    server.stop();
    assert!(
        out.contains("MESSAGE FOLLOWS"),
        "a message reached the SMTP server: {out}"
    );
    assert!(out.contains("smtp.test@example.org"), "{out}");
    assert!(out.contains("certif@langcert.invalid"), "{out}");
}

/// The SMTP server's process, stopped however the test ends.
struct Smtpd(std::process::Child);

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
