//! The SFU's settings.

use std::net::{IpAddr, Ipv4Addr};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::sample::FrameTap;

/// How the SFU binds its media sockets and how long empty rooms live.
///
/// webrtc-rs 0.21 binds sockets per peer connection (it has no UDP mux), so media does not
/// arrive on one port: each participant's connection takes one port of `udp_port_range` on
/// each of `media_ips`. Open that range in the firewall.
#[derive(Clone)]
pub struct SfuConfig {
    /// Addresses to bind media sockets on, one socket per address and connection.
    /// `0.0.0.0` means every non-loopback IPv4 interface; tests use `127.0.0.1`.
    pub media_ips: Vec<IpAddr>,
    /// UDP ports handed out to connections, one per connection; `None` lets the OS pick an
    /// ephemeral port for each.
    pub udp_port_range: Option<RangeInclusive<u16>>,
    /// The public address to announce in host candidates instead of the bound one (1:1 NAT,
    /// e.g. a cloud VM with an elastic IP).
    pub public_ip: Option<IpAddr>,
    /// How long a room lives after its last participant left; a participant who reconnects
    /// within it finds the room (and, later, its recording) as it was.
    pub room_close_after: Duration,
    /// Where to record: when set, every published Opus or VP8 track is also written, as
    /// received, to `<recordings>/<room>/<participant>-<audio|video>-<n>.webm`, `n` from 1,
    /// never overwriting. Ids pass unchanged when made of ASCII letters, digits and `-` (UUIDs
    /// do); any other byte is written `_XX`. H264 tracks are not recorded. `None` records
    /// nothing. Deleting old recordings is the caller's business.
    pub recordings: Option<PathBuf>,
    /// Where sampled frames of monitoring rooms go (see [`crate::sample`]); `None` samples
    /// nothing. Monitoring rooms are never recorded.
    pub frame_tap: Option<Arc<dyn FrameTap>>,
}

impl std::fmt::Debug for SfuConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SfuConfig")
            .field("media_ips", &self.media_ips)
            .field("udp_port_range", &self.udp_port_range)
            .field("public_ip", &self.public_ip)
            .field("room_close_after", &self.room_close_after)
            .field("recordings", &self.recordings)
            .field("frame_tap", &self.frame_tap.is_some())
            .finish()
    }
}

impl Default for SfuConfig {
    fn default() -> Self {
        Self {
            media_ips: vec![IpAddr::V4(Ipv4Addr::UNSPECIFIED)],
            udp_port_range: Some(50_000..=50_199),
            public_ip: None,
            room_close_after: Duration::from_secs(60),
            recordings: None,
            frame_tap: None,
        }
    }
}
