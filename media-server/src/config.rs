//! The SFU's settings.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::sample::FrameTap;

/// Where the SFU takes its media and how long empty rooms live.
///
/// All media arrives on one UDP socket bound to `media_addr`, whatever the number of
/// participants; ICE-TCP (passive, RFC 6544) listens on the same address and port number
/// for networks that block UDP. Open that one port, UDP and TCP, in the firewall.
#[derive(Clone)]
pub struct SfuConfig {
    /// The media socket's address. An unspecified IP (`0.0.0.0`) binds every interface and
    /// announces each non-loopback IPv4 one; port 0 picks a free port (tests).
    pub media_addr: SocketAddr,
    /// Whether ICE-TCP candidates are offered (a TCP listener on `media_addr`'s port).
    pub ice_tcp: bool,
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
            .field("media_addr", &self.media_addr)
            .field("ice_tcp", &self.ice_tcp)
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
            media_addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 3478),
            ice_tcp: true,
            public_ip: None,
            room_close_after: Duration::from_secs(60),
            recordings: None,
            frame_tap: None,
        }
    }
}
