//! Booking, calendar invitations, the reminder scheduler, oral scoring, results and
//! centre imports — on SQLite and on PostgreSQL.

use axum::http::StatusCode;
use exam_api::db::Db;
use exam_api::mail::scheduler::{self, Context};
use serde_json::{Value, json};

use crate::both;
use crate::common::{Res, TestApp};
use crate::flows::{levels, next_week};

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
        let candidates = app.import(50).await;
        let slot = app.slots(&candidates[0]).await[0]["id"]
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
            !app.slots(&candidates[1])
                .await
                .iter()
                .any(|s| s["id"] == slot.as_str()),
            "the slot is no longer offered"
        );
    }
);

/// The `.ics` text of the newest mail of a kind in a user's mailbox.
async fn ics_of(app: &TestApp, token: &str, kind: &str) -> String {
    let mails = app.get("/api/v1/mailbox", token).await;
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

/// Next week's slots as a candidate asks for them.
async fn own_slots(app: &TestApp, token: &str) -> Res {
    let path = format!("/api/v1/slots?from={}&days=7&tz=Europe/Paris", next_week());
    app.get(&path, token).await
}

/// The ids of the slots of a slot search.
fn slot_ids(r: &Res) -> Vec<String> {
    let slots = r.json["slots"].as_array().expect("slots");
    slots
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

both!(booking_changes_and_invitations, |app: TestApp| async move {
    let token = app.sign_in("candidate").await;
    let me = app.get("/api/v1/me", &token).await.json;
    let candidate = me["id"].as_str().unwrap().to_owned();
    // Before the written test is finished: no slot.
    let r = own_slots(&app, &token).await;
    r.expect_error(StatusCode::CONFLICT, "written_not_finished");
    app.finish_written(&candidate).await;
    let r = own_slots(&app, &token).await;
    let free = slot_ids(&r);
    assert!(free.len() > 10, "{}", r.text);
    let (a, b) = (free[0].clone(), free[1].clone());
    let booked = app
        .post("/api/v1/bookings", &token, json!({ "slot_id": a }))
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    assert_eq!(booked.json["status"], "held");
    let id = booked.json["id"].as_str().unwrap().to_owned();
    let again = app
        .post("/api/v1/bookings", &token, json!({ "slot_id": b }))
        .await;
    again.expect_error(StatusCode::CONFLICT, "already_booked");
    // Confirm: the mail with a REQUEST .ics.
    let c = app
        .post_empty(&format!("/api/v1/bookings/{id}/confirm"), &token)
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
        .put(
            &format!("/api/v1/bookings/{id}"),
            &token,
            json!({ "slot_id": b }),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    let now_free = slot_ids(&own_slots(&app, &token).await);
    assert!(now_free.contains(&a) && !now_free.contains(&b));
    let (method, uid2, seq, ..) = event_props(&ics_of(&app, &token, "booking_updated").await);
    assert_eq!(
        (method.as_str(), seq.as_str(), uid2.as_str()),
        ("REQUEST", "1", uid.as_str())
    );
    // Cancel: CANCEL, SEQUENCE 2, the slot free.
    assert_eq!(
        app.delete(&format!("/api/v1/bookings/{id}"), &token)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let (method, uid3, seq, ..) = event_props(&ics_of(&app, &token, "booking_cancelled").await);
    assert_eq!(
        (method.as_str(), seq.as_str(), uid3.as_str()),
        ("CANCEL", "2", uid.as_str())
    );
    assert!(slot_ids(&own_slots(&app, &token).await).contains(&b));
    assert_eq!(
        app.get("/api/v1/bookings/mine", &token).await.json,
        Value::Null
    );
    // Others: an evaluator cannot book; another candidate cannot touch this booking.
    assert_eq!(
        app.post("/api/v1/bookings", &ev, json!({ "slot_id": a }))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let bad = app
        .post("/api/v1/bookings", &token, json!({ "slot_id": "nope" }))
        .await;
    bad.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_slot");
});

async fn reminders(db: &Db) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM mails WHERE kind = 'reminder'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    n
}

both!(each_reminder_is_sent_once, |app: TestApp| async move {
    let candidates = app.import(2).await;
    let mut starts = Vec::new();
    for (k, c) in candidates.iter().enumerate() {
        let slot = app.slots(c).await[k * 3].clone();
        let r = app.book(&slot, c).await;
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
    let candidate = app.user_id(&token).await;
    let pending =
        |r: &crate::common::Res| r.status == StatusCode::NOT_FOUND && r.code() == "no_result";
    assert!(pending(&app.get("/api/v1/results/mine", &token).await));
    assert_eq!(
        exam_api::results::missing_parts(&app.state, &candidate)
            .await
            .unwrap(),
        ["written", "proctoring_review", "oral"]
    );
    let session = app.finish_written(&candidate).await;
    assert!(pending(&app.get("/api/v1/results/mine", &token).await));
    // The oral, booked by the centre and scored by the evaluator.
    let admin = app.sign_in("centre_admin").await;
    let interview = app.book_nth(&candidate, 0).await;
    app.held(&interview).await;
    let ev = app.sign_in("evaluator").await;
    let levels = json!({ "vocabulary_range": "C1", "grammar": "B2", "fluency": "C1", "pronunciation": "B2", "interaction": "C1" });
    let s = app
        .put(
            &format!("/api/v1/interviews/{interview}/score"),
            &ev,
            json!({ "levels": levels, "comment": "Clear and fluent." }),
        )
        .await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    assert_eq!(s.json["oral_level"], "C1");
    assert!(
        pending(&app.get("/api/v1/results/mine", &token).await),
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
        .put(
            &format!("/api/v1/interviews/{interview}/score"),
            &ev,
            json!({ "levels": { "grammar": "B2" } }),
        )
        .await;
    bad.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_score");
    // The review completes the result.
    let reviewer = app.sign_in("reviewer").await;
    let q = app.get("/api/v1/reviews", &reviewer).await;
    assert!(q.list().iter().any(|r| r["session_id"] == session.as_str()));
    let d = app
        .post(
            &format!("/api/v1/reviews/{session}/decision"),
            &reviewer,
            json!({ "decision": "validated", "comment": "" }),
        )
        .await;
    assert_eq!(d.status, StatusCode::NO_CONTENT, "{}", d.text);
    let r = app.get("/api/v1/results/mine", &token).await;
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
    let mails = app.get("/api/v1/mailbox", &token).await;
    assert!(
        mails
            .json
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["kind"] == "results_available")
    );
    // The centre sees it.
    let list = app.get("/api/v1/centre/candidates", &admin).await;
    let mine = list.find("id", &candidate);
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
        let r = app.import_csv(&admin, csv).await;
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
        let list = app.get("/api/v1/candidates", &admin).await;
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
        let r = app.import_csv(&admin, "name\nx\n").await;
        r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_header");
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

both!(
    csv_import_keeps_commas_and_line_breaks_inside_quotes,
    |app: TestApp| async move {
        let admin = app.sign_in("centre_admin").await;
        // A spreadsheet's export: a notes column whose cell holds a comma and a line
        // break; the record after it is reported on the line it starts on.
        let csv = "email,first_names,last_name,cefr_target,notes\r\n\
               ok1@example.org,\"Chloé, Marie\",Durand,B2,\"arrive early,\r\nbring the ID\"\r\n\
               ok2@example.org,Dan,Roy,Z9,\r\n\
               ok3@example.org,Eve,Dupont,A2,\"one\ntwo, three\"\r\n";
        let r = app.import_csv(&admin, csv).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json["imported"], 2, "{}", r.text);
        let lines: Vec<u64> = r.json["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["line"].as_u64().unwrap())
            .collect();
        assert_eq!(lines, [4], "{}", r.text);
        let list = app.get("/api/v1/candidates", &admin).await;
        let by_email = |email: &str| {
            list.json
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["email"] == email)
                .cloned()
        };
        assert_eq!(
            by_email("ok1@example.org").unwrap()["first_names"],
            "Chloé, Marie"
        );
        assert_eq!(by_email("ok3@example.org").unwrap()["last_name"], "Dupont");
        assert!(by_email("ok2@example.org").is_none());
    }
);

both!(the_written_window_and_its_mail, |app: TestApp| async move {
    let token = app.sign_in("candidate").await;
    let me = app.get("/api/v1/me", &token).await.json;
    let id = me["id"].as_str().unwrap().to_owned();
    let admin = app.sign_in("centre_admin").await;
    let now = chrono::Utc::now();
    let opens = now + chrono::Duration::days(2);
    let w = json!({ "opens_at": opens.to_rfc3339(), "closes_at": (opens + chrono::Duration::days(7)).to_rfc3339() });
    assert_eq!(
        app.put(&format!("/api/v1/candidates/{id}/window"), &admin, w)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let bad = json!({ "opens_at": now.to_rfc3339(), "closes_at": (now - chrono::Duration::days(1)).to_rfc3339() });
    let r = app
        .put(&format!("/api/v1/candidates/{id}/window"), &admin, bad)
        .await;
    r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_window");
    let profile = json!({ "birth_name": "MARTIN", "first_names": "Camille", "birth_date": "1994-05-17", "sex": "F", "birth_commune": "Lyon", "birth_country": "France" });
    app.put("/api/v1/me/profile", &token, profile).await;
    exam_api::testing::mark_identity_done(&app.state.db, &id)
        .await
        .unwrap();
    let r = app.post_empty("/api/v1/written", &token).await;
    r.expect_error(StatusCode::CONFLICT, "window_not_open");
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
    let mails = app.get("/api/v1/mailbox", &token).await;
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
        let ids = app.import(2).await;
        for (k, c) in ids.iter().enumerate() {
            sqlx::query("INSERT INTO candidate_profiles (user_id, birth_name, usage_name, first_names, birth_date, sex, birth_commune, birth_country, updated_at) VALUES ($1, $2, NULL, 'Test', '1990-01-01', 'M', 'Nantes', 'France', 0)")
            .bind(c)
            .bind(format!("NOM{k}"))
            .execute(&app.state.db.pool)
            .await
            .unwrap();
            let session = app.finish_written(c).await;
            let slot = app.slots(c).await[k].clone();
            let b = app.book(&slot, c).await;
            app.held(b.json["id"].as_str().unwrap()).await;
            let level = if k == 0 { "C1" } else { "A1" };
            app.score(&b.id(), levels(level)).await;
            app.decide(&session, "validated").await;
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
        let ids = app.import(2).await;
        let (mine, other) = (&ids[0], &ids[1]);
        let session = app.finish_written(mine).await;
        let admin = app.sign_in("centre_admin").await;
        let interview = app.book_nth(mine, 0).await;
        // Another candidate (signed in with their own link) cannot see or change it.
        let other_token = app.sign_in_candidate(other).await;
        let another = app.slots(mine).await[3].clone();
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
        let c2 = app.centre("Autre").await;
        let a2 = app.staff(&c2, "centre_admin", "a2@example.org").await;
        assert_eq!(
            app.delete(&format!("/api/v1/bookings/{interview}"), &a2)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.put(
                &format!("/api/v1/candidates/{mine}/target"),
                &a2,
                json!({ "cefr_target": "A1" })
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );
        // Another evaluator cannot score it; another centre's reviewer cannot decide its review.
        let ev2 = app.staff(&c2, "evaluator", "ev2@example.org").await;
        let levels = levels("B1");
        let r = app
            .put(
                &format!("/api/v1/interviews/{interview}/score"),
                &ev2,
                json!({ "levels": levels }),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
        let rv2 = app.staff(&c2, "reviewer", "rv2@example.org").await;
        let r = app
            .post(
                &format!("/api/v1/reviews/{session}/decision"),
                &rv2,
                json!({ "decision": "invalidated" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
        // Once held and scored, the interview is part of the record: it cannot be cancelled.
        app.held(&interview).await;
        assert_eq!(
            app.score(&interview, levels.clone()).await.status,
            StatusCode::OK
        );
        let r = app
            .delete(&format!("/api/v1/bookings/{interview}"), &admin)
            .await;
        r.expect_error(StatusCode::CONFLICT, "not_changeable");
        // And once the result is released, the score is final.
        app.decide(&session, "validated").await;
        let r = app.score(&interview, levels.clone()).await;
        r.expect_error(StatusCode::CONFLICT, "result_released");
    }
);

both!(
    the_evaluator_gets_prompts_for_the_target_level,
    |app: TestApp| async move {
        let ids = app.import(1).await;
        let id = app.book_nth(&ids[0], 0).await;
        let ev = app.sign_in("evaluator").await;
        let p = app
            .get(&format!("/api/v1/interviews/{id}/prompts"), &ev)
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
            .get(&format!("/api/v1/interviews/{id}/prompts?seed=1"), &ev)
            .await;
        assert_ne!(
            other.json["parts"][0], p.json["parts"][0],
            "another seed, other questions"
        );
        let cand = app.sign_in("candidate").await;
        assert_eq!(
            app.get(&format!("/api/v1/interviews/{id}/prompts"), &cand)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
);

both!(
    no_evaluator_is_double_booked_by_the_centre,
    |app: TestApp| async move {
        let candidates = app.import(3).await;
        let admin = app.sign_in("centre_admin").await;
        let evaluator = app.sign_in("evaluator").await;
        let ev = app.user_id(&evaluator).await;
        let schedule = |candidate: &str, at: &str| json!({ "candidate_id": candidate, "evaluator_id": ev, "scheduled_at": at, "duration_min": 30 });
        let first = app
            .post(
                "/api/v1/interviews",
                &admin,
                schedule(&candidates[0], "2030-01-07T08:00:00Z"),
            )
            .await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
        // 08:15–08:45 overlaps 08:00–08:30.
        let overlapping = app
            .post(
                "/api/v1/interviews",
                &admin,
                schedule(&candidates[1], "2030-01-07T08:15:00Z"),
            )
            .await;
        overlapping.expect_error(StatusCode::CONFLICT, "slot_taken");
        // Back to back is fine.
        let next = app
            .post(
                "/api/v1/interviews",
                &admin,
                schedule(&candidates[1], "2030-01-07T08:30:00Z"),
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
        let candidate = app.import(1).await.remove(0);
        let all = app.slots(&candidate).await;
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
