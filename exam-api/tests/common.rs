//! A test harness: the API in-process over a fresh database (`exam_api::testing::TestDb`).

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use exam_api::app::{ApiConfig, AppState, router};
use exam_api::db::Db;
use exam_api::testing::TestDb;
use exam_core::bank::Bank;
use serde_json::Value;
use tower::ServiceExt;

/// The token secret of test servers.
pub(crate) const SECRET: &[u8] = b"test secret of at least thirty-two bytes!";

pub(crate) use exam_api::testing::Backend;

/// The API over a fresh database, with the demo centre seeded.
pub(crate) struct TestApp {
    pub(crate) state: AppState,
    pub(crate) router: Router,
    pub(crate) demo: Vec<(String, String)>,
    db_guard: std::sync::Arc<TestDb>,
    sessions: std::sync::Mutex<std::collections::HashMap<String, String>>,
    peer: std::sync::atomic::AtomicU32,
}

/// A response: status and JSON body (Null when the body is not JSON).
pub(crate) struct Res {
    pub(crate) status: StatusCode,
    pub(crate) json: Value,
    pub(crate) text: String,
    pub(crate) headers: axum::http::HeaderMap,
}

impl Res {
    /// The `error.code` of an error body.
    pub(crate) fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts the status (showing the body otherwise); the response, for more checks.
    #[track_caller]
    pub(crate) fn expect(self, status: StatusCode) -> Res {
        assert_eq!(self.status, status, "{}", self.text);
        self
    }

    /// Asserts an error answer: its status and `error.code`.
    #[track_caller]
    pub(crate) fn expect_error(&self, status: StatusCode, code: &str) {
        assert_eq!((self.status, self.code()), (status, code), "{}", self.text);
    }

    /// The `id` of the body.
    pub(crate) fn id(&self) -> String {
        self.json["id"].as_str().expect("an id").to_owned()
    }

    /// The body as a list.
    pub(crate) fn list(&self) -> &Vec<Value> {
        self.json.as_array().expect("a list")
    }

    /// The element of a list body whose `key` is `value`.
    #[track_caller]
    pub(crate) fn find(&self, key: &str, value: &str) -> Value {
        self.list()
            .iter()
            .find(|v| v[key] == value)
            .unwrap_or_else(|| panic!("no {key} = {value} in {}", self.text))
            .clone()
    }
}

impl TestApp {
    pub(crate) async fn with_config(backend: Backend, config: ApiConfig) -> TestApp {
        let tdb = TestDb::new(backend).await;
        let db = Db::connect(&tdb.url).await.expect("connect and migrate");
        let state = AppState::new(db, SECRET, Bank::english(), config);
        exam_api::bank_api::store_bank(&state).await.unwrap();
        let (_, links) = exam_api::seed::seed_demo(&state).await.unwrap();
        let demo = links
            .into_iter()
            .map(|l| (l.role.as_str().to_owned(), l.url))
            .collect();
        TestApp {
            router: router(state.clone()),
            state,
            demo,
            db_guard: std::sync::Arc::new(tdb),
            sessions: Default::default(),
            peer: Default::default(),
        }
    }

    /// Keeps the database alive while held (test bodies may move only parts of the app).
    pub(crate) fn guard(&self) -> std::sync::Arc<TestDb> {
        self.db_guard.clone()
    }

    /// The URL of the test's database (to open a second pool, as another process would).
    pub(crate) fn db_url(&self) -> String {
        self.db_guard.url.clone()
    }

    /// The demo sign-in link of a role.
    pub(crate) fn link(&self, role: &str) -> String {
        self.demo
            .iter()
            .find(|(r, _)| r == role)
            .map(|(_, u)| u.clone())
            .expect("demo role")
    }

    /// The token of a sign-in link URL.
    pub(crate) fn link_token(url: &str) -> String {
        url.rsplit('/').next().unwrap().to_owned()
    }

    /// Signs in a demo role through its link (once; later calls reuse the session).
    pub(crate) async fn sign_in(&self, role: &str) -> String {
        if let Some(t) = self.sessions.lock().unwrap().get(role) {
            return t.clone();
        }
        let token = self.sign_in_url(&self.link(role)).await;
        self.sessions
            .lock()
            .unwrap()
            .insert(role.to_owned(), token.clone());
        token
    }

    /// Signs in through a link URL; returns the session token.
    pub(crate) async fn sign_in_url(&self, url: &str) -> String {
        let token = Self::link_token(url);
        let r = self
            .call(
                "POST",
                "/api/v1/auth/link",
                None,
                Some(serde_json::json!({ "token": token })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.json["token"].as_str().unwrap().to_owned()
    }

    /// Signs in as candidate `id`, through a new link their centre admin asks for.
    pub(crate) async fn sign_in_candidate(&self, id: &str) -> String {
        let admin = self.sign_in("centre_admin").await;
        let r = self
            .call(
                "POST",
                &format!("/api/v1/candidates/{id}/links"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        self.sign_in_url(r.json["sign_in_url"].as_str().unwrap())
            .await
    }

    /// A GET with a session token.
    pub(crate) async fn get(&self, path: &str, token: &str) -> Res {
        self.call("GET", path, Some(token), None).await
    }

    /// A DELETE with a session token.
    pub(crate) async fn delete(&self, path: &str, token: &str) -> Res {
        self.call("DELETE", path, Some(token), None).await
    }

    /// A POST of a JSON body with a session token.
    pub(crate) async fn post(&self, path: &str, token: &str, body: Value) -> Res {
        self.call("POST", path, Some(token), Some(body)).await
    }

    /// A POST without a body, with a session token.
    pub(crate) async fn post_empty(&self, path: &str, token: &str) -> Res {
        self.call("POST", path, Some(token), None).await
    }

    /// A PUT of a JSON body with a session token.
    pub(crate) async fn put(&self, path: &str, token: &str, body: Value) -> Res {
        self.call("PUT", path, Some(token), Some(body)).await
    }

    /// Sends a JSON request.
    pub(crate) async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Res {
        let body = body.map(|b| b.to_string());
        self.raw(
            method,
            path,
            token,
            body.as_deref(),
            Some("application/json"),
        )
        .await
    }

    /// Sends a request with a raw body and content type.
    pub(crate) async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        content_type: Option<&str>,
    ) -> Res {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if body.is_some()
            && let Some(ct) = content_type
        {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        let mut req = req
            .body(
                body.map(|b| Body::from(b.to_owned()))
                    .unwrap_or_else(Body::empty),
            )
            .unwrap();
        // Each request from an address of its own, as from many clients: per-address
        // limits then never mask per-account ones.
        let n = self.peer.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let addr =
            std::net::SocketAddr::from(([10, (n >> 16) as u8, (n >> 8) as u8, n as u8], 40000));
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(addr));
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Res {
            status,
            json,
            text,
            headers,
        }
    }
}

/// Runs a test body against SQLite and PostgreSQL: `both!(name, |app| async move { … })`,
/// or `both!(name, config, |app| …)` with an `ApiConfig` of its own.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        $crate::both!($name, exam_api::app::ApiConfig::default(), $body);
    };
    ($name:ident, $config:expr, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app =
                    $crate::common::TestApp::with_config($crate::common::Backend::Sqlite, $config)
                        .await;
                let _guard = app.guard();
                ($body)(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = $crate::common::TestApp::with_config(
                    $crate::common::Backend::Postgres,
                    $config,
                )
                .await;
                let _guard = app.guard();
                ($body)(app).await;
            }
        }
    };
}
