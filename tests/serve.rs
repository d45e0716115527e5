//! `langcert serve`: start-up on SQLite and PostgreSQL, the printed sign-in links, the
//! API behind them, and a clean stop on SIGTERM; a second start reuses the data.

use std::process::Command;

use exam_api::testing::{Backend, TestDb};
use serde_json::{Value, json};

use crate::kit::server::session_from_link;
use crate::kit::{Api, Server};

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
    let link = server.link("candidate");
    let page = http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let token = link.rsplit('/').next().unwrap().to_owned();
    let session = session_from_link(&server.base, &link).await;
    let me = Api::new(&server.base, &session).get("/api/v1/me").await;
    assert_eq!(me["role"], "candidate");
    // A centre admin registers someone; their personal data must not reach the log.
    let admin_link = server.link("centre_admin");
    let admin_token = admin_link.rsplit('/').next().unwrap();
    let admin = session_from_link(&server.base, &admin_link).await;
    let (status, _) = Api::new(&server.base, &admin)
        .post("/api/v1/candidates", json!({ "email": "zoe.quintal@example.org", "first_names": "Zoé", "last_name": "Quintal", "cefr_target": "B2" }))
        .await;
    assert_eq!(status, 201);
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
    let me = Api::new(&again.base, &session).get("/api/v1/me").await;
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
