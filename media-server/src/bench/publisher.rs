//! A synthetic candidate's camera for `langcert bench monitor`: a webrtc-rs peer on
//! 127.0.0.1 that publishes a loop of encoded H264 access units as the written test's
//! page does, paced at the loop's frame rate (video only: see the benchmark's note).
//!
//! The loop is encoded once and shared by every publisher (each starts at its own
//! offset); encoding per publisher would load the benchmark's machine more than the
//! server under test. As a browser's encoder does, a publisher answers a keyframe
//! request (PLI, FIR) with an IDR at its next frame: the loop holds an IDR of every frame
//! besides the frame as the stream codes it. The delta frames after such an IDR were
//! coded against the stream's own previous frame, which only a decoder of the whole
//! stream would notice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use rtc::rtp::codec::h264::H264Payloader;
use rtc::rtp::packetizer::Payloader;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, RTCIceGatheringState, RTCPeerConnectionState,
    RTCSessionDescription,
};

use super::BenchError;
use crate::{codec, loopback, tap};

/// The SFU's H264 payload type (constrained baseline, packetization mode 1).
const H264_PT: u8 = 125;
/// Largest RTP payload, as browsers use.
const MTU: usize = 1_180;

/// What a publisher sends, over and over.
#[derive(Debug, Clone)]
pub struct EncodedLoop {
    /// Frames a second.
    pub fps: u32,
    /// One H264 access unit (Annex B) per frame, as the stream codes it.
    pub frames: Vec<Bytes>,
    /// The same frames, each as an IDR with its SPS and PPS.
    pub keyframes: Vec<Bytes>,
}

/// Counters of one publisher.
#[derive(Debug, Default)]
pub struct PublisherCounters {
    /// RTP payload bytes sent (video and audio).
    pub bytes: AtomicU64,
    /// RTP packets sent.
    pub packets: AtomicU64,
    /// Keyframe requests (PLI, FIR) received.
    pub keyframe_requests: AtomicU64,
    /// IDRs sent.
    pub keyframes: AtomicU64,
    /// A keyframe request waits for the next frame.
    wanted: AtomicBool,
}

/// One synthetic candidate's connection.
pub struct Publisher {
    pc: Arc<dyn PeerConnection>,
    video: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    gathering: watch::Receiver<RTCIceGatheringState>,
    /// Its connection's state.
    pub state: watch::Receiver<RTCPeerConnectionState>,
    /// What it sent.
    pub counters: Arc<PublisherCounters>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher").finish_non_exhaustive()
    }
}

impl Publisher {
    /// A publisher of H264 video at `ssrc`.
    pub async fn new(ssrc: u32) -> Result<Publisher, BenchError> {
        let (h264, _) = codec(H264_PT).ok_or(BenchError::Setup("no H264".to_owned()))?;
        let mut engine = MediaEngine::default();
        engine.register_codec(h264.clone(), RtpCodecKind::Video)?;
        let (events, watches) = loopback::Events::new(|_| {});
        let pc =
            loopback::peer_connection(engine, tap::with_keyframe_request_tap, Arc::new(events))
                .await?;
        let video =
            loopback::rtp_track("camera", "video", RtpCodecKind::Video, ssrc, h264.rtp_codec);
        pc.add_track(Arc::clone(&video) as Arc<dyn TrackLocal>)
            .await?;
        Ok(Publisher {
            pc,
            video,
            ssrc,
            gathering: watches.gathering,
            state: watches.state,
            counters: Arc::default(),
        })
    }

    /// The offer, every candidate gathered.
    pub async fn offer(&mut self, timeout: Duration) -> Result<String, BenchError> {
        let offer = self.pc.create_offer(None).await?;
        self.pc.set_local_description(offer).await?;
        loopback::gathered_sdp(&*self.pc, &mut self.gathering, timeout)
            .await
            .ok_or_else(|| BenchError::Setup("gathering timed out".to_owned()))
    }

    /// Takes the server's answer.
    pub async fn accept(&self, answer: String) -> Result<(), BenchError> {
        let answer = RTCSessionDescription::answer(answer)?;
        self.pc.set_remote_description(answer).await?;
        Ok(())
    }

    /// Sends `source` from frame `start` until aborted; `on_frame(index)` is called as
    /// each frame leaves (the benchmark notes when scripted scenes begin).
    pub fn start(
        &self,
        source: Arc<EncodedLoop>,
        start: usize,
        on_frame: impl Fn(usize) + Send + 'static,
    ) -> Vec<JoinHandle<()>> {
        let mut tasks = Vec::new();
        let (video, counters, ssrc) = (
            Arc::clone(&self.video),
            Arc::clone(&self.counters),
            self.ssrc,
        );
        tasks.push(tokio::spawn(async move {
            send_video(&video, ssrc, &source, start, &counters, on_frame).await;
        }));
        let (video, counters) = (Arc::clone(&self.video), Arc::clone(&self.counters));
        tasks.push(tokio::spawn(async move {
            while let Some(event) = video.poll().await {
                if let TrackLocalEvent::OnRtcpPacket(packets) = event {
                    let requests = packets
                        .iter()
                        .filter(|p| tap::is_keyframe_request(p.as_ref()))
                        .count();
                    if requests > 0 {
                        counters
                            .keyframe_requests
                            .fetch_add(requests as u64, Ordering::Relaxed);
                        counters.wanted.store(true, Ordering::Relaxed);
                    }
                }
            }
        }));
        tasks
    }

    /// Closes the connection.
    pub async fn close(&self) {
        let _ = self.pc.close().await;
    }
}

async fn send_video(
    track: &TrackLocalStaticRTP,
    ssrc: u32,
    source: &EncodedLoop,
    start: usize,
    counters: &PublisherCounters,
    on_frame: impl Fn(usize),
) {
    let fps = u64::from(source.fps.max(1));
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / fps));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut payloader = H264Payloader::default();
    let mut sequence = 0u16;
    for n in 0u64.. {
        tick.tick().await;
        let index = (start + n as usize) % source.frames.len();
        on_frame(index);
        let frame = if counters.wanted.swap(false, Ordering::Relaxed) {
            counters.keyframes.fetch_add(1, Ordering::Relaxed);
            &source.keyframes[index]
        } else {
            &source.frames[index]
        };
        let Ok(payloads) = payloader.payload(MTU, frame) else {
            continue;
        };
        let last = payloads.len().saturating_sub(1);
        for (i, payload) in payloads.into_iter().enumerate() {
            counters
                .bytes
                .fetch_add(payload.len() as u64, Ordering::Relaxed);
            counters.packets.fetch_add(1, Ordering::Relaxed);
            let timestamp = (n * 90_000 / fps) as u32;
            let packet = super::rtp_packet(H264_PT, ssrc, sequence, timestamp, i == last, payload);
            sequence = sequence.wrapping_add(1);
            if track.write_rtp(packet).await.is_err() {
                return;
            }
        }
    }
}
