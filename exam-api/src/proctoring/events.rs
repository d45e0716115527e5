//! The events the binary's monitor stores: checked, trimmed to the images kept, then
//! written by the store in one transaction.

use super::EventRecord;
use super::store::{self, Frame};
use crate::accounts::new_id;
use crate::db::{Db, StoreError, now_ms};
use crate::error::ApiError;

/// Thumbnails kept per event (more are dropped).
pub(crate) const MAX_THUMBNAILS: usize = 3;
/// Clip frames kept per event (more are dropped: a few seconds either side at a few
/// frames per second stay well under this).
pub(crate) const MAX_CLIP_FRAMES: usize = 120;

/// Why [`record_event`] stored nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The event names no written session (404).
    #[error("no such written session")]
    NoSession,
    /// The event is malformed: it ends before it starts, or its confidence is not a
    /// number (422 `invalid_event`).
    #[error("{0}")]
    Invalid(&'static str),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<RecordError> for ApiError {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::NoSession => ApiError::NotFound(e.to_string()),
            RecordError::Invalid(message) => ApiError::invalid("invalid_event", message),
            RecordError::Store(e) => e.into(),
        }
    }
}

/// Stores an event the vision pipeline closed, with its thumbnails and clip frames, in
/// one transaction; returns the event's id. The event starts `pending` for the reviewer.
///
/// [`RecordError::NoSession`] if the session does not exist; [`RecordError::Invalid`]
/// for a malformed event (end before start, confidence not a number). Thumbnails beyond
/// 3 and clip frames beyond 120 are dropped; clip frames are stored in time order.
pub async fn record_event(db: &Db, event: &EventRecord) -> Result<String, RecordError> {
    check(event)?;
    if event.thumbnails.len() > MAX_THUMBNAILS || event.clip.len() > MAX_CLIP_FRAMES {
        tracing::warn!(
            session = %event.session_id,
            thumbnails = event.thumbnails.len(),
            clip = event.clip.len(),
            "proctoring event has too many images; the extra ones are dropped"
        );
    }
    let id = new_id();
    if !store::insert_event(db, &id, event, &frames(event), now_ms()).await? {
        return Err(RecordError::NoSession);
    }
    tracing::info!(
        session = %event.session_id,
        event = %id,
        kind = %event.kind,
        severity = event.severity.as_str(),
        "proctoring event recorded"
    );
    Ok(id)
}

/// Refuses an event that ends before it starts or whose confidence is not a number.
fn check(event: &EventRecord) -> Result<(), RecordError> {
    if event.end_ms < event.start_ms {
        return Err(RecordError::Invalid("the event ends before it starts"));
    }
    if !event.peak_confidence.is_finite() {
        return Err(RecordError::Invalid("peak_confidence is not a number"));
    }
    Ok(())
}

/// The images kept: the first thumbnails, then the first clip frames in time order.
fn frames(event: &EventRecord) -> Vec<Frame<'_>> {
    let thumbnails = event
        .thumbnails
        .iter()
        .take(MAX_THUMBNAILS)
        .enumerate()
        .map(|(seq, jpeg)| Frame {
            role: "thumbnail",
            seq: seq as i64,
            at: None,
            jpeg,
        });
    let mut clip: Vec<_> = event.clip.iter().take(MAX_CLIP_FRAMES).collect();
    clip.sort_by_key(|(at, _)| *at);
    let clip = clip.into_iter().enumerate().map(|(seq, (at, jpeg))| Frame {
        role: "clip",
        seq: seq as i64,
        at: Some(*at),
        jpeg,
    });
    thumbnails.chain(clip).collect()
}
