//! exam-api: the HTTP API of langcert — the routers of each area (accounts and auth, the
//! item bank, the written test, proctoring, booking, interviews, results and
//! certificates) over a store module per area. The domain itself (bank, scoring, the
//! adaptive engine, the state machines) is in `exam-core`, certificates in `credential`.
//!
//! The binary builds an [`app::AppState`] and serves [`app::router`]:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use exam_api::{app, db::Db};
//! use exam_core::bank::Bank;
//! let db = Db::connect("sqlite://data/langcert.db?mode=rwc").await?;
//! let state = app::AppState::new(db, b"a secret of at least thirty-two bytes", Bank::english(), Default::default());
//! exam_api::bank_api::store_bank(&state).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app::router(state)).await?;
//! # Ok(()) }
//! ```

pub mod accounts;
pub mod app;
pub mod auth;
pub mod bank_api;
pub mod booking;
pub mod candidate;
pub mod db;
pub mod error;
pub mod headers;
pub mod import;
pub mod interviews;
pub mod mail;
pub mod meta;
pub mod oral;
pub mod pages;
pub mod practice;
pub mod proctoring;
pub mod recordings;
pub mod results;
pub mod seed;
#[cfg(feature = "testing")]
pub mod testing;
pub mod written;
