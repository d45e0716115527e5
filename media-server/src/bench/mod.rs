//! `langcert bench sfu`: synthetic interview rooms through an SFU node in a process of its
//! own, over real sockets on loopback, and the figures that say whether it keeps up.
//!
//! ```text
//! benchmark process (peers, threads "bench-peer")        SFU node (child process, node::serve_stdio)
//!   publisher: VP8-like video 1.5 Mbit/s ─┐   signaling: JSON lines on the node's stdin/stdout
//!              Opus-like audio 32 kbit/s ─┴─ UDP 127.0.0.1 ─▶ Sfu ─ UDP ─▶ subscriber
//!   each payload carries (stream, sequence, send time)            latency, loss ◀─┘
//! ```
//!
//! Each room has two webrtc-rs peers, each publishing one video and one audio track and
//! receiving the other's: four forwarded streams per room. Once every stream flows, a
//! window of `seconds` is measured:
//!
//! * **latency**: publisher's `write_rtp` → subscriber's receipt of the packet, both in the
//!   benchmark's process, on one monotonic clock;
//! * **loss**: of the packets sent in the window, the fraction no subscriber received
//!   (duplicates from retransmissions count once), after a grace period for stragglers;
//! * **CPU**: the node's whole process — every thread, timer and socket of the SFU — read
//!   from `/proc/<pid>/stat`, per 1000 packets it forwarded (`cpu_s_per_1000_packets`): the
//!   figure any other SFU's process can be held against. The peers' own CPU is reported
//!   beside it. Both share the machine's cores, so the peers' load still weighs on the
//!   node's latency — the figures are pessimistic;
//! * **memory**: the growth of the node's VmRSS from before the first connection to the
//!   end of the window, per room.
//!
//! Linux only (it reads `/proc`). Blocking: call it outside any tokio runtime.
//!
//! ```no_run
//! use media_server::bench::NodeCommand;
//! let node = NodeCommand { program: "langcert".into(), args: vec!["bench".into(), "sfu-node".into()] };
//! let report = media_server::bench::run(10, 20, &node)?;
//! println!("{}", serde_json::to_string(&report)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod node;
pub mod publisher;

pub use node::{node_config, serve_stdio};

use crate::sfu::lock;
use crate::{SfuError, loopback};
use bytes::Bytes;
use node::{Node, NodeOffer};
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodecParameters, RtpCodecKind};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
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
    /// The SFU node process's CPU time (user + system, every thread) per 1000 forwarded
    /// packets, in seconds.
    pub cpu_s_per_1000_packets: f64,
    /// The SFU node process's CPU time over the window, in seconds.
    pub server_cpu_s: f64,
    /// The benchmark's own process's CPU time over the window (the synthetic peers).
    pub peers_cpu_s: f64,
    /// CPU time the machine spent outside both processes over the window (other processes,
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
    /// Growth of the node's VmRSS from before the first connection to the end of the
    /// window, per room.
    pub rss_bytes_per_room: u64,
    /// The node's VmRSS before the first connection.
    pub rss_before_bytes: u64,
    /// The node's VmRSS at the end of the window.
    pub rss_after_bytes: u64,
    /// Forwarded streams (four per room), and how many of them reached their subscriber
    /// before the window opened.
    pub streams: usize,
    /// See `streams`.
    pub streams_flowing: usize,
    /// Time to connect every peer and get every stream flowing, in seconds.
    pub setup_s: f64,
    /// The UDP sockets the node's process holds at the end of the window (its local
    /// addresses, as `ss -uanp` lists them for the node's pid): every peer's media on one.
    pub server_udp_sockets: Vec<String>,
    /// How CPU was measured.
    pub cpu_scope: &'static str,
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The arguments cannot work: no rooms or no time.
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
    /// The SFU node refused a request.
    #[error("SFU node: {0}")]
    Node(String),
}

/// Where the benchmark's SFU node comes from: a program that runs [`serve_stdio`] (the
/// `langcert` binary's `bench sfu-node`).
#[derive(Debug, Clone)]
pub struct NodeCommand {
    /// The program to start.
    pub program: std::path::PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
}

/// Runs `rooms` synthetic interview rooms through an SFU node, a child process started
/// with `node`, on 127.0.0.1 for a window of `seconds` once their media flows, and reports
/// what it measured: the node's whole CPU time from `/proc/<pid>/stat`, its memory from
/// `/proc/<pid>/status`.
///
/// Builds a tokio runtime of two workers for the peers, so it must be called outside any
/// runtime; it blocks for the setup, the window and the teardown.
pub fn run(rooms: usize, seconds: u64, node: &NodeCommand) -> Result<BenchReport, BenchError> {
    if rooms == 0 || seconds == 0 {
        return Err(BenchError::Invalid("rooms and seconds must be at least 1"));
    }
    let peer_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(PEER_THREAD)
        .enable_all()
        .build()?;
    let report = peer_rt.block_on(bench(rooms, seconds, node));
    peer_rt.shutdown_timeout(Duration::from_secs(5));
    report
}

async fn bench(rooms: usize, seconds: u64, node: &NodeCommand) -> Result<BenchReport, BenchError> {
    let probe = Arc::new(Probe::new(rooms * STREAMS_PER_ROOM, seconds));
    let (node, offers) = Node::start(&node.program, &node.args)?;
    let node = Arc::new(node);
    let pid = node.pid()?;
    // The node is up once it answers.
    node.forwarded_packets().await?;
    let rss_before = vm_rss_bytes_of(&pid.to_string())?;
    let setup_started = Instant::now();

    let directory: Directory = Arc::default();
    let signaling = tokio::spawn(signal(Arc::clone(&node), Arc::clone(&directory), offers));

    let result = measure(
        rooms,
        seconds,
        &node,
        pid,
        &directory,
        &probe,
        setup_started,
    )
    .await;

    // Teardown, whatever happened: the node first, then the peers.
    signaling.abort();
    if let Ok(node) = Arc::try_unwrap(node) {
        node.stop().await;
    }
    let peers: Vec<Arc<dyn PeerConnection>> = lock(&directory).drain().map(|(_, pc)| pc).collect();
    for pc in peers {
        if let Err(err) = pc.close().await {
            debug!(%err, "closing a client peer");
        }
    }

    let mut report = result?;
    report.rss_before_bytes = rss_before;
    report.rss_bytes_per_room = report.rss_after_bytes.saturating_sub(rss_before) / rooms as u64;
    Ok(report)
}

/// Sets the rooms up, waits for the media to flow, measures the window.
async fn measure(
    rooms: usize,
    seconds: u64,
    node: &Arc<Node>,
    pid: u32,
    directory: &Directory,
    probe: &Arc<Probe>,
    setup_started: Instant,
) -> Result<BenchReport, BenchError> {
    let limit = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
    let mut setups = tokio::task::JoinSet::new();
    for room in 0..rooms {
        let (node, directory, probe, limit) = (
            Arc::clone(node),
            Arc::clone(directory),
            Arc::clone(probe),
            Arc::clone(&limit),
        );
        setups.spawn(async move {
            let _permit = limit.acquire_owned().await;
            set_up_room(room, &node, &directory, &probe).await
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
    let node_proc = pid.to_string();
    let forwarded_before = node.forwarded_packets().await?;
    let cpu_before = Cpu::now(&node_proc)?;
    let window = Instant::now();
    probe.open_window();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    probe.close_window();
    let cpu = Cpu::now(&node_proc)?.since(&cpu_before);
    let elapsed = window.elapsed().as_secs_f64();
    let forwarded = node.forwarded_packets().await? - forwarded_before;
    let rss_after = vm_rss_bytes_of(&node_proc)?;
    let server_udp_sockets = udp_sockets_of(&node_proc)?
        .iter()
        .map(ToString::to_string)
        .collect();

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
            cpu.server_s / (forwarded as f64 / 1000.0)
        },
        server_cpu_s: cpu.server_s,
        peers_cpu_s: cpu.peers_s,
        other_cpu_s: (cpu.machine_s - cpu.server_s - cpu.peers_s).max(0.0),
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
        server_udp_sockets,
        cpu_scope: "cpu_s_per_1000_packets and server_cpu_s: the whole SFU node process \
                    (every thread), from /proc/<pid>/stat; the synthetic peers run in the \
                    benchmark's own process and are in peers_cpu_s only",
    })
}

/// Connects room `room`'s two peers and starts their senders.
async fn set_up_room(
    room: usize,
    node: &Node,
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
        let answer = tokio::time::timeout(STEP_TIMEOUT, node.join(&name, &id, peer.offer.clone()))
            .await
            .map_err(|_| BenchError::Setup(format!("{name}/{id}: no answer in time")))??;
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

/// Plays the signaling server: the node's offers go to the client peers, their answers back.
async fn signal(
    node: Arc<Node>,
    directory: Directory,
    mut offers: mpsc::UnboundedReceiver<NodeOffer>,
) {
    while let Some(NodeOffer {
        room,
        participant,
        sdp,
    }) = offers.recv().await
    {
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
        let node = Arc::clone(&node);
        // Not awaited here: one slow answer holds up no other room's offer.
        tokio::spawn(async move {
            if let Err(err) = node.answer(&room, &participant, answer).await {
                debug!(%err, "the node refused a client peer's answer");
            }
        });
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

/// An RTP packet of the benchmark's peers (no header extension).
fn rtp_packet(
    payload_type: u8,
    ssrc: u32,
    sequence_number: u16,
    timestamp: u32,
    marker: bool,
    payload: Bytes,
) -> rtp::Packet {
    rtp::Packet {
        header: rtp::header::Header {
            version: 2,
            marker,
            payload_type,
            sequence_number,
            timestamp,
            ssrc,
            ..Default::default()
        },
        payload,
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
            let timestamp = (frame * 90_000 / VIDEO_FPS) as u32;
            let packet = rtp_packet(
                VIDEO_PT,
                ssrc,
                sequence,
                timestamp,
                i + 1 == packets,
                payload,
            );
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

/// CPU time so far: the SFU node's process, this process (the peers), every core.
struct Cpu {
    server_ticks: u64,
    peers_ticks: u64,
    /// Every core's busy time (not idle, not waiting for I/O).
    machine_ticks: u64,
}

struct CpuSpent {
    server_s: f64,
    peers_s: f64,
    machine_s: f64,
}

/// The CPU time (user + system, every thread) process `pid` has spent so far, seconds.
pub fn process_cpu_s(pid: u32) -> std::io::Result<f64> {
    Ok(process_ticks(&pid.to_string())? as f64 / CLOCK_TICKS_PER_S)
}

/// utime + stime of `/proc/<process>/stat`, in clock ticks.
fn process_ticks(process: &str) -> std::io::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{process}/stat"))?;
    parse_stat(&stat)
        .map(|(_, ticks)| ticks)
        .ok_or_else(|| std::io::Error::other(format!("unreadable /proc/{process}/stat")))
}

impl Cpu {
    /// Now, for the node whose `/proc` entry is `node`.
    fn now(node: &str) -> std::io::Result<Cpu> {
        let machine = std::fs::read_to_string("/proc/stat")?;
        let machine_ticks = parse_machine_busy(&machine)
            .ok_or_else(|| std::io::Error::other("unreadable /proc/stat"))?;
        Ok(Cpu {
            server_ticks: process_ticks(node)?,
            peers_ticks: process_ticks("self")?,
            machine_ticks,
        })
    }

    fn since(&self, before: &Cpu) -> CpuSpent {
        let seconds = |now: u64, then: u64| now.saturating_sub(then) as f64 / CLOCK_TICKS_PER_S;
        CpuSpent {
            server_s: seconds(self.server_ticks, before.server_ticks),
            peers_s: seconds(self.peers_ticks, before.peers_ticks),
            machine_s: seconds(self.machine_ticks, before.machine_ticks),
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
    vm_rss_bytes_of("self")
}

/// The local addresses of the UDP sockets `/proc/<process>` holds: its descriptors'
/// socket inodes, looked up in its network namespace's `net/udp` and `net/udp6` tables.
fn udp_sockets_of(process: &str) -> std::io::Result<Vec<std::net::SocketAddr>> {
    let mut inodes = std::collections::HashSet::new();
    for fd in std::fs::read_dir(format!("/proc/{process}/fd"))? {
        let Ok(target) = std::fs::read_link(fd?.path()) else {
            continue; // closed meanwhile
        };
        if let Some(inode) = target
            .to_str()
            .and_then(|t| t.strip_prefix("socket:["))
            .and_then(|t| t.strip_suffix(']'))
        {
            inodes.insert(inode.to_owned());
        }
    }
    let mut sockets = Vec::new();
    for table in ["udp", "udp6"] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{process}/net/{table}")) else {
            continue;
        };
        sockets.extend(
            text.lines()
                .skip(1)
                .filter_map(parse_udp_line)
                .filter(|(_, inode)| inodes.contains(inode))
                .map(|(addr, _)| addr),
        );
    }
    Ok(sockets)
}

/// The local address and inode of a line of `/proc/net/udp` or `udp6` (proc(5): `sl
/// local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode`,
/// addresses in hex, each 32-bit word in host order).
fn parse_udp_line(line: &str) -> Option<(std::net::SocketAddr, String)> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (ip, port) = fields.get(1)?.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Vec<u32> = (0..ip.len() / 8)
        .map(|i| u32::from_str_radix(ip.get(i * 8..i * 8 + 8)?, 16).ok())
        .collect::<Option<_>>()?;
    let octets: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
    let ip = match octets.len() {
        4 => std::net::IpAddr::from(<[u8; 4]>::try_from(octets).ok()?),
        16 => std::net::IpAddr::from(<[u8; 16]>::try_from(octets).ok()?),
        _ => return None,
    };
    Some((
        std::net::SocketAddr::new(ip, port),
        fields.get(9)?.to_string(),
    ))
}

/// The resident set size of `/proc/<process>`.
fn vm_rss_bytes_of(process: &str) -> std::io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{process}/status"))?;
    status
        .lines()
        .find_map(|line| {
            let kb = line.strip_prefix("VmRSS:")?.trim().strip_suffix("kB")?;
            kb.trim().parse::<u64>().ok()
        })
        .map(|kb| kb * 1024)
        .ok_or_else(|| std::io::Error::other(format!("no VmRSS in /proc/{process}/status")))
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
    fn udp_table_lines_give_the_local_address_and_inode() {
        let v4 = "  812: 0100007F:0D96 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 0";
        assert_eq!(
            parse_udp_line(v4),
            Some(("127.0.0.1:3478".parse().unwrap(), "4242".to_owned()))
        );
        assert_eq!(parse_udp_line("  sl  local_address rem_address"), None);
        // This process's own socket is found by its inode.
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mine = udp_sockets_of("self").unwrap();
        assert!(mine.contains(&socket.local_addr().unwrap()), "{mine:?}");
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
