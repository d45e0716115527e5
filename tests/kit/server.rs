//! The server launcher: `langcert serve` on a free port, its printed address and
//! sign-in links, sessions from them, a clean stop (SIGTERM) or a crash (SIGKILL).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A running `langcert serve` (killed when dropped).
pub(crate) struct Server {
    child: Child,
    /// Its address, `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    /// The sign-in links it printed: (role, url).
    pub(crate) links: Vec<(String, String)>,
    /// Whether it said it created the demo centre.
    pub(crate) created: bool,
}

/// An interview of the demo candidate and evaluator ([`Server::demo_interview_soon`]).
pub(crate) struct DemoInterview {
    /// Its id, the signaling room.
    pub(crate) room: String,
    /// The candidate's session token.
    pub(crate) candidate: String,
    /// The evaluator's session token.
    pub(crate) evaluator: String,
    /// The candidate's user id.
    pub(crate) candidate_id: String,
}

impl Server {
    /// Starts the binary on a free port and reads what it prints up to the API line.
    pub(crate) fn start(data_dir: &std::path::Path, database_url: Option<&str>) -> Server {
        Self::start_with(data_dir, database_url, &[])
    }

    /// Starts the binary with extra `serve` arguments.
    pub(crate) fn start_with(
        data_dir: &std::path::Path,
        database_url: Option<&str>,
        extra: &[&str],
    ) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_langcert"));
        cmd.args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--media-udp",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(data_dir);
        if let Some(url) = database_url {
            cmd.args(["--database-url", url]);
        }
        cmd.args(extra);
        let log = std::fs::File::create(data_dir.join("server.log")).unwrap();
        let mut child = cmd
            .env("RUST_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn langcert");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut base, mut links, mut created) = (String::new(), Vec::new(), false);
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("langcert ") {
                base = rest
                    .split("listening on ")
                    .nth(1)
                    .unwrap()
                    .trim()
                    .to_owned();
            } else if line.starts_with("Demo centre") {
                created = line.starts_with("Demo centre created");
            } else if let Some((role, url)) = line.trim().split_once(char::is_whitespace)
                && url.trim().starts_with("http")
                && line.starts_with("  ")
            {
                links.push((role.to_owned(), url.trim().to_owned()));
            }
            if line.starts_with("API description") {
                break;
            }
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        assert!(base.starts_with("http://127.0.0.1:"), "printed its address");
        Server {
            child,
            base,
            links,
            created,
        }
    }

    /// Stops it with SIGTERM and asserts a clean exit within 15 s.
    pub(crate) fn stop(mut self) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "clean exit on SIGTERM: {status}");
                return;
            }
            assert!(Instant::now() < deadline, "stopped within 15 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Exchanges a single-use sign-in link for a session token.
pub(crate) async fn session_from_link(base: &str, link: &str) -> String {
    let token = link.rsplit('/').next().unwrap();
    let s: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/link"))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    s["token"].as_str().expect("a session token").to_owned()
}

impl Server {
    /// The printed sign-in link of a demo role.
    pub(crate) fn link(&self, role: &str) -> String {
        self.links
            .iter()
            .find(|(r, _)| r == role)
            .map(|(_, l)| l.clone())
            .expect("a link for the role")
    }

    /// Signs a demo role in through its printed link; returns the session token.
    pub(crate) async fn session(&self, role: &str) -> String {
        session_from_link(&self.base, &self.link(role)).await
    }

    /// The API as a demo role, signed in through its printed link.
    pub(crate) async fn api(&self, role: &str) -> crate::kit::Api {
        crate::kit::Api::new(&self.base, &self.session(role).await)
    }

    /// An interview in five minutes (its room is open: it opens 15 minutes before) between
    /// the demo candidate and evaluator, both signed in.
    pub(crate) async fn demo_interview_soon(&self) -> DemoInterview {
        let admin = self.api("centre_admin").await;
        let (candidate, evaluator) = (
            self.session("candidate").await,
            self.session("evaluator").await,
        );
        let candidate_id = crate::kit::Api::new(&self.base, &candidate).user_id().await;
        let evaluator_id = crate::kit::Api::new(&self.base, &evaluator).user_id().await;
        let at = (chrono::Utc::now() + chrono::Duration::minutes(5)).to_rfc3339();
        let (_, interview) = admin
            .post(
                "/api/v1/interviews",
                json!({ "candidate_id": candidate_id, "evaluator_id": evaluator_id, "scheduled_at": at }),
            )
            .await;
        DemoInterview {
            room: interview["id"]
                .as_str()
                .expect("the interview's id")
                .to_owned(),
            candidate,
            evaluator,
            candidate_id,
        }
    }

    /// Kills the process without warning (SIGKILL), as a crash would.
    pub(crate) fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
