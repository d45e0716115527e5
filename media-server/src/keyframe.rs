//! Keyframe requests towards a publisher, merged.
//!
//! Every new subscriber needs a keyframe, and every subscriber that loses one asks for it
//! (PLI/FIR). Passing each request on would make the publisher's encoder emit a burst of
//! large frames, so requests for one published track are merged: at most one PLI per
//! [`KEYFRAME_INTERVAL`], and a request arriving inside that window is answered by a single
//! PLI at the window's end instead of being lost.

use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The minimum time between two keyframe requests sent to one publisher track.
pub const KEYFRAME_INTERVAL: Duration = Duration::from_millis(500);

/// Asks the media loop for a keyframe of one published track, from wherever the need is
/// noticed (a recorder's thread, a frame sampler). Requests are merged by the track's
/// [`KeyframeLimiter`]; when the loop's queue is full a request is already pending and this
/// one merges into it.
#[derive(Debug, Clone)]
pub(crate) struct KeyframeRequests {
    queue: mpsc::Sender<u64>,
    track: u64,
}

impl KeyframeRequests {
    pub(crate) fn new(queue: mpsc::Sender<u64>, track: u64) -> Self {
        Self { queue, track }
    }

    pub(crate) fn request(&self) {
        let _ = self.queue.try_send(self.track);
    }
}

/// Sans-IO rate limiter: feed it requests and timeouts, it says when to send a PLI.
#[derive(Debug)]
pub(crate) struct KeyframeLimiter {
    interval: Duration,
    last_sent: Option<Instant>,
    pending: bool,
}

impl KeyframeLimiter {
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval,
            last_sent: None,
            pending: false,
        }
    }

    /// A keyframe was asked for at `now`. Returns `true` when a PLI must be sent right away;
    /// otherwise the request is merged into one sent at [`poll_timeout`](Self::poll_timeout).
    pub(crate) fn request(&mut self, now: Instant) -> bool {
        match self.last_sent {
            Some(last) if now < last + self.interval => {
                self.pending = true;
                false
            }
            _ => {
                self.last_sent = Some(now);
                self.pending = false;
                true
            }
        }
    }

    /// When the merged request (if any) is due.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        match (self.pending, self.last_sent) {
            (true, Some(last)) => Some(last + self.interval),
            _ => None,
        }
    }

    /// Time has passed to `now`. Returns `true` when the merged request must be sent now.
    pub(crate) fn handle_timeout(&mut self, now: Instant) -> bool {
        match self.poll_timeout() {
            Some(due) if now >= due => {
                self.pending = false;
                self.last_sent = Some(now);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_request_goes_out_at_once() {
        let t0 = Instant::now();
        let mut limiter = KeyframeLimiter::new(KEYFRAME_INTERVAL);
        assert!(limiter.request(t0));
        assert_eq!(limiter.poll_timeout(), None);
    }

    #[test]
    fn requests_inside_the_window_merge_into_one_at_its_end() {
        let t0 = Instant::now();
        let mut limiter = KeyframeLimiter::new(KEYFRAME_INTERVAL);
        assert!(limiter.request(t0));
        assert!(!limiter.request(t0 + Duration::from_millis(100)));
        assert!(!limiter.request(t0 + Duration::from_millis(300)));
        let due = limiter.poll_timeout().expect("a merged request is pending");
        assert_eq!(due, t0 + KEYFRAME_INTERVAL);
        assert!(!limiter.handle_timeout(due - Duration::from_millis(1)));
        assert!(limiter.handle_timeout(due));
        // Only one PLI for the three requests.
        assert!(!limiter.handle_timeout(due + Duration::from_millis(1)));
        assert_eq!(limiter.poll_timeout(), None);
        // The merged PLI opened a new window.
        assert!(!limiter.request(due + Duration::from_millis(499)));
        assert!(limiter.handle_timeout(due + KEYFRAME_INTERVAL));
    }

    #[test]
    fn at_most_one_pli_per_interval_under_a_flood() {
        let t0 = Instant::now();
        let mut limiter = KeyframeLimiter::new(KEYFRAME_INTERVAL);
        let mut sent = vec![];
        // A request every 10 ms for 2 s, timeouts handled as the shell would.
        for ms in (0..2000).step_by(10) {
            let now = t0 + Duration::from_millis(ms);
            if limiter.handle_timeout(now) || limiter.request(now) {
                sent.push(now);
            }
        }
        assert_eq!(sent.len(), 4);
        for pair in sent.windows(2) {
            assert!(pair[1] - pair[0] >= KEYFRAME_INTERVAL);
        }
    }
}
