//! Proctoring wired into the server: the candidate's camera during the written test goes
//! to a monitoring room of the SFU (`/ws/monitor`), the SFU's frame tap hands sampled
//! keyframes to the vision workers over a bounded queue, each session's analyses go
//! through its event smoother, and the events it closes are stored, with thumbnails and
//! a short clip, for the reviewers. The identity step's face checks use the same models.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRef, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use exam_api::auth::{AuthUser, JwtKeys, Role};
use exam_api::db::{Db, now_ms};
use exam_api::proctoring::{self, EventRecord};
use futures_util::{SinkExt, StreamExt};
use media_server::{FrameTap, SampledFrame, Sfu};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use vision::analyzer::Analyzer;
use vision::pipeline::{Analysed, Job, Pipeline, PipelineStats};
use vision::smoother::{Config, Event, Observation, Smoother};
use vision::{ModelPaths, sface};

use crate::h264::H264Decoder;

/// How long thumbnails of a session are kept in memory for the clips (at one or two
/// frames a second).
const RING_MS: i64 = 40_000;
/// Seconds of clip before and after an event.
const CLIP_MARGIN_MS: i64 = 3_000;
/// At most this many frames in a clip.
const CLIP_FRAMES: usize = 14;
/// While a session's camera is lost, how often the database is asked whether it is over.
const ENDED_CHECK_MS: i64 = 5_000;
/// How often, at most, a warning says that vision drops frames.
const DROPPED_WARNING_MS: i64 = 60_000;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The face checks of the identity step, on the binary's own analyzer.
pub(crate) struct IdentityChecks {
    analyzer: Mutex<Analyzer>,
}

impl IdentityChecks {
    pub(crate) fn new(paths: &ModelPaths) -> Result<IdentityChecks, vision::VisionError> {
        Ok(IdentityChecks {
            analyzer: Mutex::new(Analyzer::new(paths)?),
        })
    }

    /// The embedding of the one face of a stored selfie.
    fn embedding(&self, image: &[u8]) -> Option<Vec<f32>> {
        let mut a = lock(&self.analyzer);
        let (img, face) = a.check_capture(vision::Capture::Selfie, image).ok()?;
        a.embed_capture(&img, &face).ok()
    }
}

impl proctoring::IdentityVision for IdentityChecks {
    fn check(
        &self,
        capture: proctoring::Capture,
        image: &[u8],
    ) -> Result<(), proctoring::CaptureProblem> {
        lock(&self.analyzer)
            .check_capture(capture, image)
            .map(|_| ())
    }

    fn similarity(
        &self,
        selfie: &[u8],
        document: &[u8],
    ) -> Result<f32, proctoring::SimilarityError> {
        use proctoring::SimilarityError;
        let analysis = |e: vision::VisionError| SimilarityError::Analysis(Box::new(e));
        let mut a = lock(&self.analyzer);
        let (si, sf) = a
            .check_capture(vision::Capture::Selfie, selfie)
            .map_err(SimilarityError::Selfie)?;
        let (di, df) = a
            .check_capture(vision::Capture::Document, document)
            .map_err(SimilarityError::Document)?;
        let s = a.embed_capture(&si, &sf).map_err(analysis)?;
        let d = a.embed_capture(&di, &df).map_err(analysis)?;
        Ok(sface::cosine(&s, &d))
    }

    fn threshold(&self) -> f32 {
        sface::SAME_PERSON
    }
}

/// One watched session.
struct Watch {
    smoother: Smoother,
    /// Recent thumbnails: (capture time, frame id, JPEG).
    ring: VecDeque<(i64, u64, Arc<Vec<u8>>)>,
    /// Thumbnails an open event may still need, kept past the ring's reach.
    kept: HashMap<u64, (i64, Arc<Vec<u8>>)>,
    reference: Option<Arc<[f32]>>,
    next_frame: u64,
    /// What the candidate's page was last told, and where to tell it.
    told: Option<bool>,
    notify: Option<mpsc::UnboundedSender<String>>,
    /// While the camera is lost: when to ask whether the session is over.
    ended_check_at: Option<i64>,
}

impl Watch {
    /// Tells the candidate's page whether its camera is received, when that changed.
    fn tell_camera(&mut self) {
        let receiving = self.smoother.receiving();
        if self.told != Some(receiving)
            && let Some(n) = &self.notify
        {
            let msg = json!({ "type": "camera", "receiving": receiving }).to_string();
            if n.send(msg).is_ok() {
                self.told = Some(receiving);
            }
        }
    }

    /// When the monitor's loop must next look at this watch.
    fn deadline(&self) -> Option<i64> {
        [self.smoother.poll_timeout(), self.ended_check_at]
            .into_iter()
            .flatten()
            .min()
    }
}

/// Settings of the monitor.
#[derive(Debug, Clone)]
pub(crate) struct MonitorConfig {
    /// Sampled frames a second per candidate.
    pub(crate) fps: f64,
    /// Vision worker threads.
    pub(crate) workers: usize,
    /// Frames waiting for a worker, at most.
    pub(crate) queue: usize,
}

/// The monitor: the frame tap's sink, the sessions' smoothers, the event store.
pub(crate) struct Monitor {
    config: MonitorConfig,
    pipeline: Pipeline<Vec<u8>>,
    sessions: Mutex<HashMap<String, Watch>>,
    identity: Arc<IdentityChecks>,
    db: Db,
    stored: mpsc::UnboundedSender<EventRecord>,
    /// Wakes the monitor's loop: a watch with an earlier deadline began.
    wake: Arc<tokio::sync::Notify>,
    /// Events stored.
    pub(crate) events: AtomicU64,
}

impl Monitor {
    /// Starts the workers, the analysis consumer, the store and the loop that sleeps until
    /// the sessions' next deadline (see [`Monitor::run_deadlines`]).
    pub(crate) fn start(
        paths: &ModelPaths,
        config: MonitorConfig,
        identity: Arc<IdentityChecks>,
        db: Db,
    ) -> Result<Arc<Monitor>, vision::VisionError> {
        let (out_tx, out_rx) = std::sync::mpsc::channel::<Analysed>();
        let pipeline = Pipeline::start(
            paths,
            config.workers,
            config.queue,
            || H264Decoder::new().expect("the H264 decoder initialises"),
            out_tx,
        )?;
        let (stored, mut to_store) = mpsc::unbounded_channel::<EventRecord>();
        let monitor = Arc::new(Monitor {
            config,
            pipeline,
            sessions: Mutex::new(HashMap::new()),
            identity,
            db: db.clone(),
            stored,
            wake: Arc::new(tokio::sync::Notify::new()),
            events: AtomicU64::new(0),
        });
        let m = Arc::clone(&monitor);
        std::thread::Builder::new()
            .name("vision-events".to_owned())
            .spawn(move || {
                while let Ok(a) = out_rx.recv() {
                    m.analysed(a);
                }
            })
            .map_err(|e| vision::VisionError::Runtime(e.to_string()))?;
        let m = Arc::clone(&monitor);
        tokio::spawn(async move {
            while let Some(event) = to_store.recv().await {
                match proctoring::record_event(&m.db, &event).await {
                    Ok(_) => {
                        m.events.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(session = %event.session_id, kind = %event.kind, severity = event.severity.as_str(), "proctoring event");
                    }
                    Err(e) => tracing::warn!(error = %e, "a proctoring event could not be stored"),
                }
            }
        });
        tokio::spawn(Monitor::run_deadlines(
            Arc::downgrade(&monitor),
            Arc::clone(&monitor.wake),
        ));
        Ok(monitor)
    }

    /// The monitor's loop, until the monitor is gone: sleeps until the earliest deadline
    /// of a watch (a smoother's [`Smoother::poll_timeout`], or a lost camera's check of
    /// whether its session is over), or until a new watch begins; no periodic tick.
    async fn run_deadlines(monitor: std::sync::Weak<Monitor>, wake: Arc<tokio::sync::Notify>) {
        let mut dropped = 0;
        let mut dropped_checked = now_ms();
        loop {
            let Some(due) = monitor.upgrade().map(|m| m.next_deadline()) else {
                return;
            };
            match due {
                Some(at) => {
                    let wait = Duration::from_millis(at.saturating_sub(now_ms()).max(0) as u64);
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = wake.notified() => continue,
                    }
                }
                None => {
                    wake.notified().await;
                    continue;
                }
            }
            let Some(m) = monitor.upgrade() else {
                return;
            };
            let now = now_ms();
            m.handle_timeout(now).await;
            if now - dropped_checked >= DROPPED_WARNING_MS {
                dropped_checked = now;
                let stats = m.stats();
                if stats.dropped > dropped {
                    tracing::warn!(
                        dropped = stats.dropped - dropped,
                        analysed = stats.analysed,
                        "vision is behind: sampled frames dropped (add --vision-workers)"
                    );
                    dropped = stats.dropped;
                }
            }
        }
    }

    /// The earliest deadline of any watch.
    fn next_deadline(&self) -> Option<i64> {
        lock(&self.sessions)
            .values()
            .filter_map(Watch::deadline)
            .min()
    }

    /// Time has come to `now`: cameras with no frame for too long are lost (and their
    /// pages told), and the sessions whose camera is lost are asked whether they are over
    /// — those that are close, what is open in them stored.
    async fn handle_timeout(&self, now: i64) {
        let to_check: Vec<String> = {
            let mut sessions = lock(&self.sessions);
            let mut due = Vec::new();
            for (id, w) in sessions.iter_mut() {
                w.smoother.tick(now);
                w.tell_camera();
                if w.smoother.receiving() {
                    w.ended_check_at = None;
                    continue;
                }
                let check_at = *w.ended_check_at.get_or_insert(now);
                if check_at <= now {
                    due.push(id.clone());
                    w.ended_check_at = Some(now + ENDED_CHECK_MS);
                }
            }
            due
        };
        for id in to_check {
            if matches!(
                proctoring::session_in_progress(&self.db, &id).await,
                Ok(false)
            ) {
                self.finish(&id, now_ms());
            }
        }
    }

    /// The pipeline's counters.
    pub(crate) fn stats(&self) -> PipelineStats {
        self.pipeline.stats()
    }

    /// Sessions watched now.
    pub(crate) fn watched(&self) -> usize {
        lock(&self.sessions).len()
    }

    /// Starts (or resumes) watching a session, telling `notify` about the camera.
    pub(crate) async fn watch(
        self: &Arc<Self>,
        session: &str,
        notify: mpsc::UnboundedSender<String>,
    ) {
        let fresh = {
            let mut sessions = lock(&self.sessions);
            match sessions.get_mut(session) {
                Some(w) => {
                    w.notify = Some(notify);
                    w.told = None;
                    w.tell_camera();
                    false
                }
                None => {
                    sessions.insert(
                        session.to_owned(),
                        Watch {
                            smoother: Smoother::new(Config::default(), now_ms()),
                            ring: VecDeque::new(),
                            kept: HashMap::new(),
                            reference: None,
                            next_frame: 1,
                            told: None,
                            notify: Some(notify),
                            ended_check_at: None,
                        },
                    );
                    if let Some(w) = sessions.get_mut(session) {
                        w.tell_camera();
                    }
                    true
                }
            }
        };
        // The loop's next deadline may now be this watch's.
        self.wake.notify_one();
        if !fresh {
            return;
        }
        // The identity selfie's embedding, for the periodic check; it lives only in this
        // watch, never in the database.
        let selfie = proctoring::identity_selfie(&self.db, session)
            .await
            .ok()
            .flatten();
        if let Some(selfie) = selfie {
            let identity = Arc::clone(&self.identity);
            let embedding = tokio::task::spawn_blocking(move || identity.embedding(&selfie))
                .await
                .ok()
                .flatten();
            if let Some(e) = embedding
                && let Some(w) = lock(&self.sessions).get_mut(session)
            {
                w.reference = Some(e.into());
            }
        }
    }

    fn analysed(&self, a: Analysed) {
        let mut sessions = lock(&self.sessions);
        let Some(w) = sessions.get_mut(&*a.key) else {
            return;
        };
        let thumb = Arc::new(a.thumbnail);
        w.ring.push_back((a.at_ms, a.frame, thumb));
        while w
            .ring
            .front()
            .is_some_and(|(t, _, _)| *t < a.at_ms - RING_MS)
        {
            w.ring.pop_front();
        }
        let obs = Observation {
            at_ms: a.at_ms,
            frame: a.frame,
            faces: a.analysis.faces,
            dark: a.analysis.dark,
            blurred: a.analysis.blurred,
            identity: a.identity,
        };
        let events = w.smoother.observe(&obs);
        self.store(&a.key, w, events);
    }

    fn store(&self, session: &str, w: &mut Watch, events: Vec<Event>) {
        for e in events {
            let find = |frame: u64| {
                w.ring
                    .iter()
                    .find(|(_, f, _)| *f == frame)
                    .map(|(_, _, j)| j.as_ref().clone())
                    .or_else(|| w.kept.get(&frame).map(|(_, j)| j.as_ref().clone()))
            };
            let thumbnails: Vec<Vec<u8>> = e.frames.iter().filter_map(|f| find(*f)).collect();
            let mut clip: Vec<(i64, Vec<u8>)> = w
                .ring
                .iter()
                .filter(|(t, _, _)| {
                    *t >= e.start_ms - CLIP_MARGIN_MS && *t <= e.end_ms + CLIP_MARGIN_MS
                })
                .map(|(t, _, j)| (*t, j.as_ref().clone()))
                .collect();
            if clip.len() > CLIP_FRAMES {
                // The start of the event matters most: keep its first frames and the last few.
                let tail = clip.split_off(clip.len() - CLIP_FRAMES / 3);
                clip.truncate(CLIP_FRAMES - tail.len());
                clip.extend(tail);
            }
            let record = EventRecord {
                session_id: session.to_owned(),
                kind: e.kind,
                severity: e.severity,
                start_ms: e.start_ms,
                end_ms: e.end_ms,
                peak_confidence: e.peak,
                thumbnails,
                clip,
            };
            let _ = self.stored.send(record);
        }
        // Keep the first frame of any condition under way (for its first thumbnail), drop
        // the rest of what fell out of the ring.
        let oldest = w.ring.front().map_or(i64::MIN, |(t, _, _)| *t);
        if let Some((t, f, j)) = w.ring.front().cloned() {
            w.kept.entry(f).or_insert((t, j));
        }
        w.kept.retain(|_, (t, _)| *t >= oldest - 10 * RING_MS);
    }

    /// Closes a session's watch now.
    pub(crate) fn finish(&self, session: &str, now: i64) {
        let mut sessions = lock(&self.sessions);
        if let Some(mut w) = sessions.remove(session) {
            let events = w.smoother.finish(now);
            self.store(session, &mut w, events);
        }
    }
}

impl FrameTap for Monitor {
    fn interval(&self, _room: &str) -> Duration {
        Duration::from_secs_f64(1.0 / self.config.fps.max(0.1))
    }

    fn frame(&self, room: &str, _participant: &str, frame: SampledFrame) {
        // The frame tap sees only monitoring rooms, named by their written session.
        let session = room;
        let job = {
            let mut sessions = lock(&self.sessions);
            let Some(w) = sessions.get_mut(session) else {
                return;
            };
            let closed = w.smoother.frame_received(frame.at_ms);
            w.ended_check_at = None;
            w.tell_camera();
            let id = w.next_frame;
            w.next_frame += 1;
            let reference = w
                .reference
                .clone()
                .filter(|_| w.smoother.identity_due(frame.at_ms));
            let events = closed;
            let job = Job {
                key: Arc::from(session),
                at_ms: frame.at_ms,
                frame: id,
                input: frame.annex_b,
                reference,
            };
            self.store(session, w, events);
            job
        };
        self.pipeline.offer(job);
    }
}

/// The state of `/ws/monitor`.
#[derive(Clone)]
pub(crate) struct MonitorWs {
    pub(crate) monitor: Arc<Monitor>,
    pub(crate) sfu: Arc<Sfu>,
    pub(crate) db: Db,
    pub(crate) keys: JwtKeys,
}

impl FromRef<MonitorWs> for JwtKeys {
    fn from_ref(s: &MonitorWs) -> JwtKeys {
        s.keys.clone()
    }
}

/// `/ws/monitor`: the candidate's page publishes the camera during the written test.
///
/// → `{type:"monitor", session}` ← `{type:"monitoring", session, media_token}`;
/// → `{type:"offer", sdp}` ← `{type:"answer", sdp}`; ← `{type:"camera", receiving}`.
pub(crate) fn router(state: MonitorWs) -> Router {
    Router::new()
        .route("/ws/monitor", get(upgrade))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// `/metrics`: the monitoring's counters in Prometheus' text format, for the platform's
/// administrators (and its scrapers, with such a token).
async fn metrics(State(state): State<MonitorWs>, auth: AuthUser) -> Response {
    if let Err(e) = auth.require(&[Role::PlatformAdmin]) {
        return e.into_response();
    }
    let p = state.monitor.stats();
    let sessions = state.monitor.watched();
    let events = state.monitor.events.load(Ordering::Relaxed);
    let mut out = String::new();
    for (name, kind, help, value) in [
        (
            "langcert_monitor_frames_offered_total",
            "counter",
            "Sampled frames offered to the vision workers.",
            p.offered,
        ),
        (
            "langcert_monitor_frames_analysed_total",
            "counter",
            "Sampled frames analysed.",
            p.analysed,
        ),
        (
            "langcert_monitor_frames_dropped_total",
            "counter",
            "Sampled frames dropped because the workers were behind.",
            p.dropped,
        ),
        (
            "langcert_monitor_frames_failed_total",
            "counter",
            "Sampled frames that did not decode or analyse.",
            p.failed,
        ),
        (
            "langcert_monitor_events_stored_total",
            "counter",
            "Proctoring events stored.",
            events,
        ),
        (
            "langcert_monitor_sessions",
            "gauge",
            "Written sessions watched.",
            sessions as u64,
        ),
    ] {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        out,
    )
        .into_response()
}

async fn upgrade(State(state): State<MonitorWs>, auth: AuthUser, ws: WebSocketUpgrade) -> Response {
    if let Err(e) = auth.require(&[Role::Candidate]) {
        return e.into_response();
    }
    let user = auth.id().to_owned();
    ws.max_message_size(64 * 1024)
        .on_upgrade(move |socket| serve(state, user, socket))
}

fn error(code: &str, message: &str) -> String {
    json!({ "type": "error", "code": code, "message": message }).to_string()
}

async fn serve(state: MonitorWs, user: String, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        while let Some(text) = rx.recv().await {
            if sink.send(Message::Text(text.into())).await.is_err() {
                break;
            }
        }
    });
    let mut room: Option<String> = None;
    while let Some(Ok(msg)) = stream.next().await {
        let Message::Text(text) = msg else {
            if matches!(msg, Message::Close(_)) {
                break;
            }
            continue;
        };
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            let _ = tx.send(error("malformed", "not JSON"));
            continue;
        };
        match v.get("type").and_then(Value::as_str) {
            Some("monitor") => {
                let Some(session) = v.get("session").and_then(Value::as_str) else {
                    let _ = tx.send(error("malformed", "session: a string"));
                    continue;
                };
                match proctoring::monitored_session(&state.db, &user).await {
                    Ok(Some((id, _))) if id == session => {
                        state.monitor.watch(&id, tx.clone()).await;
                        room = Some(id.clone());
                        let _ = tx.send(
                            json!({ "type": "monitoring", "session": id, "media_token": "session" }).to_string(),
                        );
                    }
                    Ok(_) => {
                        let _ = tx.send(error(
                            "forbidden",
                            "no written test of yours in progress with this id",
                        ));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "the monitored session could not be read");
                        // The client sees the API's generic answer, never the database's.
                        let answer = exam_api::error::ApiError::from(e).to_string();
                        let _ = tx.send(error("unavailable", &answer));
                    }
                }
            }
            Some("offer") => {
                let (Some(r), Some(sdp)) = (&room, v.get("sdp").and_then(Value::as_str)) else {
                    let _ = tx.send(error(
                        "not_joined",
                        "send monitor first, then an offer with its sdp",
                    ));
                    continue;
                };
                // A new offer (a reconnection) replaces the previous connection.
                let _ = state.sfu.leave(r, "candidate").await;
                match state
                    .sfu
                    .join_monitoring(r, "candidate", sdp.to_owned())
                    .await
                {
                    Ok(answer) => {
                        let _ = tx.send(json!({ "type": "answer", "sdp": answer }).to_string());
                    }
                    Err(e) => {
                        let _ = tx.send(error("media", &e.to_string()));
                    }
                }
            }
            Some("leave") => break,
            _ => {
                let _ = tx.send(error("malformed", "expected monitor, offer or leave"));
            }
        }
    }
    if let Some(r) = room {
        let _ = state.sfu.leave(&r, "candidate").await;
    }
    drop(tx);
    let _ = writer.await;
}
