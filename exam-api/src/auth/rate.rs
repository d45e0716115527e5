//! A fixed-window rate limiter for sign-in attempts, keyed by account and by address.
//! Keys are hashed before they are kept, so no e-mail or address sits in memory dumps
//! of the limiter longer than a request.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

/// Counts attempts per key in windows of `window_ms`.
#[derive(Debug)]
pub struct RateLimiter {
    max: u32,
    window_ms: i64,
    slots: Mutex<HashMap<u64, (i64, u32)>>,
}

impl RateLimiter {
    /// At most `max` attempts per key per `window_ms`.
    pub fn new(max: u32, window_ms: i64) -> Self {
        RateLimiter {
            max,
            window_ms,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Records an attempt at `now_ms`; `Err(retry_after_s)` when over the limit.
    pub fn check(&self, key: &str, now_ms: i64) -> Result<(), u64> {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        let k = h.finish();
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() > 100_000 {
            let window = self.window_ms;
            slots.retain(|_, (start, _)| now_ms - *start < window);
        }
        let slot = slots.entry(k).or_insert((now_ms, 0));
        if now_ms - slot.0 >= self.window_ms {
            *slot = (now_ms, 0);
        }
        slot.1 += 1;
        if slot.1 > self.max {
            let left = self.window_ms - (now_ms - slot.0);
            Err((left.max(1000) as u64).div_ceil(1000))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_and_window() {
        let r = RateLimiter::new(3, 60_000);
        for _ in 0..3 {
            assert!(r.check("a", 0).is_ok());
        }
        assert_eq!(r.check("a", 1_000), Err(59));
        assert!(r.check("b", 1_000).is_ok(), "other keys are independent");
        assert!(r.check("a", 60_000).is_ok(), "a new window starts");
    }
}
