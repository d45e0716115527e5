//! The interview's lifecycle: an oral is scored only once the interview ended after a
//! real time in progress, or was closed as held without recording; no-shows are
//! recorded after the grace period (by the evaluator or by the sweep), audited, shown to
//! the centre and the reviewer, and the candidate may book again if the centre allows —
//! on SQLite and on PostgreSQL.

use axum::http::StatusCode;
use exam_api::interviews::store;
use exam_core::interview::Event;
use serde_json::json;

use crate::both;
use crate::common::TestApp;
use crate::flows::levels;

const MIN: i64 = 60_000;

/// An interview of a new candidate with the demo evaluator, starting `in_min` minutes
/// from now (negative: in the past); (interview, candidate).
async fn interview_in(app: &TestApp, in_min: i64) -> (String, String) {
    let candidate = app.import(1).await.remove(0);
    let admin = app.sign_in("centre_admin").await;
    let ev = app.sign_in("evaluator").await;
    let ev_id = app.me(&ev).await["id"].clone();
    let at = chrono::Utc::now() + chrono::Duration::minutes(in_min);
    let r = app
        .post("/api/v1/interviews", &admin, json!({ "candidate_id": candidate, "evaluator_id": ev_id, "scheduled_at": at.to_rfc3339() }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    (r.json["id"].as_str().unwrap().to_owned(), candidate)
}

async fn step(app: &TestApp, id: &str, event: Event, at: i64) {
    app.advance(id, event, None, at).await;
}

async fn score(app: &TestApp, id: &str) -> crate::common::Res {
    app.score(id, levels("B2")).await
}

async fn status_and_scores(app: &TestApp, id: &str) -> (String, i64) {
    let r = store::get(&app.state.db, id).await.unwrap().unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM oral_scores WHERE interview_id = $1")
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    (r.status, n)
}

both!(
    an_interview_that_did_not_take_place_is_not_scored,
    |app: TestApp| async move {
        // Two days ahead: scheduled, then each step of the room, and a too-short one.
        let (id, _) = interview_in(&app, 2 * 24 * 60).await;
        let t = store::get(&app.state.db, &id)
            .await
            .unwrap()
            .unwrap()
            .scheduled_at;
        let steps = [
            (None, "scheduled", "interview_not_ended"),
            (
                Some((Event::Arrive, t - 2 * MIN)),
                "waiting",
                "interview_not_ended",
            ),
            (
                Some((Event::IdChecked, t)),
                "id_checked",
                "interview_not_ended",
            ),
            (
                Some((Event::Start, t + MIN)),
                "in_progress",
                "interview_not_ended",
            ),
            // Ended after 9 minutes in progress: the minimum is 10.
            (
                Some((Event::End, t + 10 * MIN)),
                "ended",
                "interview_too_short",
            ),
        ];
        for (event, phase, code) in steps {
            if let Some((e, at)) = event {
                step(&app, &id, e, at).await;
            }
            let r = score(&app, &id).await;
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::CONFLICT, code),
                "{phase}: {}",
                r.text
            );
            assert_eq!(
                status_and_scores(&app, &id).await,
                (phase.to_owned(), 0),
                "a refused score changes nothing"
            );
        }
        // The evaluator's page of that interview says it ended, with its times.
        let ev = app.sign_in("evaluator").await;
        let i = app.get(&format!("/api/v1/interviews/{id}"), &ev).await;
        assert_eq!(i.json["status"], "ended");
        assert_eq!(
            (i.json["scored"].as_bool(), i.json["scoreable"].as_bool()),
            (Some(false), Some(false))
        );
        assert!(i.json["started_at"].is_string() && i.json["ended_at"].is_string());
        // Too short in the room (it went on by phone): its evaluator closes it as held
        // without recording, with a reason; the room's times stay; then it is scored.
        let ended_at = i.json["ended_at"].clone();
        let r = app
            .post(&format!("/api/v1/interviews/{id}/close"), &ev, json!({ "kind": "held_without_recording", "reason": "The connection failed; finished by phone" }))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json["closure"], "held_without_recording");
        assert_eq!(r.json["ended_at"], ended_at);
        assert_eq!(r.json["scoreable"], true);
        assert_eq!(score(&app, &id).await.status, StatusCode::OK);

        // A real interview: 10 minutes in progress or more.
        let (id, _) = interview_in(&app, 30).await;
        let t = store::get(&app.state.db, &id)
            .await
            .unwrap()
            .unwrap()
            .scheduled_at;
        for (e, at) in [
            (Event::Arrive, t),
            (Event::IdChecked, t + MIN),
            (Event::Start, t + 2 * MIN),
            (Event::End, t + 12 * MIN),
        ] {
            step(&app, &id, e, at).await;
        }
        let r = score(&app, &id).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(status_and_scores(&app, &id).await, ("ended".to_owned(), 1));
        // The steps are in the audit log, in order.
        let admin = app.sign_in("centre_admin").await;
        let audit = app
            .get(&format!("/api/v1/interviews/{id}/audit"), &admin)
            .await;
        let actions: Vec<&str> = audit
            .json
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["arrive", "id_checked", "start", "end"]);
        // Over, it cannot be cancelled or moved.
        let r = app.delete(&format!("/api/v1/bookings/{id}"), &admin).await;
        r.expect_error(StatusCode::CONFLICT, "not_changeable");
    }
);

both!(
    a_no_show_is_recorded_after_the_grace_period_and_audited,
    |app: TestApp| async move {
        let ev = app.sign_in("evaluator").await;
        let close = |id: &str, kind: &str, reason: &str| {
            let (id, body) = (id.to_owned(), json!({ "kind": kind, "reason": reason }));
            let app = &app;
            let ev = ev.clone();
            async move {
                app.post(&format!("/api/v1/interviews/{id}/close"), &ev, body)
                    .await
            }
        };
        // Five minutes after the start: still within the 10-minute grace period.
        let (id, candidate) = interview_in(&app, -5).await;
        let r = close(&id, "no_show", "Nobody came").await;
        r.expect_error(StatusCode::CONFLICT, "too_early_for_no_show");
        let r = close(&id, "no_show", "  ").await;
        r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_reason");
        // Fifteen minutes after: recorded, with the reason, by the evaluator.
        sqlx::query("UPDATE interviews SET scheduled_at = scheduled_at - $1 WHERE id = $2")
            .bind(10 * MIN)
            .bind(&id)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
        let r = close(&id, "no_show", "Nobody came; two calls unanswered").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json["status"], "no_show");
        assert_eq!(
            r.json["closure_reason"],
            "Nobody came; two calls unanswered"
        );
        // The candidate sees the phase, not the evaluator's words.
        let cand = app.sign_in_candidate(&candidate).await;
        let mine = app.get(&format!("/api/v1/interviews/{id}"), &cand).await;
        assert_eq!(mine.json["status"], "no_show");
        assert!(mine.json["closure_reason"].is_null(), "{}", mine.text);
        // Not twice, not scored.
        let again = close(&id, "held_without_recording", "After all").await;
        again.expect_error(StatusCode::CONFLICT, "no_show");
        let s = score(&app, &id).await;
        s.expect_error(StatusCode::CONFLICT, "no_show");
        let admin = app.sign_in("centre_admin").await;
        let audit = app
            .get(&format!("/api/v1/interviews/{id}/audit"), &admin)
            .await;
        let entry = &audit.json[0];
        assert_eq!(entry["action"], "no_show");
        assert_eq!(entry["from_status"], "scheduled");
        assert_eq!(entry["reason"], "Nobody came; two calls unanswered");
        let ev_id = app.me(&ev).await["id"].clone();
        assert_eq!(entry["actor_id"], ev_id);
        // The centre sees it, with the reason.
        let list = app.get("/api/v1/centre/candidates", &admin).await;
        let row = list.find("id", &candidate);
        assert_eq!(row["interview_status"], "no_show");
        assert_eq!(
            row["interview_closure_reason"],
            "Nobody came; two calls unanswered"
        );
        // So does the reviewer of the candidate's written test.
        let session = app.finish_written(&candidate).await;
        let reviewer = app.sign_in("reviewer").await;
        let page = app
            .get(&format!("/api/v1/reviews/{session}"), &reviewer)
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert_eq!(page.json["oral_closure"]["kind"], "no_show");
        assert_eq!(
            page.json["oral_closure"]["reason"],
            "Nobody came; two calls unanswered"
        );

        // The candidate may book again (the centre allows it by default)…
        let token = app.sign_in_candidate(&candidate).await;
        let free = app.slots(&candidate).await;
        let centre = app.me(&admin).await["centre_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let settings = |allowed: bool| {
            let (app, admin, centre) = (&app, admin.clone(), centre.clone());
            async move {
                app.put(
                    &format!("/api/v1/centres/{centre}/settings"),
                    &admin,
                    json!({ "rebook_after_no_show": allowed }),
                )
                .await
            }
        };
        let rebooking = json!({ "slot_id": free[0]["id"] });
        // …unless the centre says otherwise.
        let s = settings(false).await;
        assert_eq!(s.status, StatusCode::OK, "{}", s.text);
        assert_eq!(s.json["rebook_after_no_show"], false);
        let r = app
            .post("/api/v1/bookings", &token, rebooking.clone())
            .await;
        r.expect_error(StatusCode::CONFLICT, "rebooking_closed");
        settings(true).await;
        let r = app
            .post("/api/v1/bookings", &token, rebooking.clone())
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.json["status"], "held");
    }
);

both!(
    held_without_recording_is_scored_and_the_sweep_records_absences,
    |app: TestApp| async move {
        let ev = app.sign_in("evaluator").await;
        // Once its time has come, the candidate no longer cancels (nor moves) it.
        let (started, candidate) = interview_in(&app, -200).await;
        let admin = app.sign_in("centre_admin").await;
        let cand = app.sign_in_candidate(&candidate).await;
        let r = app
            .delete(&format!("/api/v1/bookings/{started}"), &cand)
            .await;
        r.expect_error(StatusCode::CONFLICT, "not_changeable");
        assert_eq!(
            store::get(&app.state.db, &started)
                .await
                .unwrap()
                .unwrap()
                .status,
            "scheduled"
        );
        // The centre still may (it is then no no-show).
        let r = app
            .delete(&format!("/api/v1/bookings/{started}"), &admin)
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        // Not before the slot's time…
        let (future, _) = interview_in(&app, 60).await;
        let body =
            json!({ "kind": "held_without_recording", "reason": "The room failed; held by phone" });
        let r = app
            .post(
                &format!("/api/v1/interviews/{future}/close"),
                &ev,
                body.clone(),
            )
            .await;
        r.expect_error(StatusCode::CONFLICT, "not_started_yet");
        // …but once it has begun: closed, audited, and then scored.
        let (id, _) = interview_in(&app, -1).await;
        let r = app
            .post(&format!("/api/v1/interviews/{id}/close"), &ev, body)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(
            (r.json["status"].as_str(), r.json["closure"].as_str()),
            (Some("ended"), Some("held_without_recording"))
        );
        let s = score(&app, &id).await;
        assert_eq!(s.status, StatusCode::OK, "{}", s.text);
        let audit = store::audit(&app.state.db, &id).await.unwrap();
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].action, "held_without_recording");
        assert_eq!(
            audit[0].reason.as_deref(),
            Some("The room failed; held by phone")
        );

        // The sweep: a slot over (30 min + 10 min of grace) whose candidate never came.
        // (One evaluator: the slots do not overlap.)
        let (gone, _) = interview_in(&app, -100).await;
        let (recent, _) = interview_in(&app, -35).await;
        let (came, _) = interview_in(&app, -160).await;
        step(
            &app,
            &came,
            Event::Arrive,
            exam_api::db::now_ms() - 159 * MIN,
        )
        .await;
        let n = store::sweep_no_shows(
            &app.state.db,
            &app.state.config.lifecycle,
            exam_api::db::now_ms(),
        )
        .await
        .unwrap();
        assert_eq!(n, 1);
        let phase = |id: String| {
            let db = app.state.db.clone();
            async move { store::get(&db, &id).await.unwrap().unwrap().status }
        };
        assert_eq!(phase(gone.clone()).await, "no_show");
        assert_eq!(phase(recent).await, "scheduled");
        assert_eq!(
            phase(came).await,
            "waiting",
            "a candidate who came is no no-show"
        );
        let audit = store::audit(&app.state.db, &gone).await.unwrap();
        assert_eq!(
            (audit[0].action.as_str(), audit[0].actor_id.as_deref()),
            ("no_show", None)
        );
    }
);
