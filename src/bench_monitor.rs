//! `langcert bench monitor`: the proctoring of the written test as a user pays for it.
//!
//! It starts a real server (this binary, `langcert serve`, as a child process on a fresh
//! SQLite data folder), prepares N candidates through the HTTP API (profile, identity
//! photos, written test started), and then, from this process, connects N webrtc-rs
//! publishers through `/ws/monitor`, each sending encoded H264 of a moving face at the
//! resolution, frame rate and bitrate the test page sends. Once every camera is received
//! it measures a window of `--seconds`:
//!
//! * the server process's whole CPU time (every thread: media loop, SRTP, RTP,
//!   depacketizing, decoding, models, events, database), read from `/proc/<pid>/stat`,
//!   as a share of one core per candidate and as `candidates_per_core`;
//! * the upload per candidate (RTP payload and headers the publishers sent);
//! * the server's own counters (its `/metrics`): frames analysed per candidate and
//!   second, frames dropped because vision was behind;
//! * event latency: each loop of the source holds a scripted absence (no face from 20 s
//!   to 26 s of every 30 s); the FACE_ABSENT events the server stored are matched with
//!   the moments the publishers sent the first empty frame: the error of the stored start
//!   and how long after the truth the event was on the timeline.
//!
//! Linux only (it reads `/proc`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use media_server::bench::process_cpu_s;
use media_server::bench::publisher::{EncodedLoop, Publisher};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use vision::image::Rgb;

use crate::bench::{Api, Server, prepare, round2};
use crate::h264::H264Encoder;

#[derive(Args, Debug, Clone)]
pub(crate) struct MonitorArgs {
    /// Monitored candidates.
    #[arg(long, default_value_t = 100)]
    candidates: usize,
    /// Seconds measured.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Width of the camera the page sends.
    #[arg(long, default_value_t = 320)]
    width: u32,
    /// Height of the camera the page sends.
    #[arg(long, default_value_t = 240)]
    height: u32,
    /// Frames a second the page sends.
    #[arg(long, default_value_t = 5)]
    fps: u32,
    /// The page's video bitrate cap, kbit/s.
    #[arg(long, default_value_t = 200)]
    kbps: u32,
    /// Vision worker threads of the server.
    #[arg(long, default_value_t = 2)]
    vision_workers: usize,
    /// Another build of `langcert` to run as the server (to compare two versions).
    #[arg(long)]
    server: Option<PathBuf>,
    /// The models folder.
    #[arg(long, default_value = "models")]
    models: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// The source loop: 30 s, the face absent from 20 s to 26 s.
const LOOP_MS: u64 = 30_000;
const ABSENT_MS: (u64, u64) = (20_000, 26_000);
/// Candidates set up at once.
const SETUP_CONCURRENCY: usize = 16;
/// Time for every camera to be received once all publishers are connected.
const FLOW_TIMEOUT: Duration = Duration::from_secs(60);
/// Published before the window opens (first keyframes, the identity reference loaded).
const WARM_UP: Duration = Duration::from_secs(5);
/// Published after the window closes, for its last events to close and be stored.
const GRACE: Duration = Duration::from_secs(6);

pub(crate) fn run(args: MonitorArgs) -> anyhow::Result<()> {
    if args.candidates == 0 || args.seconds == 0 || args.fps == 0 {
        bail!("--candidates, --seconds and --fps must be above zero");
    }
    let source = Arc::new(encode_loop(&args)?);
    tokio::runtime::Runtime::new()?.block_on(bench(args, source))
}

/// The wall with its shelves, 640×480 (scaled to the camera's size).
fn room(width: u32, height: u32) -> Rgb {
    let mut img = Rgb::filled(640, 480, [150, 142, 128]);
    for (i, x) in (0..640).step_by(80).enumerate() {
        let shade = 90 + (i as u8 * 23) % 60;
        img.paste(&Rgb::filled(60, 90, [shade, shade - 20, shade - 40]), x, 30);
    }
    img.paste(&Rgb::filled(640, 120, [96, 84, 70]), 0, 360);
    img.resize(width, height)
}

/// Frame `n` of the loop: the face drifts sideways and nods a little, except in the
/// absent window; and a camera's sensor noise on every pixel, which is what makes a
/// webcam's stream use the bitrate it is allowed.
fn scene(args: &MonitorArgs, wall: &Rgb, head: &Rgb, at_ms: u64) -> Rgb {
    let mut img = wall.clone();
    let t = (at_ms % LOOP_MS) as f32 / 1000.0;
    if !(ABSENT_MS.0 as f32 / 1000.0..ABSENT_MS.1 as f32 / 1000.0).contains(&t) {
        let s = args.width as f32 / 640.0;
        let x = (220.0 + 50.0 * (t * std::f32::consts::TAU / 7.0).sin()) * s;
        let y = (120.0 + 12.0 * (t * std::f32::consts::TAU / 3.0).sin()) * s;
        img.paste(head, x as i32, y as i32);
    }
    let mut rng = StdRng::seed_from_u64(at_ms);
    for v in &mut img.data {
        *v = v.saturating_add_signed(rng.random_range(-NOISE..=NOISE));
    }
    img
}

/// Sensor noise, ± levels of 255.
const NOISE: i8 = 4;

/// The loop encoded once: frames at the page's rate and bitrate, and an IDR of each.
///
/// The server asks for a keyframe per sample; an encoder under a bitrate cap then spends
/// a few times a delta frame's bits on the IDR and starves the frames after it. Here the
/// stream's delta frames get three quarters of `--kbps` and the IDRs the rest at one a
/// second.
fn encode_loop(args: &MonitorArgs) -> anyhow::Result<EncodedLoop> {
    let path = args.models.join("fixtures/astronaut.png");
    let photo = Rgb::decode(
        &std::fs::read(&path).with_context(|| format!("{} (run models/fetch)", path.display()))?,
    )?;
    let s = args.width as f32 / 640.0;
    let head = photo
        .crop(143, 23, 160, 190)
        .resize((200.0 * s) as u32, (238.0 * s) as u32);
    let wall = room(args.width, args.height);
    let count = (LOOP_MS * u64::from(args.fps) / 1000) as usize;
    let mut stream = H264Encoder::with_rate(args.kbps * 3 / 4, args.fps, count as u32)
        .map_err(anyhow::Error::msg)?;
    // Every frame an IDR, each a quarter of a second's bits.
    let mut intra = H264Encoder::with_rate(args.kbps * args.fps / 4, args.fps, 1)
        .map_err(anyhow::Error::msg)?;
    let mut frames = Vec::with_capacity(count);
    let mut keyframes = Vec::with_capacity(count);
    for n in 0..count as u64 {
        let at = n * 1000 / u64::from(args.fps);
        let img = scene(args, &wall, &head, at);
        let au = stream
            .encode_at(&img, at, n == 0)
            .map_err(anyhow::Error::msg)?;
        frames.push(Bytes::from(au));
        let key = intra
            .encode_at(&img, at, true)
            .map_err(anyhow::Error::msg)?;
        keyframes.push(Bytes::from(key));
    }
    Ok(EncodedLoop {
        fps: args.fps,
        frames,
        keyframes,
    })
}

/// The server's monitoring counters, from its `/metrics`.
async fn metrics(api: &Api, admin: &str) -> anyhow::Result<HashMap<String, f64>> {
    let res = api
        .http
        .get(format!("{}/metrics", api.base))
        .bearer_auth(admin)
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("/metrics: {}", res.status());
    }
    Ok(res
        .text()
        .await?
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_owned(), v.trim().parse().ok()?))
        })
        .collect())
}

/// One candidate's camera: its WebSocket (kept open: closing it ends the monitoring)
/// and its publisher.
struct Camera {
    publisher: Publisher,
    socket: tokio::task::JoinHandle<()>,
    receiving: tokio::sync::watch::Receiver<bool>,
}

async fn connect(base: &str, token: &str, session: &str, ssrc: u32) -> anyhow::Result<Camera> {
    let mut req =
        format!("{}/ws/monitor", base.replace("http://", "ws://")).into_client_request()?;
    req.headers_mut()
        .insert("Authorization", format!("Bearer {token}").parse()?);
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
    let send = |v: Value| Message::Text(v.to_string().into());
    let next = async |ws: &mut tokio_tungstenite::WebSocketStream<_>| -> anyhow::Result<Value> {
        loop {
            match ws.next().await.context("the monitor socket closed")?? {
                Message::Text(t) => return Ok(serde_json::from_str(&t)?),
                _ => continue,
            }
        }
    };
    ws.send(send(json!({ "type": "monitor", "session": session })))
        .await?;
    // What the server last said of the camera (it says it again only when it changes).
    let mut received = false;
    loop {
        let m = next(&mut ws).await?;
        match m["type"].as_str() {
            Some("monitoring") => break,
            Some("camera") => received = m["receiving"] == true,
            _ => bail!("monitor: {m}"),
        }
    }
    let mut publisher = Publisher::new(ssrc).await?;
    let offer = publisher.offer(Duration::from_secs(20)).await?;
    ws.send(send(json!({ "type": "offer", "sdp": offer })))
        .await?;
    let answer = loop {
        let m = next(&mut ws).await?;
        match m["type"].as_str() {
            Some("answer") => break m["sdp"].as_str().context("sdp")?.to_owned(),
            Some("camera") => received = m["receiving"] == true,
            _ => bail!("offer: {m}"),
        }
    };
    publisher.accept(answer).await?;
    // A track written to before the connection is up refuses the packets.
    tokio::time::timeout(
        Duration::from_secs(20),
        publisher
            .state
            .wait_for(|s| *s == webrtc::peer_connection::RTCPeerConnectionState::Connected),
    )
    .await
    .context("the camera's connection did not come up")??;
    let (tx, receiving) = tokio::sync::watch::channel(received);
    let socket = tokio::spawn(async move {
        while let Some(Ok(m)) = ws.next().await {
            if let Message::Text(t) = m
                && let Ok(v) = serde_json::from_str::<Value>(&t)
                && v["type"] == "camera"
            {
                tx.send_replace(v["receiving"] == true);
            }
        }
    });
    Ok(Camera {
        publisher,
        socket,
        receiving,
    })
}

/// When each session's publisher sent the first empty frame of an absence (unix ms).
type Truths = Arc<Mutex<HashMap<String, Vec<i64>>>>;

async fn bench(args: MonitorArgs, source: Arc<EncodedLoop>) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut serve_args: Vec<String> = [
        "--media-udp",
        "127.0.0.1:0",
        "--vision-workers",
        &args.vision_workers.to_string(),
        "--models",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    serve_args.push(args.models.display().to_string());
    let program = match &args.server {
        Some(p) => p.clone(),
        None => std::env::current_exe()?,
    };
    let server = Server::start_program(&program, dir.path(), &serve_args)?;
    let api = Arc::new(Api {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()?,
        base: server.base.clone(),
    });
    let link = |role: &str| -> anyhow::Result<String> {
        Ok(server
            .links
            .iter()
            .find(|(r, _)| r == role)
            .with_context(|| format!("no {role} link"))?
            .1
            .clone())
    };
    let admin = api.sign_in(&link("centre_admin")?).await?;
    let platform = api.sign_in(&link("platform_admin")?).await?;

    // The candidates, in the written test (not measured).
    let mut ready = Vec::new();
    for chunk in (0..args.candidates)
        .collect::<Vec<_>>()
        .chunks(SETUP_CONCURRENCY)
    {
        let batch: Vec<_> = chunk
            .iter()
            .map(|&n| {
                let (api, admin) = (api.clone(), admin.clone());
                tokio::spawn(async move { prepare(&api, &admin, n).await })
            })
            .collect();
        for b in batch {
            ready.push(b.await??);
        }
    }

    // Their cameras.
    let mut cameras = Vec::new();
    for (n, (token, session)) in ready.iter().enumerate() {
        let camera = connect(&api.base, token, session, 0x6000_0000 + 2 * n as u32).await?;
        cameras.push((session.clone(), camera));
    }
    let truths: Truths = Arc::default();
    let absent_frame = (ABSENT_MS.0 * u64::from(args.fps) / 1000) as usize;
    let mut tasks = Vec::new();
    for (n, (session, camera)) in cameras.iter().enumerate() {
        // Spread over the loop, so that absences do not all come at once.
        let start = n * source.frames.len() / args.candidates;
        let (truths, session) = (Arc::clone(&truths), session.clone());
        tasks.extend(
            camera
                .publisher
                .start(Arc::clone(&source), start, move |i| {
                    if i == absent_frame {
                        let mut t = truths.lock().unwrap_or_else(|e| e.into_inner());
                        t.entry(session.clone())
                            .or_default()
                            .push(exam_api::db::now_ms());
                    }
                }),
        );
    }
    let deadline = Instant::now() + FLOW_TIMEOUT;
    for (_, camera) in &mut cameras {
        let left = deadline.saturating_duration_since(Instant::now());
        let c = Arc::clone(&camera.publisher.counters);
        tokio::time::timeout(left, camera.receiving.wait_for(|r| *r))
            .await
            .with_context(|| {
                format!(
                    "the server did not receive every camera in time ({} packets sent, {} keyframe requests received)",
                    c.packets.load(Ordering::Relaxed),
                    c.keyframe_requests.load(Ordering::Relaxed)
                )
            })??;
    }
    tokio::time::sleep(WARM_UP).await;

    // The window.
    let sent = |cameras: &[(String, Camera)]| {
        cameras
            .iter()
            .fold((0u64, 0u64, 0u64), |(b, p, k), (_, c)| {
                let c = &c.publisher.counters;
                (
                    b + c.bytes.load(Ordering::Relaxed),
                    p + c.packets.load(Ordering::Relaxed),
                    k + c.keyframes.load(Ordering::Relaxed),
                )
            })
    };
    let m0 = metrics(&api, &platform).await?;
    let (b0, p0, k0) = sent(&cameras);
    let cpu0 = process_cpu_s(server.pid())?;
    let window_start = exam_api::db::now_ms();
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let wall = t0.elapsed().as_secs_f64();
    let cpu = process_cpu_s(server.pid())? - cpu0;
    let (b1, p1, k1) = sent(&cameras);
    let m1 = metrics(&api, &platform).await?;
    let window_end = exam_api::db::now_ms();
    tokio::time::sleep(GRACE).await;
    let receiving = cameras
        .iter()
        .filter(|(_, c)| *c.receiving.borrow())
        .count();

    let delta = |k: &str| m1.get(k).copied().unwrap_or(0.0) - m0.get(k).copied().unwrap_or(0.0);
    let n = args.candidates as f64;
    let core_share = cpu / wall / n;
    let events = stored_absences(dir.path()).await?;
    for t in tasks {
        t.abort();
    }
    for (_, c) in &cameras {
        c.publisher.close().await;
        c.socket.abort();
    }
    server.stop()?;

    let latency = match_absences(
        &truths.lock().unwrap_or_else(|e| e.into_inner()),
        &events,
        (window_start, window_end),
    );
    let out = json!({
        "candidates": args.candidates,
        "seconds": round2(wall),
        "camera": { "width": args.width, "height": args.height, "fps": args.fps, "kbps": args.kbps },
        "vision_workers": args.vision_workers,
        "server_cpu_s": round2(cpu),
        "server_core_share_per_candidate": (core_share * 10_000.0).round() / 10_000.0,
        "candidates_per_core": round2(1.0 / core_share),
        "upload_kbit_s_per_candidate": round2(((b1 - b0) as f64 + (p1 - p0) as f64 * RTP_OVERHEAD) * 8.0 / 1000.0 / wall / n),
        "packets_per_s_per_candidate": round2((p1 - p0) as f64 / wall / n),
        "keyframes_per_s_per_candidate": round2((k1 - k0) as f64 / wall / n),
        "analysed_fps_per_candidate": round2(delta("langcert_monitor_frames_analysed_total") / wall / n),
        "dropped_frames": delta("langcert_monitor_frames_dropped_total"),
        "failed_frames": delta("langcert_monitor_frames_failed_total"),
        "cameras_received_at_end": receiving,
        "absences": latency,
    });
    if args.json {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

/// Bytes on the wire per RTP packet besides its payload: RTP header (12) and SRTP
/// authentication tag (10); IP and UDP headers are not counted.
const RTP_OVERHEAD: f64 = 22.0;

/// A stored FACE_ABSENT: session, start, when it was stored.
struct Stored {
    session: String,
    start_ms: i64,
    created_at: i64,
}

async fn stored_absences(dir: &std::path::Path) -> anyhow::Result<Vec<Stored>> {
    let url = format!(
        "sqlite://{}?mode=ro",
        PathBuf::from(dir).join("langcert.db").display()
    );
    let db = exam_api::db::Db::connect(&url).await?;
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT session_id, start_ms, created_at FROM proctoring_events WHERE kind = 'FACE_ABSENT'",
    )
    .fetch_all(&db.pool)
    .await?;
    db.close().await;
    Ok(rows
        .into_iter()
        .map(|(session, start_ms, created_at)| Stored {
            session,
            start_ms,
            created_at,
        })
        .collect())
}

/// The scripted absences that began in the window, matched with the stored events: how
/// many were found, the error of their start and their delay to the timeline.
fn match_absences(
    truths: &HashMap<String, Vec<i64>>,
    events: &[Stored],
    (from, to): (i64, i64),
) -> Value {
    let mut errors = Vec::new();
    let mut delays = Vec::new();
    let mut expected = 0;
    for (session, times) in truths {
        // An absence needs its 6 s, and the smoother's 2 s of clear frames, to be closed.
        for &t in times.iter().filter(|t| (from..to - 10_000).contains(*t)) {
            expected += 1;
            if let Some(e) = events
                .iter()
                .filter(|e| &e.session == session && (e.start_ms - t).abs() < 5_000)
                .min_by_key(|e| (e.start_ms - t).abs())
            {
                errors.push((e.start_ms - t) as f64);
                delays.push((e.created_at - t) as f64);
            }
        }
    }
    let stats = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let q = |p: f64| {
            v.get(((v.len() as f64 * p).ceil() as usize).saturating_sub(1))
                .copied()
                .unwrap_or(0.0)
        };
        json!({ "p50": q(0.5), "max": v.last().copied().unwrap_or(0.0), "min": v.first().copied().unwrap_or(0.0) })
    };
    json!({
        "expected": expected,
        "found": errors.len(),
        "start_error_ms": stats(errors),
        "stored_after_ms": stats(delays),
    })
}
