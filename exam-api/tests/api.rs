//! The HTTP API end to end in-process, on SQLite and on PostgreSQL: health, OpenAPI,
//! sign-in, role and ownership checks, and clear JSON errors for bad input.

use axum::http::StatusCode;
use base64::Engine;
use exam_api::auth::{Claims, Grants, JwtKeys, Role, create_link};
use exam_api::db::now_ms;
use serde_json::json;

use crate::both;
use crate::common::{Backend, Res, SECRET, TestApp};

/// A password change (`/api/v1/me/password`) of a session.
async fn set_password(app: &TestApp, token: &str, body: serde_json::Value) -> Res {
    app.post("/api/v1/me/password", token, body).await
}

fn assert_error(r: &Res, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.code(), code, "{}", r.text);
    assert!(
        !r.json["error"]["message"].as_str().unwrap_or("").is_empty(),
        "a message: {}",
        r.text
    );
}

/// `path` is hidden from the holder of `token`: 404 `not_found`, as for an id that does
/// not exist (ids cannot be probed).
async fn hidden(app: &TestApp, path: &str, token: &str) {
    assert_error(
        &app.get(path, token).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

/// How many entries the list at `path` shows the holder of `token`.
async fn listed(app: &TestApp, path: &str, token: &str) -> usize {
    let r = app.get(path, token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json.as_array().expect("a list").len()
}

both!(health_and_openapi, |app: TestApp| async move {
    let r = app.call("GET", "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["status"], "ok");
    assert!(r.json["items"].as_u64().unwrap() >= 200);
    let r = app.call("GET", "/api/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json["openapi"].as_str().unwrap().starts_with("3."));
    let paths = r.json["paths"].as_object().unwrap();
    for p in [
        "/api/v1/auth/link",
        "/api/v1/candidates",
        "/api/v1/interviews/{id}",
        "/api/v1/items",
    ] {
        assert!(paths.contains_key(p), "{p} documented");
    }
});

both!(bank_is_stored_in_the_database, |app: TestApp| async move {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM items")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(n as usize, app.state.bank.items.len());
});

both!(link_sign_in_is_single_use, |app: TestApp| async move {
    let url = app.link("candidate");
    let token = TestApp::link_token(&url);
    // The landing page does not use the link up.
    let page = app
        .call("GET", &format!("/signin/{token}"), None, None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("id=\"continue\""));
    let session = app.sign_in_url(&url).await;
    let me = app.get("/api/v1/me", &session).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["role"], "candidate");
    // Reused: a clear error and a clear page.
    let again = app
        .call(
            "POST",
            "/api/v1/auth/link",
            None,
            Some(json!({ "token": token })),
        )
        .await;
    assert_error(&again, StatusCode::GONE, "gone");
    assert!(
        again.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already been used")
    );
    let page = app
        .call("GET", &format!("/signin/{token}"), None, None)
        .await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.text.contains("data-state=\"used\""), "{}", page.text);
    let page = app
        .raw("GET", &format!("/signin/{token}?lang=en"), None, None, None)
        .await;
    assert!(page.text.contains("already been used"), "{}", page.text);
    // Unknown.
    let unknown = app
        .call(
            "POST",
            "/api/v1/auth/link",
            None,
            Some(json!({ "token": "nope" })),
        )
        .await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "not_found");
});

both!(an_expired_link_is_refused, |app: TestApp| async move {
    let me = app.get("/api/v1/me", &app.sign_in("candidate").await).await;
    let id = me.json["id"].as_str().unwrap();
    let token = create_link(&app.state.db, id, now_ms() - 10_000, 5_000)
        .await
        .unwrap();
    let r = app
        .call(
            "POST",
            "/api/v1/auth/link",
            None,
            Some(json!({ "token": token })),
        )
        .await;
    assert_error(&r, StatusCode::GONE, "gone");
    assert!(r.text.contains("expired"));
    let page = app
        .call("GET", &format!("/signin/{token}"), None, None)
        .await;
    assert!(page.text.contains("data-state=\"expired\""));
});

both!(
    forged_expired_and_missing_tokens_are_refused,
    |app: TestApp| async move {
        let session = app.sign_in("evaluator").await;
        let ok = app.get("/api/v1/me", &session).await;
        assert_eq!(ok.status, StatusCode::OK);
        let id = ok.json["id"].as_str().unwrap().to_owned();
        let now = now_ms() / 1000;
        let claims = |role, exp| Claims {
            sub: id.clone(),
            role,
            centre: None,
            grants: Grants::default(),
            sid: "a-sign-in".to_owned(),
            iat: now,
            exp,
        };
        // Signed with another key.
        let forged = JwtKeys::from_secret(b"another secret of thirty-two bytes or more")
            .sign(&claims(Role::PlatformAdmin, now + 600))
            .unwrap();
        assert_error(
            &app.get("/api/v1/items", &forged).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
        // The right key, but expired.
        let expired = JwtKeys::from_secret(SECRET)
            .sign(&claims(Role::Evaluator, now - 1))
            .unwrap();
        let r = app.get("/api/v1/me", &expired).await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(r.text.contains("expired"));
        // A media grant (room-scoped) is not a session.
        let mut grant = claims(Role::Evaluator, now + 600);
        grant.grants = Grants {
            room: Some("some-interview".into()),
            can_publish: true,
            can_subscribe: true,
        };
        let grant = JwtKeys::from_secret(SECRET).sign(&grant).unwrap();
        assert_error(
            &app.get("/api/v1/me", &grant).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
        // A tampered payload (role raised) with the original signature.
        let mut parts: Vec<String> = session.split('.').map(str::to_owned).collect();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut payload: serde_json::Value =
            serde_json::from_slice(&b64.decode(&parts[1]).unwrap()).unwrap();
        payload["role"] = json!("platform_admin");
        parts[1] = b64.encode(payload.to_string());
        assert_error(
            &app.get("/api/v1/items", &parts.join(".")).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
        assert_error(
            &app.get("/api/v1/me", "garbage").await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
        assert_error(
            &app.call("GET", "/api/v1/me", None, None).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
    }
);

both!(tokens_carry_no_personal_data, |app: TestApp| async move {
    let session = app.sign_in("candidate").await;
    let me = app.get("/api/v1/me", &session).await;
    let payload = session.split('.').nth(1).unwrap();
    let decoded = String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    for field in ["email", "first_names", "last_name"] {
        let v = me.json[field].as_str().unwrap();
        assert!(
            !decoded.contains(v),
            "{field} leaked into the token: {decoded}"
        );
    }
    assert!(decoded.contains("\"role\":\"candidate\""));
});

both!(roles_are_enforced, |app: TestApp| async move {
    let candidate = app.sign_in("candidate").await;
    let evaluator = app.sign_in("evaluator").await;
    let reviewer = app.sign_in("reviewer").await;
    let admin = app.sign_in("centre_admin").await;
    let platform = app.sign_in("platform_admin").await;
    let new = json!({ "email": "new@example.org", "first_names": "Ana", "last_name": "Lopes", "cefr_target": "B1" });
    assert_error(
        &app.post("/api/v1/candidates", &candidate, new.clone())
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.post("/api/v1/candidates", &evaluator, new.clone())
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.get("/api/v1/items", &admin).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.get("/api/v1/items/en-voc-001", &candidate).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.get("/api/v1/interviews", &reviewer).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.post("/api/v1/centres", &admin, json!({ "name": "X" }))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    // The right roles get through.
    let created = app.post("/api/v1/candidates", &admin, new).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert!(
        created.json["sign_in_url"]
            .as_str()
            .unwrap()
            .contains("/signin/")
    );
    let items = app.get("/api/v1/items?domain=listening", &platform).await;
    assert_eq!(items.status, StatusCode::OK);
    assert!(
        items
            .json
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["type"] == "listening")
    );
    let item = app.get("/api/v1/items/en-voc-001", &platform).await;
    assert_eq!(item.json["body"]["type"], "choice");
    hidden(&app, "/api/v1/items/en-nope-999", &platform).await;
});

both!(
    nobody_reads_another_users_resources,
    |app: TestApp| async move {
        let admin = app.sign_in("centre_admin").await;
        let platform = app.sign_in("platform_admin").await;
        let demo_candidate = app.sign_in("candidate").await;
        let demo_id = app.user_id(&demo_candidate).await;
        // A second candidate of the same centre.
        let other = app
        .post("/api/v1/candidates", &admin, json!({ "email": "other@example.org", "first_names": "Léa", "last_name": "Petit", "cefr_target": "C1", "time_multiplier": 1.33 }))
        .await;
        let other_id = other.json["id"].as_str().unwrap().to_owned();
        let other_session = app
            .sign_in_url(other.json["sign_in_url"].as_str().unwrap())
            .await;
        // Each candidate reads themself, not the other.
        assert_eq!(
            app.get(&format!("/api/v1/candidates/{other_id}"), &other_session)
                .await
                .status,
            StatusCode::OK
        );
        hidden(
            &app,
            &format!("/api/v1/candidates/{demo_id}"),
            &other_session,
        )
        .await;
        hidden(
            &app,
            &format!("/api/v1/candidates/{other_id}"),
            &demo_candidate,
        )
        .await;
        // An interview of the demo candidate and evaluator belongs to them only.
        let evaluator = app.sign_in("evaluator").await;
        let evaluator_id = app.user_id(&evaluator).await;
        let created = app
            .post("/api/v1/interviews", &admin, json!({ "candidate_id": demo_id, "evaluator_id": evaluator_id, "scheduled_at": "2030-01-07T08:00:00Z" }))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let interview = created.json["id"].as_str().unwrap().to_owned();
        assert_eq!(
            app.get(&format!("/api/v1/interviews/{interview}"), &demo_candidate)
                .await
                .status,
            StatusCode::OK
        );
        hidden(
            &app,
            &format!("/api/v1/interviews/{interview}"),
            &other_session,
        )
        .await;
        assert_eq!(listed(&app, "/api/v1/interviews", &other_session).await, 0);
        // A second evaluator sees none of the first one's interviews.
        let centre = app.me(&admin).await["centre_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let ev2 = app
        .post(&format!("/api/v1/centres/{centre}/staff"), &admin, json!({ "role": "evaluator", "email": "ev2@example.org", "first_names": "Jo", "last_name": "Roux" }))
        .await;
        assert_eq!(ev2.status, StatusCode::CREATED, "{}", ev2.text);
        let ev2_session = app
            .sign_in_url(ev2.json["sign_in_url"].as_str().unwrap())
            .await;
        assert_eq!(listed(&app, "/api/v1/interviews", &ev2_session).await, 0);
        hidden(
            &app,
            &format!("/api/v1/interviews/{interview}"),
            &ev2_session,
        )
        .await;
        // The centre admin schedules one for ev2 and the other candidate; only they see it.
        let created = app
        .post("/api/v1/interviews", &admin, json!({ "candidate_id": other_id, "evaluator_id": ev2.json["id"], "scheduled_at": "2030-01-07T09:00:00Z" }))
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert_eq!(created.json["target_cefr"], "C1");
        assert_eq!(listed(&app, "/api/v1/interviews", &ev2_session).await, 1);
        assert_eq!(listed(&app, "/api/v1/interviews", &evaluator).await, 1);
        // An admin of another centre sees nothing of this one.
        let c2 = app
            .post(
                "/api/v1/centres",
                &platform,
                json!({ "name": "Autre centre" }),
            )
            .await;
        let c2_id = c2.json["id"].as_str().unwrap();
        let admin2 = app
        .post(&format!("/api/v1/centres/{c2_id}/staff"), &platform, json!({ "role": "centre_admin", "email": "admin2@example.org", "first_names": "Sam", "last_name": "Blanc" }))
        .await;
        let admin2_session = app
            .sign_in_url(admin2.json["sign_in_url"].as_str().unwrap())
            .await;
        hidden(
            &app,
            &format!("/api/v1/candidates/{other_id}"),
            &admin2_session,
        )
        .await;
        hidden(&app, &format!("/api/v1/centres/{centre}"), &admin2_session).await;
        assert_eq!(listed(&app, "/api/v1/candidates", &admin2_session).await, 0);
        assert_error(
            &app.post_empty(
                &format!("/api/v1/candidates/{other_id}/links"),
                &admin2_session,
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        let r = app
        .post("/api/v1/interviews", &admin2_session, json!({ "candidate_id": other_id, "evaluator_id": ev2.json["id"], "scheduled_at": "2030-01-07T10:00:00Z" }))
        .await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    }
);

both!(
    bad_input_gets_clear_json_errors,
    |app: TestApp| async move {
        let admin = app.sign_in("centre_admin").await;
        let a = Some(admin.as_str());
        // Malformed JSON.
        let r = app
            .raw(
                "POST",
                "/api/v1/candidates",
                a,
                Some("{\"email\": "),
                Some("application/json"),
            )
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "malformed_json");
        // Wrong types, missing and unknown fields, bad values.
        let r = app.call("POST", "/api/v1/candidates", a, Some(json!({ "email": 12, "first_names": "A", "last_name": "B", "cefr_target": "B1" }))).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert!(r.text.contains("email"), "names the field: {}", r.text);
        let r = app.call("POST", "/api/v1/candidates", a, Some(json!({ "email": "x@example.org", "first_names": "A", "last_name": "B", "cefr_target": "B3" }))).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        let r = app
            .call(
                "POST",
                "/api/v1/candidates",
                a,
                Some(json!({ "email": "x@example.org", "first_names": "A", "last_name": "B" })),
            )
            .await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        let r = app.call("POST", "/api/v1/candidates", a, Some(json!({ "email": "x@example.org", "first_names": "A", "last_name": "B", "cefr_target": "B1", "admin": true }))).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        let r = app.call("POST", "/api/v1/candidates", a, Some(json!({ "email": "not-an-email", "first_names": "A", "last_name": "B", "cefr_target": "B1" }))).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_email");
        let r = app.call("POST", "/api/v1/candidates", a, Some(json!({ "email": "x@example.org", "first_names": "A", "last_name": "B", "cefr_target": "B1", "time_multiplier": 9 }))).await;
        assert_error(
            &r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_time_multiplier",
        );
        // Not JSON at all.
        let r = app
            .raw(
                "POST",
                "/api/v1/candidates",
                a,
                Some("email=x"),
                Some("application/x-www-form-urlencoded"),
            )
            .await;
        assert_error(
            &r,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        );
        // Oversize.
        let big = json!({ "email": "x@example.org", "first_names": "A".repeat(200_000), "last_name": "B", "cefr_target": "B1" });
        assert_error(
            &app.call("POST", "/api/v1/candidates", a, Some(big)).await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        );
        // Duplicate e-mail.
        let ok = json!({ "email": "dup@example.org", "first_names": "A", "last_name": "B", "cefr_target": "B1" });
        assert_eq!(
            app.call("POST", "/api/v1/candidates", a, Some(ok.clone()))
                .await
                .status,
            StatusCode::CREATED
        );
        assert_error(
            &app.call("POST", "/api/v1/candidates", a, Some(ok)).await,
            StatusCode::CONFLICT,
            "conflict",
        );
        // Unknown ids and routes, wrong methods.
        assert_error(
            &app.call(
                "GET",
                "/api/v1/candidates/00000000-0000-0000-0000-000000000000",
                a,
                None,
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_error(
            &app.call("GET", "/api/v1/nothing-here", a, None).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_error(
            &app.call("DELETE", "/api/v1/candidates", a, None).await,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        );
        let r = app
            .call(
                "POST",
                "/api/v1/interviews",
                a,
                Some(
                    json!({ "candidate_id": "x", "evaluator_id": "y", "scheduled_at": "tomorrow" }),
                ),
            )
            .await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    }
);

both!(passwords_and_rate_limits, |app: TestApp| async move {
    let session = app.sign_in("evaluator").await;
    let me = app.get("/api/v1/me", &session).await;
    let email = me.json["email"].as_str().unwrap().to_owned();
    let short = set_password(&app, &session, json!({ "password": "short" })).await;
    assert_error(&short, StatusCode::UNPROCESSABLE_ENTITY, "weak_password");
    let set = set_password(
        &app,
        &session,
        json!({ "password": "a long passphrase 42" }),
    )
    .await;
    assert_eq!(set.status, StatusCode::NO_CONTENT, "{}", set.text);
    let ok = app
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({ "email": email.to_uppercase(), "password": "a long passphrase 42" })),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert!(
        ok.headers
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("HttpOnly")
    );
    let wrong = app
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({ "email": email, "password": "wrong password!" })),
        )
        .await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "unauthorized");
    // Candidates have no password sign-in.
    let candidate = app.sign_in("candidate").await;
    let r = set_password(
        &app,
        &candidate,
        json!({ "password": "a long passphrase 42" }),
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    // A second change needs the current password.
    let r = set_password(
        &app,
        &session,
        json!({ "password": "another passphrase 43" }),
    )
    .await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "current_password_required",
    );
    let r = set_password(
        &app,
        &session,
        json!({ "password": "another passphrase 43", "current_password": "wrong wrong wrong" }),
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    // Keep trying: the limit (10 a minute per account, whatever the address) answers 429.
    let mut limited = None;
    for _ in 0..12 {
        let r = app
            .call(
                "POST",
                "/api/v1/auth/login",
                None,
                Some(json!({ "email": email, "password": "guess guess guess" })),
            )
            .await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("rate limited");
    assert_error(&r, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(r.headers.get("retry-after").is_some());
    // Even the right password is refused while limited.
    let r = app
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({ "email": email, "password": "a long passphrase 42" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
});

both!(refresh_extends_a_valid_session, |app: TestApp| async move {
    let session = app.sign_in("reviewer").await;
    let r = app.post_empty("/api/v1/auth/refresh", &session).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["role"], "reviewer");
    // The new token works on its own and lasts at least as long as the old one.
    let fresh = r.json["token"].as_str().unwrap();
    let me = app.get("/api/v1/me", fresh).await;
    assert_eq!(me.json["role"], "reviewer");
    let old_exp = exam_api::auth::JwtKeys::from_secret(SECRET)
        .verify(&session)
        .unwrap()
        .exp;
    assert!(r.json["expires_at"].as_i64().unwrap() >= old_exp);
    assert_error(
        &app.call("POST", "/api/v1/auth/refresh", None, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
});

#[tokio::test]
async fn the_same_database_serves_two_starts() {
    // Migrations and the demo seed are idempotent: a second start reuses both.
    let db = exam_api::testing::TestDb::new(Backend::Sqlite).await;
    for round in 0..2 {
        let conn = exam_api::db::Db::connect(&db.url).await.unwrap();
        let state = exam_api::app::AppState::new(
            conn,
            SECRET,
            exam_core::bank::Bank::english(),
            Default::default(),
        );
        exam_api::bank_api::store_bank(&state).await.unwrap();
        let (created, links) = exam_api::seed::seed_demo(&state).await.unwrap();
        assert_eq!(created, round == 0);
        // Links only when the demo centre is created; later, on demand.
        assert_eq!(links.len(), if round == 0 { 5 } else { 0 });
        let on_demand = exam_api::seed::demo_links(&state.db, "http://x", 60_000)
            .await
            .unwrap()
            .expect("a demo installation");
        assert_eq!(on_demand.len(), 5);
        state.db.close().await;
    }
}

both!(
    sign_out_revokes_the_session_and_its_refreshes,
    |app: TestApp| async move {
        let token = app.sign_in("evaluator").await;
        let refreshed = app.post_empty("/api/v1/auth/refresh", &token).await;
        assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.text);
        let refreshed = refreshed.json["token"].as_str().unwrap().to_owned();
        for t in [&token, &refreshed] {
            assert_eq!(app.get("/api/v1/me", t).await.status, StatusCode::OK);
        }
        let out = app.post_empty("/api/v1/auth/logout", &token).await;
        assert_eq!(out.status, StatusCode::NO_CONTENT);
        assert!(
            out.headers["set-cookie"]
                .to_str()
                .unwrap()
                .contains("Max-Age=0"),
            "the cookie is cleared"
        );
        // The Bearer token and the one refreshed from it no longer work.
        for t in [&token, &refreshed] {
            let r = app.get("/api/v1/me", t).await;
            assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
            assert!(r.text.contains("signed out"), "{}", r.text);
            let again = app.post_empty("/api/v1/auth/refresh", t).await;
            assert_error(&again, StatusCode::UNAUTHORIZED, "unauthorized");
        }
        // As after a restart: the revocation is stored, and loaded by new keys.
        let keys = JwtKeys::from_secret(SECRET);
        assert!(keys.verify(&token).is_ok(), "fresh keys know nothing yet");
        assert!(keys.load_revoked(&app.state.db).await.unwrap() >= 1);
        assert!(keys.verify(&token).is_err(), "the stored revocation holds");
        // Another sign-in of the same account is not affected.
        let me = app
            .get("/api/v1/me", &app.sign_in("centre_admin").await)
            .await;
        assert_eq!(me.status, StatusCode::OK);
        // A session token without a sign-in id (as minted before revocation existed) is refused.
        let now = now_ms() / 1000;
        let legacy = JwtKeys::from_secret(SECRET)
            .sign(&Claims {
                sub: me.json["id"].as_str().unwrap().to_owned(),
                role: Role::CentreAdmin,
                centre: me.json["centre_id"].as_str().map(str::to_owned),
                grants: Grants::default(),
                sid: String::new(),
                iat: now,
                exp: now + 600,
            })
            .unwrap();
        assert_error(
            &app.get("/api/v1/me", &legacy).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
    }
);

both!(
    a_new_link_replaces_the_older_unused_ones,
    |app: TestApp| async move {
        let admin = app.sign_in("centre_admin").await;
        let email = format!("r{}@example.org", uuid::Uuid::new_v4().simple());
        let c = app
        .post("/api/v1/candidates", &admin, json!({ "email": email, "first_names": "Rémi", "last_name": "Test", "cefr_target": "B1" }))
        .await;
        assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
        let first = c.json["sign_in_url"].as_str().unwrap().to_owned();
        let id = c.json["id"].as_str().unwrap();
        let second = app
            .post_empty(&format!("/api/v1/candidates/{id}/links"), &admin)
            .await;
        assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
        let second = second.json["sign_in_url"].as_str().unwrap().to_owned();
        // The first link was never used, and it no longer works.
        let r = app
            .call(
                "POST",
                "/api/v1/auth/link",
                None,
                Some(json!({ "token": TestApp::link_token(&first) })),
            )
            .await;
        assert_error(&r, StatusCode::GONE, "gone");
        assert!(r.text.contains("replaced"), "{}", r.text);
        let page = app
            .call(
                "GET",
                &format!("/signin/{}", TestApp::link_token(&first)),
                None,
                None,
            )
            .await;
        assert_eq!(page.status, StatusCode::GONE);
        assert!(
            page.text.contains("data-state=\"replaced\""),
            "{}",
            page.text
        );
        // The newest one does.
        app.sign_in_url(&second).await;
    }
);

both!(
    pages_and_answers_carry_security_headers,
    |app: TestApp| async move {
        for path in [
            "/app/",
            "/static/test.html",
            "/api/v1/me",
            "/healthz",
            "/signin/nothing",
        ] {
            let r = app.call("GET", path, None, None).await;
            let h = |name: &str| {
                r.headers
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default()
            };
            let csp = h("content-security-policy");
            assert!(
                csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
                "{path}: {csp}"
            );
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
            assert_eq!(h("referrer-policy"), "no-referrer", "{path}");
            assert_eq!(h("x-frame-options"), "DENY", "{path}");
            assert!(
                h("strict-transport-security").is_empty(),
                "no HSTS over plain HTTP"
            );
        }
    }
);

both!(
    hsts_behind_https,
    exam_api::app::ApiConfig {
        public_url: "https://langcert.example".to_owned(),
        secure_cookie: true,
        ..Default::default()
    },
    |app: TestApp| async move {
        let r = app.call("GET", "/app/", None, None).await;
        assert!(
            r.headers["strict-transport-security"]
                .to_str()
                .unwrap()
                .starts_with("max-age="),
        );
    }
);

both!(
    a_used_email_is_named_in_the_conflict,
    |app: TestApp| async move {
        // The store names the e-mail's unique key on both databases; the handlers say so.
        let admin = app.sign_in("centre_admin").await;
        let centre = app.me(&admin).await["centre_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let candidate = json!({ "email": "Same@example.org", "first_names": "A", "last_name": "B", "cefr_target": "B1" });
        let staff = json!({ "role": "evaluator", "email": "same@example.org", "first_names": "Jo", "last_name": "Roux" });
        let first = app
            .post("/api/v1/candidates", &admin, candidate.clone())
            .await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
        for r in [
            app.post("/api/v1/candidates", &admin, candidate).await,
            app.post(&format!("/api/v1/centres/{centre}/staff"), &admin, staff)
                .await,
        ] {
            assert_error(&r, StatusCode::CONFLICT, "conflict");
            assert_eq!(
                r.json["error"]["message"], "an account with this e-mail already exists",
                "{}",
                r.text
            );
        }
    }
);
