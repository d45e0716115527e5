//! Proctoring of the written test (`docs/proctoring.md`): the identity step (a selfie
//! and an ID document, checked by face analysis the binary plugs in), the events the
//! vision pipeline closes during the test with their images, the reviewers' queue,
//! session page and decisions with an audit log, and the deletion of images after the
//! retention period.
//!
//! exam-api does not depend on the vision crate: the binary implements
//! [`IdentityVision`] with it and sets it on the state, and feeds the pipeline's events
//! in with [`record_event`]:
//!
//! ```no_run
//! # async fn run(db: exam_api::db::Db) -> Result<(), exam_api::error::ApiError> {
//! use exam_api::proctoring::{self, EventKind, EventRecord, Severity};
//! // The monitor watches the candidate's in-progress written session…
//! if let Some((session_id, _started_at)) = proctoring::monitored_session(&db, "candidate-id").await? {
//!     // …stores every event it closes…
//!     let event = EventRecord {
//!         session_id: session_id.clone(),
//!         kind: EventKind::FaceAbsent,
//!         severity: Severity::Medium,
//!         start_ms: 1_700_000_000_000,
//!         end_ms: 1_700_000_004_000,
//!         peak_confidence: 0.93,
//!         thumbnails: vec![],
//!         clip: vec![],
//!     };
//!     proctoring::record_event(&db, &event).await?;
//!     // …and stops when the session is over.
//!     let _more = proctoring::session_in_progress(&db, &session_id).await?;
//! }
//! // Daily: images past the retention period go.
//! proctoring::purge_media(&db, exam_api::db::now_ms(), 30).await?;
//! # Ok(()) }
//! ```

mod events;
pub(crate) mod identity;
pub(crate) mod page;
mod purge;
pub(crate) mod review;
mod store;

use axum::Router;

use crate::app::AppState;

pub use exam_core::proctoring::{Capture, CaptureProblem, EventKind, Severity, SimilarityError};

pub use events::{RecordError, record_event};
pub use purge::purge_media;
pub(crate) use store::open_review;
pub use store::{identity_selfie, monitored_session, session_in_progress};

/// The routes of this area: the candidate's identity step and the reviewers' pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(identity::router())
        .merge(review::router())
        .merge(page::router())
}

/// The face analysis the identity step needs, implemented by the binary with the vision
/// crate.
pub trait IdentityVision: Send + Sync + 'static {
    /// Whether a capture is usable: a selfie shows exactly one face, large and lit
    /// enough; a document shows at least one face.
    fn check(&self, capture: Capture, image: &[u8]) -> Result<(), CaptureProblem>;
    /// Cosine similarity (−1..1) of the selfie's face and the document's main face.
    fn similarity(&self, selfie: &[u8], document: &[u8]) -> Result<f32, SimilarityError>;
    /// The similarity at and above which two faces are taken as the same person (shown
    /// to the reviewer).
    fn threshold(&self) -> f32;
}

/// A proctoring event the vision pipeline closed.
#[derive(Clone)]
pub struct EventRecord {
    /// The written session's id.
    pub session_id: String,
    /// What it is about.
    pub kind: EventKind,
    /// How suspicious it is.
    pub severity: Severity,
    /// When it started (Unix ms).
    pub start_ms: i64,
    /// When it ended (Unix ms).
    pub end_ms: i64,
    /// The highest confidence of the detections behind it (0..1).
    pub peak_confidence: f32,
    /// Up to 3 JPEGs.
    pub thumbnails: Vec<Vec<u8>>,
    /// Frames (Unix ms, JPEG) around the event, a few seconds either side.
    pub clip: Vec<(i64, Vec<u8>)>,
}

/// Images are never printed: only their number.
impl std::fmt::Debug for EventRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventRecord")
            .field("session_id", &self.session_id)
            .field("kind", &self.kind)
            .field("severity", &self.severity)
            .field("start_ms", &self.start_ms)
            .field("end_ms", &self.end_ms)
            .field("peak_confidence", &self.peak_confidence)
            .field("thumbnails", &self.thumbnails.len())
            .field("clip", &self.clip.len())
            .finish()
    }
}

/// The priority of a session in the review queue, derived from its events: `high` if
/// any event is high, `medium` if any is medium, `low` otherwise (info never counts).
pub(crate) fn priority(counts: &[i64; 4]) -> Severity {
    if counts[3] > 0 {
        Severity::High
    } else if counts[2] > 0 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// The longest comment of a reviewer, in characters.
pub(crate) const MAX_COMMENT_CHARS: usize = 2000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_ignores_info_and_takes_the_highest() {
        assert_eq!(priority(&[5, 0, 0, 0]), Severity::Low);
        assert_eq!(priority(&[0, 2, 0, 0]), Severity::Low);
        assert_eq!(priority(&[9, 1, 1, 0]), Severity::Medium);
        assert_eq!(priority(&[0, 0, 1, 1]), Severity::High);
    }

    #[test]
    fn severities_round_trip_and_order() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        assert_eq!(Severity::parse("critical"), None);
        // The API document lists the names the server writes.
        let schema = serde_json::to_value(<Severity as utoipa::PartialSchema>::schema()).unwrap();
        let names: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(schema["enum"], serde_json::json!(names));
        assert!(Severity::Info < Severity::Low && Severity::Medium < Severity::High);
    }

    #[test]
    fn problems_have_the_page_codes() {
        let codes: Vec<_> = [
            CaptureProblem::Unreadable,
            CaptureProblem::NoFace,
            CaptureProblem::SeveralFaces,
            CaptureProblem::TooDark,
            CaptureProblem::FaceTooSmall,
        ]
        .map(CaptureProblem::code)
        .into();
        assert_eq!(
            codes,
            [
                "unreadable_image",
                "no_face",
                "several_faces",
                "too_dark",
                "face_too_small"
            ]
        );
    }
}
