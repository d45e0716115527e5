//! A server killed with SIGKILL in the middle of a written test: after a restart the
//! candidate continues at the same item with the time that was left, and every answer
//! given before the crash is stored.

use std::time::Duration;

use exam_api::testing::{Answer, Backend, TestDb, item_response};
use serde_json::{Value, json};

use crate::kit::{Api, Server};

/// The view once an item is on screen (waiting out the pause, 10 s at most).
async fn item_view(c: &Api, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let v = c.get(&format!("/api/v1/written/{id}")).await;
        if v["status"] != "pause" {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "still paused: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A start that stops on a bad setting (an unparsable `--smtp-from`).
fn failed_start(dir: &std::path::Path, url: Option<&str>) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_langcert"));
    cmd.args(["serve", "--http", "127.0.0.1:0", "--data-dir"])
        .arg(dir);
    if let Some(url) = url {
        cmd.args(["--database-url", url]);
    }
    let out = cmd
        .args([
            "--smtp-url",
            "smtp://127.0.0.1:9",
            "--smtp-from",
            "not an address",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the start fails");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--smtp-from"),
        "it says why: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn crash_mid_test(backend: Backend) {
    let db = TestDb::new(backend).await;
    let url = (backend == Backend::Postgres).then_some(db.url.as_str());
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), url, &["--item-pause-ms", "300"]);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut c = Api::with_client(http, &server.base, &server.session("candidate").await);
    let view = c.start_written().await;
    let id = view["id"].as_str().unwrap().to_owned();
    let mut answered = Vec::new();
    for _ in 0..5 {
        let v = item_view(&c, &id).await;
        let item = &v["item"];
        let response = item_response(item, Answer::Other);
        let (status, body) = c
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/written/{id}/answers"),
                Some(json!({ "item_id": item["id"], "response": response })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        answered.push((item["id"].as_str().unwrap().to_owned(), response));
    }
    let before = item_view(&c, &id).await;
    assert_eq!(before["position"], 6);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let at_kill = c.get(&format!("/api/v1/written/{id}")).await;
    let left_at_kill = at_kill["remaining_ms"].as_i64().unwrap();
    server.kill9();
    // The server stays down for 4 s: that time must not be taken from the candidate.
    // Half-way, a start with a bad setting fails: it must not credit the downtime
    // too (before, each failed start added the outage again).
    tokio::time::sleep(Duration::from_secs(2)).await;
    failed_start(dir.path(), url);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let server = Server::start_with(dir.path(), url, &["--item-pause-ms", "300"]);
    c.base = server.base.clone();
    let (status, after) = c
        .call(reqwest::Method::GET, &format!("/api/v1/written/{id}"), None)
        .await;
    assert_eq!(
        status, 200,
        "the session token survives the restart: {after}"
    );
    assert_eq!(after["status"], "item");
    assert_eq!(after["position"], 6, "the same position");
    assert_eq!(after["item"]["id"], before["item"]["id"], "the same item");
    let left = after["remaining_ms"].as_i64().unwrap();
    // The heartbeat is written every 250 ms: that is the precision of the time given back
    // (plus the few ms between the last view and the kill, and the restart's own view).
    assert!(
        left <= left_at_kill + 400,
        "no time was added: {left} vs {left_at_kill}"
    );
    assert!(
        left >= left_at_kill - 1000,
        "the downtime was given back: {left} vs {left_at_kill}"
    );
    server.stop();
    // Every answer given before the crash is stored, as sent.
    let store = exam_api::db::Db::connect(&match url {
        Some(u) => u.to_owned(),
        None => format!(
            "sqlite://{}?mode=rw",
            dir.path().join("langcert.db").display()
        ),
    })
    .await
    .unwrap();
    let rows: Vec<(String, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT item_id, outcome, response_json FROM written_items WHERE session_id = $1 ORDER BY position")
            .bind(&id)
            .fetch_all(&store.pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 6);
    for ((item, response), (stored_item, outcome, json)) in answered.iter().zip(&rows) {
        assert_eq!(item, stored_item);
        assert_eq!(outcome.as_deref(), Some("answered"));
        let stored: Value = serde_json::from_str(json.as_deref().unwrap()).unwrap();
        assert_eq!(&stored, response);
    }
    assert_eq!(rows[5].1, None, "the sixth item is still open");
    store.close().await;
}

#[tokio::test]
async fn kill_9_mid_test_on_sqlite() {
    crash_mid_test(Backend::Sqlite).await;
}

#[tokio::test]
async fn kill_9_mid_test_on_postgres() {
    crash_mid_test(Backend::Postgres).await;
}
