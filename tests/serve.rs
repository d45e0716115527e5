//! `langcert serve`: start-up on SQLite and PostgreSQL, the printed sign-in links, the
//! API behind them, and a clean stop on SIGTERM; a second start reuses the data.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use exam_api::testing::{Backend, TestDb};
use serde_json::{Value, json};

pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
    pub(crate) links: Vec<(String, String)>,
    created: bool,
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
        cmd.args(["serve", "--http", "127.0.0.1:0", "--data-dir"])
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
            } else if let Some((role, url)) = line.trim().split_once(char::is_whitespace) {
                if url.trim().starts_with("http") && line.starts_with("  ") {
                    links.push((role.to_owned(), url.trim().to_owned()));
                }
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
/// The identity step through the API, with the fixture photo (from `models/fetch`) as
/// selfie and document.
pub(crate) async fn identity(http: &reqwest::Client, base: &str, token: &str) {
    let photo = std::fs::read("models/fixtures/astronaut.png").expect("run models/fetch");
    for capture in ["selfie", "document"] {
        let res = http
            .put(format!("{base}/api/v1/me/identity/{capture}"))
            .bearer_auth(token)
            .header("Content-Type", "image/png")
            .body(photo.clone())
            .send()
            .await
            .unwrap();
        let status = res.status();
        assert!(
            status.is_success(),
            "{capture}: {status} {}",
            res.text().await.unwrap()
        );
    }
}

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

async fn journey(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let url = (backend == Backend::Postgres).then_some(db.url.as_str());
    let server = Server::start(dir.path(), url);
    assert!(server.created);
    let server_links_evaluator = server.link("evaluator");
    let roles: Vec<&str> = server.links.iter().map(|(r, _)| r.as_str()).collect();
    for role in ["candidate", "evaluator", "reviewer", "centre_admin"] {
        assert!(roles.contains(&role), "a link for {role}: {roles:?}");
    }
    let http = reqwest::Client::new();
    let health = get_json(&http, &format!("{}/healthz", server.base), None).await;
    assert_eq!(health["status"], "ok");
    assert_eq!(
        health["database"],
        if backend == Backend::Postgres {
            "postgres"
        } else {
            "sqlite"
        }
    );
    // The candidate's printed link opens a session that sees the candidate's own data.
    let link = server
        .links
        .iter()
        .find(|(r, _)| r == "candidate")
        .unwrap()
        .1
        .clone();
    let page = http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let token = link.rsplit('/').next().unwrap().to_owned();
    let session: Value = http
        .post(format!("{}/api/v1/auth/link", server.base))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let me = get_json(
        &http,
        &format!("{}/api/v1/me", server.base),
        session["token"].as_str(),
    )
    .await;
    assert_eq!(me["role"], "candidate");
    // A centre admin registers someone; their personal data must not reach the log.
    let admin_link = server.link("centre_admin");
    let admin_token = admin_link.rsplit('/').next().unwrap();
    let admin = session_from_link(&server.base, &admin_link).await;
    let created = http
        .post(format!("{}/api/v1/candidates", server.base))
        .bearer_auth(&admin)
        .json(&json!({ "email": "zoe.quintal@example.org", "first_names": "Zoé", "last_name": "Quintal", "cefr_target": "B2" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    server.stop();
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(
        log.contains("candidate registered"),
        "the log is written: {log}"
    );
    for secret in [
        "zoe.quintal",
        "Quintal",
        "Zoé",
        me["email"].as_str().unwrap(),
        me["last_name"].as_str().unwrap(),
        token.as_str(),
        admin_token,
    ] {
        assert!(
            !log.contains(secret),
            "{secret:?} leaked into the server log"
        );
    }
    // A second start keeps the data and prints no link; the used one stays used.
    let again = Server::start(dir.path(), url);
    assert!(!again.created);
    assert!(
        again.links.is_empty(),
        "links only on the first start: {:?}",
        again.links
    );
    let used = reqwest::get(format!("{}/signin/{token}", again.base))
        .await
        .unwrap();
    assert_eq!(used.status(), 410);
    // `langcert demo links` makes new ones; the first start's unused links stop working.
    let old_evaluator = server_links_evaluator;
    let fresh = demo_links(dir.path(), url, &again.base);
    assert_eq!(fresh.len(), 5, "one link per demo account: {fresh:?}");
    let old_token = old_evaluator.rsplit('/').next().unwrap();
    let replaced = reqwest::get(format!("{}/signin/{old_token}", again.base))
        .await
        .unwrap();
    assert_eq!(replaced.status(), 410, "an older unused link is replaced");
    assert!(
        replaced
            .text()
            .await
            .unwrap()
            .contains("data-state=\"replaced\"")
    );
    let evaluator = fresh.iter().find(|(r, _)| r == "evaluator").unwrap();
    let session = session_from_link(&again.base, &evaluator.1).await;
    let me = get_json(&http, &format!("{}/api/v1/me", again.base), Some(&session)).await;
    assert_eq!(me["role"], "evaluator");
    again.stop();
    // The data directory and its secrets are the server user's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(dir.path()), 0o700, "the data directory");
        let mut files = vec!["jwt.secret", "issuer-key.pem"];
        if backend == Backend::Sqlite {
            files.push("langcert.db");
        }
        for f in files {
            assert_eq!(mode(&dir.path().join(f)), 0o600, "{f}");
        }
    }
}

/// A GET's JSON answer, with a session token or none.
async fn get_json(http: &reqwest::Client, url: &str, token: Option<&str>) -> Value {
    let mut req = http.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().json().await.unwrap()
}

/// Runs `langcert demo links` on a data directory; returns the printed (role, url).
fn demo_links(dir: &std::path::Path, url: Option<&str>, base: &str) -> Vec<(String, String)> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_langcert"));
    cmd.args(["demo", "links", "--public-url", base, "--data-dir"])
        .arg(dir);
    if let Some(url) = url {
        cmd.args(["--database-url", url]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("  "))
        .filter_map(|l| {
            let (role, url) = l.trim().split_once(char::is_whitespace)?;
            Some((role.to_owned(), url.trim().to_owned()))
        })
        .collect()
}

#[tokio::test]
async fn a_non_demo_installation_prints_no_link() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), None, &["--no-demo"]);
    assert!(server.links.is_empty());
    server.stop();
    let out = Command::new(env!("CARGO_BIN_EXE_langcert"))
        .args(["demo", "links", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "no demo centre, no link");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .all(|l| !l.contains("/signin/"))
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no demo centre"));
}

#[tokio::test]
async fn serve_on_sqlite() {
    journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn serve_on_postgres() {
    journey(Backend::Postgres).await;
}
