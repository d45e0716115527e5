//! `langcert bench vision`: what one analysed frame costs, stage by stage, on one core —
//! and, with `--overload`, what happens when more candidates send frames than the workers
//! can analyse (frames dropped and counted, memory flat, the async runtime that serves
//! the written test still on time).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use serde_json::json;
use vision::ModelPaths;
use vision::image::Rgb;
use vision::pipeline::{Decode, Job, Pipeline};

use crate::h264::{H264Decoder, H264Encoder};

#[derive(Args, Debug, Clone)]
pub(crate) struct VisionArgs {
    /// Frames measured per stage.
    #[arg(long, default_value_t = 200)]
    frames: u32,
    /// Seconds between two identity checks (SFace) of a candidate.
    #[arg(long, default_value_t = 45)]
    identity_every_s: u32,
    /// Instead: overload the worker pool with this many candidates at one frame a second.
    #[arg(long)]
    overload: Option<usize>,
    /// Workers in the overload run.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Seconds of the overload run.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// The models folder.
    #[arg(long, default_value = "models")]
    models: PathBuf,
    /// The ONNX Runtime library.
    #[arg(long)]
    onnxruntime: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// A 640×480 webcam frame: the fixture face on a plain wall.
fn frame(models: &std::path::Path) -> anyhow::Result<Rgb> {
    let path = models.join("fixtures/astronaut.png");
    let photo = Rgb::decode(
        &std::fs::read(&path).with_context(|| format!("{} (run models/fetch)", path.display()))?,
    )?;
    let mut img = Rgb::filled(640, 480, [128, 124, 118]);
    img.paste(&photo.crop(143, 23, 160, 190).resize(200, 238), 220, 120);
    Ok(img)
}

fn rss_bytes() -> u64 {
    media_server::bench::vm_rss_bytes().unwrap_or(0)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

pub(crate) fn run(args: VisionArgs) -> anyhow::Result<()> {
    let paths = ModelPaths::resolve(&args.models, args.onnxruntime.as_deref())?;
    let img = frame(&args.models)?;
    let mut encoder = H264Encoder::new().map_err(anyhow::Error::msg)?;
    let keyframe = encoder.encode(&img, true).map_err(anyhow::Error::msg)?;
    let report = match args.overload {
        None => stages(&args, &paths, &img, &keyframe)?,
        Some(candidates) => overload(&args, &paths, &keyframe, candidates)?,
    };
    if args.json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

fn stages(
    args: &VisionArgs,
    paths: &ModelPaths,
    img: &Rgb,
    keyframe: &[u8],
) -> anyhow::Result<serde_json::Value> {
    let n = args.frames.max(10);
    // Decode: a sampled keyframe, as a worker gets it.
    let mut decoder = H264Decoder::new().map_err(anyhow::Error::msg)?;
    for _ in 0..5 {
        decoder
            .decode(keyframe.to_vec())
            .map_err(anyhow::Error::msg)?;
    }
    let t = Instant::now();
    for _ in 0..n {
        decoder
            .decode(keyframe.to_vec())
            .map_err(anyhow::Error::msg)?;
    }
    let decode = t.elapsed().as_secs_f64() * 1e3 / f64::from(n);
    // The stages on the picture a worker gets (the decoder converts 640×480 at half size).
    let decoded = decoder
        .decode(keyframe.to_vec())
        .map_err(anyhow::Error::msg)?;
    let _ = img;
    let s = vision::bench::measure(paths, &decoded, n, args.identity_every_s)?;
    // End to end on this thread: decode and analyse, as a worker does.
    let mut analyzer = vision::Analyzer::new(paths)?;
    let t = Instant::now();
    for _ in 0..n {
        let decoded = decoder
            .decode(keyframe.to_vec())
            .map_err(anyhow::Error::msg)?;
        vision::pipeline::analyse(&mut analyzer, &decoded, None)?;
    }
    let end_to_end = t.elapsed().as_secs_f64() * 1e3 / f64::from(n) + s.sface;
    Ok(json!({
        "frame": "640x480 H264 keyframe",
        "detector_input": "320x256",
        "frames": n,
        "identity_check_every_s": args.identity_every_s,
        "stages_ms": {
            "decode": decode,
            "preprocess": s.preprocess,
            "yunet": s.yunet,
            "sface": s.sface,
            "postprocess": s.postprocess,
        },
        "sface_ms_per_check": s.sface_per_check,
        "ms_per_frame": end_to_end,
        "candidates_per_core": 1000.0 / end_to_end,
    }))
}

/// More candidates than the workers can serve, for `seconds`: frames are offered at one
/// a second per candidate (spread evenly), while a task on the async runtime measures how
/// late a 10 ms timer fires (what the written test's requests would feel).
fn overload(
    args: &VisionArgs,
    paths: &ModelPaths,
    keyframe: &[u8],
    candidates: usize,
) -> anyhow::Result<serde_json::Value> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let lateness = |seconds: u64| {
        runtime.block_on(async move {
            let mut late = Vec::new();
            let end = Instant::now() + Duration::from_secs(seconds);
            while Instant::now() < end {
                let t = Instant::now();
                tokio::time::sleep(Duration::from_millis(10)).await;
                late.push((t.elapsed().as_secs_f64() * 1e3 - 10.0).max(0.0));
            }
            late
        })
    };
    let mut idle = lateness(3);
    let (out, analyses) = std::sync::mpsc::channel();
    let pipeline = Arc::new(Pipeline::start(
        paths,
        args.workers,
        16,
        || H264Decoder::new().expect("the H264 decoder initialises"),
        out,
    )?);
    let drain = std::thread::spawn(move || analyses.iter().count());
    let rss_start = rss_bytes();
    let stop = Arc::new(AtomicBool::new(false));
    let (p, s, unit) = (Arc::clone(&pipeline), Arc::clone(&stop), keyframe.to_vec());
    let key: Arc<str> = Arc::from("bench");
    let producer = std::thread::spawn(move || {
        let gap = Duration::from_secs_f64(1.0 / candidates as f64);
        let mut offer_us = Vec::new();
        let mut next = Instant::now();
        let mut frame = 0u64;
        while !s.load(Ordering::Relaxed) {
            frame += 1;
            let t = Instant::now();
            p.offer(Job {
                key: Arc::clone(&key),
                at_ms: 0,
                frame,
                input: unit.clone(),
                reference: None,
            });
            offer_us.push(t.elapsed().as_secs_f64() * 1e6);
            next += gap;
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        offer_us
    });
    let mut rss = Vec::new();
    let mut busy = Vec::new();
    for _ in 0..args.seconds {
        busy.extend(lateness(1));
        rss.push(rss_bytes());
    }
    stop.store(true, Ordering::Relaxed);
    let mut offer_us = producer
        .join()
        .map_err(|_| anyhow::anyhow!("producer panicked"))?;
    let stats = pipeline.stats();
    let rss_end = rss_bytes();
    if let Ok(p) = Arc::try_unwrap(pipeline) {
        p.shutdown();
    }
    let _ = drain.join();
    Ok(json!({
        "candidates": candidates,
        "workers": args.workers,
        "seconds": args.seconds,
        "frames_offered": stats.offered,
        "frames_analysed": stats.analysed,
        "frames_dropped": stats.dropped,
        "analysed_per_s": stats.analysed as f64 / args.seconds as f64,
        "rss_bytes_start": rss_start,
        "rss_bytes_max": rss.iter().max().copied().unwrap_or(0),
        "rss_bytes_end": rss_end,
        "offer_us_p99": percentile(&mut offer_us, 0.99),
        "runtime_timer_late_ms": {
            "idle_p50": percentile(&mut idle, 0.5),
            "idle_p99": percentile(&mut idle, 0.99),
            "overload_p50": percentile(&mut busy, 0.5),
            "overload_p99": percentile(&mut busy, 0.99),
        },
    }))
}
