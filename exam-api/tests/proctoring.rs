//! Proctoring on SQLite and PostgreSQL: events and the session page, the queue by
//! priority, assignment and isolation between reviewers, decisions and their audit,
//! the purge of images, and malformed requests. (The identity captures themselves need
//! face models: the root crate's end-to-end tests cover them.)

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use exam_api::db::now_ms;
use exam_api::error::ApiError;
use exam_api::proctoring::{self, EventKind, EventRecord, Severity};
use exam_api::testing::{Answer, item_response};
use exam_api::written::store::{self, SessionRow};
use exam_core::cat::{CatConfig, CatSession};
use exam_core::written::Event;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::both;
use crate::common::{Res, TestApp};

const DAY: i64 = 86_400_000;

/// A fake JPEG (only its first bytes matter to the API).
fn jpeg(tag: u8) -> Vec<u8> {
    vec![0xFF, 0xD8, 0xFF, 0xE0, tag, tag, 0xFF, 0xD9]
}

/// A new candidate of a centre (the demo one by default), with profile and identity step
/// done; returns (id, session token).
async fn candidate(app: &TestApp, centre: Option<&str>) -> (String, String) {
    let by = match centre {
        None => app.sign_in("centre_admin").await,
        Some(_) => app.sign_in("platform_admin").await,
    };
    let email = format!("c{}@example.org", uuid::Uuid::new_v4().simple());
    let c = app
        .post("/api/v1/candidates", &by, json!({ "email": email, "first_names": "Ada", "last_name": "Lovelace", "cefr_target": "B1", "centre_id": centre }))
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    let id = c.json["id"].as_str().unwrap().to_owned();
    let token = app
        .sign_in_url(c.json["sign_in_url"].as_str().unwrap())
        .await;
    let profile = json!({ "birth_name": "LOVELACE", "first_names": "Ada", "birth_date": "1990-12-10",
                          "sex": "F", "birth_commune": "Londres", "birth_country": "Royaume-Uni" });
    let r = app.put("/api/v1/me/profile", &token, profile).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    exam_api::testing::mark_identity_done(&app.state.db, &id)
        .await
        .unwrap();
    (id, token)
}

/// A written session created in storage (no item), started at `at`.
async fn session_at(app: &TestApp, candidate: &str, at: i64) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    store::create(
        &app.state.db,
        &SessionRow {
            id: id.clone(),
            candidate_id: candidate.to_owned(),
            seed: 7,
            multiplier: 1.0,
            created_at: at,
        },
    )
    .await
    .unwrap();
    id
}

/// Finishes a session at `at` the way the written test does (which opens its review).
async fn finish(app: &TestApp, session: &str, at: i64) {
    let estimates = CatSession::new(CatConfig::default(), 3)
        .unwrap()
        .estimates();
    store::store(&app.state.db, session, &[Event::Finished { at, estimates }])
        .await
        .unwrap();
}

fn event(session: &str, kind: EventKind, severity: Severity, start_ms: i64) -> EventRecord {
    EventRecord {
        session_id: session.to_owned(),
        kind,
        severity,
        start_ms,
        end_ms: start_ms + 4000,
        peak_confidence: 0.75,
        thumbnails: vec![],
        clip: vec![],
    }
}

async fn record(app: &TestApp, e: &EventRecord) -> String {
    proctoring::record_event(&app.state.db, e).await.unwrap()
}

/// A reviewer added to a centre; returns (id, session token).
async fn reviewer(app: &TestApp, centre: &str) -> (String, String) {
    let platform = app.sign_in("platform_admin").await;
    let email = format!("r{}@example.org", uuid::Uuid::new_v4().simple());
    let r = app
        .post(&format!("/api/v1/centres/{centre}/staff"), &platform, json!({ "role": "reviewer", "email": email, "first_names": "Rae", "last_name": "View" }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let token = app
        .sign_in_url(r.json["sign_in_url"].as_str().unwrap())
        .await;
    (r.json["id"].as_str().unwrap().to_owned(), token)
}

async fn me(app: &TestApp, token: &str) -> Value {
    app.get("/api/v1/me", token).await.json
}

async fn queue(app: &TestApp, token: &str) -> Vec<Value> {
    let q = app.get("/api/v1/reviews", token).await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text);
    q.json.as_array().unwrap().clone()
}

async fn decide_event(app: &TestApp, token: &str, session: &str, event: &str, body: Value) -> Res {
    app.post(
        &format!("/api/v1/reviews/{session}/events/{event}"),
        token,
        body,
    )
    .await
}

async fn decide(app: &TestApp, token: &str, session: &str, decision: &str) -> Res {
    app.post(
        &format!("/api/v1/reviews/{session}/decision"),
        token,
        json!({ "decision": decision, "comment": "vu" }),
    )
    .await
}

/// A request with a binary body.
async fn send_bytes(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Stores identity captures as the identity step would have.
async fn captures(app: &TestApp, candidate: &str, selfie: &[u8], document: Option<&[u8]>) {
    sqlx::query(
        "INSERT INTO identity_captures (candidate_id, version, selfie, selfie_type, selfie_at, document, document_type, document_at, similarity, compared_at) \
         VALUES ($1, 2, $2, 'image/png', $3, $4, 'image/jpeg', $3, 0.71, $3)",
    )
    .bind(candidate)
    .bind(selfie)
    .bind(now_ms())
    .bind(document)
    .execute(&app.state.db.pool)
    .await
    .unwrap();
}

both!(events_build_the_session_page, |app: TestApp| async move {
    let (cand, token) = candidate(&app, None).await;
    // A real session: started and one item answered over HTTP.
    let view = app.post_empty("/api/v1/written", &token).await;
    assert_eq!(view.status, StatusCode::CREATED, "{}", view.text);
    let session = view.json["id"].as_str().unwrap().to_owned();
    let item = view.json["item"].clone();
    let r = app
        .post(
            &format!("/api/v1/written/{session}/answers"),
            &token,
            json!({ "item_id": item["id"], "response": item_response(&item, Answer::Blank) }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // What the monitor reads while the test runs.
    let db = &app.state.db;
    let (monitored, started) = proctoring::monitored_session(db, &cand)
        .await
        .unwrap()
        .expect("in progress");
    assert_eq!(monitored, session);
    assert!(proctoring::session_in_progress(db, &session).await.unwrap());
    assert_eq!(
        proctoring::identity_selfie(db, &session).await.unwrap(),
        None
    );
    let selfie = b"\x89PNG\r\n\x1a\nselfie".to_vec();
    captures(&app, &cand, &selfie, Some(&jpeg(9))).await;
    assert_eq!(
        proctoring::identity_selfie(db, &session).await.unwrap(),
        Some(selfie.clone())
    );
    // Two events: one with thumbnails and a clip given out of order, one technical.
    let mut e = event(
        &session,
        EventKind::MultipleFaces,
        Severity::Medium,
        started + 5000,
    );
    e.peak_confidence = 0.9;
    e.thumbnails = vec![jpeg(1), jpeg(2)];
    e.clip = vec![
        (started + 4000, jpeg(11)),
        (started + 3000, jpeg(10)),
        (started + 5000, jpeg(12)),
    ];
    let multiple = record(&app, &e).await;
    let lost = record(
        &app,
        &event(
            &session,
            EventKind::CameraLost,
            Severity::Info,
            started + 20_000,
        ),
    )
    .await;
    // Malformed events and unknown sessions are refused.
    let mut bad = event(&session, EventKind::FaceAbsent, Severity::Low, started);
    bad.end_ms = bad.start_ms - 1;
    let err = proctoring::record_event(db, &bad).await.unwrap_err();
    assert_eq!(
        ApiError::from(err).status_code().0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let nowhere = event(
        "no-such-session",
        EventKind::FaceAbsent,
        Severity::Low,
        started,
    );
    let err = proctoring::record_event(db, &nowhere).await.unwrap_err();
    assert_eq!(ApiError::from(err).status_code().0, StatusCode::NOT_FOUND);
    finish(&app, &session, now_ms()).await;
    assert_eq!(
        proctoring::monitored_session(db, &cand).await.unwrap(),
        None
    );
    assert!(!proctoring::session_in_progress(db, &session).await.unwrap());

    let rv = app.sign_in("reviewer").await;
    let q = queue(&app, &rv).await;
    let mine = q
        .iter()
        .find(|i| i["session_id"] == session.as_str())
        .unwrap();
    assert_eq!(mine["priority"], "medium");
    assert_eq!(
        mine["events"],
        json!({ "info": 1, "low": 0, "medium": 1, "high": 0 })
    );
    assert_eq!(mine["pending_events"], 1);
    assert_eq!(mine["candidate_id"], cand.as_str());
    assert_eq!(mine["status"], "pending");

    let p = app.get(&format!("/api/v1/reviews/{session}"), &rv).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    let p = p.json;
    assert_eq!(p["candidate_name"], "Ada Lovelace");
    assert_eq!(p["status"], "pending");
    assert_eq!(p["priority"], "medium");
    assert!(p["started_at"].is_string() && p["finished_at"].is_string());
    // The items track: the answered item (the next one comes after the pause).
    let items = p["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["index"], 1);
    assert_eq!(items[0]["item_id"], item["id"]);
    assert_eq!(items[0]["domain"], "vocabulary");
    assert_eq!(items[0]["item_type"], item["type"]);
    assert_eq!(items[0]["outcome"], "answered");
    let presented = items[0]["presented_offset_ms"].as_i64().unwrap();
    let answered = items[0]["answered_offset_ms"].as_i64().unwrap();
    assert!(
        (0..60_000).contains(&presented) && answered >= presented,
        "{items:?}"
    );
    // The events track, in time order, offsets from the start.
    let events = p["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    let ev = &events[0];
    assert_eq!(ev["id"], multiple.as_str());
    assert_eq!(ev["kind"], "MULTIPLE_FACES");
    assert_eq!(ev["severity"], "medium");
    assert_eq!(ev["start_offset_ms"], 5000);
    assert_eq!(ev["end_offset_ms"], 9000);
    assert!((ev["peak_confidence"].as_f64().unwrap() - 0.9).abs() < 1e-6);
    assert_eq!(ev["status"], "pending");
    let offsets: Vec<i64> = ev["clip"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["offset_ms"].as_i64().unwrap())
        .collect();
    assert_eq!(offsets, [3000, 4000, 5000]);
    assert_eq!(events[1]["id"], lost.as_str());
    assert_eq!(events[1]["start_offset_ms"], 20_000);
    assert_eq!(events[1]["thumbnails"], json!([]));
    // Thumbnails and frames are served, in order, never cached.
    let thumbs = ev["thumbnails"].as_array().unwrap();
    assert_eq!(thumbs.len(), 2);
    for (url, want) in [
        (thumbs[0].as_str().unwrap(), jpeg(1)),
        (thumbs[1].as_str().unwrap(), jpeg(2)),
        (ev["clip"][0]["url"].as_str().unwrap(), jpeg(10)),
    ] {
        let r = app.raw("GET", url, Some(&rv), None, None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.headers[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(r.headers[header::CACHE_CONTROL], "private, no-store");
        assert_eq!(r.text.as_bytes(), String::from_utf8_lossy(&want).as_bytes());
    }
    // The identity comparison and its images.
    let id = &p["identity"];
    assert!((id["similarity"].as_f64().unwrap() - 0.71).abs() < 1e-6);
    assert_eq!(id["threshold"], Value::Null, "no face analysis configured");
    let r = app
        .raw(
            "GET",
            id["selfie_url"].as_str().unwrap(),
            Some(&rv),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(r.headers[header::CACHE_CONTROL], "private, no-store");
    assert_eq!(r.text, String::from_utf8_lossy(&selfie));
    let r = app
        .raw(
            "GET",
            id["document_url"].as_str().unwrap(),
            Some(&rv),
            None,
            None,
        )
        .await;
    assert_eq!(r.headers[header::CONTENT_TYPE], "image/jpeg");
    let r = app
        .raw(
            "GET",
            &format!("/api/v1/reviews/{session}/identity/passport"),
            Some(&rv),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Opening the page was audited.
    let audit = p["audit"].as_array().unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["action"], "opened");
    assert_eq!(audit[0]["reviewer_id"], me(&app, &rv).await["id"]);
    // Candidates have no access to reviews.
    let r = app.get(&format!("/api/v1/reviews/{session}"), &token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
});

both!(the_queue_is_sorted_by_priority, |app: TestApp| async move {
    let t0 = now_ms() - 3_600_000;
    let mut sessions = Vec::new();
    // (events, finished at): low, high, medium, info-only, none.
    let plans: [(&[Severity], i64); 5] = [
        (&[Severity::Low], 1),
        (&[Severity::Low, Severity::High, Severity::Info], 2),
        (&[Severity::Medium, Severity::Low], 3),
        (&[Severity::Info, Severity::Info], 4),
        (&[], 5),
    ];
    for (severities, minute) in plans {
        let (cand, _) = candidate(&app, None).await;
        let s = session_at(&app, &cand, t0).await;
        for (k, sev) in severities.iter().enumerate() {
            record(
                &app,
                &event(&s, EventKind::LookingAway, *sev, t0 + k as i64 * 10_000),
            )
            .await;
        }
        finish(&app, &s, t0 + minute * 60_000).await;
        sessions.push(s);
    }
    let rv = app.sign_in("reviewer").await;
    let q = queue(&app, &rv).await;
    let order: Vec<&str> = q
        .iter()
        .map(|i| i["session_id"].as_str().unwrap())
        .collect();
    let want = [1, 2, 0, 3, 4].map(|i| sessions[i].as_str());
    assert_eq!(order, want);
    let priorities: Vec<&str> = q.iter().map(|i| i["priority"].as_str().unwrap()).collect();
    assert_eq!(priorities, ["high", "medium", "low", "low", "low"]);
    assert_eq!(
        q[0]["events"],
        json!({ "info": 1, "low": 1, "medium": 0, "high": 1 })
    );
    assert_eq!(q[0]["pending_events"], 2);
    assert_eq!(
        q[3]["pending_events"], 0,
        "info events never hold the decision"
    );
    // A decided session moves after the pending ones.
    assert_eq!(
        decide(&app, &rv, &sessions[3], "validated").await.status,
        StatusCode::NO_CONTENT
    );
    let q = queue(&app, &rv).await;
    assert_eq!(q.last().unwrap()["session_id"], sessions[3].as_str());
    assert_eq!(q.last().unwrap()["status"], "validated");
    assert_eq!(q[0]["session_id"], sessions[1].as_str());
});

both!(
    sessions_are_assigned_and_isolated,
    |app: TestApp| async move {
        let admin = app.sign_in("centre_admin").await;
        let centre = me(&app, &admin).await["centre_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let demo_rv = app.sign_in("reviewer").await;
        let demo_id = me(&app, &demo_rv).await["id"].as_str().unwrap().to_owned();
        let (other_id, other_rv) = reviewer(&app, &centre).await;
        // The first finished test goes to the lowest id (both have no pending review), the
        // second to the other reviewer (fewest pending).
        let t = now_ms();
        let mut sessions = Vec::new();
        for k in 0..2 {
            let (cand, _) = candidate(&app, None).await;
            let s = session_at(&app, &cand, t).await;
            finish(&app, &s, t + k).await;
            sessions.push(s);
        }
        let assignee = |s: String| {
            let pool = app.state.db.pool.clone();
            async move {
                let (a,): (Option<String>,) =
                    sqlx::query_as("SELECT assigned_to FROM reviews WHERE session_id = $1")
                        .bind(s)
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                a
            }
        };
        let (low, high) = if demo_id < other_id {
            (&demo_id, &other_id)
        } else {
            (&other_id, &demo_id)
        };
        assert_eq!(assignee(sessions[0].clone()).await.as_ref(), Some(low));
        assert_eq!(assignee(sessions[1].clone()).await.as_ref(), Some(high));
        let (first, second) = if low == &demo_id {
            (&demo_rv, &other_rv)
        } else {
            (&other_rv, &demo_rv)
        };
        // Each sees only their own, and gets 404 for the other's, whatever the route.
        let ids = |q: Vec<Value>| {
            q.iter()
                .map(|i| i["session_id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(queue(&app, first).await), [sessions[0].clone()]);
        assert_eq!(ids(queue(&app, second).await), [sessions[1].clone()]);
        let theirs = &sessions[0];
        let ev = record(
            &app,
            &EventRecord {
                thumbnails: vec![jpeg(3)],
                ..event(theirs, EventKind::FaceAbsent, Severity::High, t)
            },
        )
        .await;
        let page = app.get(&format!("/api/v1/reviews/{theirs}"), first).await;
        let thumb = page.json["events"][0]["thumbnails"][0]
            .as_str()
            .unwrap()
            .to_owned();
        for (method, path, body) in [
            ("GET", format!("/api/v1/reviews/{theirs}"), None),
            ("GET", thumb.clone(), None),
            (
                "GET",
                format!("/api/v1/reviews/{theirs}/identity/selfie"),
                None,
            ),
            (
                "POST",
                format!("/api/v1/reviews/{theirs}/events/{ev}"),
                Some(json!({ "decision": "dismissed" })),
            ),
            (
                "POST",
                format!("/api/v1/reviews/{theirs}/decision"),
                Some(json!({ "decision": "validated" })),
            ),
        ] {
            let r = app.call(method, &path, Some(second), body).await;
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::NOT_FOUND, "not_found"),
                "{method} {path}: {}",
                r.text
            );
        }
        // Nothing changed, and the audit log has only the assigned reviewer's opening.
        let (status,): (String,) =
            sqlx::query_as("SELECT status FROM proctoring_events WHERE id = $1")
                .bind(&ev)
                .fetch_one(&app.state.db.pool)
                .await
                .unwrap();
        assert_eq!(status, "pending");
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM proctoring_audit WHERE session_id = $1")
                .bind(theirs)
                .fetch_one(&app.state.db.pool)
                .await
                .unwrap();
        assert_eq!(n, 1);
        // A centre without a reviewer: the test waits unassigned, and goes to its first
        // reviewer when they list the queue.
        let platform = app.sign_in("platform_admin").await;
        let c2 = app
            .post("/api/v1/centres", &platform, json!({ "name": "Lyon" }))
            .await;
        let c2 = c2.json["id"].as_str().unwrap().to_owned();
        let (cand, _) = candidate(&app, Some(&c2)).await;
        let s = session_at(&app, &cand, t).await;
        finish(&app, &s, t).await;
        assert_eq!(assignee(s.clone()).await, None);
        let (rv2_id, rv2) = reviewer(&app, &c2).await;
        assert_eq!(ids(queue(&app, &rv2).await), std::slice::from_ref(&s));
        assert_eq!(assignee(s.clone()).await, Some(rv2_id));
        // Reviewers of the demo centre never see it.
        assert!(!ids(queue(&app, first).await).contains(&s));
        let r = app.get(&format!("/api/v1/reviews/{s}"), first).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
);

both!(
    decisions_are_stored_and_audited,
    |app: TestApp| async move {
        let (cand, _) = candidate(&app, None).await;
        let t = now_ms() - 600_000;
        let s = session_at(&app, &cand, t).await;
        let high = record(
            &app,
            &event(&s, EventKind::IdentityChanged, Severity::High, t + 1000),
        )
        .await;
        let medium = record(
            &app,
            &event(&s, EventKind::LookingAway, Severity::Medium, t + 2000),
        )
        .await;
        let info = record(
            &app,
            &event(&s, EventKind::LowQuality, Severity::Info, t + 3000),
        )
        .await;
        finish(&app, &s, t + 500_000).await;
        let rv = app.sign_in("reviewer").await;
        let rv_id = me(&app, &rv).await["id"].as_str().unwrap().to_owned();
        // Not while flags are pending.
        let r = decide(&app, &rv, &s, "validated").await;
        r.expect_error(StatusCode::CONFLICT, "events_pending");
        // A confirmed flag needs a comment; a dismissed one does not.
        let r = decide_event(
            &app,
            &rv,
            &s,
            &high,
            json!({ "decision": "confirmed", "comment": "  " }),
        )
        .await;
        r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "comment_required");
        let r = decide_event(
            &app,
            &rv,
            &s,
            &high,
            json!({ "decision": "confirmed", "comment": "another person in front of the camera" }),
        )
        .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        let r = decide_event(&app, &rv, &s, &medium, json!({ "decision": "dismissed" })).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        let r = decide_event(
            &app,
            &rv,
            &s,
            "no-such-event",
            json!({ "decision": "dismissed" }),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // Changing one's mind is allowed before the session decision.
        let r = decide_event(
            &app,
            &rv,
            &s,
            &medium,
            json!({ "decision": "confirmed", "comment": "reads notes" }),
        )
        .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        let rows: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT id, status, comment, decided_by FROM proctoring_events WHERE session_id = $1 ORDER BY start_ms",
    )
    .bind(&s)
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap();
        assert_eq!(
            rows[0],
            (
                high.clone(),
                "confirmed".into(),
                Some("another person in front of the camera".into()),
                Some(rv_id.clone())
            )
        );
        assert_eq!(
            rows[1],
            (
                medium.clone(),
                "confirmed".into(),
                Some("reads notes".into()),
                Some(rv_id.clone())
            )
        );
        assert_eq!(rows[2], (info.clone(), "pending".into(), None, None));
        // The info event does not hold the decision back.
        let r = decide(&app, &rv, &s, "invalidated").await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        let (status, by, comment): (String, Option<String>, Option<String>) = sqlx::query_as(
            "SELECT status, reviewer_id, comment FROM reviews WHERE session_id = $1",
        )
        .bind(&s)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
        assert_eq!(
            (status.as_str(), by.as_deref(), comment.as_deref()),
            ("invalidated", Some(rv_id.as_str()), Some("vu"))
        );
        // After the decision: neither events nor the session change.
        let r = decide_event(&app, &rv, &s, &medium, json!({ "decision": "dismissed" })).await;
        r.expect_error(StatusCode::CONFLICT, "already_decided");
        let r = decide(&app, &rv, &s, "validated").await;
        r.expect_error(StatusCode::CONFLICT, "already_decided");
        // The page shows the outcome and the audit log, in order.
        let p = app.get(&format!("/api/v1/reviews/{s}"), &rv).await.json;
        assert_eq!(p["status"], "invalidated");
        assert_eq!(p["decision"]["comment"], "vu");
        assert_eq!(p["events"][1]["status"], "confirmed");
        assert_eq!(p["events"][1]["comment"], "reads notes");
        let audit: Vec<(String, Value, Value)> = p["audit"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["action"].as_str().unwrap().to_owned(),
                    a["event_id"].clone(),
                    a["comment"].clone(),
                )
            })
            .collect();
        assert_eq!(
            audit,
            [
                (
                    "confirmed".to_owned(),
                    json!(high),
                    json!("another person in front of the camera")
                ),
                ("dismissed".to_owned(), json!(medium), Value::Null),
                ("confirmed".to_owned(), json!(medium), json!("reads notes")),
                ("invalidated".to_owned(), Value::Null, json!("vu")),
                ("opened".to_owned(), Value::Null, Value::Null),
            ]
        );
        assert!(
            p["audit"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["reviewer_id"] == rv_id.as_str() && a["at"].is_string())
        );
    }
);

both!(
    the_purge_deletes_old_images_only,
    |app: TestApp| async move {
        let now = now_ms();
        let mut made = Vec::new();
        // Finished 31 days ago, 29 days ago, and still in progress.
        for finished in [Some(now - 31 * DAY), Some(now - 29 * DAY), None] {
            let (cand, _) = candidate(&app, None).await;
            let start = finished.unwrap_or(now) - 3_600_000;
            let s = session_at(&app, &cand, start).await;
            let e = EventRecord {
                thumbnails: vec![jpeg(1), jpeg(2)],
                clip: vec![(start + 1000, jpeg(3))],
                ..event(&s, EventKind::FaceAbsent, Severity::Low, start + 1000)
            };
            record(&app, &e).await;
            captures(&app, &cand, b"\x89PNG\r\n\x1a\n", Some(&jpeg(4))).await;
            if let Some(at) = finished {
                finish(&app, &s, at).await;
            }
            made.push(s);
        }
        let db = &app.state.db;
        let media = |s: String| {
            let pool = db.pool.clone();
            async move {
                let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM proctoring_media m JOIN proctoring_events e ON e.id = m.event_id WHERE e.session_id = $1",
            )
            .bind(s)
            .fetch_one(&pool)
            .await
            .unwrap();
                n
            }
        };
        // 3 images of the event + selfie + document of the old session only.
        assert_eq!(proctoring::purge_media(db, now, 30).await.unwrap(), 5);
        assert_eq!(proctoring::purge_media(db, now, 30).await.unwrap(), 0);
        assert_eq!(media(made[0].clone()).await, 0);
        assert_eq!(media(made[1].clone()).await, 3);
        assert_eq!(media(made[2].clone()).await, 3);
        assert_eq!(
            proctoring::identity_selfie(db, &made[0]).await.unwrap(),
            None
        );
        assert!(
            proctoring::identity_selfie(db, &made[1])
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            proctoring::identity_selfie(db, &made[2])
                .await
                .unwrap()
                .is_some()
        );
        // Events remain, and the page says the images are gone.
        let (events,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM proctoring_events")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(events, 3);
        let rv = app.sign_in("reviewer").await;
        let p = app
            .get(&format!("/api/v1/reviews/{}", made[0]), &rv)
            .await
            .json;
        assert_eq!(p["media_purged"], true);
        assert_eq!(p["events"][0]["kind"], "FACE_ABSENT");
        assert_eq!(p["events"][0]["thumbnails"], json!([]));
        assert_eq!(p["identity"]["selfie_url"], Value::Null);
        assert!((p["identity"]["similarity"].as_f64().unwrap() - 0.71).abs() < 1e-6);
        let p = app
            .get(&format!("/api/v1/reviews/{}", made[1]), &rv)
            .await
            .json;
        assert_eq!(p["media_purged"], false);
        assert_eq!(p["events"][0]["thumbnails"].as_array().unwrap().len(), 2);
        // A day later, the second one goes too.
        assert_eq!(
            proctoring::purge_media(db, now + 2 * DAY, 30)
                .await
                .unwrap(),
            5
        );
    }
);

both!(
    malformed_requests_are_refused_clearly,
    |app: TestApp| async move {
        let (cand, token) = candidate(&app, None).await;
        let t = now_ms();
        let s = session_at(&app, &cand, t).await;
        let ev = record(&app, &event(&s, EventKind::FaceAbsent, Severity::High, t)).await;
        finish(&app, &s, t + 1).await;
        let rv = app.sign_in("reviewer").await;
        let decision = format!("/api/v1/reviews/{s}/decision");
        let on_event = format!("/api/v1/reviews/{s}/events/{ev}");
        for path in [&decision, &on_event] {
            let r = app
                .raw(
                    "POST",
                    path,
                    Some(&rv),
                    Some("{\"decision\":"),
                    Some("application/json"),
                )
                .await;
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::BAD_REQUEST, "malformed_json"),
                "{path}"
            );
            let r = app
                .raw("POST", path, Some(&rv), Some("{}"), Some("text/plain"))
                .await;
            r.expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
            let r = app
                .post(
                    path,
                    &rv,
                    json!({ "decision": "validated", "comment": "", "score": 3 }),
                )
                .await;
            r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
            assert!(r.text.contains("score"), "{}", r.text);
            let r = app.post(path, &rv, json!({ "decision": "maybe" })).await;
            r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_decision");
            let r = app.post(path, &rv, json!({ "comment": "x" })).await;
            r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        }
        let long = "x".repeat(2001);
        let r = app
            .post(
                &on_event,
                &rv,
                json!({ "decision": "confirmed", "comment": long }),
            )
            .await;
        r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_comment");
        let r = app
            .post(
                &decision,
                &rv,
                json!({ "decision": "validated", "comment": long }),
            )
            .await;
        r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_comment");
        // Nothing was decided by any of these.
        let p = app.get(&format!("/api/v1/reviews/{s}"), &rv).await.json;
        assert_eq!(p["status"], "pending");
        assert_eq!(p["events"][0]["status"], "pending");
        assert_eq!(p["audit"].as_array().unwrap().len(), 1);

        // The identity step: clear refusals before any face analysis.
        let (_, fresh) = candidate(&app, None).await;
        let r = app.get("/api/v1/me/identity", &fresh).await;
        assert_eq!(
            r.json,
            json!({ "selfie": false, "document": false, "done": true }),
            "the test helper marks the step done"
        );
        let selfie = "/api/v1/me/identity/selfie";
        let (st, body) =
            send_bytes(&app, "PUT", selfie, &fresh, "image/gif", b"GIF89a".to_vec()).await;
        assert_eq!(
            (st, body["error"]["code"].as_str()),
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Some("unsupported_media_type")
            )
        );
        let mut big = jpeg(0);
        big.resize(2 * 1024 * 1024 + 1, 0);
        let (st, body) = send_bytes(&app, "PUT", selfie, &fresh, "image/jpeg", big).await;
        assert_eq!(
            (st, body["error"]["code"].as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
        );
        let (st, body) = send_bytes(&app, "PUT", selfie, &fresh, "image/jpeg", vec![]).await;
        assert_eq!(
            (st, body["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("empty_body"))
        );
        let (st, body) = send_bytes(
            &app,
            "PUT",
            "/api/v1/me/identity/document",
            &fresh,
            "image/png",
            jpeg(1),
        )
        .await;
        assert_eq!(
            (st, body["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("unreadable_image"))
        );
        // A well-formed picture, but no face analysis on this server.
        let (st, body) = send_bytes(&app, "PUT", selfie, &fresh, "image/jpeg", jpeg(1)).await;
        assert_eq!(
            (st, body["error"]["code"].as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("vision_unavailable"))
        );
        // Once the written test has started, the captures are locked.
        let (st, body) = send_bytes(&app, "PUT", selfie, &token, "image/jpeg", jpeg(1)).await;
        assert_eq!(
            (st, body["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("identity_locked"))
        );
        // Staff have no identity step; nothing was stored.
        let (st, _) = send_bytes(&app, "PUT", selfie, &rv, "image/jpeg", jpeg(1)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM identity_captures")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        assert_eq!(n, 0);
    }
);

/// A face analysis for tests: a picture whose fifth byte is 0 shows no face; a document
/// whose fifth byte is 9 cannot be compared; any other pair scores 0.8.
struct FakeVision;

impl proctoring::IdentityVision for FakeVision {
    fn check(
        &self,
        _: proctoring::Capture,
        image: &[u8],
    ) -> Result<(), proctoring::CaptureProblem> {
        match image.get(4) {
            Some(0) => Err(proctoring::CaptureProblem::NoFace),
            _ => Ok(()),
        }
    }

    fn similarity(&self, _: &[u8], document: &[u8]) -> Result<f32, proctoring::SimilarityError> {
        match document.get(4) {
            Some(9) => Err(proctoring::SimilarityError::Document(
                proctoring::CaptureProblem::NoFace,
            )),
            _ => Ok(0.8),
        }
    }

    fn threshold(&self) -> f32 {
        0.5
    }
}

both!(
    the_identity_step_checks_stores_and_compares_the_pair,
    |app: TestApp| async move {
        let vision = std::sync::Arc::new(FakeVision);
        let mut app = app;
        app.router = exam_api::app::router(app.state.clone().with_identity_vision(vision));
        let (cand, token) = candidate(&app, None).await;
        let selfie = "/api/v1/me/identity/selfie";
        let document = "/api/v1/me/identity/document";
        // A refused capture stores nothing.
        let (st, body) = send_bytes(&app, "PUT", selfie, &token, "image/jpeg", jpeg(0)).await;
        assert_eq!(
            (st, body["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("no_face"))
        );
        // An accepted selfie clears the step until the pair is compared.
        let (st, body) = send_bytes(&app, "PUT", selfie, &token, "image/jpeg", jpeg(1)).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert_eq!(
            body,
            json!({ "accepted": true, "selfie": true, "document": false, "done": false })
        );
        // The document completes the pair: compared, the step is done.
        let (st, body) = send_bytes(&app, "PUT", document, &token, "image/jpeg", jpeg(2)).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert_eq!(
            body,
            json!({ "accepted": true, "selfie": true, "document": true, "done": true })
        );
        let similarity: Option<f64> =
            sqlx::query_scalar("SELECT similarity FROM identity_captures WHERE candidate_id = $1")
                .bind(&cand)
                .fetch_one(&app.state.db.pool)
                .await
                .unwrap();
        assert!((similarity.unwrap() - 0.8).abs() < 1e-6);
        // A pair that cannot be compared is our fault (500), and the step waits.
        let (st, body) = send_bytes(&app, "PUT", document, &token, "image/jpeg", jpeg(9)).await;
        assert_eq!(
            (st, body["error"]["code"].as_str()),
            (StatusCode::INTERNAL_SERVER_ERROR, Some("internal"))
        );
        let r = app.get("/api/v1/me/identity", &token).await;
        assert_eq!(
            r.json,
            json!({ "selfie": true, "document": true, "done": false })
        );
        // Once the written test has started, the captures are locked.
        session_at(&app, &cand, now_ms()).await;
        let (st, body) = send_bytes(&app, "PUT", selfie, &token, "image/jpeg", jpeg(1)).await;
        assert_eq!(
            (st, body["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("identity_locked"))
        );
    }
);
