//! Time-limited TURN credentials for an existing TURN server (the "TURN REST API" scheme
//! of draft-uberti-behave-turn-rest, which RFC 7635 builds on, and which coturn implements
//! as `use-auth-secret`).
//!
//! The server and the TURN server share a secret. A credential is
//! `username = "<expiry, unix seconds>:<opaque id>"` and
//! `credential = base64(HMAC-SHA1(secret, username))`: the TURN server recomputes it and
//! refuses it after the expiry. The opaque id is random, never a person's id or name.

use ring::hmac;
use serde::{Deserialize, Serialize};

/// An ICE server as `RTCPeerConnection`'s configuration takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    /// `turn:` / `turns:` URLs of the TURN server.
    pub urls: Vec<String>,
    /// The time-limited username.
    pub username: String,
    /// Its credential.
    pub credential: String,
}

/// Where the TURN server is and the secret shared with it.
#[derive(Clone)]
pub struct TurnConfig {
    /// Its URLs, e.g. `turn:turn.example.org:3478?transport=udp`.
    pub urls: Vec<String>,
    /// The shared secret (coturn's `static-auth-secret`).
    pub secret: String,
    /// How long a credential is valid, in seconds.
    pub ttl_s: i64,
}

impl std::fmt::Debug for TurnConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnConfig")
            .field("urls", &self.urls)
            .field("ttl_s", &self.ttl_s)
            .finish_non_exhaustive()
    }
}

impl TurnConfig {
    /// A credential valid from `now_ms` for `ttl_s`, under the opaque `id`.
    pub fn credentials(&self, now_ms: i64, id: &str) -> IceServer {
        let username = format!("{}:{id}", now_ms / 1000 + self.ttl_s);
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, self.secret.as_bytes());
        let tag = hmac::sign(&key, username.as_bytes());
        use base64::Engine as _;
        IceServer {
            urls: self.urls.clone(),
            credential: base64::engine::general_purpose::STANDARD.encode(tag.as_ref()),
            username,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_is_the_hmac_sha1_of_the_username_and_expires_after_the_ttl() {
        let config = TurnConfig {
            urls: vec!["turn:127.0.0.1:3479".into()],
            secret: "north".into(),
            ttl_s: 600,
        };
        let server = config.credentials(1_700_000_000_123, "a1b2");
        assert_eq!(server.username, "1700000600:a1b2");
        // printf '1700000600:a1b2' | openssl dgst -sha1 -hmac north -binary | base64
        assert_eq!(server.credential, "bYm/eVg17u8rbfYwratK+dRyB78=");
        assert_eq!(server.urls, config.urls);
        assert!(
            !format!("{config:?}").contains("north"),
            "the secret is not logged"
        );
    }
}
