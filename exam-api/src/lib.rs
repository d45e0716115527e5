//! exam-api: the HTTP API of langcert — accounts and auth, the item bank, the adaptive
//! engine, and the areas later stages add (sessions, booking, scoring, results).
//!
//! The binary builds an [`app::AppState`] and serves [`app::router`]:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use exam_api::{app, bank::Bank, db::Db};
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
pub mod bank;
pub mod bank_api;
pub mod booking;
pub mod candidate;
pub mod cat;
pub mod cefr;
pub mod certificate;
pub mod db;
pub mod error;
pub mod headers;
pub mod import;
pub mod interview_state;
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
