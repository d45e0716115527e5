//! The SFU on loopback, driven by webrtc-rs clients: one test binary, one module per area.

mod client;
mod ebml;
mod forward;
mod recording;
