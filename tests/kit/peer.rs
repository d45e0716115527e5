//! The WebRTC test peer (webrtc-rs): publishes one track in one of the SFU's codecs, and
//! records the counters carried by what it receives.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use media_server::loopback;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::RTCRtpCodecParameters;
use tokio::sync::watch;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, RTCIceGatheringState, RTCSessionDescription,
};

/// How long ICE gathering may take on loopback.
const GATHERING: Duration = Duration::from_secs(15);

/// The SFU's Opus.
pub(crate) fn opus() -> RTCRtpCodecParameters {
    media_server::codec(111).expect("the SFU's Opus").0
}

/// The SFU's H264 (constrained baseline, packetization mode 1).
pub(crate) fn h264() -> RTCRtpCodecParameters {
    media_server::codec(125).expect("the SFU's H264").0
}

/// A peer on 127.0.0.1 publishing one track.
pub(crate) struct Peer {
    /// Its connection.
    pub(crate) pc: Arc<dyn PeerConnection>,
    /// The track it publishes.
    pub(crate) track: Arc<TrackLocalStaticRTP>,
    /// The codec of that track.
    pub(crate) codec: RTCRtpCodecParameters,
    /// The SSRC of that track.
    pub(crate) ssrc: u32,
    gathering: watch::Receiver<RTCIceGatheringState>,
    /// The counters received so far, in arrival order.
    pub(crate) received: Arc<Mutex<Vec<u32>>>,
}

impl Peer {
    /// A peer publishing one track of `codec` (one of the SFU's) at `ssrc`.
    pub(crate) async fn new(codec: RTCRtpCodecParameters, ssrc: u32) -> Peer {
        let (_, kind) = media_server::codec(codec.payload_type).expect("one of the SFU's codecs");
        let mut engine = MediaEngine::default();
        engine.register_codec(codec.clone(), kind).unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let counters = Arc::clone(&received);
        // The counter in each received payload (`b'L'` then a big-endian `u32`, as
        // [`Peer::send_counter`] sends).
        let (events, watches) = loopback::Events::new(move |packet| {
            if packet.payload.len() >= 5 && packet.payload[0] == b'L' {
                let n = u32::from_be_bytes(packet.payload[1..5].try_into().unwrap());
                counters.lock().unwrap().push(n);
            }
        });
        let gathering = watches.gathering;
        let pc = loopback::peer_connection(engine, |r| r, Arc::new(events))
            .await
            .unwrap();
        let name = format!("t{ssrc:x}");
        let track = loopback::rtp_track(
            &format!("s{ssrc:x}"),
            &name,
            kind,
            ssrc,
            codec.rtp_codec.clone(),
        );
        pc.add_track(track.clone() as Arc<dyn TrackLocal>)
            .await
            .unwrap();
        Peer {
            pc,
            track,
            codec,
            ssrc,
            gathering,
            received,
        }
    }

    /// The local description once ICE gathering is complete.
    pub(crate) async fn gathered_sdp(&mut self) -> String {
        loopback::gathered_sdp(&*self.pc, &mut self.gathering, GATHERING)
            .await
            .expect("ICE gathering completes")
    }

    /// Creates and sets an offer; its SDP, candidates included.
    pub(crate) async fn offer(&mut self) -> String {
        let offer = self.pc.create_offer(None).await.unwrap();
        self.pc.set_local_description(offer).await.unwrap();
        self.gathered_sdp().await
    }

    /// Applies the answer to this peer's offer.
    pub(crate) async fn accept(&self, answer: &str) {
        self.pc
            .set_remote_description(RTCSessionDescription::answer(answer.to_owned()).unwrap())
            .await
            .unwrap();
    }

    /// Answers an offer (from the SFU); the answer's SDP, candidates included.
    pub(crate) async fn answer(&mut self, offer: &str) -> String {
        self.pc
            .set_remote_description(RTCSessionDescription::offer(offer.to_owned()).unwrap())
            .await
            .unwrap();
        let answer = self.pc.create_answer(None).await.unwrap();
        self.pc.set_local_description(answer).await.unwrap();
        self.gathered_sdp().await
    }

    /// Writes one RTP packet of the published track; false once the track is closed.
    pub(crate) async fn write(
        &self,
        payload: Vec<u8>,
        sequence_number: u16,
        timestamp: u32,
        marker: bool,
    ) -> bool {
        let header = header(&self.codec, self.ssrc, sequence_number, timestamp, marker);
        write(&self.track, header, payload).await
    }

    /// Sends 20 ms audio packets carrying a counter, until the track is closed.
    pub(crate) fn send_counter(&self) -> tokio::task::JoinHandle<()> {
        let (track, codec, ssrc) = (self.track.clone(), self.codec.clone(), self.ssrc);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            for n in 0u32.. {
                tick.tick().await;
                let mut payload = vec![b'L'];
                payload.extend_from_slice(&n.to_be_bytes());
                payload.extend_from_slice(&[0u8; 60]);
                let header = header(&codec, ssrc, n as u16, n * 960, true);
                if !write(&track, header, payload).await {
                    return;
                }
            }
        })
    }

    /// Waits until something was received, at most `timeout`; whether it was.
    pub(crate) async fn wait_received(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.received.lock().unwrap().is_empty() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

/// The RTP header of a packet of a track.
fn header(
    codec: &RTCRtpCodecParameters,
    ssrc: u32,
    sequence_number: u16,
    timestamp: u32,
    marker: bool,
) -> rtp::header::Header {
    rtp::header::Header {
        version: 2,
        marker,
        payload_type: codec.payload_type,
        sequence_number,
        timestamp,
        ssrc,
        ..Default::default()
    }
}

/// Writes a packet to a local track; false once the track is closed.
async fn write(track: &TrackLocalStaticRTP, header: rtp::header::Header, payload: Vec<u8>) -> bool {
    let packet = rtp::Packet {
        header,
        payload: payload.into(),
    };
    track.write_rtp(packet).await.is_ok()
}
