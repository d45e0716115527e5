//! The worker pool: sampled frames in through a bounded queue, analyses out.
//!
//! Each worker thread owns its models (one `ort::Session` each, one intra-op thread) and
//! its decoder. [`Pipeline::offer`] never waits: when the queue is full the frame is
//! dropped and counted, so a burst costs frames, not memory, and the caller (the media
//! server's frame tap, on the async runtime) is never slowed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::VisionError;
use crate::analyzer::{Analyzer, FrameAnalysis, Stages};
use crate::image::Rgb;
use crate::runtime::ModelPaths;

/// Turns what the frame tap sends into a picture (a VP8 or H264 keyframe decoder, or a
/// picture already decoded).
pub trait Decode: Send + 'static {
    /// What is decoded.
    type Input: Send + 'static;
    /// Why a frame did not decode (the frame is counted as failed and skipped).
    type Error: std::error::Error;
    /// The picture.
    fn decode(&mut self, input: Self::Input) -> Result<Rgb, Self::Error>;
}

/// Pictures that need no decoding.
#[derive(Debug, Default, Clone, Copy)]
pub struct Raw;

impl Decode for Raw {
    type Input = Rgb;
    type Error = std::convert::Infallible;
    fn decode(&mut self, input: Rgb) -> Result<Rgb, Self::Error> {
        Ok(input)
    }
}

/// One sampled frame to analyse.
#[derive(Debug)]
pub struct Job<I> {
    /// Whose frame (the written session's id).
    pub key: Arc<str>,
    /// Capture time, unix ms.
    pub at_ms: i64,
    /// A frame id unique within the key.
    pub frame: u64,
    /// The encoded (or raw) frame.
    pub input: I,
    /// The identity selfie's embedding, when an identity check is due on this frame.
    pub reference: Option<Arc<[f32]>>,
}

/// What a worker made of a frame.
#[derive(Debug, Clone)]
pub struct Analysed {
    /// Whose frame.
    pub key: Arc<str>,
    /// Capture time, unix ms.
    pub at_ms: i64,
    /// The frame id.
    pub frame: u64,
    /// Faces, pose, quality.
    pub analysis: FrameAnalysis,
    /// Similarity with the reference, when one was given and a face was found.
    pub identity: Option<f32>,
    /// A small JPEG of the frame, for thumbnails and clips.
    pub thumbnail: Vec<u8>,
    /// Time per stage, ms (decode in `decode_ms`).
    pub stages: Stages,
    /// Decoding time, ms.
    pub decode_ms: f64,
}

/// Counters of the pipeline.
#[derive(Debug, Default)]
pub struct Counters {
    /// Frames offered.
    pub offered: AtomicU64,
    /// Frames dropped because the queue was full.
    pub dropped: AtomicU64,
    /// Frames analysed.
    pub analysed: AtomicU64,
    /// Frames that failed to decode or analyse.
    pub failed: AtomicU64,
}

/// A snapshot of the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct PipelineStats {
    /// Frames offered.
    pub offered: u64,
    /// Frames dropped because the queue was full.
    pub dropped: u64,
    /// Frames analysed.
    pub analysed: u64,
    /// Frames that failed to decode or analyse.
    pub failed: u64,
}

/// Width of the thumbnails kept for reviewers.
pub const THUMBNAIL_WIDTH: u32 = 240;

/// The pool.
pub struct Pipeline<I> {
    queue: Option<SyncSender<Job<I>>>,
    counters: Arc<Counters>,
    workers: Vec<JoinHandle<()>>,
}

impl<I> std::fmt::Debug for Pipeline<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("workers", &self.workers.len())
            .finish()
    }
}

impl<I: Send + 'static> Pipeline<I> {
    /// Starts `workers` threads, each with its models and a decoder from `decoder`,
    /// behind a queue of `capacity` frames; analyses go to `out`. Fails if the models do
    /// not load.
    pub fn start<D, F>(
        paths: &ModelPaths,
        workers: usize,
        capacity: usize,
        decoder: F,
        out: std::sync::mpsc::Sender<Analysed>,
    ) -> Result<Pipeline<I>, VisionError>
    where
        D: Decode<Input = I>,
        F: Fn() -> D,
    {
        let (tx, rx) = sync_channel::<Job<I>>(capacity.max(1));
        let rx = Arc::new(Mutex::new(rx));
        let counters = Arc::new(Counters::default());
        let mut handles = Vec::new();
        for n in 0..workers.max(1) {
            // Load on this thread so that a missing model fails `start`.
            let analyzer = Analyzer::new(paths)?;
            let dec = decoder();
            let (rx, out, counters) = (rx.clone(), out.clone(), counters.clone());
            let handle = std::thread::Builder::new()
                .name(format!("vision-{n}"))
                .spawn(move || work(analyzer, dec, &rx, &out, &counters))
                .map_err(|e| VisionError::Runtime(e.to_string()))?;
            handles.push(handle);
        }
        Ok(Pipeline {
            queue: Some(tx),
            counters,
            workers: handles,
        })
    }

    /// Queues a frame, or drops it (counted) when the workers are behind. Never blocks.
    pub fn offer(&self, job: Job<I>) -> bool {
        self.counters.offered.fetch_add(1, Ordering::Relaxed);
        let Some(queue) = &self.queue else {
            return false;
        };
        match queue.try_send(job) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// The counters now.
    pub fn stats(&self) -> PipelineStats {
        let c = &self.counters;
        PipelineStats {
            offered: c.offered.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            analysed: c.analysed.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
        }
    }

    /// Stops taking frames, lets the workers finish the queue, and joins them.
    pub fn shutdown(mut self) {
        self.queue = None;
        for h in self.workers.drain(..) {
            let _ = h.join();
        }
    }
}

fn work<D: Decode>(
    mut analyzer: Analyzer,
    mut decoder: D,
    rx: &Mutex<Receiver<Job<D::Input>>>,
    out: &std::sync::mpsc::Sender<Analysed>,
    counters: &Counters,
) {
    loop {
        let job = {
            let Ok(rx) = rx.lock() else { return };
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        let t = Instant::now();
        let img = match decoder.decode(job.input) {
            Ok(img) => img,
            Err(e) => {
                counters.failed.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(error = %e, "a sampled frame did not decode");
                continue;
            }
        };
        let decode_ms = t.elapsed().as_secs_f64() * 1e3;
        match analyse(&mut analyzer, &img, job.reference.as_deref()) {
            Ok((analysis, identity, thumbnail, stages)) => {
                counters.analysed.fetch_add(1, Ordering::Relaxed);
                let _ = out.send(Analysed {
                    key: job.key,
                    at_ms: job.at_ms,
                    frame: job.frame,
                    analysis,
                    identity,
                    thumbnail,
                    stages,
                    decode_ms,
                });
            }
            Err(e) => {
                counters.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "frame analysis failed");
            }
        }
    }
}

/// Everything a worker does to a decoded frame: detection, pose, quality, the identity
/// check when asked (only with exactly one face), the thumbnail.
pub fn analyse(
    analyzer: &mut Analyzer,
    img: &Rgb,
    reference: Option<&[f32]>,
) -> Result<(FrameAnalysis, Option<f32>, Vec<u8>, Stages), VisionError> {
    let mut stages = Stages::default();
    let analysis = analyzer.analyse(img, &mut stages)?;
    let identity = match reference {
        Some(r) if analysis.detections.len() == 1 => {
            analyzer.identity(img, &analysis.detections, r, &mut stages)?
        }
        _ => None,
    };
    let t = Instant::now();
    let h = (img.height * THUMBNAIL_WIDTH / img.width.max(1)).max(1);
    let thumbnail = img.resize(THUMBNAIL_WIDTH, h).to_jpeg(70);
    stages.postprocess += t.elapsed().as_secs_f64() * 1e3;
    Ok((analysis, identity, thumbnail, stages))
}
