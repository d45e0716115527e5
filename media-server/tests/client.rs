//! A webrtc-rs client for the tests, and the signaling they play between it and the SFU.
//!
//! Each client publishes one track per `(codec, tag)`; the payloads it sends carry the tag
//! and a counter, so a subscriber can check that it receives exactly what was sent.

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use media_server::{Sfu, SfuEvent, loopback, with_keyframe_request_tap};
use rtc::peer_connection::configuration::media_engine::{
    MIME_TYPE_H264, MIME_TYPE_OPUS, MIME_TYPE_VP8,
};
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodecParameters, RtpCodecKind};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, timeout};
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, RTCPeerConnectionState, RTCSessionDescription,
};

/// Packets a subscriber must see, counted from the first one it receives.
pub(crate) const SPAN: u32 = 150;
/// Generous bound for anything that should take a fraction of a second on loopback.
pub(crate) const WAIT: Duration = Duration::from_secs(8);

/// The payload of packet `counter` of the stream tagged `tag`: distinct per stream and packet.
pub(crate) fn payload(tag: u8, counter: u32, len: usize) -> Bytes {
    let mut p = Vec::with_capacity(len);
    p.push(tag);
    p.extend_from_slice(&counter.to_be_bytes());
    p.extend((0..len.saturating_sub(5)).map(|j| (counter as usize * 31 + j * 7) as u8));
    Bytes::from(p)
}

/// The codecs a test client publishes with, and the payload types it registers them at.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Codec {
    Opus,
    Vp8,
    /// Registered at a payload type the SFU does not use for it (104; the SFU offers 125),
    /// so forwarding must rewrite it.
    H264,
}

impl Codec {
    pub(crate) fn kind(self) -> RtpCodecKind {
        match self {
            Codec::Opus => RtpCodecKind::Audio,
            Codec::Vp8 | Codec::H264 => RtpCodecKind::Video,
        }
    }

    pub(crate) fn parameters(self) -> RTCRtpCodecParameters {
        let (mime, clock_rate, channels, fmtp, payload_type) = match self {
            Codec::Opus => (MIME_TYPE_OPUS, 48_000, 2, "", 111),
            Codec::Vp8 => (MIME_TYPE_VP8, 90_000, 0, "", 96),
            Codec::H264 => (
                MIME_TYPE_H264,
                90_000,
                0,
                "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
                104,
            ),
        };
        loopback::codec_parameters(mime, clock_rate, channels, fmtp, payload_type)
    }
}

/// What a client saw arrive on a remote track.
pub(crate) struct Received {
    pub(crate) payload: Bytes,
    pub(crate) payload_type: u8,
}

/// A track a client publishes: its tag, SSRC and payload type.
pub(crate) struct Outgoing {
    pub(crate) track: Arc<TrackLocalStaticRTP>,
    pub(crate) tag: u8,
    pub(crate) codec: Codec,
    pub(crate) ssrc: u32,
}

pub(crate) struct Client {
    pub(crate) name: &'static str,
    pub(crate) pc: Arc<dyn PeerConnection>,
    pub(crate) state: watch::Receiver<RTCPeerConnectionState>,
    pub(crate) received: mpsc::UnboundedReceiver<Received>,
    pub(crate) remote_tracks: Arc<std::sync::Mutex<Vec<Arc<dyn TrackRemote>>>>,
    pub(crate) outgoing: Vec<Outgoing>,
    /// PLIs the SFU sent about this client's video.
    pub(crate) plis: Arc<AtomicU64>,
    pub(crate) offer: String,
}

impl Client {
    /// A client on 127.0.0.1 publishing one track per `(codec, tag)`, with its offer ready.
    pub(crate) async fn new(name: &'static str, publish: &[(Codec, u8)]) -> Result<Client> {
        let mut engine = MediaEngine::default();
        for codec in [Codec::Opus, Codec::Vp8, Codec::H264] {
            engine.register_codec(codec.parameters(), codec.kind())?;
        }

        let (received, received_rx) = mpsc::unbounded_channel();
        let remote_tracks = Arc::new(std::sync::Mutex::new(vec![]));
        let tracks = Arc::clone(&remote_tracks);
        let (events, watches) = loopback::Events::new(move |packet| {
            let _ = received.send(Received {
                payload: packet.payload,
                payload_type: packet.header.payload_type,
            });
        });
        let events = events.on_track(move |track| tracks.lock().unwrap().push(Arc::clone(track)));
        let loopback::Watches {
            gathering: mut gathering_rx,
            state: state_rx,
        } = watches;
        let pc =
            loopback::peer_connection(engine, with_keyframe_request_tap, Arc::new(events)).await?;

        let plis = Arc::new(AtomicU64::new(0));
        let mut outgoing = vec![];
        for (i, &(codec, tag)) in publish.iter().enumerate() {
            let kind = codec.kind();
            let ssrc = 0x1000_0000 + u32::from(tag) * 16 + i as u32;
            let track = loopback::rtp_track(
                &format!("{name}-stream"),
                &format!("{name}-{tag}"),
                kind,
                ssrc,
                codec.parameters().rtp_codec,
            );
            pc.add_track(Arc::clone(&track) as Arc<dyn TrackLocal>)
                .await?;
            if kind == RtpCodecKind::Video {
                let (track, plis) = (Arc::clone(&track), Arc::clone(&plis));
                tokio::spawn(async move {
                    while let Some(event) = track.poll().await {
                        if let TrackLocalEvent::OnRtcpPacket(packets) = event {
                            let n = packets
                                .iter()
                                .filter(|p| p.as_any().is::<PictureLossIndication>())
                                .count();
                            plis.fetch_add(n as u64, Ordering::SeqCst);
                        }
                    }
                });
            }
            outgoing.push(Outgoing {
                track,
                tag,
                codec,
                ssrc,
            });
        }

        let offer = pc.create_offer(None).await?;
        pc.set_local_description(offer).await?;
        let offer = loopback::gathered_sdp(&*pc, &mut gathering_rx, WAIT)
            .await
            .context("client gathering")?;
        Ok(Client {
            name,
            pc,
            state: state_rx,
            received: received_rx,
            remote_tracks,
            outgoing,
            plis,
            offer,
        })
    }

    /// The first remote video track this client received.
    pub(crate) async fn remote_video(&self) -> Option<Arc<dyn TrackRemote>> {
        let tracks: Vec<_> = self.remote_tracks.lock().unwrap().clone();
        for track in tracks {
            if track.kind().await == RtpCodecKind::Video {
                return Some(track);
            }
        }
        None
    }

    /// Joins `room` and applies the SFU's answer.
    pub(crate) async fn join(&mut self, sfu: &Sfu, room: &str) -> Result<()> {
        let answer = sfu.join(room, self.name, self.offer.clone()).await?;
        self.pc
            .set_remote_description(RTCSessionDescription::answer(answer)?)
            .await?;
        timeout(
            WAIT,
            self.state
                .wait_for(|s| *s == RTCPeerConnectionState::Connected),
        )
        .await
        .with_context(|| format!("{} never connected", self.name))??;
        Ok(())
    }

    /// Starts sending every published track: packet `i` carries `payload(tag, i)`, paced
    /// like real media so nothing overflows a queue. Runs until the returned handles drop.
    pub(crate) fn start_sending(&self) -> Vec<tokio::task::JoinHandle<()>> {
        self.outgoing
            .iter()
            .map(|out| {
                let (track, tag, ssrc) = (Arc::clone(&out.track), out.tag, out.ssrc);
                let payload_type = out.codec.parameters().payload_type;
                let (step, len) = match out.codec.kind() {
                    RtpCodecKind::Audio => (960, 80),
                    _ => (3000, 900),
                };
                tokio::spawn(async move {
                    let mut tick = tokio::time::interval(Duration::from_millis(5));
                    for counter in 0u32.. {
                        tick.tick().await;
                        let packet = rtp::Packet {
                            header: rtp::header::Header {
                                version: 2,
                                marker: true,
                                payload_type,
                                sequence_number: 1000u16.wrapping_add(counter as u16),
                                timestamp: counter.wrapping_mul(step),
                                ssrc,
                                ..Default::default()
                            },
                            payload: payload(tag, counter, len),
                        };
                        if track.write_rtp(packet).await.is_err() {
                            return;
                        }
                    }
                })
            })
            .collect()
    }

    /// Receives until every stream in `tags` was seen for `SPAN` packets from its first, then
    /// checks each: payloads equal what was sent, strictly in order, ≥ 90 % present.
    /// Returns the payload type each stream arrived with.
    pub(crate) async fn expect_streams(&mut self, tags: &[u8]) -> Result<BTreeMap<u8, u8>> {
        let mut payload_types = BTreeMap::new();
        let mut seen: BTreeMap<u8, Vec<u32>> = tags.iter().map(|t| (*t, vec![])).collect();
        let deadline = Instant::now() + WAIT;
        let complete = |seen: &BTreeMap<u8, Vec<u32>>| {
            seen.values()
                .all(|c| c.len() >= 2 && c[c.len() - 1] >= c[0] + SPAN - 1)
        };
        while !complete(&seen) {
            let Ok(Some(r)) = tokio::time::timeout_at(deadline, self.received.recv()).await else {
                bail!(
                    "{}: timed out; received so far {:?}",
                    self.name,
                    summary(&seen)
                );
            };
            let tag = r.payload[0];
            let counter = u32::from_be_bytes(r.payload[1..5].try_into()?);
            let Some(counters) = seen.get_mut(&tag) else {
                bail!(
                    "{}: received a stream it must not: tag {:?}",
                    self.name,
                    tag as char
                );
            };
            ensure!(
                r.payload == payload(tag, counter, r.payload.len()),
                "{}: payload of {} #{counter} differs from what was sent",
                self.name,
                tag as char
            );
            counters.push(counter);
            payload_types.insert(tag, r.payload_type);
        }
        for (tag, counters) in &seen {
            ensure!(
                counters.windows(2).all(|w| w[0] < w[1]),
                "{}: stream {:?} out of order",
                self.name,
                *tag as char
            );
            let first = counters[0];
            let within = counters.iter().filter(|c| **c < first + SPAN).count();
            ensure!(
                within as u32 * 10 >= SPAN * 9,
                "{}: stream {:?}: only {within} of {SPAN} packets",
                self.name,
                *tag as char
            );
            println!(
                "{}: stream {:?} — {within}/{SPAN} packets from #{first}, in order, payloads equal",
                self.name, *tag as char
            );
        }
        Ok(payload_types)
    }
}

fn summary(seen: &BTreeMap<u8, Vec<u32>>) -> Vec<(char, usize)> {
    seen.iter().map(|(t, c)| (*t as char, c.len())).collect()
}

/// Plays the signaling server: applies the SFU's offers to the clients and hands back their
/// answers; counts them per participant, and reports closed rooms.
pub(crate) fn signal(
    sfu: Arc<Sfu>,
    clients: HashMap<String, Arc<dyn PeerConnection>>,
    answered: Arc<std::sync::Mutex<HashMap<String, u64>>>,
    closed: mpsc::UnboundedSender<String>,
) -> tokio::task::JoinHandle<Result<()>> {
    let mut events = sfu.take_events().expect("events");
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            match event {
                SfuEvent::Offer {
                    room,
                    participant,
                    sdp,
                } => {
                    let pc = clients.get(&participant).context("unknown participant")?;
                    pc.set_remote_description(RTCSessionDescription::offer(sdp)?)
                        .await?;
                    let answer = pc.create_answer(None).await?;
                    pc.set_local_description(answer).await?;
                    let answer = pc.local_description().await.context("answer")?.sdp;
                    sfu.answer(&room, &participant, answer).await?;
                    *answered.lock().unwrap().entry(participant).or_default() += 1;
                }
                SfuEvent::RoomClosed { room } => {
                    let _ = closed.send(room);
                }
                other => bail!("unexpected event {other:?}"),
            }
        }
        Ok(())
    })
}

pub(crate) async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        if Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}
