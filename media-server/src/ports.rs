//! Which UDP port the next peer connection binds.
//!
//! webrtc-rs 0.21 has no UDP mux: every `PeerConnection` binds sockets of its own (one per
//! configured IP). A firewall can therefore only be opened for a *range*, and this pool hands
//! its ports out round-robin so that a port just released (whose socket may still be closing,
//! or whose peer may still be sending) is the last one to be reused.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;

/// Ports leased to live peer connections, out of a configured range.
#[derive(Debug)]
pub(crate) struct PortPool {
    range: Option<RangeInclusive<u16>>,
    leased: BTreeSet<u16>,
    cursor: u16,
}

impl PortPool {
    /// A pool over `range`; `None` means "let the OS pick an ephemeral port each time".
    pub(crate) fn new(range: Option<RangeInclusive<u16>>) -> Self {
        let cursor = range.as_ref().map_or(0, |r| *r.start());
        Self {
            range,
            leased: BTreeSet::new(),
            cursor,
        }
    }

    /// How many different ports a caller may try before giving up.
    pub(crate) fn attempts(&self) -> usize {
        match &self.range {
            None => 1,
            Some(range) => range.clone().count().min(32),
        }
    }

    /// Leases a port: `Some(0)` when no range is configured (ephemeral), `None` when every
    /// port of the range is leased.
    pub(crate) fn lease(&mut self) -> Option<u16> {
        let Some(range) = self.range.clone() else {
            return Some(0);
        };
        let len = range.clone().count();
        if self.leased.len() >= len {
            return None;
        }
        let (start, end) = (*range.start(), *range.end());
        let mut port = self.cursor.clamp(start, end);
        for _ in 0..len {
            let next = if port == end { start } else { port + 1 };
            if !self.leased.contains(&port) {
                self.leased.insert(port);
                self.cursor = next;
                return Some(port);
            }
            port = next;
        }
        None
    }

    /// Gives a port back (port 0, the ephemeral marker, is ignored).
    pub(crate) fn release(&mut self, port: u16) {
        self.leased.remove(&port);
    }

    /// Ports currently leased.
    #[cfg(test)]
    pub(crate) fn leased(&self) -> usize {
        self.leased.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_range_every_lease_is_ephemeral() {
        let mut pool = PortPool::new(None);
        assert_eq!(pool.lease(), Some(0));
        assert_eq!(pool.lease(), Some(0));
        assert_eq!(pool.attempts(), 1);
    }

    #[test]
    fn leases_round_robin_and_runs_out() {
        let mut pool = PortPool::new(Some(40000..=40002));
        assert_eq!(pool.lease(), Some(40000));
        assert_eq!(pool.lease(), Some(40001));
        pool.release(40000);
        // The port just released is not handed out again while another is free.
        assert_eq!(pool.lease(), Some(40002));
        assert_eq!(pool.lease(), Some(40000));
        assert_eq!(pool.lease(), None);
        assert_eq!(pool.leased(), 3);
        pool.release(40001);
        assert_eq!(pool.lease(), Some(40001));
    }

    #[test]
    fn a_single_port_range_works() {
        let mut pool = PortPool::new(Some(5000..=5000));
        assert_eq!(pool.lease(), Some(5000));
        assert_eq!(pool.lease(), None);
        pool.release(5000);
        assert_eq!(pool.lease(), Some(5000));
    }

    #[test]
    fn a_range_ending_at_the_top_port_wraps() {
        let mut pool = PortPool::new(Some(65534..=65535));
        assert_eq!(pool.lease(), Some(65534));
        assert_eq!(pool.lease(), Some(65535));
        pool.release(65534);
        assert_eq!(pool.lease(), Some(65534));
    }
}
