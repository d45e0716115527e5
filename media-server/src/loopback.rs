//! Synthetic participants' building blocks: a webrtc-rs peer connection on 127.0.0.1,
//! a local RTP track at a fixed SSRC, and the wait for ICE gathering. The benchmark
//! ([`crate::bench`]) and the tests' peers are made of them.

use std::sync::Arc;
use std::time::Duration;

use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::watch;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceGatheringState, Registry, register_default_interceptors,
};

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
