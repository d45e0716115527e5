//! `langcert bench sfu`: synthetic interview rooms through the SFU, over real sockets on
//! loopback, and the figures that say whether it keeps up.
//!
//! ```text
//! peers' runtime (threads "bench-peer")                 SFU's runtime (threads "sfu-rt")
//!   publisher: VP8-like video 1.5 Mbit/s ─┐
//!              Opus-like audio 32 kbit/s ─┴─ UDP 127.0.0.1 ─▶ Sfu ─ UDP ─▶ subscriber
//!   each payload carries (stream, sequence, send time)            latency, loss ◀─┘
//! ```
//!
//! Each room has two webrtc-rs peers, each publishing one video and one audio track and
//! receiving the other's: four forwarded streams per room. Once every stream flows, a
//! window of `seconds` is measured:
//!
//! * **latency**: publisher's `write_rtp` → subscriber's receipt of the packet, both in this
//!   process, on one monotonic clock;
//! * **loss**: of the packets sent in the window, the fraction no subscriber received
//!   (duplicates from retransmissions count once), after a grace period for stragglers;
//! * **CPU**: the SFU runs on a tokio runtime of its own, whose threads (workers and blocking
//!   pool, all named `sfu-rt`) are the only ones counted in `cpu_s_per_1000_packets`,
//!   read from `/proc/self/task/<tid>/stat`. The peers run on another runtime; the whole
//!   process's CPU is reported beside it. Both runtimes share the machine's cores, so the
//!   peers' load still weighs on the SFU's latency — the figures are pessimistic;
//! * **memory**: the growth of the process's VmRSS from before the first connection to the
//!   end of the window, per room. It includes the two client peers of each room, not only
//!   the SFU's side.
//!
//! Linux only (it reads `/proc`). Blocking: call it outside any tokio runtime.
//!
//! ```no_run
//! let report = media_server::bench::run(10, 20)?;
//! println!("{}", serde_json::to_string(&report)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::sfu::lock;
use crate::{Sfu, SfuConfig, SfuError, SfuEvent, loopback};
use bytes::Bytes;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodecParameters, RtpCodecKind};
use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::runtime::Handle;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, RTCPeerConnectionState, RTCSessionDescription,
};

/// Video: 30 frames per second of 5 or 6 packets (5.2 on average) of 1200 bytes: 156
/// packets and 1.5 Mbit/s.
const VIDEO_FPS: u64 = 30;
const VIDEO_PAYLOAD: usize = 1_200;
const VIDEO_PACKETS_PER_S: u64 = 156;
/// Audio: one 80-byte packet per 20 ms: 32 kbit/s.
const AUDIO_PACKET_MS: u64 = 20;
const AUDIO_PAYLOAD: usize = 80;
/// Streams per room: two peers, each with a video and an audio track.
const STREAMS_PER_ROOM: usize = 4;
/// The SFU's ports: its own range, one port per connection, below the tests' ranges.
const FIRST_PORT: u16 = 41_000;
const LAST_PORT: u16 = 46_999;
/// Rooms set up at once.
const SETUP_CONCURRENCY: usize = 8;
/// Bound on anything that takes a fraction of a second on an idle loopback.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);
/// Time for every stream to flow once everyone joined (renegotiations, first keyframes).
const FLOW_TIMEOUT: Duration = Duration::from_secs(60);
/// Left after the window for packets sent in it to arrive.
const GRACE: Duration = Duration::from_millis(500);
/// Latency histogram: buckets of 10 µs up to 200 ms, then one overflow bucket.
const BUCKET_NS: u64 = 10_000;
const BUCKETS: usize = 20_000;
/// Linux's USER_HZ: the unit of utime and stime in `/proc/.../stat`.
const CLOCK_TICKS_PER_S: f64 = 100.0;
/// The SFU runtime's thread name, as `/proc/self/task/<tid>/comm` shows it.
const SFU_THREAD: &str = "sfu-rt";
const PEER_THREAD: &str = "bench-peer";

/// What the benchmark measured. Every figure but `setup_s` is over the measured window.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct BenchReport {
    /// Rooms, each with two peers publishing video and audio to each other.
    pub rooms: usize,
    /// Length of the measured window, in seconds.
    pub seconds: f64,
    /// RTP packets the SFU wrote to subscribers during the window.
    pub forwarded_packets: u64,
    /// The SFU runtime's CPU time (user + system) per 1000 forwarded packets, in seconds.
    pub cpu_s_per_1000_packets: f64,
    /// The SFU runtime's CPU time over the window, in seconds.
    pub sfu_cpu_s: f64,
    /// The whole process's CPU time over the window (SFU, synthetic peers, harness).
    pub process_cpu_s: f64,
    /// CPU time the machine spent outside this process over the window (other processes,
    /// interrupt work not charged to any): others competing for the cores make latency
    /// worse, so a figure of more than a few seconds means "measure again on a quiet machine".
    pub other_cpu_s: f64,
    /// Median publisher-send → subscriber-receive latency, in ms (10 µs resolution).
    pub latency_p50_ms: f64,
    /// 99th percentile of that latency, in ms.
    pub latency_p99_ms: f64,
    /// The largest latency seen, in ms (an upper bound: 200 ms and above are lumped).
    pub latency_max_ms: f64,
    /// Fraction of the packets sent in the window that their subscriber never received.
    pub loss: f64,
    /// Packets the publishers sent in the window.
    pub packets_sent: u64,
    /// Of those, packets their subscriber received (each once).
    pub packets_received: u64,
    /// Growth of the process's VmRSS from before the first connection to the end of the
    /// window, per room; includes the room's two client peers.
    pub rss_bytes_per_room: u64,
    /// VmRSS before the first connection.
    pub rss_before_bytes: u64,
    /// VmRSS at the end of the window.
    pub rss_after_bytes: u64,
    /// Forwarded streams (four per room), and how many of them reached their subscriber
    /// before the window opened.
    pub streams: usize,
    /// See `streams`.
    pub streams_flowing: usize,
    /// Time to connect every peer and get every stream flowing, in seconds.
    pub setup_s: f64,
    /// How CPU was measured.
    pub cpu_scope: &'static str,
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The arguments cannot work: no rooms, no time, or more rooms than the port range holds.
    #[error("invalid benchmark: {0}")]
    Invalid(&'static str),
    /// A runtime could not be built, or `/proc` could not be read.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The SFU refused an operation.
    #[error("SFU: {0}")]
    Sfu(#[from] SfuError),
    /// A client peer's WebRTC stack refused an operation.
    #[error("client peer: {0}")]
    WebRtc(#[from] webrtc::error::Error),
    /// Setting the rooms up failed or took too long.
    #[error("setup: {0}")]
    Setup(String),
}

/// Runs `rooms` synthetic interview rooms through an SFU on 127.0.0.1 for a window of
/// `seconds` once their media flows, and reports what it measured.
///
/// Builds two tokio runtimes of two workers each (the SFU's, the peers'), so it must be
/// called outside any runtime; it blocks for the setup, the window and the teardown. The
/// SFU takes UDP ports from 41000 up, two per room (at most 2999 rooms).
pub fn run(rooms: usize, seconds: u64) -> Result<BenchReport, BenchError> {
    if rooms == 0 || seconds == 0 {
        return Err(BenchError::Invalid("rooms and seconds must be at least 1"));
    }
    let connections = u16::try_from(rooms * 2)
        .ok()
        .filter(|n| *n <= LAST_PORT - FIRST_PORT)
        .ok_or(BenchError::Invalid("too many rooms for the port range"))?;
    let ports = FIRST_PORT..=(FIRST_PORT + connections + 16).min(LAST_PORT);
    let sfu_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(SFU_THREAD)
        .enable_all()
        .build()?;
    let peer_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(PEER_THREAD)
        .enable_all()
        .build()?;
    let sfu_handle = sfu_rt.handle().clone();
    let report = peer_rt.block_on(bench(rooms, seconds, ports, sfu_handle));
    peer_rt.shutdown_timeout(Duration::from_secs(5));
    sfu_rt.shutdown_timeout(Duration::from_secs(5));
    report
}

async fn bench(
    rooms: usize,
    seconds: u64,
    ports: std::ops::RangeInclusive<u16>,
    sfu_rt: Handle,
) -> Result<BenchReport, BenchError> {
    let probe = Arc::new(Probe::new(rooms * STREAMS_PER_ROOM, seconds));
    let rss_before = vm_rss_bytes()?;
    let setup_started = Instant::now();

    let sfu = Arc::new(Sfu::new(SfuConfig {
        media_ips: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        udp_port_range: Some(ports),
        public_ip: None,
        room_close_after: Duration::from_secs(1),
        recordings: None,
        frame_tap: None,
    })?);
    let directory: Directory = Arc::default();
    let events = sfu.take_events().ok_or(BenchError::Setup(
        "the SFU's events were already taken".to_owned(),
    ))?;
    let signaling = tokio::spawn(signal(
        Arc::clone(&sfu),
        sfu_rt.clone(),
        Arc::clone(&directory),
        events,
    ));

    let result = measure(
        rooms,
        seconds,
        &sfu,
        &sfu_rt,
        &directory,
        &probe,
        setup_started,
    )
    .await;

    // Teardown, whatever happened: the SFU's side first, then the peers'.
    let sfu_for_shutdown = Arc::clone(&sfu);
    let _ = on(&sfu_rt, async move { sfu_for_shutdown.shutdown().await }).await;
    let peers: Vec<Arc<dyn PeerConnection>> = lock(&directory).drain().map(|(_, pc)| pc).collect();
    for pc in peers {
        if let Err(err) = pc.close().await {
            debug!(%err, "closing a client peer");
        }
    }
    signaling.abort();

    let mut report = result?;
    report.rss_before_bytes = rss_before;
    report.rss_bytes_per_room = report.rss_after_bytes.saturating_sub(rss_before) / rooms as u64;
    Ok(report)
}

/// Sets the rooms up, waits for the media to flow, measures the window.
async fn measure(
    rooms: usize,
    seconds: u64,
    sfu: &Arc<Sfu>,
    sfu_rt: &Handle,
    directory: &Directory,
    probe: &Arc<Probe>,
    setup_started: Instant,
) -> Result<BenchReport, BenchError> {
    let limit = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
    let mut setups = tokio::task::JoinSet::new();
    for room in 0..rooms {
        let (sfu, sfu_rt, directory, probe, limit) = (
            Arc::clone(sfu),
            sfu_rt.clone(),
            Arc::clone(directory),
            Arc::clone(probe),
            Arc::clone(&limit),
        );
        setups.spawn(async move {
            let _permit = limit.acquire_owned().await;
            set_up_room(room, &sfu, &sfu_rt, &directory, &probe).await
        });
    }
    let mut senders: Vec<JoinHandle<()>> = Vec::with_capacity(rooms * STREAMS_PER_ROOM);
    let mut failure = None;
    while let Some(joined) = setups.join_next().await {
        match joined {
            Ok(Ok(room_senders)) => senders.extend(room_senders),
            Ok(Err(err)) => failure = failure.or(Some(err)),
            Err(err) => failure = failure.or(Some(BenchError::Setup(err.to_string()))),
        }
    }
    let stop = |senders: Vec<JoinHandle<()>>| senders.into_iter().for_each(|s| s.abort());
    if let Some(err) = failure {
        stop(senders);
        return Err(err);
    }
    info!(rooms, "rooms set up; waiting for every stream to flow");

    let deadline = Instant::now() + FLOW_TIMEOUT;
    while probe.flowing() < probe.streams.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let streams_flowing = probe.flowing();
    if streams_flowing == 0 {
        stop(senders);
        return Err(BenchError::Setup(
            "no stream reached its subscriber".to_owned(),
        ));
    }
    if streams_flowing < probe.streams.len() {
        warn!(
            streams_flowing,
            streams = probe.streams.len(),
            "not every stream flows; the others count as lost"
        );
    }
    let setup_s = setup_started.elapsed().as_secs_f64();

    // The window.
    let cpu_before = Cpu::now()?;
    let forwarded_before = sfu.stats().forwarded_packets;
    let window = Instant::now();
    probe.open_window();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    probe.close_window();
    let elapsed = window.elapsed().as_secs_f64();
    let forwarded = sfu.stats().forwarded_packets - forwarded_before;
    let cpu = Cpu::now()?.since(&cpu_before);
    let rss_after = vm_rss_bytes()?;

    tokio::time::sleep(GRACE).await;
    stop(senders);
    let (sent, received) = probe.counts();
    let latency = probe.latency.snapshot();

    Ok(BenchReport {
        rooms,
        seconds: elapsed,
        forwarded_packets: forwarded,
        cpu_s_per_1000_packets: if forwarded == 0 {
            0.0
        } else {
            cpu.sfu_s / (forwarded as f64 / 1000.0)
        },
        sfu_cpu_s: cpu.sfu_s,
        process_cpu_s: cpu.process_s,
        other_cpu_s: (cpu.machine_s - cpu.process_s).max(0.0),
        latency_p50_ms: latency.percentile_ms(0.50),
        latency_p99_ms: latency.percentile_ms(0.99),
        latency_max_ms: latency.max_ms(),
        loss: if sent == 0 {
            0.0
        } else {
            1.0 - received as f64 / sent as f64
        },
        packets_sent: sent,
        packets_received: received,
        rss_bytes_per_room: 0,
        rss_before_bytes: 0,
        rss_after_bytes: rss_after,
        streams: probe.streams.len(),
        streams_flowing,
        setup_s,
        cpu_scope: "cpu_s_per_1000_packets and sfu_cpu_s: the SFU runtime's threads only \
                    (sfu-rt), from /proc/self/task/<tid>/stat; the synthetic peers run on \
                    another runtime and are in process_cpu_s only",
    })
}

/// Connects room `room`'s two peers and starts their senders.
async fn set_up_room(
    room: usize,
    sfu: &Arc<Sfu>,
    sfu_rt: &Handle,
    directory: &Directory,
    probe: &Arc<Probe>,
) -> Result<Vec<JoinHandle<()>>, BenchError> {
    let name = format!("room-{room}");
    let mut peers = Vec::with_capacity(2);
    for p in 0..2 {
        let id = format!("p{p}");
        let first_stream = room * STREAMS_PER_ROOM + p * 2;
        let peer = Peer::new(first_stream, Arc::clone(probe)).await?;
        lock(directory).insert((name.clone(), id.clone()), Arc::clone(&peer.pc));
        let answer = {
            let (sfu, room, id, offer) = (
                Arc::clone(sfu),
                name.clone(),
                id.clone(),
                peer.offer.clone(),
            );
            on(sfu_rt, async move { sfu.join(&room, &id, offer).await }).await??
        };
        peer.pc
            .set_remote_description(RTCSessionDescription::answer(answer)?)
            .await?;
        let mut state = peer.state.clone();
        tokio::time::timeout(
            STEP_TIMEOUT,
            state.wait_for(|s| *s == RTCPeerConnectionState::Connected),
        )
        .await
        .map_err(|_| BenchError::Setup(format!("{name}/{id} did not connect in time")))?
        .map_err(|_| BenchError::Setup(format!("{name}/{id}: connection gone")))?;
        peers.push(peer);
    }
    Ok(peers.iter().flat_map(Peer::start_sending).collect())
}

/// (room, participant) → the client peer, for the signaling to apply the SFU's offers to.
type Directory = Arc<Mutex<HashMap<(String, String), Arc<dyn PeerConnection>>>>;

/// Runs `future` on the SFU's runtime (so that whatever it spawns lands there) and waits.
async fn on<T: Send + 'static>(
    runtime: &Handle,
    future: impl Future<Output = T> + Send + 'static,
) -> Result<T, BenchError> {
    runtime
        .spawn(future)
        .await
        .map_err(|err| BenchError::Setup(format!("SFU task failed: {err}")))
}

/// Plays the signaling server: the SFU's offers go to the client peers, their answers back.
async fn signal(
    sfu: Arc<Sfu>,
    sfu_rt: Handle,
    directory: Directory,
    mut events: mpsc::UnboundedReceiver<SfuEvent>,
) {
    while let Some(event) = events.recv().await {
        let SfuEvent::Offer {
            room,
            participant,
            sdp,
        } = event
        else {
            continue;
        };
        let Some(pc) = lock(&directory)
            .get(&(room.clone(), participant.clone()))
            .cloned()
        else {
            continue;
        };
        let answer = async {
            pc.set_remote_description(RTCSessionDescription::offer(sdp)?)
                .await?;
            let answer = pc.create_answer(None).await?;
            pc.set_local_description(answer).await?;
            pc.local_description()
                .await
                .map(|d| d.sdp)
                .ok_or_else(|| webrtc::error::Error::Other("no local description".to_owned()))
        }
        .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(err) => {
                warn!(%err, "a client peer could not answer the SFU");
                continue;
            }
        };
        let sfu = Arc::clone(&sfu);
        let applied = on(&sfu_rt, async move {
            sfu.answer(&room, &participant, answer).await
        })
        .await;
        match applied {
            Ok(Ok(())) => {}
            // The participant left meanwhile (at teardown).
            Ok(Err(SfuError::UnknownParticipant)) => {}
            Ok(Err(err)) => warn!(%err, "the SFU refused a client peer's answer"),
            Err(err) => warn!(%err, "applying a client peer's answer"),
        }
    }
}

/// A synthetic participant: a webrtc-rs peer connection publishing a video and an audio
/// track, and receiving what the SFU forwards to it.
struct Peer {
    pc: Arc<dyn PeerConnection>,
    video: Arc<TrackLocalStaticRTP>,
    audio: Arc<TrackLocalStaticRTP>,
    /// The probe's stream ids of the video and audio tracks.
    video_stream: usize,
    audio_stream: usize,
    probe: Arc<Probe>,
    state: watch::Receiver<RTCPeerConnectionState>,
    offer: String,
}

const VIDEO_PT: u8 = 96;
const AUDIO_PT: u8 = 111;

fn codec(kind: RtpCodecKind) -> RTCRtpCodecParameters {
    let (mime, clock_rate, channels, fmtp, payload_type) = match kind {
        RtpCodecKind::Audio => (
            MIME_TYPE_OPUS,
            48_000,
            2,
            "minptime=10;useinbandfec=1",
            AUDIO_PT,
        ),
        _ => (MIME_TYPE_VP8, 90_000, 0, "", VIDEO_PT),
    };
    loopback::codec_parameters(mime, clock_rate, channels, fmtp, payload_type)
}

impl Peer {
    /// A peer on 127.0.0.1 with its offer ready (candidates gathered).
    async fn new(first_stream: usize, probe: Arc<Probe>) -> Result<Peer, BenchError> {
        let mut engine = MediaEngine::default();
        for kind in [RtpCodecKind::Audio, RtpCodecKind::Video] {
            engine.register_codec(codec(kind), kind)?;
        }
        let receiving = Arc::clone(&probe);
        let (events, watches) =
            loopback::Events::new(move |packet| receiving.received(&packet.payload));
        let loopback::Watches {
            gathering: mut gathering_rx,
            state: state_rx,
        } = watches;
        let pc = loopback::peer_connection(engine, |r| r, Arc::new(events)).await?;
        let track = |kind: RtpCodecKind, stream: usize| {
            loopback::rtp_track(
                &format!("bench-{first_stream}"),
                &format!("s{stream}"),
                kind,
                0x4000_0000 + stream as u32,
                codec(kind).rtp_codec,
            )
        };
        let (video_stream, audio_stream) = (first_stream, first_stream + 1);
        let video = track(RtpCodecKind::Video, video_stream);
        let audio = track(RtpCodecKind::Audio, audio_stream);
        pc.add_track(Arc::clone(&video) as Arc<dyn TrackLocal>)
            .await?;
        pc.add_track(Arc::clone(&audio) as Arc<dyn TrackLocal>)
            .await?;

        let offer = pc.create_offer(None).await?;
        pc.set_local_description(offer).await?;
        let offer = loopback::gathered_sdp(&*pc, &mut gathering_rx, STEP_TIMEOUT)
            .await
            .ok_or_else(|| BenchError::Setup("client gathering timed out".to_owned()))?;
        Ok(Peer {
            pc,
            video,
            audio,
            video_stream,
            audio_stream,
            probe,
            state: state_rx,
            offer,
        })
    }

    /// Starts the video and the audio sender; they run until aborted.
    fn start_sending(&self) -> [JoinHandle<()>; 2] {
        let video = tokio::spawn(send_video(
            Arc::clone(&self.video),
            self.video_stream,
            Arc::clone(&self.probe),
        ));
        let audio = tokio::spawn(send_audio(
            Arc::clone(&self.audio),
            self.audio_stream,
            Arc::clone(&self.probe),
        ));
        [video, audio]
    }
}

/// 30 frames a second, each of 5 or 6 packets sent back to back (as an encoder without a
/// pacer would), the marker on the last.
async fn send_video(track: Arc<TrackLocalStaticRTP>, stream: usize, probe: Arc<Probe>) {
    let ssrc = 0x4000_0000 + stream as u32;
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / VIDEO_FPS));
    let mut sequence = 0u16;
    for frame in 0u64.. {
        tick.tick().await;
        // 5.2 packets per frame on average: every fifth frame has 6.
        let packets = if frame % 5 == 4 { 6 } else { 5 };
        for i in 0..packets {
            let payload = probe.payload(stream, VIDEO_PAYLOAD, i == 0);
            let packet = rtp::Packet {
                header: rtp::header::Header {
                    version: 2,
                    marker: i + 1 == packets,
                    payload_type: VIDEO_PT,
                    sequence_number: sequence,
                    timestamp: (frame * 90_000 / VIDEO_FPS) as u32,
                    ssrc,
                    ..Default::default()
                },
                payload,
            };
            sequence = sequence.wrapping_add(1);
            if track.write_rtp(packet).await.is_err() {
                return;
            }
        }
    }
}

/// One packet every 20 ms.
async fn send_audio(track: Arc<TrackLocalStaticRTP>, stream: usize, probe: Arc<Probe>) {
    let ssrc = 0x4000_0000 + stream as u32;
    let mut tick = tokio::time::interval(Duration::from_millis(AUDIO_PACKET_MS));
    for n in 0u32.. {
        tick.tick().await;
        let payload = probe.payload(stream, AUDIO_PAYLOAD, true);
        let packet = rtp::Packet {
            header: rtp::header::Header {
                version: 2,
                marker: true,
                payload_type: AUDIO_PT,
                sequence_number: n as u16,
                timestamp: n.wrapping_mul(960),
                ssrc,
                ..Default::default()
            },
            payload,
        };
        if track.write_rtp(packet).await.is_err() {
            return;
        }
    }
}

/// Where each payload's probe sits: after one byte standing for the VP8 payload
/// descriptor or the Opus TOC.
const PROBE_AT: usize = 1;
const PROBE_LEN: usize = 16;

/// What senders and receivers record, shared by every task of the benchmark.
///
/// Each payload carries its stream, its sequence number in that stream (from 0) and its
/// send time (ns since `origin`). Loss is counted over sequence numbers: the window is the
/// range of sequence numbers each stream sent while it was open.
struct Probe {
    origin: Instant,
    streams: Vec<StreamProbe>,
    /// Send times (ns since `origin`) bounding the window, for the latency samples:
    /// `u64::MAX` while unset.
    window_start_ns: AtomicU64,
    window_end_ns: AtomicU64,
    latency: Histogram,
}

struct StreamProbe {
    /// The next sequence number to send.
    next: AtomicU32,
    /// The sequence numbers sent at the window's opening and closing.
    window: Mutex<(u32, u32)>,
    /// One bit per sequence number received.
    received: Vec<AtomicU64>,
    flowing: AtomicBool,
}

impl Probe {
    fn new(streams: usize, seconds: u64) -> Self {
        // Room for the setup (up to the flow timeout), the window and the grace.
        let span_s = FLOW_TIMEOUT.as_secs() + seconds + 5;
        let streams = (0..streams)
            .map(|i| {
                let rate = if i % 2 == 0 {
                    VIDEO_PACKETS_PER_S + 1
                } else {
                    1_000 / AUDIO_PACKET_MS
                };
                let bits = (rate * span_s) as usize;
                StreamProbe {
                    next: AtomicU32::new(0),
                    window: Mutex::new((0, 0)),
                    received: (0..bits.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
                    flowing: AtomicBool::new(false),
                }
            })
            .collect();
        Probe {
            origin: Instant::now(),
            streams,
            window_start_ns: AtomicU64::new(u64::MAX),
            window_end_ns: AtomicU64::new(u64::MAX),
            latency: Histogram::new(),
        }
    }

    fn now_ns(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }

    /// The next payload of `stream`: its probe, padded to `len`. (A sequence number counts
    /// as sent from here: a write that then fails ends the benchmark's sender anyway.)
    fn payload(&self, stream: usize, len: usize, first_of_frame: bool) -> Bytes {
        let seq = self.streams[stream].next.fetch_add(1, Ordering::Relaxed);
        let mut p = vec![0u8; len.max(PROBE_AT + PROBE_LEN)];
        p[0] = if first_of_frame { 0x10 } else { 0x00 };
        p[PROBE_AT..PROBE_AT + 4].copy_from_slice(&(stream as u32).to_be_bytes());
        p[PROBE_AT + 4..PROBE_AT + 8].copy_from_slice(&seq.to_be_bytes());
        p[PROBE_AT + 8..PROBE_AT + 16].copy_from_slice(&self.now_ns().to_be_bytes());
        Bytes::from(p)
    }

    fn received(&self, payload: &[u8]) {
        let now = self.now_ns();
        let Some(probe) = payload.get(PROBE_AT..PROBE_AT + PROBE_LEN) else {
            return;
        };
        let field = |range: std::ops::Range<usize>| {
            probe[range]
                .iter()
                .fold(0u64, |v, &b| v << 8 | u64::from(b))
        };
        let (stream, seq, sent_ns) = (field(0..4) as usize, field(4..8) as usize, field(8..16));
        let Some(s) = self.streams.get(stream) else {
            return;
        };
        s.flowing.store(true, Ordering::Relaxed);
        let Some(word) = s.received.get(seq / 64) else {
            return;
        };
        let bit = 1u64 << (seq % 64);
        if word.fetch_or(bit, Ordering::Relaxed) & bit != 0 {
            return; // a retransmission of a packet already counted
        }
        if sent_ns >= self.window_start_ns.load(Ordering::Relaxed)
            && sent_ns < self.window_end_ns.load(Ordering::Relaxed)
        {
            self.latency.record(now.saturating_sub(sent_ns));
        }
    }

    fn flowing(&self) -> usize {
        self.streams
            .iter()
            .filter(|s| s.flowing.load(Ordering::Relaxed))
            .count()
    }

    fn open_window(&self) {
        self.window_start_ns.store(self.now_ns(), Ordering::Relaxed);
        for s in &self.streams {
            let next = s.next.load(Ordering::Relaxed);
            *lock(&s.window) = (next, next);
        }
    }

    fn close_window(&self) {
        self.window_end_ns.store(self.now_ns(), Ordering::Relaxed);
        for s in &self.streams {
            lock(&s.window).1 = s.next.load(Ordering::Relaxed);
        }
    }

    /// (sent, received) over the window, every stream together.
    fn counts(&self) -> (u64, u64) {
        let (mut sent, mut received) = (0u64, 0u64);
        for s in &self.streams {
            let (from, to) = *lock(&s.window);
            sent += u64::from(to - from);
            received += (from..to)
                .filter(|&seq| {
                    let seq = seq as usize;
                    s.received
                        .get(seq / 64)
                        .is_some_and(|w| w.load(Ordering::Relaxed) & (1 << (seq % 64)) != 0)
                })
                .count() as u64;
        }
        (sent, received)
    }
}

/// Latencies in buckets of 10 µs, filled concurrently.
struct Histogram {
    buckets: Vec<AtomicU64>,
}

struct HistogramSnapshot {
    buckets: Vec<u64>,
    total: u64,
}

impl Histogram {
    fn new() -> Self {
        Histogram {
            buckets: (0..=BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn record(&self, ns: u64) {
        let bucket = ((ns / BUCKET_NS) as usize).min(BUCKETS);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> HistogramSnapshot {
        let buckets: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total = buckets.iter().sum();
        HistogramSnapshot { buckets, total }
    }
}

impl HistogramSnapshot {
    /// The upper bound of the bucket holding quantile `q`, in ms.
    fn percentile_ms(&self, q: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return bucket_upper_ms(i);
            }
        }
        bucket_upper_ms(BUCKETS)
    }

    fn max_ms(&self) -> f64 {
        self.buckets
            .iter()
            .rposition(|&n| n > 0)
            .map_or(0.0, bucket_upper_ms)
    }
}

fn bucket_upper_ms(bucket: usize) -> f64 {
    ((bucket as u64 + 1) * BUCKET_NS) as f64 / 1e6
}

/// CPU time so far: the SFU runtime's threads, and the whole process.
struct Cpu {
    sfu_ticks: u64,
    process_ticks: u64,
    /// Every core's busy time (not idle, not waiting for I/O).
    machine_ticks: u64,
}

struct CpuSpent {
    sfu_s: f64,
    process_s: f64,
    machine_s: f64,
}

impl Cpu {
    fn now() -> std::io::Result<Cpu> {
        let mut sfu_ticks = 0;
        for entry in std::fs::read_dir("/proc/self/task")? {
            let path = entry?.path().join("stat");
            // A thread may end between listing and reading.
            let Ok(stat) = std::fs::read_to_string(path) else {
                continue;
            };
            if let Some((name, ticks)) = parse_stat(&stat)
                && name == SFU_THREAD
            {
                sfu_ticks += ticks;
            }
        }
        let process = std::fs::read_to_string("/proc/self/stat")?;
        let (_, process_ticks) = parse_stat(&process)
            .ok_or_else(|| std::io::Error::other("unreadable /proc/self/stat"))?;
        let machine = std::fs::read_to_string("/proc/stat")?;
        let machine_ticks = parse_machine_busy(&machine)
            .ok_or_else(|| std::io::Error::other("unreadable /proc/stat"))?;
        Ok(Cpu {
            sfu_ticks,
            process_ticks,
            machine_ticks,
        })
    }

    fn since(&self, before: &Cpu) -> CpuSpent {
        CpuSpent {
            sfu_s: self.sfu_ticks.saturating_sub(before.sfu_ticks) as f64 / CLOCK_TICKS_PER_S,
            process_s: self.process_ticks.saturating_sub(before.process_ticks) as f64
                / CLOCK_TICKS_PER_S,
            machine_s: self.machine_ticks.saturating_sub(before.machine_ticks) as f64
                / CLOCK_TICKS_PER_S,
        }
    }
}

/// The command name and utime + stime (clock ticks) of a `/proc/.../stat` line
/// (proc(5): `pid (comm) state ppid … utime stime …`; comm may hold spaces and parentheses).
fn parse_stat(stat: &str) -> Option<(&str, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?;
    let fields: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    // fields[0] is the state (field 3), so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((name, utime + stime))
}

/// Busy time of all cores from `/proc/stat`'s `cpu` line (proc(5): user nice system idle
/// iowait irq softirq steal …, in clock ticks): everything but idle and iowait.
fn parse_machine_busy(stat: &str) -> Option<u64> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let total: u64 = fields.iter().sum();
    Some(total - fields.get(3)? - fields.get(4)?)
}

/// The process's resident set size, from `/proc/self/status`.
pub fn vm_rss_bytes() -> std::io::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| {
            let kb = line.strip_prefix("VmRSS:")?.trim().strip_suffix("kB")?;
            kb.trim().parse::<u64>().ok()
        })
        .map(|kb| kb * 1024)
        .ok_or_else(|| std::io::Error::other("no VmRSS in /proc/self/status"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_are_parsed_whatever_the_thread_name() {
        let line = "1234 (sfu-rt) S 1 1234 1234 0 -1 4194368 100 0 0 0 250 75 0 0 20 0 3 0";
        assert_eq!(parse_stat(line), Some(("sfu-rt", 325)));
        let odd = "7 (a) b (c)) R 1 1 1 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0";
        assert_eq!(parse_stat(odd), Some(("a) b (c)", 7)));
        assert_eq!(parse_stat("garbage"), None);
        let machine = "cpu  100 5 50 1000 20 1 2 3 0 0\ncpu0 50 2 25 500 10 0 1 1 0 0\n";
        assert_eq!(parse_machine_busy(machine), Some(161));
        let me = std::fs::read_to_string("/proc/stat").unwrap();
        assert!(parse_machine_busy(&me).is_some());
        let me = std::fs::read_to_string("/proc/self/stat").unwrap();
        assert!(parse_stat(&me).is_some());
        assert!(vm_rss_bytes().unwrap() > 0);
    }

    #[test]
    fn percentiles_are_bucket_upper_bounds() {
        let h = Histogram::new();
        for _ in 0..98 {
            h.record(250_000); // 0.25 ms: bucket 25, up to 0.26 ms
        }
        h.record(3_000_000);
        h.record(500_000_000); // beyond the last bucket
        let s = h.snapshot();
        assert_eq!(s.total, 100);
        assert!((s.percentile_ms(0.5) - 0.26).abs() < 1e-9);
        assert!((s.percentile_ms(0.99) - 3.01).abs() < 1e-9);
        assert!((s.max_ms() - 200.01).abs() < 1e-9);
        assert_eq!(Histogram::new().snapshot().percentile_ms(0.99), 0.0);
    }

    #[test]
    fn loss_counts_each_packet_of_the_window_once() {
        let probe = Probe::new(4, 1);
        let mut payloads = vec![];
        for _ in 0..5 {
            payloads.push(probe.payload(0, 100, true)); // before the window
        }
        probe.open_window();
        for _ in 0..10 {
            payloads.push(probe.payload(0, 100, true));
        }
        probe.close_window();
        payloads.push(probe.payload(0, 100, true)); // after it
        for (i, p) in payloads.iter().enumerate() {
            if i != 7 {
                probe.received(p);
            }
        }
        probe.received(&payloads[8]); // a duplicate
        assert_eq!(probe.counts(), (10, 9));
        assert_eq!(probe.latency.snapshot().total, 9);
        assert_eq!(probe.flowing(), 1);
    }
}
