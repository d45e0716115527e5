//! The JSON messages of `docs/signaling.md`, and their parser: any text gives a message
//! or a typed error, never a panic.

use serde::{Deserialize, Serialize};

/// The largest message accepted, in bytes.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// A message from a client.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    /// Enter an interview's room (candidates knock, the evaluator opens it).
    Join {
        /// The interview id.
        room: String,
    },
    /// The evaluator admits a waiting candidate.
    Admit {
        /// The candidate.
        candidate: String,
    },
    /// The evaluator denies a waiting candidate.
    Deny {
        /// The candidate.
        candidate: String,
        /// Shown to the candidate.
        reason: String,
    },
    /// The evaluator removes an admitted candidate.
    Remove {
        /// The candidate.
        candidate: String,
    },
    /// A complete SDP offer, with the media token of the room.
    Offer {
        /// The SDP.
        sdp: String,
        /// The media grant.
        media_token: String,
    },
    /// A complete SDP answer to the server's offer.
    Answer {
        /// The SDP.
        sdp: String,
        /// The media grant.
        media_token: String,
    },
    /// The candidate's ID was checked on camera.
    IdChecked,
    /// The interview starts.
    Start,
    /// The interview ends.
    End,
    /// Leave the room.
    Leave,
}

/// A message to a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The candidate waits.
    Waiting {
        /// The room.
        room: String,
        /// The interview's time (RFC 3339).
        scheduled_at: String,
    },
    /// The evaluator is in the room, with their media grant.
    Joined {
        /// The room.
        room: String,
        /// `evaluator`.
        role: String,
        /// The media grant.
        media_token: String,
        /// TURN servers with time-limited credentials, for networks where the media
        /// server cannot be reached directly (none when the server has no TURN).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ice_servers: Vec<crate::turn::IceServer>,
    },
    /// The evaluator's waiting list.
    WaitingList {
        /// The room.
        room: String,
        /// Someone just knocked.
        arrived: bool,
        /// The waiting candidates.
        list: Vec<WaitingEntry>,
    },
    /// The candidate is admitted, with their media grant.
    Admitted {
        /// The room.
        room: String,
        /// The media grant.
        media_token: String,
        /// As in [`ServerMsg::Joined`].
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ice_servers: Vec<crate::turn::IceServer>,
    },
    /// The candidate was denied.
    Denied {
        /// The room.
        room: String,
        /// The evaluator's reason.
        reason: String,
    },
    /// The candidate was removed.
    Removed {
        /// The room.
        room: String,
    },
    /// The candidate's waiting entry expired.
    Expired {
        /// The room.
        room: String,
    },
    /// The server's SDP answer.
    Answer {
        /// The SDP.
        sdp: String,
    },
    /// A server SDP offer (renegotiation).
    Offer {
        /// The SDP.
        sdp: String,
    },
    /// The interview's state changed.
    Interview {
        /// The room.
        room: String,
        /// `id_checked`, `in_progress` or `ended`.
        state: String,
        /// When it started (RFC 3339), once started.
        #[serde(skip_serializing_if = "Option::is_none")]
        started_at: Option<String>,
    },
    /// The room is not open yet: it opens at `opens_at` (the page says so and comes
    /// back then).
    NotOpen {
        /// The room.
        room: String,
        /// When it opens (RFC 3339).
        opens_at: String,
        /// The interview's time (RFC 3339).
        scheduled_at: String,
    },
    /// The interview is over: `ended`, `cancelled` or `no_show`.
    Closed {
        /// The room.
        room: String,
        /// How it closed.
        state: String,
    },
    /// A refused message; nothing changed.
    Error {
        /// Machine-readable code.
        code: String,
        /// Explanation.
        message: String,
    },
}

/// One line of the waiting list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingEntry {
    /// The candidate's id.
    pub candidate: String,
    /// Their name.
    pub name: String,
    /// The interview's time (RFC 3339).
    pub scheduled_at: String,
    /// Waiting since (RFC 3339).
    pub since: String,
    /// Whether their page is connected.
    pub connected: bool,
}

/// Why a message was not understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Larger than [`MAX_MESSAGE`].
    #[error("the message is larger than {MAX_MESSAGE} bytes")]
    TooLarge,
    /// Not a message of the protocol.
    #[error("not a signaling message: {0}")]
    Malformed(String),
}

impl ParseError {
    /// The `code` of the error reply.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::TooLarge => "too_large",
            ParseError::Malformed(_) => "malformed",
        }
    }
}

/// Parses a client's text frame.
pub fn parse(text: &str) -> Result<ClientMsg, ParseError> {
    if text.len() > MAX_MESSAGE {
        return Err(ParseError::TooLarge);
    }
    let msg: ClientMsg =
        serde_json::from_str(text).map_err(|e| ParseError::Malformed(e.to_string()))?;
    let field_ok =
        |s: &str, max: usize| !s.is_empty() && s.len() <= max && !s.chars().any(char::is_control);
    let ok = match &msg {
        ClientMsg::Join { room } => field_ok(room, 64),
        ClientMsg::Admit { candidate } | ClientMsg::Remove { candidate } => field_ok(candidate, 64),
        ClientMsg::Deny { candidate, reason } => field_ok(candidate, 64) && field_ok(reason, 500),
        ClientMsg::Offer { sdp, media_token } | ClientMsg::Answer { sdp, media_token } => {
            sdp.starts_with("v=0") && field_ok(media_token, 4096)
        }
        ClientMsg::IdChecked | ClientMsg::Start | ClientMsg::End | ClientMsg::Leave => true,
    };
    if ok {
        Ok(msg)
    } else {
        Err(ParseError::Malformed(
            "a field is empty, too long or not valid".to_owned(),
        ))
    }
}

impl ServerMsg {
    /// An error reply.
    pub fn error(code: &str, message: impl Into<String>) -> Self {
        ServerMsg::Error {
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// The JSON text frame.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("server messages always serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_client_message() {
        assert_eq!(
            parse(r#"{"type":"join","room":"r1"}"#),
            Ok(ClientMsg::Join { room: "r1".into() })
        );
        assert_eq!(parse(r#"{"type":"id_checked"}"#), Ok(ClientMsg::IdChecked));
        assert!(matches!(
            parse(r#"{"type":"offer","sdp":"v=0\r\n…","media_token":"t"}"#),
            Ok(ClientMsg::Offer { .. })
        ));
    }

    #[test]
    fn refuses_bad_messages_with_a_code() {
        for bad in [
            "",
            "not json",
            "[]",
            r#"{"type":"fly"}"#,
            r#"{"type":"join"}"#,
            r#"{"type":"join","room":""}"#,
            r#"{"type":"join","room":"r","extra":1}"#,
            r#"{"type":"join","room":5}"#,
            r#"{"type":"offer","sdp":"hello","media_token":"t"}"#,
            r#"{"type":"deny","candidate":"c","reason":""}"#,
        ] {
            assert_eq!(
                parse(bad).map_err(|e| e.code()),
                Err("malformed"),
                "{bad:?}"
            );
        }
        let big = format!(r#"{{"type":"join","room":"{}"}}"#, "x".repeat(MAX_MESSAGE));
        assert_eq!(parse(&big), Err(ParseError::TooLarge));
    }

    #[test]
    fn mutated_messages_never_panic() {
        let seed = r#"{"type":"deny","candidate":"c1","reason":"Votre rendez-vous est à 14 h."}"#;
        let bytes = seed.as_bytes();
        for i in 0..bytes.len() {
            for b in [b'"', b'{', b'}', b'\\', 0xc3, b'0'] {
                let mut m = bytes.to_vec();
                m[i] = b;
                if let Ok(text) = std::str::from_utf8(&m) {
                    let _ = parse(text);
                }
            }
        }
    }
}
