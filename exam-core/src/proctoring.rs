//! The vocabulary of the proctoring, shared by the vision pipeline that produces events,
//! the API that stores them and the reviewers' pages that show them.
//!
//! Events are evidence for a human reviewer, never a verdict: `CAMERA_LOST` and
//! `LOW_QUALITY` are technical (severity [`Severity::Info`]), and nothing infers emotion
//! or stress.

use std::fmt;
use std::str::FromStr;

/// What an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// Nobody in front of the camera.
    FaceAbsent,
    /// A second face in view.
    MultipleFaces,
    /// The head turned away from the screen.
    LookingAway,
    /// The face no longer matches the identity step's selfie.
    IdentityChanged,
    /// No picture from the camera (technical).
    CameraLost,
    /// Too dark or blurred to see (technical).
    LowQuality,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 6] = [
        EventKind::FaceAbsent,
        EventKind::MultipleFaces,
        EventKind::LookingAway,
        EventKind::IdentityChanged,
        EventKind::CameraLost,
        EventKind::LowQuality,
    ];

    /// The event code stored and shown to reviewers (`FACE_ABSENT`…).
    pub fn code(self) -> &'static str {
        match self {
            EventKind::FaceAbsent => "FACE_ABSENT",
            EventKind::MultipleFaces => "MULTIPLE_FACES",
            EventKind::LookingAway => "LOOKING_AWAY",
            EventKind::IdentityChanged => "IDENTITY_CHANGED",
            EventKind::CameraLost => "CAMERA_LOST",
            EventKind::LowQuality => "LOW_QUALITY",
        }
    }

    /// Whether it is technical (the camera, the light), never suspicious in itself.
    pub fn is_technical(self) -> bool {
        matches!(self, EventKind::CameraLost | EventKind::LowQuality)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A code that names no [`EventKind`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown proctoring event kind {0:?}")]
pub struct UnknownKind(pub String);

impl FromStr for EventKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.code() == s)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

/// Which capture of the identity step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capture {
    /// The candidate's face, taken by the webcam.
    Selfie,
    /// The candidate's ID document, held up to the webcam.
    Document,
}

impl Capture {
    /// `selfie` or `document` (URLs and codes).
    pub fn as_str(self) -> &'static str {
        match self {
            Capture::Selfie => "selfie",
            Capture::Document => "document",
        }
    }
}

/// Why a capture is refused (codes sent to the page: `unreadable_image`, `no_face`,
/// `several_faces`, `too_dark`, `face_too_small`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaptureProblem {
    /// The bytes are not a JPEG or PNG image that can be decoded.
    Unreadable,
    /// No face was found.
    NoFace,
    /// More than one face was found (selfie).
    SeveralFaces,
    /// The picture is too dark to see the face well.
    TooDark,
    /// The face is too small (too far from the camera).
    FaceTooSmall,
}

impl CaptureProblem {
    /// The machine-readable code sent to the page.
    pub fn code(self) -> &'static str {
        match self {
            CaptureProblem::Unreadable => "unreadable_image",
            CaptureProblem::NoFace => "no_face",
            CaptureProblem::SeveralFaces => "several_faces",
            CaptureProblem::TooDark => "too_dark",
            CaptureProblem::FaceTooSmall => "face_too_small",
        }
    }

    /// A plain explanation of what to do.
    pub fn message(self, capture: Capture) -> &'static str {
        match (self, capture) {
            (CaptureProblem::Unreadable, _) => {
                "the image could not be read; take the picture again"
            }
            (CaptureProblem::NoFace, Capture::Selfie) => {
                "no face was found; centre your face in the circle and take the picture again"
            }
            (CaptureProblem::NoFace, Capture::Document) => {
                "no face was found on the document; place the page with your photo in the frame"
            }
            (CaptureProblem::SeveralFaces, _) => {
                "several faces are visible; be alone in the picture"
            }
            (CaptureProblem::TooDark, _) => {
                "the picture is too dark; add some light in front of you"
            }
            (CaptureProblem::FaceTooSmall, _) => "the face is too small; come closer to the camera",
        }
    }
}

impl std::fmt::Display for CaptureProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::error::Error for CaptureProblem {}

/// Why the faces of a selfie and a document could not be compared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimilarityError {
    /// The selfie is not usable.
    #[error("selfie: {0}")]
    Selfie(CaptureProblem),
    /// The document is not usable.
    #[error("document: {0}")]
    Document(CaptureProblem),
    /// The face analysis failed.
    #[error("face analysis: {0}")]
    Analysis(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Severity of an event. `Info` is technical (`CAMERA_LOST`, `LOW_QUALITY`), never
/// suspicious: it neither raises a session's priority nor holds its decision back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(rename_all = "lowercase"))]
pub enum Severity {
    /// Technical.
    Info,
    /// Worth a look.
    Low,
    /// Suspicious.
    Medium,
    /// Very suspicious.
    High,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 4] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
    ];

    /// `info`, `low`, `medium` or `high` (stored and sent).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    /// The severity with that name.
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_and_severity_reads_back_from_its_code() {
        for k in EventKind::ALL {
            assert_eq!(k.code().parse::<EventKind>(), Ok(k));
        }
        assert!("face_absent".parse::<EventKind>().is_err());
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        assert_eq!(Severity::parse("critical"), None);
    }
}
