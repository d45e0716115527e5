//! vision: frame → detections → proctoring events, on ONNX Runtime (`ort`).
//!
//! Not built yet: the proctoring stage fills this crate (face detection with YuNet,
//! identity with SFace, head pose from landmarks, the sans-IO event smoother). The
//! binary already depends on it so that the workspace keeps the layout of DESIGN.md.
