//! Certificates: issued with a result that reaches its target, verified on the public
//! page and offline, failing when any byte of the credential or of the log changes,
//! and revoked without deletion — on SQLite and on PostgreSQL.

use axum::http::StatusCode;
use credential::merkle;
use exam_api::db::Backend;
use exam_api::results::{certify, log};
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

/// A certificate's downloadable bundle, as anyone fetches it.
async fn fetch_bundle(app: &TestApp, id: &str) -> crate::common::Res {
    app.raw(
        "GET",
        &format!("/api/v1/certificates/{id}/bundle"),
        None,
        None,
        None,
    )
    .await
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
        let bundle = fetch_bundle(&app, &first).await;
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
        let (index,): (i64,) = sqlx::query_as("SELECT leaf_index FROM certificates WHERE id = $1")
            .bind(&second)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        let (leaf,): (String,) =
            sqlx::query_as("SELECT hash FROM log_nodes WHERE level = 0 AND idx = $1")
                .bind(index)
                .fetch_one(&app.state.db.pool)
                .await
                .unwrap();
        let flipped = format!(
            "{}{}",
            if leaf.starts_with('0') { "1" } else { "0" },
            &leaf[1..]
        );
        let set_leaf = |hash: String| {
            sqlx::query("UPDATE log_nodes SET hash = $1 WHERE level = 0 AND idx = $2")
                .bind(hash)
                .bind(index)
                .execute(&app.state.db.pool)
        };
        set_leaf(flipped).await.unwrap();
        let r = verification(&app, &first).await;
        assert_eq!(
            (r.json["included_in_log"].clone(), r.json["valid"].clone()),
            (json!(false), json!(false)),
            "{}",
            r.text
        );
        // No bundle is handed out from a broken log.
        let bundle = fetch_bundle(&app, &first).await;
        assert_eq!(
            bundle.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{}",
            bundle.text
        );
        set_leaf(leaf).await.unwrap();
        assert_eq!(verification(&app, &first).await.json["valid"], true);
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

/// Rows the current PostgreSQL transaction has read so far, as the server counts them
/// (sequential and index scans of every table).
async fn rows_read(tx: &mut sqlx::AnyConnection) -> i64 {
    let (rows,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(seq_tup_read + COALESCE(idx_tup_fetch, 0)), 0) AS BIGINT) \
         FROM pg_stat_xact_user_tables",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    rows
}

both!(
    a_certificate_among_10_000_verifies_reading_log_n_rows,
    |app: TestApp| async move {
        // 9 999 earlier leaves, appended as issuance appends its own.
        let mut leaves: Vec<merkle::Hash> = (0..9_999u32)
            .map(|i| merkle::leaf_hash(&i.to_be_bytes()))
            .collect();
        let mut tx = app.state.db.begin_write().await.unwrap();
        for (i, leaf) in leaves.iter().enumerate() {
            let (index, root) = log::append(&mut tx, *leaf).await.unwrap();
            assert_eq!(index, i as u64);
            if i % 1_000 == 999 {
                assert_eq!(root, merkle::root(&leaves[..=i]), "root of {}", i + 1);
            }
        }
        tx.commit().await.unwrap();
        // The 10 000th is a real certificate.
        let id = certified(&app).await;
        let report = verification(&app, &id).await;
        assert_eq!(report.json["valid"], true, "{}", report.text);
        assert_eq!(report.json["tree_size"], 10_000);
        let (jwt,): (String,) = sqlx::query_as("SELECT jwt FROM certificates WHERE id = $1")
            .bind(&id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        leaves.push(credential::credential_leaf_hash(&jwt));
        let bundle = fetch_bundle(&app, &id).await;
        let b = credential::Bundle::from_json(&bundle.text).unwrap();
        assert_eq!(b.checkpoint.root_hash, merkle::root(&leaves));
        assert_eq!(
            Some(b.inclusion_proof.clone()),
            merkle::inclusion_proof(9_999, &leaves)
        );
        credential::verify_bundle(&b, Some(&app.state.issuer.verifying_key())).unwrap();
        let page = app
            .raw("GET", &format!("/verify/{id}"), None, None, None)
            .await;
        assert!(page.text.contains("data-valid=\"true\""), "{}", page.text);
        // An earlier leaf's audit path, from the stored subtrees.
        let mut conn = app.state.db.pool.acquire().await.unwrap();
        for leaf in [0, 4_095, 4_096, 8_191, 9_998] {
            let proof = log::inclusion_proof(&mut conn, leaf, 10_000).await.unwrap();
            assert_eq!(proof, merkle::inclusion_proof(leaf, &leaves), "leaf {leaf}");
        }
        assert_eq!(
            log::inclusion_proof(&mut conn, 10_000, 10_000)
                .await
                .unwrap(),
            None
        );
        drop(conn);
        if app.state.db.backend == Backend::Postgres {
            // log2(10 000) ≈ 13.3: an audit path of 14 hashes folded from at most 28
            // stored nodes, plus the certificate, the checkpoint and the revocation
            // lookups. Reading every leaf would be 10 000 rows or more.
            let mut tx = app.state.db.pool.begin().await.unwrap();
            let before = rows_read(&mut tx).await;
            let report = certify::check_on(&app.state, &mut tx, &id).await.unwrap();
            assert!(report.valid && report.included_in_log);
            let read = rows_read(&mut tx).await - before;
            eprintln!("verifying leaf 9 999 of 10 000 read {read} rows");
            assert!(read > 0 && read <= 40, "verification read {read} rows");
            // Appending the next leaf reads as few.
            let before = rows_read(&mut tx).await;
            let (index, root) = log::append(&mut tx, merkle::leaf_hash(b"next"))
                .await
                .unwrap();
            let read = rows_read(&mut tx).await - before;
            assert_eq!(index, 10_000);
            leaves.push(merkle::leaf_hash(b"next"));
            assert_eq!(root, merkle::root(&leaves));
            eprintln!("appending leaf 10 000 read {read} rows");
            assert!(read > 0 && read <= 40, "an append read {read} rows");
            tx.rollback().await.unwrap();
        }
    }
);
