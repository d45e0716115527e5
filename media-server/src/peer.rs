//! One participant's peer connection: how it is built, and how its events reach the SFU.

use crate::codecs;
use crate::config::SfuConfig;
use crate::error::SfuError;
use crate::negotiation::Negotiation;
use crate::sfu::Inner;
use crate::tap::with_keyframe_request_tap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::watch;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceCandidateType, RTCIceGatheringState, RTCPeerConnectionState, Registry,
    SettingEngineBuilder, register_default_interceptors,
};

/// How long the SFU waits for its own ICE candidates before answering (host candidates
/// only, so this is a bound on a local operation, not on the network).
const GATHERING_TIMEOUT: Duration = Duration::from_secs(5);

/// A participant of a room, as the SFU keeps it.
pub(crate) struct Participant {
    pub(crate) id: String,
    pub(crate) room: String,
    /// Tells this join apart from an earlier or later one with the same id.
    pub(crate) session: u64,
    pub(crate) pc: Arc<dyn PeerConnection>,
    pub(crate) port: u16,
    pub(crate) negotiation: Mutex<Negotiation>,
    /// Bumped each time an answer from this participant is applied; down-tracks watch it
    /// to learn that their payload type may now be known.
    pub(crate) answers: watch::Sender<u64>,
}

/// Receives a connection's events (on its driver task) and hands them to the SFU.
///
/// Handlers run on the connection's driver, which must not wait for work that needs the
/// driver, so each event is passed on to a task of its own.
pub(crate) struct PeerHandler {
    pub(crate) inner: Weak<Inner>,
    pub(crate) room: String,
    pub(crate) kind: crate::RoomKind,
    pub(crate) participant: String,
    pub(crate) session: u64,
    pub(crate) gathering: watch::Sender<RTCIceGatheringState>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for PeerHandler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        self.gathering.send_replace(state);
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let Some(inner) = self.inner.upgrade() else {
            return;
        };
        let (room, participant, session) =
            (self.room.clone(), self.participant.clone(), self.session);
        match state {
            RTCPeerConnectionState::Connected => {
                tokio::spawn(async move { inner.on_connected(&room, &participant, session).await });
            }
            RTCPeerConnectionState::Failed => {
                tokio::spawn(async move { inner.on_failed(&room, &participant, session).await });
            }
            _ => {}
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let Some(inner) = self.inner.upgrade() else {
            return;
        };
        let (room, participant, session) =
            (self.room.clone(), self.participant.clone(), self.session);
        tokio::spawn(async move { inner.publish(room, participant, session, track).await });
    }
}

/// Builds a connection bound to `port` on every configured media IP, with the SFU's codecs,
/// the default interceptors (NACK generator and responder, sender and receiver reports,
/// TWCC feedback) and the keyframe-request tap.
pub(crate) async fn build(
    config: &SfuConfig,
    port: u16,
    handler: Arc<PeerHandler>,
) -> Result<Arc<dyn PeerConnection>, SfuError> {
    let monitor = handler.kind == crate::RoomKind::Monitoring;
    let mut engine = codecs::media_engine(monitor)?;
    let registry = register_default_interceptors(Registry::new(), &mut engine)?;
    let registry = with_keyframe_request_tap(registry);
    let mut settings = SettingEngineBuilder::new();
    if let Some(ip) = config.public_ip {
        settings = settings.with_nat_1to1_ips(vec![ip.to_string()], RTCIceCandidateType::Host);
    }
    let addrs: Vec<SocketAddr> = config
        .media_ips
        .iter()
        .map(|ip| SocketAddr::new(*ip, port))
        .collect();
    let pc = PeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_media_engine(engine)
        .with_interceptor_registry(registry)
        .with_setting_engine(settings.build())
        .with_handler(handler)
        .with_udp_addrs(addrs)
        .build()
        .await?;
    Ok(Arc::new(pc))
}

/// Answers `offer_sdp` on `pc` and returns the answer with every local candidate in it
/// (no trickle from the SFU's side).
pub(crate) async fn answer_offer(
    pc: &Arc<dyn PeerConnection>,
    offer_sdp: String,
    mut gathering: watch::Receiver<RTCIceGatheringState>,
) -> Result<String, SfuError> {
    use webrtc::peer_connection::RTCSessionDescription;
    pc.set_remote_description(RTCSessionDescription::offer(offer_sdp)?)
        .await?;
    let answer = pc.create_answer(None).await?;
    pc.set_local_description(answer).await?;
    tokio::time::timeout(
        GATHERING_TIMEOUT,
        gathering.wait_for(|s| *s == RTCIceGatheringState::Complete),
    )
    .await
    .map_err(|_| SfuError::GatheringTimeout)?
    .map_err(|_| SfuError::GatheringTimeout)?;
    let local = pc
        .local_description()
        .await
        .ok_or(SfuError::GatheringTimeout)?;
    Ok(local.sdp)
}
