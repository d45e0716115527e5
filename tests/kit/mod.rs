//! The test kit of the binary's tests: one server launcher, one API client of a
//! session, one signaling WebSocket client and one WebRTC test peer (webrtc-rs), shared
//! by every test that needs them.

pub(crate) mod api;
pub(crate) mod peer;
pub(crate) mod server;
pub(crate) mod ws;

pub(crate) use api::Api;
pub(crate) use peer::Peer;
pub(crate) use server::{DemoInterview, Server};
