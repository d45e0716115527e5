//! Test support (feature `testing`): a fresh database per test, on SQLite or on the
//! PostgreSQL server named by `LANGCERT_TEST_PG` (default
//! `postgres://postgres@127.0.0.1:5432/test`), where each test gets a database of its
//! own, dropped when the [`TestDb`] is dropped — also when the test panics.

/// Which database a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary folder.
    Sqlite,
    /// A fresh database on the test PostgreSQL server.
    Postgres,
}

/// The PostgreSQL server tests create their databases on.
pub fn pg_admin_url() -> String {
    std::env::var("LANGCERT_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh, empty database; dropped (PostgreSQL) or deleted (SQLite) with the value.
pub struct TestDb {
    /// Its URL, for `Db::connect` or `--database-url`.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl TestDb {
    /// Creates the database (it is migrated on first connect).
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
                TestDb {
                    url,
                    _dir: Some(dir),
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                use sqlx::Connection;
                let name = format!("lc_t_{}", uuid::Uuid::new_v4().simple());
                let admin = pg_admin_url();
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("PostgreSQL at {admin} is required by the tests: {e}")
                    });
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
                TestDb {
                    url: format!("{base}/{name}"),
                    _dir: None,
                    pg_name: Some(name),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop from a thread of its own: this may run while a test unwinds.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect(&pg_admin_url()).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut c)
                    .await;
                }
            });
        })
        .join();
    }
}

/// Marks a candidate's identity step done without captures, for tests of other features
/// (the real step, `PUT /api/v1/me/identity/{selfie,document}`, needs face models).
pub async fn mark_identity_done(
    db: &crate::db::Db,
    candidate_id: &str,
) -> Result<(), crate::error::ApiError> {
    sqlx::query(
        "INSERT INTO candidate_steps (user_id, identity_at) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO UPDATE SET identity_at = excluded.identity_at",
    )
    .bind(candidate_id)
    .bind(crate::db::now_ms())
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// What [`item_response`] puts in a response. Both are of the right shape for the item,
/// so the API takes them; neither is meant to be right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The first option of every choice and gap, empty typed gaps, the order as shown;
    /// the second option of a listening choice.
    Blank,
    /// The second option of every choice and gap, `answer` typed, the order reversed;
    /// the first option of a listening choice.
    Other,
}

/// A response of the right shape for a public item (see `docs/written-test.md`), filled
/// as `answer` says; panics on an item type it does not know.
pub fn item_response(item: &serde_json::Value, answer: Answer) -> serde_json::Value {
    use serde_json::{Value, json};
    let gaps = item["gaps"].as_array().map_or(0, Vec::len);
    let (option, typed) = match answer {
        Answer::Blank => (0, ""),
        Answer::Other => (1, "answer"),
    };
    match item["type"].as_str().unwrap() {
        "dropdown_gaps" => json!({ "selected": vec![option; gaps] }),
        "word_bank" => {
            json!({ "placed": vec![Value::Null; item["gap_count"].as_u64().unwrap() as usize] })
        }
        "text_gaps" => json!({ "typed": vec![typed; gaps] }),
        "choice" => json!({ "choice": option }),
        "order_sentences" | "order_words" => {
            let shown = 0..item["shuffled"].as_array().unwrap().len();
            match answer {
                Answer::Blank => json!({ "order": shown.collect::<Vec<_>>() }),
                Answer::Other => json!({ "order": shown.rev().collect::<Vec<_>>() }),
            }
        }
        "listening" if item["response"] == "choice" => json!({ "choice": 1 - option }),
        "listening" => json!({ "typed": vec!["x"; gaps] }),
        t => panic!("unknown type {t}"),
    }
}
