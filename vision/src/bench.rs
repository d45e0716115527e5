//! Per-stage timing of the analysis of one frame, on the calling thread (one core): what
//! `langcert bench vision` reports, the decode stage being added by the binary, which
//! owns the decoders.

use std::time::Instant;

use serde::Serialize;

use crate::VisionError;
use crate::analyzer::{Analyzer, Stages};
use crate::image::Rgb;
use crate::pipeline::analyse;
use crate::runtime::ModelPaths;

/// Milliseconds per frame of each stage, averaged over the measured frames.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct StageFigures {
    /// Resize and tensor layout for the detector.
    pub preprocess: f64,
    /// YuNet.
    pub yunet: f64,
    /// Decoding of YuNet's outputs, NMS, pose, quality, thumbnail JPEG.
    pub postprocess: f64,
    /// SFace, alignment included, on a frame that gets an identity check.
    pub sface_per_check: f64,
    /// SFace spread over every frame (one check every `identity_every_s` frames at one
    /// frame per second).
    pub sface: f64,
    /// Frames measured.
    pub frames: u32,
    /// Wall time of a whole analysis (excluding decode), ms per frame.
    pub end_to_end: f64,
}

/// Times `frames` analyses of `frame` (after 5 warm-up runs), with an identity check on
/// separate runs to time SFace.
pub fn measure(
    paths: &ModelPaths,
    frame: &Rgb,
    frames: u32,
    identity_every_s: u32,
) -> Result<StageFigures, VisionError> {
    let mut analyzer = Analyzer::new(paths)?;
    let reference = vec![0.1f32; 128];
    for _ in 0..5 {
        analyse(&mut analyzer, frame, Some(&reference))?;
    }
    let mut total = Stages::default();
    let t = Instant::now();
    for _ in 0..frames {
        let (_, _, _, s) = analyse(&mut analyzer, frame, None)?;
        total.preprocess += s.preprocess;
        total.detector += s.detector;
        total.postprocess += s.postprocess;
    }
    let end_to_end = t.elapsed().as_secs_f64() * 1e3 / f64::from(frames);
    let checks = (frames / 4).max(3);
    let mut sface = 0.0;
    for _ in 0..checks {
        let mut s = Stages::default();
        let a = analyzer.analyse(frame, &mut s)?;
        analyzer.identity(frame, &a.detections, &reference, &mut s)?;
        sface += s.embedder;
    }
    let n = f64::from(frames);
    let per_check = sface / f64::from(checks);
    Ok(StageFigures {
        preprocess: total.preprocess / n,
        yunet: total.detector / n,
        postprocess: total.postprocess / n,
        sface_per_check: per_check,
        sface: per_check / f64::from(identity_every_s.max(1)),
        frames,
        end_to_end,
    })
}
