//! The models at work: a face detector and a face embedder, each an `ort::Session` owned
//! by one worker thread, and what they make of a frame or of an identity capture.

pub use exam_core::proctoring::{Capture, CaptureProblem};
use std::time::Instant;

use ort::session::Session;
use ort::value::TensorRef;

use crate::image::{Rgb, sharpness};
use crate::pose::head_pose;
use crate::runtime::{ModelPaths, session};
use crate::smoother::FaceSample;
use crate::yunet::{Face, Head, STRIDES};
use crate::{VisionError, sface, yunet};

/// Detections below this confidence are ignored.
pub const FACE_THRESHOLD: f32 = 0.75;
/// Width of the detector's input for monitoring frames (640×480 → 320×256).
pub const MONITOR_WIDTH: u32 = 320;
/// Width of the detector's input for identity captures.
pub const CAPTURE_WIDTH: u32 = 640;
/// Mean luma under which a picture is too dark.
pub const DARK_LUMA: f32 = 45.0;
/// Laplacian variance under which a picture is blurred.
pub const BLUR_VARIANCE: f32 = 25.0;

/// YuNet in a session.
pub struct Detector {
    session: Session,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Detector")
    }
}

/// Time spent in each stage of the last call, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stages {
    /// Resize and tensor layout.
    pub preprocess: f64,
    /// The detector model.
    pub detector: f64,
    /// Decoding, suppression, head pose, brightness, sharpness.
    pub postprocess: f64,
    /// Alignment and the embedding model (only on identity checks).
    pub embedder: f64,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

impl Detector {
    /// Loads YuNet.
    pub fn new(paths: &ModelPaths) -> Result<Detector, VisionError> {
        Ok(Detector {
            session: session(&paths.runtime, &paths.detector)?,
        })
    }

    /// Faces in `img`, analysed at an input `width` pixels wide (a multiple of 32; the
    /// height follows the picture's aspect, rounded up to a multiple of 32).
    pub fn detect(
        &mut self,
        img: &Rgb,
        width: u32,
        stages: &mut Stages,
    ) -> Result<Vec<Face>, VisionError> {
        let t = Instant::now();
        let scale = width as f32 / img.width as f32;
        let height = ((img.height as f32 * scale / 32.0).ceil() as u32).max(1) * 32;
        let (input, scale) = yunet::preprocess(img, width, height);
        stages.preprocess += ms(t);
        let t = Instant::now();
        let tensor = TensorRef::from_array_view((
            [1usize, 3, height as usize, width as usize],
            input.as_slice(),
        ))
        .map_err(|e| VisionError::Runtime(e.to_string()))?;
        let outputs = self
            .session
            .run(ort::inputs!["input" => tensor])
            .map_err(|e| VisionError::Runtime(e.to_string()))?;
        stages.detector += ms(t);
        let t = Instant::now();
        let mut tensors = Vec::with_capacity(12);
        for s in STRIDES {
            for name in ["cls", "obj", "bbox", "kps"] {
                let key = format!("{name}_{s}");
                let value = outputs.get(&key).ok_or_else(|| {
                    VisionError::Runtime(format!("the detector has no output {key}"))
                })?;
                let (_, data) = value
                    .try_extract_tensor::<f32>()
                    .map_err(|e| VisionError::Runtime(e.to_string()))?;
                tensors.push(data);
            }
        }
        let heads: Vec<Head<'_>> = STRIDES
            .iter()
            .enumerate()
            .map(|(i, &stride)| Head {
                stride,
                cls: tensors[i * 4],
                obj: tensors[i * 4 + 1],
                bbox: tensors[i * 4 + 2],
                kps: tensors[i * 4 + 3],
            })
            .collect();
        let faces = yunet::postprocess(&heads, width, scale, FACE_THRESHOLD);
        stages.postprocess += ms(t);
        Ok(faces)
    }
}

/// SFace in a session.
pub struct Embedder {
    session: Session,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Embedder")
    }
}

impl Embedder {
    /// Loads SFace.
    pub fn new(paths: &ModelPaths) -> Result<Embedder, VisionError> {
        Ok(Embedder {
            session: session(&paths.runtime, &paths.embedder)?,
        })
    }

    /// The 128-d embedding of a detected face.
    pub fn embed(&mut self, img: &Rgb, face: &Face) -> Result<Vec<f32>, VisionError> {
        let aligned = sface::align(img, &face.landmarks);
        let input = sface::preprocess(&aligned);
        let size = sface::SIZE as usize;
        let tensor = TensorRef::from_array_view(([1usize, 3, size, size], input.as_slice()))
            .map_err(|e| VisionError::Runtime(e.to_string()))?;
        let outputs = self
            .session
            .run(ort::inputs!["data" => tensor])
            .map_err(|e| VisionError::Runtime(e.to_string()))?;
        let (_, data) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| VisionError::Runtime(e.to_string()))?;
        Ok(data.to_vec())
    }
}

/// What a monitoring frame showed, before smoothing.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameAnalysis {
    /// Faces with their pose, boxes in fractions of the picture.
    pub faces: Vec<FaceSample>,
    /// The detections in picture pixels (for the identity check and thumbnails).
    pub detections: Vec<Face>,
    /// Too dark.
    pub dark: bool,
    /// Blurred.
    pub blurred: bool,
}

/// Detector and embedder together: one per worker thread.
#[derive(Debug)]
pub struct Analyzer {
    /// Face detection.
    pub detector: Detector,
    /// Face embedding.
    pub embedder: Embedder,
}

impl Analyzer {
    /// Loads both models.
    pub fn new(paths: &ModelPaths) -> Result<Analyzer, VisionError> {
        Ok(Analyzer {
            detector: Detector::new(paths)?,
            embedder: Embedder::new(paths)?,
        })
    }

    /// Faces, head poses and picture quality of a monitoring frame.
    pub fn analyse(
        &mut self,
        img: &Rgb,
        stages: &mut Stages,
    ) -> Result<FrameAnalysis, VisionError> {
        let detections = self.detector.detect(img, MONITOR_WIDTH, stages)?;
        let t = Instant::now();
        let (w, h) = (img.width as f32, img.height as f32);
        let faces = detections
            .iter()
            .map(|f| {
                let pose = head_pose(&f.landmarks);
                FaceSample {
                    bbox: [f.bbox[0] / w, f.bbox[1] / h, f.bbox[2] / w, f.bbox[3] / h],
                    score: f.score,
                    yaw: pose.yaw,
                    pitch: pose.pitch,
                }
            })
            .collect();
        // Quality on a small copy: cheap, and what matters is the whole picture.
        let small = img.resize(160, 120);
        let dark = small.mean_luma(0, 0, 160, 120) < DARK_LUMA;
        let blurred = !dark && sharpness(&small) < BLUR_VARIANCE;
        stages.postprocess += ms(t);
        Ok(FrameAnalysis {
            faces,
            detections,
            dark,
            blurred,
        })
    }

    /// Similarity of the largest detected face of `img` with a reference embedding.
    pub fn identity(
        &mut self,
        img: &Rgb,
        faces: &[Face],
        reference: &[f32],
        stages: &mut Stages,
    ) -> Result<Option<f32>, VisionError> {
        let Some(face) = largest(faces) else {
            return Ok(None);
        };
        let t = Instant::now();
        let e = self.embedder.embed(img, face)?;
        stages.embedder += ms(t);
        Ok(Some(sface::cosine(&e, reference)))
    }

    /// Checks an identity capture; on success returns the face to compare.
    pub fn check_capture(
        &mut self,
        capture: Capture,
        bytes: &[u8],
    ) -> Result<(Rgb, Face), CaptureProblem> {
        let img = Rgb::decode(bytes).map_err(|_| CaptureProblem::Unreadable)?;
        let mut stages = Stages::default();
        let width = CAPTURE_WIDTH.min(img.width.div_ceil(32) * 32);
        let faces = self
            .detector
            .detect(&img, width, &mut stages)
            .map_err(|_| CaptureProblem::Unreadable)?;
        let overall = img.mean_luma(0, 0, img.width, img.height);
        let Some(face) = largest(&faces) else {
            return Err(if overall < DARK_LUMA {
                CaptureProblem::TooDark
            } else {
                CaptureProblem::NoFace
            });
        };
        let [x, y, w, h] = face.bbox.map(|v| v.max(0.0) as u32);
        if img.mean_luma(x, y, w.max(1), h.max(1)) < DARK_LUMA {
            return Err(CaptureProblem::TooDark);
        }
        match capture {
            Capture::Selfie if faces.len() > 1 => return Err(CaptureProblem::SeveralFaces),
            Capture::Selfie if face.bbox[2] < 0.15 * img.width as f32 => {
                return Err(CaptureProblem::FaceTooSmall);
            }
            Capture::Document if face.bbox[2] < 24.0 => return Err(CaptureProblem::FaceTooSmall),
            _ => {}
        }
        let face = face.clone();
        Ok((img, face))
    }

    /// The embedding of a capture already checked.
    pub fn embed_capture(&mut self, img: &Rgb, face: &Face) -> Result<Vec<f32>, VisionError> {
        self.embedder.embed(img, face)
    }
}

/// The face with the largest box.
pub fn largest(faces: &[Face]) -> Option<&Face> {
    faces.iter().max_by(|a, b| a.area().total_cmp(&b.area()))
}
