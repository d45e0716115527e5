//! The flows the tests share, as the people of a centre play them through the API:
//! importing candidates, finishing a written test, booking, holding and scoring an
//! interview, deciding a review, adding staff.

use axum::http::StatusCode;
use exam_api::db::now_ms;
use exam_core::cat::{CatConfig, CatSession, ExposureCounts};
use serde_json::{Value, json};

use crate::common::{Res, TestApp};

impl TestApp {
    /// The `/api/v1/me` of a session.
    pub(crate) async fn me(&self, token: &str) -> Value {
        self.get("/api/v1/me", token)
            .await
            .expect(StatusCode::OK)
            .json
    }

    /// The user id of a session.
    pub(crate) async fn user_id(&self, token: &str) -> String {
        self.me(token).await["id"].as_str().unwrap().to_owned()
    }

    /// Posts a CSV of candidates to the import as the holder of `token`.
    pub(crate) async fn import_csv(&self, token: &str, csv: &str) -> Res {
        self.raw(
            "POST",
            "/api/v1/candidates/import",
            Some(token),
            Some(csv),
            Some("text/csv"),
        )
        .await
    }

    /// Registers candidates by CSV; returns their ids (in file order).
    pub(crate) async fn import(&self, n: usize) -> Vec<String> {
        let admin = self.sign_in("centre_admin").await;
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let mut csv = String::from("email,first_names,last_name,cefr_target\n");
        for i in 0..n {
            csv.push_str(&format!("c{i}-{tag}@example.org,Cand {i},Test,B1\n"));
        }
        let r = self.import_csv(&admin, &csv).await.expect(StatusCode::OK);
        assert_eq!(r.json["imported"], n);
        let list = self.get("/api/v1/candidates", &admin).await;
        (0..n)
            .map(|i| {
                let c = list.find("email", &format!("c{i}-{tag}@example.org"));
                c["id"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    /// Marks a candidate's written test finished, with real engine estimates; returns the
    /// session id (its review pending).
    pub(crate) async fn finish_written(&self, candidate: &str) -> String {
        let pool = self.state.bank.cat_pool().unwrap();
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
            .execute(&self.state.db.pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO reviews (session_id, status) VALUES ($1, 'pending')")
            .bind(&id)
            .execute(&self.state.db.pool)
            .await
            .unwrap();
        id
    }

    /// Takes an interview through the lifecycle as the room does — the candidate arrives,
    /// the evaluator checks the ID, starts, and ends 14 minutes later — so that it may be
    /// scored.
    pub(crate) async fn held(&self, interview: &str) {
        use exam_core::interview::Event;
        let r = exam_api::interviews::store::get(&self.state.db, interview)
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
            self.advance(interview, event, Some(&r.evaluator_id), at)
                .await;
        }
    }

    /// Applies one lifecycle event to an interview at `at` (by a user or by the system).
    pub(crate) async fn advance(
        &self,
        interview: &str,
        event: exam_core::interview::Event,
        by: Option<&str>,
        at: i64,
    ) {
        let config = &self.state.config.lifecycle;
        exam_api::interviews::store::advance_now(
            &self.state.db,
            interview,
            event,
            by,
            None,
            config,
            at,
        )
        .await
        .unwrap_or_else(|e| panic!("{event:?}: {e}"));
    }

    /// Next week's free slots for a candidate's centre (as the centre admin sees them).
    pub(crate) async fn slots(&self, candidate: &str) -> Vec<Value> {
        let admin = self.sign_in("centre_admin").await;
        let path = format!(
            "/api/v1/slots?from={}&days=7&tz=Europe/Paris&candidate_id={candidate}",
            next_week()
        );
        let r = self.get(&path, &admin).await.expect(StatusCode::OK);
        r.json["slots"].as_array().unwrap().clone()
    }

    /// The centre admin books a slot for a candidate; the booking's answer.
    pub(crate) async fn book(&self, slot: &Value, candidate: &str) -> Res {
        let admin = self.sign_in("centre_admin").await;
        let body = json!({ "slot_id": slot["id"], "candidate_id": candidate });
        self.post("/api/v1/bookings", &admin, body).await
    }

    /// The centre admin books the `k`-th of next week's slots for a candidate; the
    /// interview id.
    pub(crate) async fn book_nth(&self, candidate: &str, k: usize) -> String {
        let slot = self.slots(candidate).await[k].clone();
        self.book(&slot, candidate)
            .await
            .expect(StatusCode::CREATED)
            .id()
    }

    /// The demo evaluator scores an interview with these criterion levels.
    pub(crate) async fn score(&self, interview: &str, levels: Value) -> Res {
        let ev = self.sign_in("evaluator").await;
        let path = format!("/api/v1/interviews/{interview}/score");
        self.put(&path, &ev, json!({ "levels": levels })).await
    }

    /// The demo reviewer decides a written session's review (`validated`, `invalidated`).
    pub(crate) async fn decide(&self, session: &str, decision: &str) -> Res {
        let reviewer = self.sign_in("reviewer").await;
        let path = format!("/api/v1/reviews/{session}/decision");
        self.post(&path, &reviewer, json!({ "decision": decision }))
            .await
    }

    /// The platform admin creates a centre; its id.
    pub(crate) async fn centre(&self, name: &str) -> String {
        let platform = self.sign_in("platform_admin").await;
        self.post("/api/v1/centres", &platform, json!({ "name": name }))
            .await
            .expect(StatusCode::CREATED)
            .id()
    }

    /// The platform admin adds a staff member to a centre; the answer (with the id and
    /// the `sign_in_url`).
    pub(crate) async fn add_staff(&self, centre: &str, role: &str, email: &str) -> Res {
        let platform = self.sign_in("platform_admin").await;
        let body = json!({ "role": role, "email": email, "first_names": "X", "last_name": "Y" });
        self.post(&format!("/api/v1/centres/{centre}/staff"), &platform, body)
            .await
    }

    /// A new staff member of a centre, signed in; their session token.
    pub(crate) async fn staff(&self, centre: &str, role: &str, email: &str) -> String {
        let r = self.add_staff(centre, role, email).await;
        self.sign_in_url(r.json["sign_in_url"].as_str().unwrap())
            .await
    }
}

/// A week from today, as the `from` of a slot search.
pub(crate) fn next_week() -> String {
    (chrono::Utc::now() + chrono::Duration::days(7))
        .format("%Y-%m-%d")
        .to_string()
}

/// Criterion levels of an oral score, all at one level.
pub(crate) fn levels(level: &str) -> Value {
    json!({ "vocabulary_range": level, "grammar": level, "fluency": level, "pronunciation": level, "interaction": level })
}
