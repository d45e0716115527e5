//! The proctoring's storage: every query of the area — the events the monitor stores,
//! the identity captures, the reviews (assignment, queue, decisions, audit log), the
//! session page's tracks and the purge of images. Handlers hold no SQL; these functions
//! take the pool, a connection or a transaction and answer
//! [`StoreError`](crate::db::StoreError).
//!
//! Rows decode into named structs; the stored `kind` and `severity` of an event decode
//! into [`EventKind`](crate::proctoring::EventKind) and
//! [`Severity`](crate::proctoring::Severity) here, and an unknown value is
//! [`StoreError::Corrupt`](crate::db::StoreError::Corrupt).

mod events;
mod identity;
mod page;
mod purge;
mod review;

pub(crate) use events::{Frame, insert_event};
pub use events::{identity_selfie, monitored_session, session_in_progress};
pub(crate) use identity::{
    CapturePair, NewCapture, capture_times, captures, identity_done, store_capture,
    store_similarity, test_started,
};
pub(crate) use page::{
    ItemRow, MediaRow, audit_log, events, identity_image, identity_summary, items, latest_oral,
    media, media_jpeg, name,
};
pub(crate) use purge::purge;
pub(crate) use review::{
    Assigned, Entry, EventDecided, SessionDecided, assign_waiting, assigned, audit_view,
    decide_event, decide_session, open_review, queue,
};
