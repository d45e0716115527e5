//! Certificates: issued with a result that reaches its target, verified on the public
//! page and offline, failing when any byte of the credential or of the log changes,
//! and revoked without deletion — on SQLite and on PostgreSQL.

use axum::http::StatusCode;
use serde_json::json;

use crate::both;
use crate::common::TestApp;

/// Takes a new candidate through written (injected), oral and review; returns the
/// certificate id.
async fn certified(app: &TestApp) -> String {
    let candidate = app.import(1).await.remove(0);
    let session = app.finish_written(&candidate).await;
    let slot = app.slots(&candidate).await.last().unwrap().clone();
    let interview = app
        .book(&slot, &candidate)
        .await
        .expect(StatusCode::CREATED)
        .id();
    app.held(&interview).await;
    let mut levels = crate::flows::levels("C1");
    levels["pronunciation"] = json!("B2");
    app.score(&interview, levels).await.expect(StatusCode::OK);
    let d = app.decide(&session, "validated").await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    let (id,): (String,) = sqlx::query_as("SELECT id FROM certificates WHERE candidate_id = $1")
        .bind(&candidate)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    id
}

/// The public verification report of a certificate.
async fn verification(app: &TestApp, id: &str) -> crate::common::Res {
    let path = format!("/api/v1/certificates/{id}");
    app.call("GET", &path, None, None).await
}

both!(
    a_certificate_verifies_and_any_change_breaks_it,
    |app: TestApp| async move {
        let first = certified(&app).await;
        let second = certified(&app).await;
        let report = verification(&app, &first).await;
        assert_eq!(report.status, StatusCode::OK, "{}", report.text);
        for check in [
            "signature_valid",
            "included_in_log",
            "checkpoint_valid",
            "valid",
        ] {
            assert_eq!(report.json[check], true, "{check}: {}", report.text);
        }
        assert_eq!(report.json["tree_size"], 2);
        assert_eq!(report.json["holder"], "Cand 0 Test");
        // The public page says so, with a QR code and a share link.
        let page = app
            .raw("GET", &format!("/verify/{first}"), None, None, None)
            .await;
        assert!(page.text.contains("data-valid=\"true\""), "{}", page.text);
        assert!(page.text.contains("<svg") && page.text.contains(&format!("/verify/{first}")));
        // The bundle verifies offline with the issuer's key.
        let bundle = app
            .raw(
                "GET",
                &format!("/api/v1/certificates/{first}/bundle"),
                None,
                None,
                None,
            )
            .await;
        let b = credential::Bundle::from_json(&bundle.text).unwrap();
        let r = credential::verify_bundle(&b, Some(&app.state.issuer.verifying_key())).unwrap();
        assert_eq!(r.tree_size, 2);
        // Change one byte of the stored credential: the signature and inclusion fail.
        let (jwt,): (String,) = sqlx::query_as("SELECT jwt FROM certificates WHERE id = $1")
            .bind(&first)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        let mut bytes = jwt.clone().into_bytes();
        let k = bytes.len() / 2;
        bytes[k] = if bytes[k] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        sqlx::query("UPDATE certificates SET jwt = $1 WHERE id = $2")
            .bind(&tampered)
            .bind(&first)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
        let r = verification(&app, &first).await;
        assert_eq!(
            (r.json["signature_valid"].clone(), r.json["valid"].clone()),
            (json!(false), json!(false)),
            "{}",
            r.text
        );
        let page = app
            .raw("GET", &format!("/verify/{first}"), None, None, None)
            .await;
        assert!(page.text.contains("data-valid=\"false\""));
        sqlx::query("UPDATE certificates SET jwt = $1 WHERE id = $2")
            .bind(&jwt)
            .bind(&first)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
        assert_eq!(verification(&app, &first).await.json["valid"], true);
        // Change one byte of the log (the other certificate's leaf): inclusion fails.
        let (leaf,): (String,) = sqlx::query_as("SELECT leaf_hash FROM certificates WHERE id = $1")
            .bind(&second)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        let flipped = format!(
            "{}{}",
            if leaf.starts_with('0') { "1" } else { "0" },
            &leaf[1..]
        );
        sqlx::query("UPDATE certificates SET leaf_hash = $1 WHERE id = $2")
            .bind(&flipped)
            .bind(&second)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
        let r = verification(&app, &first).await;
        assert_eq!(
            (r.json["included_in_log"].clone(), r.json["valid"].clone()),
            (json!(false), json!(false)),
            "{}",
            r.text
        );
        sqlx::query("UPDATE certificates SET leaf_hash = $1 WHERE id = $2")
            .bind(&leaf)
            .bind(&second)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
        // The checkpoint is published and signed.
        let cp = app.call("GET", "/api/v1/log/checkpoint", None, None).await;
        let cp: credential::Checkpoint = serde_json::from_value(cp.json).unwrap();
        cp.verify(&app.state.issuer.verifying_key()).unwrap();
    }
);

both!(
    revocation_is_recorded_not_deleted,
    |app: TestApp| async move {
        let id = certified(&app).await;
        let candidate = app.sign_in("candidate").await;
        let r = app
            .post(
                &format!("/api/v1/certificates/{id}/revoke"),
                &candidate,
                json!({ "reason": "x" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let admin = app.sign_in("centre_admin").await;
        let r = app
            .post(
                &format!("/api/v1/certificates/{id}/revoke"),
                &admin,
                json!({ "reason": "Identity fraud established" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        let again = app
            .post(
                &format!("/api/v1/certificates/{id}/revoke"),
                &admin,
                json!({ "reason": "again" }),
            )
            .await;
        again.expect_error(StatusCode::CONFLICT, "already_revoked");
        let report = verification(&app, &id).await;
        assert_eq!(report.json["revoked"], true);
        assert_eq!(report.json["valid"], false);
        assert_eq!(
            report.json["signature_valid"], true,
            "the credential itself is intact"
        );
        let page = app
            .raw("GET", &format!("/verify/{id}"), None, None, None)
            .await;
        assert!(page.text.contains("révoqué") && page.text.contains("Identity fraud established"));
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM certificates WHERE id = $1")
            .bind(&id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        assert_eq!(n, 1, "still in the log");
        assert_eq!(
            app.raw("GET", "/verify/unknown", None, None, None)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
);
