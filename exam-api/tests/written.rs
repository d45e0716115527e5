//! The written test over HTTP, on SQLite and on PostgreSQL: the steps before it, the
//! session's rules (one item at a time, deadlines, pauses, plays), resume and results.

use axum::http::StatusCode;
use exam_api::app::ApiConfig;
use exam_api::db::now_ms;
use exam_api::testing::{Answer, item_response};
use serde_json::{Value, json};

use crate::both;
use crate::common::TestApp;

fn profile() -> Value {
    json!({ "birth_name": "MARTIN", "usage_name": null, "first_names": "Camille Anne", "birth_date": "1994-05-17",
            "sex": "F", "birth_commune": "Lyon", "birth_country": "France" })
}

/// A candidate of the demo centre, ready for the test; returns their session token.
async fn ready_candidate(app: &TestApp, multiplier: f64) -> String {
    let admin = app.sign_in("centre_admin").await;
    let email = format!("c{}@example.org", uuid::Uuid::new_v4().simple());
    let c = app
        .post("/api/v1/candidates", &admin, json!({ "email": email, "first_names": "Test", "last_name": "Candidate", "cefr_target": "B1", "time_multiplier": multiplier }))
        .await;
    let token = app
        .sign_in_url(c.json["sign_in_url"].as_str().unwrap())
        .await;
    assert_eq!(
        app.put("/api/v1/me/profile", &token, profile())
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    exam_api::testing::mark_identity_done(&app.state.db, c.json["id"].as_str().unwrap())
        .await
        .unwrap();
    token
}

async fn start(app: &TestApp, token: &str) -> Value {
    let r = app.post_empty("/api/v1/written", token).await;
    assert!(
        r.status == StatusCode::CREATED || r.status == StatusCode::OK,
        "{}",
        r.text
    );
    r.json
}

/// Settings with a given pause between items.
fn pause(ms: i64) -> ApiConfig {
    ApiConfig {
        item_pause_ms: ms,
        ..ApiConfig::default()
    }
}

both!(
    steps_come_before_the_test,
    pause(3000),
    |app: TestApp| async move {
        let token = app.sign_in("candidate").await;
        let t = Some(token.as_str());
        let j = app.call("GET", "/api/v1/me/journey", t, None).await;
        assert_eq!(j.json["profile_complete"], false);
        assert_eq!(j.json["written"], Value::Null);
        let r = app.call("POST", "/api/v1/written", t, None).await;
        r.expect_error(StatusCode::CONFLICT, "profile_incomplete");
        // The form checks each field.
        for (field, value) in [
            ("birth_date", json!("17/05/1994")),
            ("birth_date", json!("2024-01-01")),
            ("sex", json!("X")),
            ("birth_name", json!(" ")),
        ] {
            let mut p = profile();
            p[field] = value;
            let r = app.call("PUT", "/api/v1/me/profile", t, Some(p)).await;
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_profile"),
                "{field}: {}",
                r.text
            );
            assert!(r.text.contains(field), "{}", r.text);
        }
        assert_eq!(
            app.call("PUT", "/api/v1/me/profile", t, Some(profile()))
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            app.call("GET", "/api/v1/me/profile", t, None).await.json,
            profile()
        );
        let r = app.call("POST", "/api/v1/written", t, None).await;
        r.expect_error(StatusCode::CONFLICT, "identity_required");
        let check = json!({ "audio_ok": true, "microphone_ok": true, "camera_ok": true, "bandwidth_kbps": 5000 });
        assert_eq!(
            app.call("POST", "/api/v1/me/system-check", t, Some(check))
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        let me = app.state.keys.verify(&token).unwrap().sub;
        exam_api::testing::mark_identity_done(&app.state.db, &me)
            .await
            .unwrap();
        let first = start(&app, &token).await;
        let again = start(&app, &token).await;
        assert_eq!(first["id"], again["id"], "one session per candidate");
        let j = app.call("GET", "/api/v1/me/journey", t, None).await;
        assert_eq!(j.json["system_check_done"], true);
        assert_eq!(j.json["written"]["id"], first["id"]);
        // Staff have no written test.
        let ev = app.sign_in("evaluator").await;
        assert_eq!(
            app.post_empty("/api/v1/written", &ev).await.status,
            StatusCode::FORBIDDEN
        );
    }
);

both!(
    one_item_at_a_time_without_its_key,
    pause(3000),
    |app: TestApp| async move {
        let token = ready_candidate(&app, 1.0).await;
        let view = start(&app, &token).await;
        let id = view["id"].as_str().unwrap().to_owned();
        assert_eq!(view["status"], "item");
        assert_eq!(view["position"], 1);
        assert_eq!(view["domain"], "vocabulary");
        let item = view["item"].clone();
        let item_id = item["id"].as_str().unwrap().to_owned();
        let text = item.to_string();
        for key in [
            "\"answer\"",
            "\"answers\"",
            "\"accept\"",
            "\"irt\"",
            "\"transcript\"",
            "\"sentences\"",
        ] {
            assert!(!text.contains(key), "{key} leaked: {text}");
        }
        // Reading the view again gives the same item, not another.
        let again = app.get(&format!("/api/v1/written/{id}"), &token).await;
        assert_eq!(again.json["item"]["id"], item["id"]);
        assert!(
            again.json["remaining_ms"].as_i64().unwrap() <= view["remaining_ms"].as_i64().unwrap()
        );
        // An answer to another item is refused; a response of the wrong shape too.
        let r = app
            .post(&format!("/api/v1/written/{id}/answers"), &token, json!({ "item_id": if item_id == "en-voc-042" { "en-voc-041" } else { "en-voc-042" }, "response": { "choice": 0 } }))
            .await;
        r.expect_error(StatusCode::CONFLICT, "not_current_item");
        let wrong = if item["type"] == "choice" {
            json!({ "typed": [] })
        } else {
            json!({ "choice": 0 })
        };
        let r = app
            .post(
                &format!("/api/v1/written/{id}/answers"),
                &token,
                json!({ "item_id": item_id, "response": wrong }),
            )
            .await;
        r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_response");
        let r = app
            .raw(
                "POST",
                &format!("/api/v1/written/{id}/answers"),
                Some(&token),
                Some("{\"item_id\":"),
                Some("application/json"),
            )
            .await;
        r.expect_error(StatusCode::BAD_REQUEST, "malformed_json");
        // The right shape is recorded, stored before the acknowledgement, then a pause with no item.
        let r = app
            .post(
                &format!("/api/v1/written/{id}/answers"),
                &token,
                json!({ "item_id": item_id, "response": item_response(&item, Answer::Blank) }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json["outcome"], "recorded");
        let (outcome,): (Option<String>,) = sqlx::query_as(
            "SELECT outcome FROM written_items WHERE session_id = $1 AND position = 1",
        )
        .bind(&id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
        assert_eq!(outcome.as_deref(), Some("answered"));
        let paused = app.get(&format!("/api/v1/written/{id}"), &token).await;
        assert_eq!(paused.json["status"], "pause");
        assert_eq!(
            paused.json["item"],
            Value::Null,
            "no next item during the pause"
        );
        assert!(paused.json["pause_until_ms"].as_i64().unwrap() > now_ms());
        let r = app
            .post(
                &format!("/api/v1/written/{id}/answers"),
                &token,
                json!({ "item_id": item_id, "response": item_response(&item, Answer::Blank) }),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::CONFLICT, "not_current_item"),
            "no second answer"
        );
        // Another candidate cannot see this session; staff cannot drive it.
        let other = ready_candidate(&app, 1.0).await;
        let r = app.get(&format!("/api/v1/written/{id}"), &other).await;
        r.expect_error(StatusCode::NOT_FOUND, "not_found");
        let r = app
            .post(
                &format!("/api/v1/written/{id}/answers"),
                &other,
                json!({ "item_id": item_id, "response": { "choice": 0 } }),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // The candidate cannot read items or results.
        assert_eq!(
            app.get(&format!("/api/v1/items/{item_id}"), &token)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get(&format!("/api/v1/written/{id}/result"), &token)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
);

/// Moves the current item's deadline into the past, as if its time had run out.
async fn expire_current(app: &TestApp, session: &str) {
    sqlx::query(
        "UPDATE written_items SET deadline_at = $1 WHERE session_id = $2 AND done_at IS NULL",
    )
    .bind(now_ms() - 5_000)
    .bind(session)
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    app.state.written.evict(session);
}

both!(
    late_answers_are_refused_and_time_runs_out,
    pause(0),
    |app: TestApp| async move {
        let token = ready_candidate(&app, 1.0).await;
        let view = start(&app, &token).await;
        let id = view["id"].as_str().unwrap().to_owned();
        let item = view["item"].clone();
        expire_current(&app, &id).await;
        let r = app
            .post(
                &format!("/api/v1/written/{id}/answers"),
                &token,
                json!({ "item_id": item["id"], "response": item_response(&item, Answer::Blank) }),
            )
            .await;
        r.expect_error(StatusCode::CONFLICT, "too_late");
        let rows: Vec<(i64, Option<String>, Option<i64>)> =
        sqlx::query_as("SELECT position, outcome, score FROM written_items WHERE session_id = $1 ORDER BY position")
            .bind(&id)
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap();
        assert_eq!(rows[0], (1, Some("timeout".to_owned()), Some(0)));
        // Without an answer at all, reading the view records the timeout and moves on.
        let v2 = app.get(&format!("/api/v1/written/{id}"), &token).await;
        assert_eq!(v2.json["position"], 2);
        expire_current(&app, &id).await;
        let v3 = app.get(&format!("/api/v1/written/{id}"), &token).await;
        assert_eq!(v3.json["position"], 3);
        let (timeouts,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM written_items WHERE session_id = $1 AND outcome = 'timeout'",
        )
        .bind(&id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
        assert_eq!(timeouts, 2);
    }
);

both!(
    extra_time_and_a_whole_test,
    pause(0),
    |app: TestApp| async move {
        let token = ready_candidate(&app, 1.33).await;
        let mut view = start(&app, &token).await;
        let id = view["id"].as_str().unwrap().to_owned();
        let first = app
            .state
            .bank
            .item(view["item"]["id"].as_str().unwrap())
            .unwrap()
            .clone();
        assert_eq!(
            view["time_limit_ms"].as_u64().unwrap(),
            (f64::from(first.time_limit_s) * 1330.0).round() as u64
        );
        let mut domains = Vec::new();
        let mut plays_checked = false;
        for position in 1..=50 {
            assert_eq!(view["status"], "item", "{view}");
            assert_eq!(view["position"], position);
            let item = view["item"].clone();
            if domains.last() != Some(&view["domain"]) {
                domains.push(view["domain"].clone());
            }
            if item["type"] == "listening" && !plays_checked {
                // Two plays, then refused.
                let url = item["clip_url"].as_str().unwrap().to_owned();
                for _ in 0..2 {
                    let r = app.raw("POST", &url, Some(&token), None, None).await;
                    assert_eq!(r.status, StatusCode::OK);
                    assert_eq!(r.headers["content-type"], "audio/ogg");
                }
                let r = app.raw("POST", &url, Some(&token), None, None).await;
                r.expect_error(StatusCode::CONFLICT, "play_limit_reached");
                let v = app.get(&format!("/api/v1/written/{id}"), &token).await;
                assert_eq!(v.json["item"]["plays_used"], 2);
                plays_checked = true;
            }
            let r = app
                .post(
                    &format!("/api/v1/written/{id}/answers"),
                    &token,
                    json!({ "item_id": item["id"], "response": item_response(&item, Answer::Blank) }),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            view = app.get(&format!("/api/v1/written/{id}"), &token).await.json;
        }
        assert!(plays_checked);
        assert_eq!(view["status"], "finished");
        // A finished session's machine does not stay in memory; viewed again, rebuilt from
        // its rows (as after a restart), it is still finished and nothing is stored twice.
        assert_eq!(app.state.written.live(), 0);
        for _ in 0..2 {
            let again = app.get(&format!("/api/v1/written/{id}"), &token).await;
            assert_eq!(again.status, StatusCode::OK, "{}", again.text);
            assert_eq!(again.json["status"], "finished");
        }
        assert_eq!(
            domains,
            vec![
                json!("vocabulary"),
                json!("grammar"),
                json!("expressions"),
                json!("reading"),
                json!("listening")
            ]
        );
        // Staff of the centre read the result: a level per domain; the candidate does not.
        let admin = app.sign_in("centre_admin").await;
        let result = app
            .get(&format!("/api/v1/written/{id}/result"), &admin)
            .await;
        assert_eq!(result.status, StatusCode::OK, "{}", result.text);
        let domains = result.json["domains"].as_array().unwrap();
        assert_eq!(domains.len(), 5);
        for d in domains {
            assert!(
                ["A1", "A2", "B1", "B2", "C1", "C2"].contains(&d["level"].as_str().unwrap()),
                "{d}"
            );
            assert_eq!(d["answered"], 10);
        }
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM written_items WHERE session_id = $1 AND outcome = 'answered'",
        )
        .bind(&id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
        assert_eq!(n, 50, "every answer stored");
        let r = app
            .post(
                &format!("/api/v1/written/{id}/answers"),
                &token,
                json!({ "item_id": "en-voc-001", "response": { "choice": 0 } }),
            )
            .await;
        r.expect_error(StatusCode::CONFLICT, "finished");
        assert_eq!(app.state.written.live(), 0);
    }
);

both!(
    a_new_server_state_resumes_the_session,
    pause(3000),
    |app: TestApp| async move {
        let token = ready_candidate(&app, 1.0).await;
        let view = start(&app, &token).await;
        let id = view["id"].as_str().unwrap().to_owned();
        // As after a restart: nothing cached, everything from storage.
        app.state.written.evict(&id);
        let resumed = app.get(&format!("/api/v1/written/{id}"), &token).await;
        assert_eq!(resumed.json["item"], view["item"]);
        assert_eq!(resumed.json["deadline_ms"], view["deadline_ms"]);
    }
);

both!(demo_and_practice, pause(3000), |app: TestApp| async move {
    let demo = app.call("GET", "/api/v1/demo", None, None).await;
    let items = demo.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 7);
    assert!(!demo.text.contains("\"answer\""));
    let listening = items.iter().find(|i| i["type"] == "listening").unwrap();
    let clip = app
        .raw(
            "GET",
            listening["clip_url"].as_str().unwrap(),
            None,
            None,
            None,
        )
        .await;
    assert_eq!(clip.status, StatusCode::OK);
    let token = app.sign_in("candidate").await;
    let practice = app.get("/api/v1/practice/grammar", &token).await;
    let item = practice.json["items"][0].clone();
    let r = app
        .post(
            &format!("/api/v1/practice/{}/check", item["id"].as_str().unwrap()),
            &token,
            json!({ "response": item_response(&item, Answer::Blank) }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json["tip"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(!r.json["expected"].as_array().unwrap().is_empty());
    assert_eq!(
        app.get("/api/v1/practice/history", &token).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call("GET", "/api/v1/practice/grammar", None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
});

both!(
    downtime_is_credited_once_across_failed_starts,
    pause(3000),
    |app: TestApp| async move {
        use exam_api::written::store::{extend_after_downtime, heartbeat};
        let token = ready_candidate(&app, 1.0).await;
        let id = start(&app, &token).await["id"].as_str().unwrap().to_owned();
        let deadline = || async {
            let (d,): (i64,) = sqlx::query_as(
                "SELECT deadline_at FROM written_items WHERE session_id = $1 AND done_at IS NULL",
            )
            .bind(&id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
            d
        };
        let db = &app.state.db;
        let t0 = now_ms();
        heartbeat(db, t0).await.unwrap();
        let before = deadline().await;
        // The server dies at t0; a start at t0 + 2 s credits the downtime, then fails
        // (a bad setting) before serving; the next start, at t0 + 3 s, succeeds.
        assert_eq!(extend_after_downtime(db, t0 + 2_000).await.unwrap(), 1);
        assert_eq!(deadline().await - before, 2_000);
        assert_eq!(extend_after_downtime(db, t0 + 3_000).await.unwrap(), 1);
        assert_eq!(
            deadline().await - before,
            3_000,
            "the time it was down, once, not the first outage again"
        );
        // A start right after that gives nothing more.
        assert_eq!(extend_after_downtime(db, t0 + 3_000).await.unwrap(), 0);
        assert_eq!(deadline().await - before, 3_000);
    }
);
