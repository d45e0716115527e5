//! Synthetic participants' building blocks: a webrtc-rs peer connection on 127.0.0.1,
//! its event handler ([`Events`]: gathering and connection state, every received RTP
//! packet), a local RTP track at a fixed SSRC, and the wait for ICE gathering. The
//! benchmark ([`crate::bench`]) and the tests' peers are made of them.

use std::sync::Arc;
use std::time::Duration;

use rtc::media_stream::MediaStreamTrack;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use tokio::sync::watch;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceGatheringState, RTCPeerConnectionState, Registry, register_default_interceptors,
};

type OnPacket = dyn Fn(rtp::Packet) + Send + Sync;
type OnTrack = dyn Fn(&Arc<dyn TrackRemote>) + Send + Sync;

/// A synthetic participant's connection events: ICE gathering and connection state go to
/// watch channels ([`Watches`]), every RTP packet of every remote track to `on_packet`
/// (from a task per track), and each remote track, as it arrives, to `on_track` if set.
pub struct Events {
    gathering: watch::Sender<RTCIceGatheringState>,
    state: watch::Sender<RTCPeerConnectionState>,
    on_packet: Arc<OnPacket>,
    on_track: Option<Box<OnTrack>>,
}

/// The states an [`Events`] reports.
#[derive(Debug)]
pub struct Watches {
    /// ICE gathering (see [`gathered_sdp`]).
    pub gathering: watch::Receiver<RTCIceGatheringState>,
    /// The connection's state.
    pub state: watch::Receiver<RTCPeerConnectionState>,
}

impl Events {
    /// A handler giving every received RTP packet to `on_packet`.
    pub fn new(on_packet: impl Fn(rtp::Packet) + Send + Sync + 'static) -> (Self, Watches) {
        let (gathering, gathering_rx) = watch::channel(RTCIceGatheringState::New);
        let (state, state_rx) = watch::channel(RTCPeerConnectionState::New);
        let events = Events {
            gathering,
            state,
            on_packet: Arc::new(on_packet),
            on_track: None,
        };
        let watches = Watches {
            gathering: gathering_rx,
            state: state_rx,
        };
        (events, watches)
    }

    /// Also gives each remote track to `on_track` as it arrives.
    pub fn on_track(
        mut self,
        on_track: impl Fn(&Arc<dyn TrackRemote>) + Send + Sync + 'static,
    ) -> Self {
        self.on_track = Some(Box::new(on_track));
        self
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Events {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        self.gathering.send_replace(state);
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.state.send_replace(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        if let Some(on_track) = &self.on_track {
            on_track(&track);
        }
        let on_packet = Arc::clone(&self.on_packet);
        tokio::spawn(async move {
            while let Some(event) = track.poll().await {
                if let TrackRemoteEvent::OnRtpPacket(packet) = event {
                    on_packet(packet);
                }
            }
        });
    }
}

/// A peer connection bound to 127.0.0.1 with webrtc-rs's default interceptors (NACK,
/// reports, TWCC) on `engine`'s codecs; `wrap` may add interceptors of its own (e.g.
/// [`crate::with_keyframe_request_tap`]).
pub async fn peer_connection(
    mut engine: MediaEngine,
    wrap: impl FnOnce(Registry) -> Registry,
    handler: Arc<dyn PeerConnectionEventHandler>,
) -> Result<Arc<dyn PeerConnection>, webrtc::error::Error> {
    let registry = wrap(register_default_interceptors(Registry::new(), &mut engine)?);
    let pc = PeerConnectionBuilder::new()
        .with_media_engine(engine)
        .with_interceptor_registry(registry)
        .with_handler(handler)
        .with_udp_addrs(vec!["127.0.0.1:0".to_owned()])
        .build()
        .await?;
    Ok(Arc::new(pc))
}

/// The parameters of a codec a synthetic participant offers, with no RTCP feedback of
/// its own (the interceptors add NACK and the reports).
pub fn codec_parameters(
    mime_type: &str,
    clock_rate: u32,
    channels: u16,
    sdp_fmtp_line: &str,
    payload_type: u8,
) -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: mime_type.to_owned(),
            clock_rate,
            channels,
            sdp_fmtp_line: sdp_fmtp_line.to_owned(),
            rtcp_feedback: vec![],
        },
        payload_type,
    }
}

/// A local track sending RTP as given, with one active encoding at `ssrc`.
pub fn rtp_track(
    stream_id: &str,
    track_id: &str,
    kind: RtpCodecKind,
    ssrc: u32,
    codec: RTCRtpCodec,
) -> Arc<TrackLocalStaticRTP> {
    Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        stream_id.to_owned(),
        track_id.to_owned(),
        track_id.to_owned(),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            active: true,
            codec,
            ..Default::default()
        }],
    )))
}

/// Waits (at most `timeout`) until ICE gathering completes, then returns the local
/// description's SDP, candidates included; `None` if it did not complete in time or the
/// connection has no local description.
pub async fn gathered_sdp(
    pc: &dyn PeerConnection,
    gathering: &mut watch::Receiver<RTCIceGatheringState>,
    timeout: Duration,
) -> Option<String> {
    tokio::time::timeout(
        timeout,
        gathering.wait_for(|s| *s == RTCIceGatheringState::Complete),
    )
    .await
    .ok()?
    .ok()?;
    Some(pc.local_description().await?.sdp)
}
