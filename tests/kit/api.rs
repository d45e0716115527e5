//! A session's client of a running server's API, and the candidate's way to the
//! written test (profile, identity, start).

use serde_json::{Value, json};

/// The API of a running server, as one signed-in user calls it.
pub(crate) struct Api {
    /// The HTTP client (its own connection pool).
    pub(crate) http: reqwest::Client,
    /// The server's address.
    pub(crate) base: String,
    /// The session token.
    pub(crate) token: String,
}

impl Api {
    /// A client of `base` for a session token.
    pub(crate) fn new(base: &str, token: &str) -> Api {
        Api::with_client(reqwest::Client::new(), base, token)
    }

    /// A client of `base` for a session token, over a given HTTP client.
    pub(crate) fn with_client(http: reqwest::Client, base: &str, token: &str) -> Api {
        Api {
            http,
            base: base.to_owned(),
            token: token.to_owned(),
        }
    }

    /// Sends a request (with a JSON body or none); the status and the JSON answer (Null
    /// when the answer is not JSON).
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// A GET's JSON answer.
    pub(crate) async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await.1
    }

    /// A POST of a JSON body; status and answer.
    pub(crate) async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// The user id of the session.
    pub(crate) async fn user_id(&self) -> String {
        self.get("/api/v1/me").await["id"]
            .as_str()
            .expect("an id")
            .to_owned()
    }

    /// The identity step, with the fixture photo (from `models/fetch`) as selfie and
    /// document.
    pub(crate) async fn identity(&self) {
        let photo = std::fs::read("models/fixtures/astronaut.png").expect("run models/fetch");
        for capture in ["selfie", "document"] {
            let res = self
                .http
                .put(format!("{}/api/v1/me/identity/{capture}", self.base))
                .bearer_auth(&self.token)
                .header("Content-Type", "image/png")
                .body(photo.clone())
                .send()
                .await
                .unwrap();
            let status = res.status();
            assert!(
                status.is_success(),
                "{capture}: {status} {}",
                res.text().await.unwrap()
            );
        }
    }

    /// A candidate's way to the written test: the profile, the identity step, and the
    /// start; the test's first view.
    pub(crate) async fn start_written(&self) -> Value {
        let profile = json!({ "birth_name": "MARTIN", "first_names": "Camille", "birth_date": "1994-05-17", "sex": "F",
                              "birth_commune": "Lyon", "birth_country": "France" });
        let (status, _) = self
            .call(reqwest::Method::PUT, "/api/v1/me/profile", Some(profile))
            .await;
        assert_eq!(status, 204);
        self.identity().await;
        let (status, view) = self
            .call(reqwest::Method::POST, "/api/v1/written", None)
            .await;
        assert_eq!(status, 201, "{view}");
        view
    }
}
