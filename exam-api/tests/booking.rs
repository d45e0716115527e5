//! Booking, calendar invitations, the reminder scheduler, oral scoring, results and
//! centre imports — on SQLite and on PostgreSQL.

use axum::http::StatusCode;
use exam_api::db::{Db, now_ms};
use exam_api::mail::scheduler::{self, Context};
use exam_core::cat::{CatConfig, CatSession, ExposureCounts};
use serde_json::{Value, json};

use crate::both;
use crate::common::TestApp;

/// Registers candidates by CSV; returns their ids (in file order).
pub(crate) async fn import(app: &TestApp, n: usize) -> Vec<String> {
    let admin = app.sign_in("centre_admin").await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let mut csv = String::from("email,first_names,last_name,cefr_target\n");
    for i in 0..n {
        csv.push_str(&format!("c{i}-{tag}@example.org,Cand {i},Test,B1\n"));
    }
    let r = app
        .raw(
            "POST",
            "/api/v1/candidates/import",
            Some(&admin),
            Some(&csv),
            Some("text/csv"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["imported"], n);
    let list = app
        .call("GET", "/api/v1/candidates", Some(&admin), None)
        .await;
    let mut ids = Vec::new();
    for i in 0..n {
        let email = format!("c{i}-{tag}@example.org");
        ids.push(
            list.json
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["email"] == email.as_str())
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    ids
}

/// Marks a candidate's written test finished, with real engine estimates.
pub(crate) async fn finish_written(app: &TestApp, candidate: &str) -> String {
    let pool = app.state.bank.cat_pool().unwrap();
    let mut s = CatSession::new(CatConfig::default(), 3).unwrap();
    let mut exposure = ExposureCounts::new();
    while let Some(item) = s.next_item(&pool, &mut exposure) {
        let id = item.id.clone();
        let max = item.model.max_score();
        s.record(&id, max).unwrap();
    }
    let json = serde_json::to_string(&s.estimates()).unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query("INSERT INTO written_sessions (id, candidate_id, seed, time_multiplier, status, created_at, finished_at, result_json) VALUES ($1, $2, 3, 1.0, 'finished', $3, $3, $4)")
        .bind(&id)
        .bind(candidate)
        .bind(now_ms())
        .bind(json)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO reviews (session_id, status) VALUES ($1, 'pending')")
        .bind(&id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    id
}

/// Takes an interview through the lifecycle as the room does — the candidate arrives,
/// the evaluator checks the ID, starts, and ends 14 minutes later — so that it may be
/// scored.
pub(crate) async fn held(app: &TestApp, interview: &str) {
    use exam_core::interview::Event;
    let r = exam_api::interviews::store::get(&app.state.db, interview)
        .await
        .unwrap()
        .expect("the interview");
    let t = r.scheduled_at;
    for (event, at) in [
        (Event::Arrive, t - 120_000),
        (Event::IdChecked, t),
        (Event::Start, t + 60_000),
        (Event::End, t + 15 * 60_000),
    ] {
        exam_api::interviews::store::advance_now(
            &app.state.db,
            interview,
            event,
            Some(&r.evaluator_id),
            None,
            &app.state.config.lifecycle,
            at,
        )
        .await
        .unwrap_or_else(|e| panic!("{event:?}: {e}"));
    }
}

/// Next week's free slots for the demo candidate's centre (as the centre admin sees them).
pub(crate) async fn slots(app: &TestApp, candidate: &str) -> Vec<Value> {
    let admin = app.sign_in("centre_admin").await;
    let from = (chrono::Utc::now() + chrono::Duration::days(7)).format("%Y-%m-%d");
    let r = app
        .call(
            "GET",
            &format!("/api/v1/slots?from={from}&days=7&tz=Europe/Paris&candidate_id={candidate}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json["slots"].as_array().unwrap().clone()
}

/// Sends booking requests (as the centre admin) all at once; their answers, in order.
async fn bookings_at_once(app: &TestApp, bodies: Vec<Value>) -> Vec<(StatusCode, Value)> {
    let admin = app.sign_in("centre_admin").await;
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let router = app.router.clone();
            let token = admin.clone();
            tokio::spawn(async move {
                use tower::ServiceExt;
                let req = axum::http::Request::post("/api/v1/bookings")
                    .header("content-type", "application/json")
                    .header("authorization", format!("Bearer {token}"))
                    .body(axum::body::Body::from(body.to_string()))
                    .unwrap();
                let res = router.oneshot(req).await.unwrap();
                let status = res.status();
                let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
                    .await
                    .unwrap();
                (
                    status,
                    serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
                )
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers
}

both!(
    fifty_requests_for_one_slot_make_one_booking,
    |app: TestApp| async move {
        let candidates = import(&app, 50).await;
        let slot = slots(&app, &candidates[0]).await[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let bodies = candidates
            .iter()
            .map(|c| json!({ "slot_id": slot, "candidate_id": c }))
            .collect();
        let answers = bookings_at_once(&app, bodies).await;
        let mut created = 0;
        let mut taken = 0;
        for (status, body) in answers {
            match status {
                StatusCode::CREATED => created += 1,
                StatusCode::CONFLICT => {
                    assert_eq!(body["error"]["code"], "slot_taken", "{body}");
                    taken += 1;
                }
                other => panic!("unexpected {other}: {body}"),
            }
        }
        assert_eq!((created, taken), (1, 49));
        let (start_ms,): (i64,) = sqlx::query_as("SELECT scheduled_at FROM interviews WHERE status <> 'cancelled' AND candidate_id IN (SELECT user_id FROM candidates) ORDER BY created_at DESC LIMIT 1")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM interviews WHERE scheduled_at = $1 AND status <> 'cancelled'",
        )
        .bind(start_ms)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
        assert_eq!(n, 1, "one interview in the slot");
        assert!(
            !slots(&app, &candidates[1])
                .await
                .iter()
                .any(|s| s["id"] == slot.as_str()),
            "the slot is no longer offered"
        );
    }
);

/// The `.ics` text of the newest mail of a kind in a user's mailbox.
async fn ics_of(app: &TestApp, token: &str, kind: &str) -> String {
    let mails = app.call("GET", "/api/v1/mailbox", Some(token), None).await;
    let mail = mails
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} mail: {}", mails.text))
        .clone();
    let url = mail["attachments"][0]["url"].as_str().unwrap();
    let r = app.raw("GET", url, Some(token), None, None).await;
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    r.text
}

/// METHOD, UID, SEQUENCE, ORGANIZER and ATTENDEE, read back with the `icalendar` parser.
fn event_props(ics: &str) -> (String, String, String, String, String) {
    let unfolded = icalendar::parser::unfold(ics);
    let cal = icalendar::parser::read_calendar(&unfolded)
        .unwrap_or_else(|e| panic!("the .ics parses: {e}\n{ics}"));
    let prop = |props: &[icalendar::parser::Property<'_>], name: &str| {
        props
            .iter()
            .find(|p| p.name.as_str() == name)
            .map(|p| p.val.as_str().to_owned())
            .unwrap_or_else(|| panic!("{name} in\n{ics}"))
    };
    let method = prop(&cal.properties, "METHOD");
    let ev = cal
        .components
        .iter()
        .find(|c| c.name.as_str() == "VEVENT")
        .expect("a VEVENT");
    for required in ["DTSTART", "DTEND", "DTSTAMP", "SUMMARY"] {
        prop(&ev.properties, required);
    }
    (
        method,
        prop(&ev.properties, "UID"),
        prop(&ev.properties, "SEQUENCE"),
        prop(&ev.properties, "ORGANIZER"),
        prop(&ev.properties, "ATTENDEE"),
    )
}

both!(booking_changes_and_invitations, |app: TestApp| async move {
    let token = app.sign_in("candidate").await;
    let me = app.call("GET", "/api/v1/me", Some(&token), None).await.json;
    let candidate = me["id"].as_str().unwrap().to_owned();
    // Before the written test is finished: no slot.
    let from = (chrono::Utc::now() + chrono::Duration::days(7))
        .format("%Y-%m-%d")
        .to_string();
    let r = app
        .call(
            "GET",
            &format!("/api/v1/slots?from={from}&days=7&tz=Europe/Paris"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "written_not_finished")
    );
    finish_written(&app, &candidate).await;
    let r = app
        .call(
            "GET",
            &format!("/api/v1/slots?from={from}&days=7&tz=Europe/Paris"),
            Some(&token),
            None,
        )
        .await;
    let free: Vec<String> = r.json["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(free.len() > 10, "{}", r.text);
    let (a, b) = (free[0].clone(), free[1].clone());
    let booked = app
        .call(
            "POST",
            "/api/v1/bookings",
            Some(&token),
            Some(json!({ "slot_id": a })),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    assert_eq!(booked.json["status"], "held");
    let id = booked.json["id"].as_str().unwrap().to_owned();
    let again = app
        .call(
            "POST",
            "/api/v1/bookings",
            Some(&token),
            Some(json!({ "slot_id": b })),
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "already_booked")
    );
    // Confirm: the mail with a REQUEST .ics.
    let c = app
        .call(
            "POST",
            &format!("/api/v1/bookings/{id}/confirm"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(c.json["status"], "confirmed");
    let (method, uid, seq, organizer, attendee) =
        event_props(&ics_of(&app, &token, "booking_confirmed").await);
    assert_eq!((method.as_str(), seq.as_str()), ("REQUEST", "0"));
    assert_eq!(uid, format!("{id}@langcert"));
    assert!(
        organizer.starts_with("mailto:") && attendee.contains(me["email"].as_str().unwrap()),
        "{organizer} {attendee}"
    );
    // The evaluator received it too.
    let ev = app.sign_in("evaluator").await;
    event_props(&ics_of(&app, &ev, "booking_confirmed").await);
    // Reschedule: the old slot is free again, same UID, SEQUENCE 1.
    let moved = app
        .call(
            "PUT",
            &format!("/api/v1/bookings/{id}"),
            Some(&token),
            Some(json!({ "slot_id": b })),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    let r = app
        .call(
            "GET",
            &format!("/api/v1/slots?from={from}&days=7&tz=Europe/Paris"),
            Some(&token),
            None,
        )
        .await;
    let now_free: Vec<&str> = r.json["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(now_free.contains(&a.as_str()) && !now_free.contains(&b.as_str()));
    let (method, uid2, seq, ..) = event_props(&ics_of(&app, &token, "booking_updated").await);
    assert_eq!(
        (method.as_str(), seq.as_str(), uid2.as_str()),
        ("REQUEST", "1", uid.as_str())
    );
    // Cancel: CANCEL, SEQUENCE 2, the slot free.
    assert_eq!(
        app.call(
            "DELETE",
            &format!("/api/v1/bookings/{id}"),
            Some(&token),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let (method, uid3, seq, ..) = event_props(&ics_of(&app, &token, "booking_cancelled").await);
    assert_eq!(
        (method.as_str(), seq.as_str(), uid3.as_str()),
        ("CANCEL", "2", uid.as_str())
    );
    let r = app
        .call(
            "GET",
            &format!("/api/v1/slots?from={from}&days=7&tz=Europe/Paris"),
            Some(&token),
            None,
        )
        .await;
    assert!(
        r.json["slots"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == b.as_str())
    );
    assert_eq!(
        app.call("GET", "/api/v1/bookings/mine", Some(&token), None)
            .await
            .json,
        Value::Null
    );
    // Others: an evaluator cannot book; another candidate cannot touch this booking.
    assert_eq!(
        app.call(
            "POST",
            "/api/v1/bookings",
            Some(&ev),
            Some(json!({ "slot_id": a }))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let bad = app
        .call(
            "POST",
            "/api/v1/bookings",
            Some(&token),
            Some(json!({ "slot_id": "nope" })),
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_slot")
    );
});

async fn reminders(db: &Db) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM mails WHERE kind = 'reminder'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    n
}

both!(each_reminder_is_sent_once, |app: TestApp| async move {
    let candidates = import(&app, 2).await;
    let admin = app.sign_in("centre_admin").await;
    let mut starts = Vec::new();
    for (k, c) in candidates.iter().enumerate() {
        let slot = slots(&app, c).await[k * 3].clone();
        let r = app
            .call(
                "POST",
                "/api/v1/bookings",
                Some(&admin),
                Some(json!({ "slot_id": slot["id"], "candidate_id": c })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        starts.push(
            chrono::DateTime::parse_from_rfc3339(slot["start"].as_str().unwrap())
                .unwrap()
                .timestamp_millis(),
        );
    }
    let ctx = Context {
        public_url: "http://test".into(),
        link_ttl_ms: 3_600_000,
    };
    let db = &app.state.db;
    // Virtual time: nothing before 24 h ahead of the first interview …
    let first_due = starts[0] - 24 * 3600 * 1000;
    assert_eq!(
        scheduler::run_due(db, &ctx, first_due - 1).await.unwrap(),
        0
    );
    // … then exactly its reminder, once, however often the scheduler runs.
    assert_eq!(scheduler::run_due(db, &ctx, first_due).await.unwrap(), 1);
    assert_eq!(
        scheduler::run_due(db, &ctx, first_due + 1000)
            .await
            .unwrap(),
        0
    );
    assert_eq!(reminders(db).await, 1);
    // After a "restart" (a new pool on the same database), still nothing twice.
    let restarted = Db::connect(&app.db_url()).await.unwrap();
    assert_eq!(
        scheduler::run_due(&restarted, &ctx, first_due + 2000)
            .await
            .unwrap(),
        0
    );
    // Two processes at the second reminder's time: one sends it.
    let other = Db::connect(&app.db_url()).await.unwrap();
    let second_due = starts[1] - 24 * 3600 * 1000;
    let (x, y) = tokio::join!(
        scheduler::run_due(&restarted, &ctx, second_due),
        scheduler::run_due(&other, &ctx, second_due)
    );
    assert_eq!(x.unwrap() + y.unwrap(), 1);
    assert_eq!(reminders(db).await, 2);
    let mail = app.call("GET", "/api/v1/mailbox", None, None).await;
    assert_eq!(mail.status, StatusCode::UNAUTHORIZED);
    restarted.close().await;
    other.close().await;
});

both!(a_result_waits_for_every_part, |app: TestApp| async move {
    let token = app.sign_in("candidate").await;
    let candidate = app.call("GET", "/api/v1/me", Some(&token), None).await.json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pending =
        |r: &crate::common::Res| r.status == StatusCode::NOT_FOUND && r.code() == "no_result";
    assert!(pending(
        &app.call("GET", "/api/v1/results/mine", Some(&token), None)
            .await
    ));
    assert_eq!(
        exam_api::results::missing_parts(&app.state, &candidate)
            .await
            .unwrap(),
        ["written", "proctoring_review", "oral"]
    );
    let session = finish_written(&app, &candidate).await;
    assert!(pending(
        &app.call("GET", "/api/v1/results/mine", Some(&token), None)
            .await
    ));
    // The oral, booked by the centre and scored by the evaluator.
    let admin = app.sign_in("centre_admin").await;
    let slot = slots(&app, &candidate).await[0].clone();
    let b = app
        .call(
            "POST",
            "/api/v1/bookings",
            Some(&admin),
            Some(json!({ "slot_id": slot["id"], "candidate_id": candidate })),
        )
        .await;
    let interview = b.json["id"].as_str().unwrap().to_owned();
    held(&app, &interview).await;
    let ev = app.sign_in("evaluator").await;
    let levels = json!({ "vocabulary_range": "C1", "grammar": "B2", "fluency": "C1", "pronunciation": "B2", "interaction": "C1" });
    let s = app
        .call(
            "PUT",
            &format!("/api/v1/interviews/{interview}/score"),
            Some(&ev),
            Some(json!({ "levels": levels, "comment": "Clear and fluent." })),
        )
        .await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    assert_eq!(s.json["oral_level"], "C1");
    assert!(
        pending(
            &app.call("GET", "/api/v1/results/mine", Some(&token), None)
                .await
        ),
        "no result without the review"
    );
    assert_eq!(
        exam_api::results::missing_parts(&app.state, &candidate)
            .await
            .unwrap(),
        ["proctoring_review"]
    );
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM results")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    // Bad scores are refused.
    let bad = app
        .call(
            "PUT",
            &format!("/api/v1/interviews/{interview}/score"),
            Some(&ev),
            Some(json!({ "levels": { "grammar": "B2" } })),
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_score")
    );
    // The review completes the result.
    let reviewer = app.sign_in("reviewer").await;
    let q = app
        .call("GET", "/api/v1/reviews", Some(&reviewer), None)
        .await;
    assert!(
        q.json
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["session_id"] == session.as_str())
    );
    let d = app
        .call(
            "POST",
            &format!("/api/v1/reviews/{session}/decision"),
            Some(&reviewer),
            Some(json!({ "decision": "validated", "comment": "" })),
        )
        .await;
    assert_eq!(d.status, StatusCode::NO_CONTENT, "{}", d.text);
    let r = app
        .call("GET", "/api/v1/results/mine", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["written"].as_array().unwrap().len(), 5);
    assert_eq!(r.json["oral"]["level"], "C1");
    assert_eq!(r.json["status"], "valid");
    assert!(
        r.json["certificate_id"].is_string(),
        "target B2 reached: {}",
        r.text
    );
    let pdf = app
        .raw(
            "GET",
            "/api/v1/results/mine/attestation.pdf",
            Some(&token),
            None,
            None,
        )
        .await;
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    assert!(pdf.text.starts_with("%PDF-1.4"));
    let mails = app.call("GET", "/api/v1/mailbox", Some(&token), None).await;
    assert!(
        mails
            .json
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["kind"] == "results_available")
    );
    // The centre sees it.
    let list = app
        .call("GET", "/api/v1/centre/candidates", Some(&admin), None)
        .await;
    let mine = list
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == candidate.as_str())
        .unwrap()
        .clone();
    assert_eq!(mine["result"]["overall"], r.json["overall"]);
});

both!(
    csv_import_reports_bad_rows_and_imports_the_rest,
    |app: TestApp| async move {
        let admin = app.sign_in("centre_admin").await;
        let csv = "email,first_names,last_name,cefr_target,time_multiplier\n\
               ok1@example.org,Ana,Lopes,B1,\n\
               not-an-email,Bob,Martin,B2,\n\
               ok2@example.org,\"Chloé, Marie\",Durand,C1,1.33\n\
               ok3@example.org,Dan,Roy,Z9,\n\
               ok1@example.org,Eve,Dupont,A2,\n\
               ok4@example.org,Fay,Blanc\n\
               ok5@example.org,Guy,Noir,B1,9\n";
        let r = app
            .raw(
                "POST",
                "/api/v1/candidates/import",
                Some(&admin),
                Some(csv),
                Some("text/csv"),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json["imported"], 2);
        let lines: Vec<u64> = r.json["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["line"].as_u64().unwrap())
            .collect();
        assert_eq!(lines, [3, 5, 6, 7, 8], "{}", r.text);
        for e in r.json["errors"].as_array().unwrap() {
            assert!(!e["reason"].as_str().unwrap().is_empty());
        }
        let list = app
            .call("GET", "/api/v1/candidates", Some(&admin), None)
            .await;
        let chloe = list
            .json
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["email"] == "ok2@example.org")
            .unwrap()
            .clone();
        assert_eq!(chloe["first_names"], "Chloé, Marie");
        assert_eq!(chloe["time_multiplier"], 1.33);
        // Each imported candidate got an invitation mail with their link.
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM mails WHERE kind = 'invitation'")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        assert_eq!(n, 2);
        let r = app
            .raw(
                "POST",
                "/api/v1/candidates/import",
                Some(&admin),
                Some("name\nx\n"),
                Some("text/csv"),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_header")
        );
        let r = app
            .raw(
                "POST",
                "/api/v1/candidates/import",
                Some(&admin),
                Some("x"),
                Some("application/json"),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
);

both!(the_written_window_and_its_mail, |app: TestApp| async move {
    let token = app.sign_in("candidate").await;
    let me = app.call("GET", "/api/v1/me", Some(&token), None).await.json;
    let id = me["id"].as_str().unwrap().to_owned();
    let admin = app.sign_in("centre_admin").await;
    let now = chrono::Utc::now();
    let opens = now + chrono::Duration::days(2);
    let w = json!({ "opens_at": opens.to_rfc3339(), "closes_at": (opens + chrono::Duration::days(7)).to_rfc3339() });
    assert_eq!(
        app.call(
            "PUT",
            &format!("/api/v1/candidates/{id}/window"),
            Some(&admin),
            Some(w)
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let bad = json!({ "opens_at": now.to_rfc3339(), "closes_at": (now - chrono::Duration::days(1)).to_rfc3339() });
    let r = app
        .call(
            "PUT",
            &format!("/api/v1/candidates/{id}/window"),
            Some(&admin),
            Some(bad),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_window")
    );
    let profile = json!({ "birth_name": "MARTIN", "first_names": "Camille", "birth_date": "1994-05-17", "sex": "F", "birth_commune": "Lyon", "birth_country": "France" });
    app.call("PUT", "/api/v1/me/profile", Some(&token), Some(profile))
        .await;
    exam_api::testing::mark_identity_done(&app.state.db, &id)
        .await
        .unwrap();
    let r = app
        .call("POST", "/api/v1/written", Some(&token), None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "window_not_open")
    );
    // The "written test available" mail goes out when the window opens, once.
    let ctx = Context {
        public_url: "http://test".into(),
        link_ttl_ms: 3_600_000,
    };
    let at = opens.timestamp_millis();
    assert_eq!(
        scheduler::run_due(&app.state.db, &ctx, at - 1)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        scheduler::run_due(&app.state.db, &ctx, at).await.unwrap(),
        1
    );
    assert_eq!(
        scheduler::run_due(&app.state.db, &ctx, at + 1)
            .await
            .unwrap(),
        0
    );
    let mails = app.call("GET", "/api/v1/mailbox", Some(&token), None).await;
    let mail = mails
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "written_available")
        .unwrap()
        .clone();
    assert!(
        mail["body"]
            .as_str()
            .unwrap()
            .contains("http://test/signin/"),
        "{mail}"
    );
});

both!(
    cpf_export_lists_levels_or_insuffisant,
    |app: TestApp| async move {
        let ids = import(&app, 2).await;
        let admin = app.sign_in("centre_admin").await;
        let reviewer = app.sign_in("reviewer").await;
        let ev = app.sign_in("evaluator").await;
        for (k, c) in ids.iter().enumerate() {
            sqlx::query("INSERT INTO candidate_profiles (user_id, birth_name, usage_name, first_names, birth_date, sex, birth_commune, birth_country, updated_at) VALUES ($1, $2, NULL, 'Test', '1990-01-01', 'M', 'Nantes', 'France', 0)")
            .bind(c)
            .bind(format!("NOM{k}"))
            .execute(&app.state.db.pool)
            .await
            .unwrap();
            let session = finish_written(&app, c).await;
            let slot = slots(&app, c).await[k].clone();
            let b = app
                .call(
                    "POST",
                    "/api/v1/bookings",
                    Some(&admin),
                    Some(json!({ "slot_id": slot["id"], "candidate_id": c })),
                )
                .await;
            held(&app, b.json["id"].as_str().unwrap()).await;
            let level = if k == 0 { "C1" } else { "A1" };
            let levels = json!({ "vocabulary_range": level, "grammar": level, "fluency": level, "pronunciation": level, "interaction": level });
            app.call(
                "PUT",
                &format!(
                    "/api/v1/interviews/{}/score",
                    b.json["id"].as_str().unwrap()
                ),
                Some(&ev),
                Some(json!({ "levels": levels })),
            )
            .await;
            app.call(
                "POST",
                &format!("/api/v1/reviews/{session}/decision"),
                Some(&reviewer),
                Some(json!({ "decision": "validated" })),
            )
            .await;
        }
        let rows = exam_api::results::cpf::rows(&app.state.db, "http://test")
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert_ne!(rows[0].niveau, "INSUFFISANT", "{rows:?}");
        assert!(rows[0].url_verification.starts_with("http://test/verify/"));
        assert_eq!(
            rows[1].niveau, "INSUFFISANT",
            "an A1 oral is below the B1 target"
        );
        assert_eq!(rows[1].url_verification, "");
        assert_eq!(rows[0].modalite, "A distance");
        let csv = exam_api::results::cpf::to_csv(&rows);
        assert!(csv.starts_with("nom_naissance;nom_usage;prenoms;date_naissance;"));
        assert_eq!(csv.lines().count(), 3);
    }
);

both!(
    only_the_right_people_change_bookings_scores_and_reviews,
    |app: TestApp| async move {
        let ids = import(&app, 2).await;
        let (mine, other) = (&ids[0], &ids[1]);
        let session = finish_written(&app, mine).await;
        let admin = app.sign_in("centre_admin").await;
        let slot = slots(&app, mine).await[0].clone();
        let b = app
            .call(
                "POST",
                "/api/v1/bookings",
                Some(&admin),
                Some(json!({ "slot_id": slot["id"], "candidate_id": mine })),
            )
            .await;
        let interview = b.json["id"].as_str().unwrap().to_owned();
        // Another candidate (signed in with their own link) cannot see or change it.
        let other_link = app
            .call(
                "POST",
                &format!("/api/v1/candidates/{other}/links"),
                Some(&admin),
                None,
            )
            .await;
        let other_token = app
            .sign_in_url(other_link.json["sign_in_url"].as_str().unwrap())
            .await;
        let another = slots(&app, mine).await[3].clone();
        for (method, path, body) in [
            (
                "PUT",
                format!("/api/v1/bookings/{interview}"),
                Some(json!({ "slot_id": another["id"] })),
            ),
            (
                "POST",
                format!("/api/v1/bookings/{interview}/confirm"),
                None,
            ),
            ("DELETE", format!("/api/v1/bookings/{interview}"), None),
        ] {
            let r = app.call(method, &path, Some(&other_token), body).await;
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::NOT_FOUND, "not_found"),
                "{method} {path}: {}",
                r.text
            );
        }
        // An admin of another centre neither.
        let platform = app.sign_in("platform_admin").await;
        let c2 = app
            .call(
                "POST",
                "/api/v1/centres",
                Some(&platform),
                Some(json!({ "name": "Autre" })),
            )
            .await;
        let staff = |role: &str, email: &str| json!({ "role": role, "email": email, "first_names": "X", "last_name": "Y" });
        let a2 = app
            .call(
                "POST",
                &format!("/api/v1/centres/{}/staff", c2.json["id"].as_str().unwrap()),
                Some(&platform),
                Some(staff("centre_admin", "a2@example.org")),
            )
            .await;
        let a2 = app
            .sign_in_url(a2.json["sign_in_url"].as_str().unwrap())
            .await;
        assert_eq!(
            app.call(
                "DELETE",
                &format!("/api/v1/bookings/{interview}"),
                Some(&a2),
                None
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.call(
                "PUT",
                &format!("/api/v1/candidates/{mine}/target"),
                Some(&a2),
                Some(json!({ "cefr_target": "A1" }))
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );
        // Another evaluator cannot score it; another centre's reviewer cannot decide its review.
        let ev2 = app
            .call(
                "POST",
                &format!("/api/v1/centres/{}/staff", c2.json["id"].as_str().unwrap()),
                Some(&platform),
                Some(staff("evaluator", "ev2@example.org")),
            )
            .await;
        let ev2 = app
            .sign_in_url(ev2.json["sign_in_url"].as_str().unwrap())
            .await;
        let levels = json!({ "vocabulary_range": "B1", "grammar": "B1", "fluency": "B1", "pronunciation": "B1", "interaction": "B1" });
        let r = app
            .call(
                "PUT",
                &format!("/api/v1/interviews/{interview}/score"),
                Some(&ev2),
                Some(json!({ "levels": levels })),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
        let rv2 = app
            .call(
                "POST",
                &format!("/api/v1/centres/{}/staff", c2.json["id"].as_str().unwrap()),
                Some(&platform),
                Some(staff("reviewer", "rv2@example.org")),
            )
            .await;
        let rv2 = app
            .sign_in_url(rv2.json["sign_in_url"].as_str().unwrap())
            .await;
        let r = app
            .call(
                "POST",
                &format!("/api/v1/reviews/{session}/decision"),
                Some(&rv2),
                Some(json!({ "decision": "invalidated" })),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
        // Once held and scored, the interview is part of the record: it cannot be cancelled.
        held(&app, &interview).await;
        let ev = app.sign_in("evaluator").await;
        assert_eq!(
            app.call(
                "PUT",
                &format!("/api/v1/interviews/{interview}/score"),
                Some(&ev),
                Some(json!({ "levels": levels }))
            )
            .await
            .status,
            StatusCode::OK
        );
        let r = app
            .call(
                "DELETE",
                &format!("/api/v1/bookings/{interview}"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::CONFLICT, "not_changeable")
        );
        // And once the result is released, the score is final.
        let reviewer = app.sign_in("reviewer").await;
        app.call(
            "POST",
            &format!("/api/v1/reviews/{session}/decision"),
            Some(&reviewer),
            Some(json!({ "decision": "validated" })),
        )
        .await;
        let r = app
            .call(
                "PUT",
                &format!("/api/v1/interviews/{interview}/score"),
                Some(&ev),
                Some(json!({ "levels": levels })),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::CONFLICT, "result_released")
        );
    }
);

both!(
    the_evaluator_gets_prompts_for_the_target_level,
    |app: TestApp| async move {
        let ids = import(&app, 1).await;
        let admin = app.sign_in("centre_admin").await;
        let slot = slots(&app, &ids[0]).await[0].clone();
        let b = app
            .call(
                "POST",
                "/api/v1/bookings",
                Some(&admin),
                Some(json!({ "slot_id": slot["id"], "candidate_id": ids[0] })),
            )
            .await;
        let id = b.json["id"].as_str().unwrap().to_owned();
        let ev = app.sign_in("evaluator").await;
        let p = app
            .call(
                "GET",
                &format!("/api/v1/interviews/{id}/prompts"),
                Some(&ev),
                None,
            )
            .await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.text);
        assert_eq!(p.json["level"], "B1");
        let parts: Vec<&str> = p.json["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["part"].as_str().unwrap())
            .collect();
        assert_eq!(parts, ["introduction", "role_play", "discussion"]);
        assert_eq!(p.json["parts"][0]["prompts"].as_array().unwrap().len(), 4);
        assert!(
            p.json["parts"][1]["situation"].is_string() && p.json["parts"][2]["topic"].is_string()
        );
        let other = app
            .call(
                "GET",
                &format!("/api/v1/interviews/{id}/prompts?seed=1"),
                Some(&ev),
                None,
            )
            .await;
        assert_ne!(
            other.json["parts"][0], p.json["parts"][0],
            "another seed, other questions"
        );
        let cand = app.sign_in("candidate").await;
        assert_eq!(
            app.call(
                "GET",
                &format!("/api/v1/interviews/{id}/prompts"),
                Some(&cand),
                None
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
    }
);

both!(
    no_evaluator_is_double_booked_by_the_centre,
    |app: TestApp| async move {
        let candidates = import(&app, 3).await;
        let admin = app.sign_in("centre_admin").await;
        let evaluator = app.sign_in("evaluator").await;
        let ev = app
            .call("GET", "/api/v1/me", Some(&evaluator), None)
            .await
            .json["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let schedule = |candidate: &str, at: &str| json!({ "candidate_id": candidate, "evaluator_id": ev, "scheduled_at": at, "duration_min": 30 });
        let first = app
            .call(
                "POST",
                "/api/v1/interviews",
                Some(&admin),
                Some(schedule(&candidates[0], "2030-01-07T08:00:00Z")),
            )
            .await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
        // 08:15–08:45 overlaps 08:00–08:30.
        let overlapping = app
            .call(
                "POST",
                "/api/v1/interviews",
                Some(&admin),
                Some(schedule(&candidates[1], "2030-01-07T08:15:00Z")),
            )
            .await;
        assert_eq!(
            (overlapping.status, overlapping.code()),
            (StatusCode::CONFLICT, "slot_taken"),
            "{}",
            overlapping.text
        );
        // Back to back is fine.
        let next = app
            .call(
                "POST",
                "/api/v1/interviews",
                Some(&admin),
                Some(schedule(&candidates[1], "2030-01-07T08:30:00Z")),
            )
            .await;
        assert_eq!(next.status, StatusCode::CREATED, "{}", next.text);
        // The database itself refuses an overlap, whoever writes it: an insert and a
        // move that would overlap both fail; a cancelled interview does not count.
        let insert = |id: &'static str, candidate: String, at: i64, status: &'static str| {
            let db = app.state.db.clone();
            let ev = ev.clone();
            async move {
                sqlx::query("INSERT INTO interviews (id, centre_id, candidate_id, evaluator_id, scheduled_at, duration_min, target_cefr, status, created_at) \
                             SELECT $1, centre_id, $2, $3, $4, 30, 'B1', $5, 0 FROM candidates WHERE user_id = $2")
                    .bind(id)
                    .bind(candidate)
                    .bind(ev)
                    .bind(at)
                    .bind(status)
                    .execute(&db.pool)
                    .await
            }
        };
        let t0 = chrono::DateTime::parse_from_rfc3339("2030-01-07T08:00:00Z")
            .unwrap()
            .timestamp_millis();
        let e = insert(
            "x-overlap",
            candidates[2].clone(),
            t0 + 10 * 60_000,
            "scheduled",
        )
        .await
        .expect_err("an overlapping insert is refused by the database");
        assert!(
            exam_api::db::violates(&e, "interviews_no_overlap", ""),
            "the overlap constraint is named: {e}"
        );
        insert(
            "x-cancelled",
            candidates[2].clone(),
            t0 + 10 * 60_000,
            "cancelled",
        )
        .await
        .expect("a cancelled interview may overlap");
        let moved = sqlx::query("UPDATE interviews SET scheduled_at = $1 WHERE id = $2")
            .bind(t0 + 20 * 60_000)
            .bind(next.json["id"].as_str().unwrap())
            .execute(&app.state.db.pool)
            .await
            .expect_err("moving onto another interview is refused by the database");
        assert!(
            exam_api::db::violates(&moved, "interviews_no_overlap", ""),
            "{moved}"
        );
        let revived =
            sqlx::query("UPDATE interviews SET status = 'scheduled' WHERE id = 'x-cancelled'")
                .execute(&app.state.db.pool)
                .await
                .expect_err("un-cancelling into an overlap is refused");
        assert!(
            exam_api::db::violates(&revived, "interviews_no_overlap", ""),
            "{revived}"
        );
    }
);

both!(
    a_candidate_booking_two_slots_at_once_is_told_already_booked,
    |app: TestApp| async move {
        let candidate = import(&app, 1).await.remove(0);
        let all = slots(&app, &candidate).await;
        // Ten different slots for the same candidate, at the same time.
        let bodies = all
            .iter()
            .take(10)
            .map(|s| json!({ "slot_id": s["id"], "candidate_id": candidate }))
            .collect();
        let answers = bookings_at_once(&app, bodies).await;
        assert_eq!(answers.len(), 10);
        let mut created = 0;
        for (status, body) in answers {
            match status {
                StatusCode::CREATED => created += 1,
                StatusCode::CONFLICT => {
                    assert_eq!(body["error"]["code"], "already_booked", "{body}")
                }
                other => panic!("unexpected {other}: {body}"),
            }
        }
        assert_eq!(created, 1, "one booking");
    }
);
