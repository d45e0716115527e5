//! vision: frame → detections → proctoring events, on ONNX Runtime (`ort`).
//!
//! - [`image`]: frames and the plain pixel functions (I420 → RGB, resize, brightness,
//!   sharpness, JPEG).
//! - [`yunet`]: face detection pre- and post-processing (letterbox, grid decoding, NMS);
//!   [`sface`]: alignment on the five-point template and cosine similarity;
//!   [`pose`]: yaw and pitch from the landmarks.
//! - [`analyzer`]: the two models in `ort` sessions (one set per worker thread,
//!   intra-op threads = 1), monitoring frames and identity captures.
//! - [`smoother`]: sans-IO, observations in virtual time → events with start, end,
//!   peak confidence and thumbnails' frames; a session's review priority.
//! - [`pipeline`]: the worker pool behind a bounded queue — when vision falls behind,
//!   frames are dropped and counted, never queued without limit.
//! - [`mod@bench`]: `langcert bench vision`.
//!
//! Flags are evidence for a human reviewer, never a verdict; nothing here infers
//! emotion or stress.

pub mod analyzer;
pub mod bench;
pub mod image;
pub mod pipeline;
pub mod pose;
pub mod runtime;
pub mod sface;
pub mod smoother;
pub mod yunet;

pub use analyzer::{Analyzer, Capture, CaptureProblem};
pub use runtime::ModelPaths;

/// What can go wrong in vision.
#[derive(Debug, Clone, thiserror::Error)]
pub enum VisionError {
    /// The runtime library or a model is missing.
    #[error("{0}")]
    Missing(String),
    /// ONNX Runtime failed.
    #[error("ONNX Runtime: {0}")]
    Runtime(String),
    /// A picture could not be read.
    #[error("image: {0}")]
    Image(String),
}
