//! The signaling WebSocket client: connect with a session token, send JSON messages,
//! wait for a message of a type.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A client WebSocket to the server.
pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a message may take to come.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// Opens `path` (`/ws`, `/ws/monitor`) of a server with the token as a query parameter.
pub(crate) async fn connect(base: &str, path: &str, token: &str) -> Ws {
    let url = format!("{}{path}?token={token}", base.replace("http://", "ws://"));
    tokio_tungstenite::connect_async(url)
        .await
        .expect("the WebSocket opens")
        .0
}

/// Opens `path` of a server with the token in an `Authorization` header.
pub(crate) async fn connect_bearer(base: &str, path: &str, token: &str) -> Ws {
    let mut req = format!("{}{path}", base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("Authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req)
        .await
        .expect("the WebSocket opens")
        .0
}

/// Sends a JSON message.
pub(crate) async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// The next JSON message, within [`WAIT`].
pub(crate) async fn next(ws: &mut Ws, what: &str) -> Value {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {what}"))
            .unwrap()
            .unwrap();
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

/// The next message of a type (skipping others).
pub(crate) async fn expect(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let v = next(ws, kind).await;
        if v["type"] == kind {
            return v;
        }
    }
}

/// The next message of a type, asserting that no error comes before it.
pub(crate) async fn expect_no_error(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let v = next(ws, kind).await;
        assert_ne!(v["type"], "error", "{v}");
        if v["type"] == kind {
            return v;
        }
    }
}
