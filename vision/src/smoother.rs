//! The event smoother: timestamped observations of one candidate's camera in, proctoring
//! events out. Sans-IO: every method takes the time as an argument, so tests drive it in
//! virtual time.
//!
//! A condition (no face, a second face, head turned, …) becomes an event when it holds in
//! most samples of the last [`Config::window_ms`] and has lasted its minimum duration; the
//! event's start is the first sample of that run, not the moment it was confirmed. It
//! closes once the condition has been clear for [`Config::clear_ms`]; its end is the
//! first clear sample. Conditions shorter than their minimum leave nothing.
//!
//! Events are evidence for a reviewer, never a verdict: `CAMERA_LOST` and `LOW_QUALITY`
//! are technical (severity info), and nothing here infers emotion or stress.

use std::collections::VecDeque;

use crate::yunet::iou;

pub use exam_core::proctoring::{EventKind, Severity};

/// One face in a sample, its box in fractions of the picture (x, y, w, h in 0–1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceSample {
    /// Box, in fractions of the picture.
    pub bbox: [f32; 4],
    /// Detection confidence.
    pub score: f32,
    /// Head yaw, degrees.
    pub yaw: f32,
    /// Head pitch, degrees.
    pub pitch: f32,
}

/// What one analysed frame showed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observation {
    /// When the frame was captured (ms, any epoch shared with the other calls).
    pub at_ms: i64,
    /// The frame's id, for thumbnails.
    pub frame: u64,
    /// Faces found.
    pub faces: Vec<FaceSample>,
    /// The picture is too dark.
    pub dark: bool,
    /// The picture is blurred.
    pub blurred: bool,
    /// Similarity with the identity selfie, when it was checked on this frame.
    pub identity: Option<f32>,
}

/// A closed event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// What it is about.
    pub kind: EventKind,
    /// How much it weighs.
    pub severity: Severity,
    /// First sample of the condition.
    pub start_ms: i64,
    /// First sample without it (or the end of the session).
    pub end_ms: i64,
    /// Highest confidence seen, 0–1.
    pub peak: f32,
    /// Frames for thumbnails: the first, the peak and the last of the condition.
    pub frames: Vec<u64>,
    /// A remark for the reviewer, e.g. a face that never moved (a poster?).
    pub note: Option<&'static str>,
}

/// Durations and limits.
#[derive(Debug, Clone)]
pub struct Config {
    /// The majority window.
    pub window_ms: i64,
    /// How long a condition must be clear to close.
    pub clear_ms: i64,
    /// Face absent: minimum, and from when it is high.
    pub absent_ms: (i64, i64),
    /// Second face: minimum, and from when it is high.
    pub multiple_ms: (i64, i64),
    /// A second face that stays in the same place this long is taken as fixed (a
    /// poster, a photo): reported once, low, and ignored afterwards.
    pub fixed_face_ms: i64,
    /// Looking away: minimum (low), and from when it is medium.
    pub away_ms: (i64, i64),
    /// Yaw and pitch limits, degrees from the baseline.
    pub away_limits: (f32, f32),
    /// The baseline is the median pose over this long from the first face.
    pub baseline_ms: i64,
    /// Camera lost after this long without a frame.
    pub camera_lost_ms: i64,
    /// Low quality: minimum.
    pub quality_ms: i64,
    /// Identity check interval, and the quicker re-check after a mismatch.
    pub identity_every_ms: (i64, i64),
    /// Similarity below which a face is taken as another person's.
    pub identity_threshold: f32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            window_ms: 3_000,
            clear_ms: 2_000,
            absent_ms: (4_000, 15_000),
            multiple_ms: (2_000, 10_000),
            fixed_face_ms: 60_000,
            away_ms: (5_000, 15_000),
            away_limits: (30.0, 20.0),
            baseline_ms: 10_000,
            camera_lost_ms: 3_000,
            quality_ms: 5_000,
            identity_every_ms: (45_000, 5_000),
            identity_threshold: crate::sface::SAME_PERSON,
        }
    }
}

/// One condition's run in progress.
#[derive(Debug, Clone)]
struct Run {
    start: i64,
    last_true: i64,
    first_clear: Option<i64>,
    confirmed: bool,
    peak: f32,
    frames: [u64; 3],
    /// For a second face: where it was first seen, and whether it stayed there.
    anchor: Option<[f32; 4]>,
    fixed: bool,
}

#[derive(Debug, Clone, Default)]
struct Track {
    recent: VecDeque<(i64, bool)>,
    run: Option<Run>,
}

impl Track {
    /// Feeds one sample; returns the run if it just closed.
    fn sample(
        &mut self,
        cfg: &Config,
        at: i64,
        holds: bool,
        conf: f32,
        frame: u64,
        min_ms: i64,
    ) -> Option<Run> {
        self.recent.push_back((at, holds));
        while self
            .recent
            .front()
            .is_some_and(|(t, _)| *t <= at - cfg.window_ms)
        {
            self.recent.pop_front();
        }
        let trues = self.recent.iter().filter(|(_, h)| *h).count();
        let majority = trues * 2 > self.recent.len();
        if holds {
            let run = self.run.get_or_insert(Run {
                start: at,
                last_true: at,
                first_clear: None,
                confirmed: false,
                peak: conf,
                frames: [frame; 3],
                anchor: None,
                fixed: false,
            });
            run.last_true = at;
            run.first_clear = None;
            run.frames[2] = frame;
            if conf > run.peak {
                run.peak = conf;
                run.frames[1] = frame;
            }
        } else if let Some(run) = &mut self.run {
            run.first_clear.get_or_insert(at);
        }
        let run = self.run.as_mut()?;
        if majority && at - run.start >= min_ms {
            run.confirmed = true;
        }
        let clear_since = run.first_clear?;
        if at - clear_since >= cfg.clear_ms
            || (!run.confirmed && !majority && at - run.last_true >= cfg.clear_ms)
        {
            return self.run.take().filter(|r| r.confirmed);
        }
        None
    }

    /// Closes whatever is open (end of session).
    fn finish(&mut self, at: i64) -> Option<Run> {
        self.recent.clear();
        let mut run = self.run.take()?;
        if run.first_clear.is_none() {
            run.first_clear = Some(at);
        }
        run.confirmed.then_some(run)
    }
}

/// The smoother of one candidate's session.
#[derive(Debug)]
pub struct Smoother {
    cfg: Config,
    started: i64,
    absent: Track,
    multiple: Track,
    away: Track,
    quality: Track,
    camera: Option<Run>,
    last_frame: Option<(i64, u64)>,
    baseline_from: Option<i64>,
    baseline_samples: Vec<(f32, f32)>,
    baseline: Option<(f32, f32)>,
    fixed_faces: Vec<[f32; 4]>,
    identity_next: i64,
    identity_misses: Vec<(i64, u64, f32)>,
}

impl Smoother {
    /// A smoother for a session that starts at `started_ms`.
    pub fn new(cfg: Config, started_ms: i64) -> Smoother {
        Smoother {
            cfg,
            started: started_ms,
            absent: Track::default(),
            multiple: Track::default(),
            away: Track::default(),
            quality: Track::default(),
            camera: None,
            last_frame: None,
            baseline_from: None,
            baseline_samples: Vec::new(),
            baseline: None,
            fixed_faces: Vec::new(),
            identity_next: started_ms,
            identity_misses: Vec::new(),
        }
    }

    /// The head pose taken as "looking at the screen", once measured.
    pub fn baseline(&self) -> Option<(f32, f32)> {
        self.baseline
    }

    /// Whether the next frame should also get an identity check (the caller runs the
    /// embedding model only then).
    pub fn identity_due(&self, now_ms: i64) -> bool {
        now_ms >= self.identity_next
    }

    /// Feeds one analysed frame; returns the events it closed.
    pub fn observe(&mut self, obs: &Observation) -> Vec<Event> {
        let at = obs.at_ms;
        let mut out = Vec::new();
        // A frame ends a camera loss.
        if let Some(mut run) = self.camera.take() {
            run.first_clear = Some(at);
            out.push(self.event(EventKind::CameraLost, &run));
        }
        self.last_frame = Some((at, obs.frame));

        let faces: Vec<&FaceSample> = obs
            .faces
            .iter()
            .filter(|f| !self.fixed_faces.iter().any(|b| iou(b, &f.bbox) > 0.5))
            .collect();
        let primary = faces
            .iter()
            .copied()
            .max_by(|a, b| (a.bbox[2] * a.bbox[3]).total_cmp(&(b.bbox[2] * b.bbox[3])));
        let others: Vec<&FaceSample> = faces
            .iter()
            .copied()
            .filter(|f| Some(*f) != primary)
            .collect();

        // No face. Confidence: how sure the detector is that nothing is there.
        let best = obs.faces.iter().map(|f| f.score).fold(0.0, f32::max);
        let cfg = self.cfg.clone();
        if let Some(run) = self.absent.sample(
            &cfg,
            at,
            primary.is_none(),
            1.0 - best,
            obs.frame,
            cfg.absent_ms.0,
        ) {
            out.push(self.event(EventKind::FaceAbsent, &run));
        }

        // A second face; one that never moves for long enough is fixed.
        let second = others.iter().map(|f| f.score).fold(0.0, f32::max);
        let closed = self.multiple.sample(
            &cfg,
            at,
            !others.is_empty(),
            second,
            obs.frame,
            cfg.multiple_ms.0,
        );
        if let Some(run) = &mut self.multiple.run
            && !others.is_empty()
        {
            match run.anchor {
                None if run.start == at => run.anchor = Some(others[0].bbox),
                Some(anchor) if !others.iter().any(|f| iou(&anchor, &f.bbox) > 0.5) => {
                    run.anchor = None;
                    run.fixed = false;
                }
                Some(anchor) if at - run.start >= cfg.fixed_face_ms && !run.fixed => {
                    run.fixed = true;
                    self.fixed_faces.push(anchor);
                }
                _ => {}
            }
        }
        if let Some(run) = closed {
            out.push(self.event(EventKind::MultipleFaces, &run));
        }

        // Looking away, against the baseline.
        if let Some(p) = primary
            && faces.len() == 1
            && self.baseline.is_none()
        {
            let from = *self.baseline_from.get_or_insert(at);
            if at - from <= cfg.baseline_ms {
                self.baseline_samples.push((p.yaw, p.pitch));
            }
            if at - from >= cfg.baseline_ms && self.baseline_samples.len() >= 3 {
                self.baseline = Some((
                    median(self.baseline_samples.iter().map(|s| s.0)),
                    median(self.baseline_samples.iter().map(|s| s.1)),
                ));
            }
        }
        if let Some((by, bp)) = self.baseline {
            let (holds, conf) = match primary {
                Some(p) => {
                    let (dy, dp) = (
                        (p.yaw - by).abs() / cfg.away_limits.0,
                        (p.pitch - bp).abs() / cfg.away_limits.1,
                    );
                    (dy > 1.0 || dp > 1.0, (dy.max(dp) / 2.0).min(1.0))
                }
                // No face: that is the absent track's business.
                None => (false, 0.0),
            };
            if let Some(run) = self
                .away
                .sample(&cfg, at, holds, conf, obs.frame, cfg.away_ms.0)
            {
                out.push(self.event(EventKind::LookingAway, &run));
            }
        }

        if let Some(run) = self.quality.sample(
            &cfg,
            at,
            obs.dark || obs.blurred,
            1.0,
            obs.frame,
            cfg.quality_ms,
        ) {
            out.push(self.event(EventKind::LowQuality, &run));
        }

        if let Some(sim) = obs.identity {
            out.extend(self.identity(at, obs.frame, sim));
        }
        out
    }

    fn identity(&mut self, at: i64, frame: u64, sim: f32) -> Option<Event> {
        let (every, recheck) = self.cfg.identity_every_ms;
        if sim >= self.cfg.identity_threshold {
            self.identity_next = at + every;
            let misses = std::mem::take(&mut self.identity_misses);
            if misses.len() >= 2 {
                return Some(self.identity_event(&misses, at));
            }
            return None;
        }
        self.identity_next = at + recheck;
        self.identity_misses.push((at, frame, sim));
        None
    }

    fn identity_event(&self, misses: &[(i64, u64, f32)], end: i64) -> Event {
        let peak = misses
            .iter()
            .min_by(|a, b| a.2.total_cmp(&b.2))
            .expect("two misses");
        let t = self.cfg.identity_threshold;
        Event {
            kind: EventKind::IdentityChanged,
            severity: Severity::High,
            start_ms: misses[0].0,
            end_ms: end,
            peak: ((t - peak.2) / (t + 1.0)).clamp(0.0, 1.0) * 0.5 + 0.5,
            frames: vec![misses[0].1, peak.1, misses[misses.len() - 1].1],
            note: None,
        }
    }

    /// When [`Smoother::tick`] next has something to do: [`Config::camera_lost_ms`] after
    /// the last frame (or the start), when the camera counts as lost; `None` while it is
    /// lost (only a frame or the end closes the loss). A frame moves the deadline later, so
    /// a caller that sleeps until an older deadline only wakes up early.
    pub fn poll_timeout(&self) -> Option<i64> {
        if self.camera.is_some() {
            return None;
        }
        let since = self.last_frame.map_or(self.started, |(t, _)| t);
        Some(since + self.cfg.camera_lost_ms)
    }

    /// Advances time without a frame: reports the camera as lost once no frame has come
    /// for [`Config::camera_lost_ms`] (see [`Smoother::poll_timeout`]). Returns nothing
    /// (the loss closes on the next frame or at the end).
    pub fn tick(&mut self, now_ms: i64) {
        let (since, frame) = self.last_frame.unwrap_or((self.started, 0));
        if self.camera.is_none() && now_ms - since >= self.cfg.camera_lost_ms {
            self.camera = Some(Run {
                start: since,
                last_true: now_ms,
                first_clear: None,
                confirmed: true,
                peak: 1.0,
                frames: [frame; 3],
                anchor: None,
                fixed: false,
            });
        }
    }

    /// Records that a frame arrived at `at_ms` even if it is not analysed (the workers
    /// were busy and dropped it): the camera is not lost.
    pub fn frame_received(&mut self, at_ms: i64) -> Vec<Event> {
        let mut out = Vec::new();
        if let Some(mut run) = self.camera.take() {
            run.first_clear = Some(at_ms);
            out.push(self.event(EventKind::CameraLost, &run));
        }
        let frame = self.last_frame.map_or(0, |(_, f)| f);
        if self.last_frame.is_none_or(|(t, _)| t < at_ms) {
            self.last_frame = Some((at_ms, frame));
        }
        out
    }

    /// Whether frames are arriving: one came, and no camera loss is open.
    pub fn receiving(&self) -> bool {
        self.last_frame.is_some() && self.camera.is_none()
    }

    /// Closes every open event at the end of the session.
    pub fn finish(&mut self, now_ms: i64) -> Vec<Event> {
        let mut out = Vec::new();
        if let Some(mut run) = self.camera.take() {
            run.first_clear = Some(now_ms);
            out.push(self.event(EventKind::CameraLost, &run));
        }
        for kind in [
            EventKind::FaceAbsent,
            EventKind::MultipleFaces,
            EventKind::LookingAway,
            EventKind::LowQuality,
        ] {
            let track = match kind {
                EventKind::FaceAbsent => &mut self.absent,
                EventKind::MultipleFaces => &mut self.multiple,
                EventKind::LookingAway => &mut self.away,
                _ => &mut self.quality,
            };
            if let Some(run) = track.finish(now_ms) {
                out.push(self.event(kind, &run));
            }
        }
        let misses = std::mem::take(&mut self.identity_misses);
        if misses.len() >= 2 {
            out.push(self.identity_event(&misses, now_ms));
        }
        out
    }

    fn event(&self, kind: EventKind, run: &Run) -> Event {
        let end = run.first_clear.unwrap_or(run.last_true);
        let long = end - run.start;
        let (severity, note) = match kind {
            EventKind::FaceAbsent if long >= self.cfg.absent_ms.1 => (Severity::High, None),
            EventKind::FaceAbsent => (Severity::Medium, None),
            EventKind::MultipleFaces if run.fixed => (Severity::Low, Some("fixed_face")),
            EventKind::MultipleFaces if long >= self.cfg.multiple_ms.1 => (Severity::High, None),
            EventKind::MultipleFaces => (Severity::Medium, None),
            EventKind::LookingAway if long >= self.cfg.away_ms.1 => (Severity::Medium, None),
            EventKind::LookingAway => (Severity::Low, None),
            EventKind::IdentityChanged => (Severity::High, None),
            EventKind::CameraLost | EventKind::LowQuality => (Severity::Info, None),
        };
        let mut frames = run.frames.to_vec();
        frames.dedup();
        Event {
            kind,
            severity,
            start_ms: run.start,
            end_ms: end,
            peak: run.peak.clamp(0.0, 1.0),
            frames,
            note,
        }
    }
}

fn median(values: impl Iterator<Item = f32>) -> f32 {
    let mut v: Vec<f32> = values.collect();
    v.sort_by(f32::total_cmp);
    v[v.len() / 2]
}

/// The review priority of a session from its events: high if any is high, medium if any
/// is medium, otherwise low. Technical events never raise it.
pub fn priority(events: &[Event]) -> Severity {
    match events.iter().map(|e| e.severity).max() {
        Some(Severity::High) => Severity::High,
        Some(Severity::Medium) => Severity::Medium,
        _ => Severity::Low,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: [f32; 4] = [0.35, 0.25, 0.3, 0.4];
    const TWO: [f32; 4] = [0.75, 0.1, 0.15, 0.2];

    fn face(bbox: [f32; 4], yaw: f32, pitch: f32) -> FaceSample {
        FaceSample {
            bbox,
            score: 0.9,
            yaw,
            pitch,
        }
    }

    /// Samples every `step` ms from `from` (inclusive) to `to` (exclusive).
    fn feed(s: &mut Smoother, from: i64, to: i64, step: i64, faces: &[FaceSample]) -> Vec<Event> {
        let mut out = Vec::new();
        let mut t = from;
        while t < to {
            s.tick(t);
            out.extend(s.observe(&Observation {
                at_ms: t,
                frame: t as u64,
                faces: faces.to_vec(),
                ..Observation::default()
            }));
            t += step;
        }
        out
    }

    fn summary(events: &[Event]) -> Vec<(&'static str, Severity, i64, i64)> {
        events
            .iter()
            .map(|e| (e.kind.code(), e.severity, e.start_ms, e.end_ms))
            .collect()
    }

    #[test]
    fn absence_then_a_second_face_make_exactly_two_events_with_their_true_times() {
        let mut s = Smoother::new(Config::default(), 0);
        let me = face(ONE, 5.0, -3.0);
        let mut ev = feed(&mut s, 0, 20_000, 500, &[me]);
        ev.extend(feed(&mut s, 20_000, 26_000, 500, &[]));
        ev.extend(feed(&mut s, 26_000, 40_000, 500, &[me]));
        ev.extend(feed(
            &mut s,
            40_000,
            43_000,
            500,
            &[me, face(TWO, 0.0, 0.0)],
        ));
        ev.extend(feed(&mut s, 43_000, 60_000, 500, &[me]));
        ev.extend(s.finish(60_000));
        assert_eq!(
            summary(&ev),
            vec![
                ("FACE_ABSENT", Severity::Medium, 20_000, 26_000),
                ("MULTIPLE_FACES", Severity::Medium, 40_000, 43_000),
            ]
        );
        assert_eq!(
            ev[0].frames,
            vec![20_000, 25_500],
            "first and last frame (peak = first)"
        );
        assert_eq!(priority(&ev), Severity::Medium);
    }

    #[test]
    fn short_conditions_leave_nothing_and_a_flicker_does_not_split_an_event() {
        let mut s = Smoother::new(Config::default(), 0);
        let me = face(ONE, 0.0, 0.0);
        let mut ev = feed(&mut s, 0, 5_000, 1_000, &[me]);
        // 3 s without a face (< 4 s), 1 s with a second face (< 2 s).
        ev.extend(feed(&mut s, 5_000, 8_000, 1_000, &[]));
        ev.extend(feed(
            &mut s,
            8_000,
            9_000,
            1_000,
            &[me, face(TWO, 0.0, 0.0)],
        ));
        ev.extend(feed(&mut s, 9_000, 20_000, 1_000, &[me]));
        assert!(ev.is_empty(), "{ev:?}");
        // 20 s away with one face seen for a single sample in the middle: one event, high.
        ev.extend(feed(&mut s, 20_000, 30_000, 1_000, &[]));
        ev.extend(feed(&mut s, 30_000, 31_000, 1_000, &[me]));
        ev.extend(feed(&mut s, 31_000, 40_000, 1_000, &[]));
        ev.extend(feed(&mut s, 40_000, 45_000, 1_000, &[me]));
        assert_eq!(
            summary(&ev),
            vec![("FACE_ABSENT", Severity::High, 20_000, 40_000)]
        );
    }

    #[test]
    fn looking_away_is_measured_from_the_candidates_own_baseline() {
        let mut s = Smoother::new(Config::default(), 0);
        // This candidate's camera sits low: level gaze reads as 15° pitch.
        let mut ev = feed(&mut s, 0, 15_000, 1_000, &[face(ONE, 4.0, 15.0)]);
        assert_eq!(s.baseline(), Some((4.0, 15.0)));
        // 30° pitch is only 15° from the baseline: nothing.
        ev.extend(feed(&mut s, 15_000, 30_000, 1_000, &[face(ONE, 4.0, 30.0)]));
        // Turned 40° to the side for 8 s: low.
        ev.extend(feed(
            &mut s,
            30_000,
            38_000,
            1_000,
            &[face(ONE, 44.0, 15.0)],
        ));
        ev.extend(feed(&mut s, 38_000, 45_000, 1_000, &[face(ONE, 4.0, 15.0)]));
        // Looking down 25° below the baseline for 20 s: medium.
        ev.extend(feed(
            &mut s,
            45_000,
            65_000,
            1_000,
            &[face(ONE, 4.0, -12.0)],
        ));
        ev.extend(feed(&mut s, 65_000, 70_000, 1_000, &[face(ONE, 4.0, 15.0)]));
        assert_eq!(
            summary(&ev),
            vec![
                ("LOOKING_AWAY", Severity::Low, 30_000, 38_000),
                ("LOOKING_AWAY", Severity::Medium, 45_000, 65_000),
            ]
        );
    }

    #[test]
    fn a_face_that_never_moves_is_reported_once_low_then_ignored() {
        let mut s = Smoother::new(Config::default(), 0);
        let me = face(ONE, 0.0, 0.0);
        let poster = face(TWO, 0.0, 0.0);
        let mut ev = feed(&mut s, 0, 120_000, 1_000, &[me, poster]);
        // Fixed after 60 s, closed 2 s later.
        assert_eq!(
            summary(&ev),
            vec![("MULTIPLE_FACES", Severity::Low, 0, 61_000)]
        );
        assert_eq!(ev[0].note, Some("fixed_face"));
        // Leaving the poster alone in view is an absence, and a real second face (in
        // another place) is still reported.
        ev.extend(feed(&mut s, 120_000, 130_000, 1_000, &[poster]));
        ev.extend(feed(&mut s, 130_000, 140_000, 1_000, &[me, poster]));
        ev.extend(feed(
            &mut s,
            140_000,
            145_000,
            1_000,
            &[me, poster, face([0.05, 0.5, 0.2, 0.25], 0.0, 0.0)],
        ));
        ev.extend(feed(&mut s, 145_000, 150_000, 1_000, &[me, poster]));
        assert_eq!(
            summary(&ev[1..]),
            vec![
                ("FACE_ABSENT", Severity::Medium, 120_000, 130_000),
                ("MULTIPLE_FACES", Severity::Medium, 140_000, 145_000),
            ]
        );
    }

    #[test]
    fn camera_loss_and_low_quality_are_technical() {
        let mut s = Smoother::new(Config::default(), 0);
        let me = face(ONE, 0.0, 0.0);
        // Nothing comes for the first 5 s: not received, from the start (the page is
        // not told its camera reaches the server before a frame did).
        s.tick(1_000);
        assert!(!s.receiving());
        s.tick(3_000);
        assert!(!s.receiving());
        let mut ev = feed(&mut s, 5_000, 10_000, 1_000, &[me]);
        assert!(s.receiving());
        // Frames stop at 9 s and come back at 20 s.
        for t in (10_000..20_000).step_by(1_000) {
            s.tick(t);
        }
        ev.extend(feed(&mut s, 20_000, 25_000, 1_000, &[me]));
        // A dark picture for 6 s.
        for t in (25_000..31_000).step_by(1_000) {
            ev.extend(s.observe(&Observation {
                at_ms: t,
                frame: 1,
                faces: vec![me],
                dark: true,
                ..Observation::default()
            }));
        }
        ev.extend(feed(&mut s, 31_000, 40_000, 1_000, &[me]));
        assert_eq!(
            summary(&ev),
            vec![
                ("CAMERA_LOST", Severity::Info, 0, 5_000),
                ("CAMERA_LOST", Severity::Info, 9_000, 20_000),
                ("LOW_QUALITY", Severity::Info, 25_000, 31_000),
            ]
        );
        assert_eq!(
            priority(&ev),
            Severity::Low,
            "technical events never raise the priority"
        );
    }

    #[test]
    fn the_camera_deadline_follows_the_last_frame_and_none_while_lost() {
        let mut s = Smoother::new(Config::default(), 1_000);
        assert_eq!(s.poll_timeout(), Some(4_000));
        s.frame_received(2_500);
        assert_eq!(s.poll_timeout(), Some(5_500), "a frame moves it later");
        s.tick(5_499);
        assert!(s.receiving());
        s.tick(5_500);
        assert!(!s.receiving(), "lost exactly at the deadline");
        assert_eq!(s.poll_timeout(), None);
        assert_eq!(
            summary(&s.frame_received(9_000)),
            vec![("CAMERA_LOST", Severity::Info, 2_500, 9_000)]
        );
        assert_eq!(s.poll_timeout(), Some(12_000));
    }

    #[test]
    fn identity_is_checked_on_a_schedule_and_two_misses_make_an_event() {
        let mut s = Smoother::new(Config::default(), 0);
        let me = face(ONE, 0.0, 0.0);
        let mut ev = Vec::new();
        let mut checks = Vec::new();
        for t in (0..200_000).step_by(1_000) {
            let sim = if (100_000..150_000).contains(&t) {
                0.1
            } else {
                0.7
            };
            let identity = s.identity_due(t).then_some(sim);
            if identity.is_some() {
                checks.push(t);
            }
            ev.extend(s.observe(&Observation {
                at_ms: t,
                frame: t as u64,
                faces: vec![me],
                identity,
                ..Observation::default()
            }));
        }
        // Every 45 s, then every 5 s after a miss until a match.
        assert_eq!(checks[..4], [0, 45_000, 90_000, 135_000]);
        assert_eq!(checks[4..7], [140_000, 145_000, 150_000]);
        assert_eq!(
            summary(&ev),
            vec![("IDENTITY_CHANGED", Severity::High, 135_000, 150_000)]
        );
        // A single miss followed by a match is not an event.
        let mut s = Smoother::new(Config::default(), 0);
        let obs = |t: i64, sim: f32| Observation {
            at_ms: t,
            frame: 0,
            faces: vec![me],
            identity: Some(sim),
            ..Observation::default()
        };
        assert!(s.observe(&obs(0, 0.1)).is_empty());
        assert!(s.observe(&obs(5_000, 0.8)).is_empty());
        assert!(s.finish(6_000).is_empty());
    }

    #[test]
    fn finish_closes_what_is_open_at_the_end() {
        let mut s = Smoother::new(Config::default(), 0);
        let mut ev = feed(&mut s, 0, 10_000, 1_000, &[face(ONE, 0.0, 0.0)]);
        ev.extend(feed(&mut s, 10_000, 30_000, 1_000, &[]));
        ev.extend(s.finish(30_000));
        assert_eq!(
            summary(&ev),
            vec![("FACE_ABSENT", Severity::High, 10_000, 30_000)]
        );
    }
}
