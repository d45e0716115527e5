//! The SFU's public face, and the media loop behind it.
//!
//! ```text
//! Sfu (any task) ──commands──▶ media loop ◀── one UDP socket (every peer)
//!                                  │      ◀── ICE-TCP connections on the same port (framed, RFC 4571)
//!                                  ├─ Engine (engine.rs): rooms, connections, tracks
//!                                  └─ sleeps until Engine::poll_timeout
//! ```
//!
//! One task owns every connection: datagrams are read in batches without waiting, sent with
//! `try_send_to` (a full socket buffer drops the packet, as a router would), and the loop
//! sleeps until the earliest deadline of any connection, keyframe limiter or closing room.

use crate::config::SfuConfig;
use crate::engine::{Engine, Reach};
use crate::error::SfuError;
use crate::recording::Recorder;
use crate::sample::RoomKind;
use bytes::BytesMut;
use rtc::peer_connection::transport::RTCIceCandidateInit;
use rtc::shared::TransportProtocol;
use rtc::shared::tcp_framing::{TcpFrameDecoder, frame_packet};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, instrument, warn};

/// What the SFU needs its signaling to carry to a participant.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SfuEvent {
    /// A new offer for `participant` (tracks were added to or removed from its connection).
    /// Send it to the participant and hand its answer to [`Sfu::answer`]. At most one offer
    /// per participant is outstanding; the next one waits for the answer.
    Offer {
        /// The participant's room.
        room: String,
        /// Who must answer.
        participant: String,
        /// The offer, with the SFU's ICE candidates in it.
        sdp: String,
    },
    /// The participant's connection failed; the SFU removed it from the room.
    ConnectionFailed {
        /// The participant's room.
        room: String,
        /// Who was removed.
        participant: String,
    },
    /// The room stayed empty for `room_close_after` and is closed.
    RoomClosed {
        /// The closed room.
        room: String,
    },
}

/// A snapshot of the SFU's activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SfuStats {
    /// RTP packets written to subscribers since start (one packet sent to two subscribers
    /// counts twice).
    pub forwarded_packets: u64,
    /// Keyframe requests (PLI) sent to publishers since start, after merging.
    pub plis_sent: u64,
    /// Open rooms, empty rooms waiting to close included.
    pub rooms: usize,
    /// Participants in all rooms.
    pub participants: usize,
    /// Packets the recorders had no room for since start (their disk was too slow); a
    /// dropped video packet costs the recording its frame, and asks for a keyframe.
    pub recorder_dropped_packets: u64,
    /// Packets the media socket could not take since start (its send buffer was full).
    pub send_dropped_packets: u64,
}

/// The loop's counters, read by [`Sfu::stats`] from any thread.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) forwarded: AtomicU64,
    pub(crate) plis_sent: AtomicU64,
    pub(crate) recorder_dropped: Arc<AtomicU64>,
    pub(crate) send_dropped: AtomicU64,
    pub(crate) rooms: AtomicUsize,
    pub(crate) participants: AtomicUsize,
}

type Reply<T> = oneshot::Sender<Result<T, SfuError>>;

enum Command {
    Join {
        kind: RoomKind,
        room: String,
        participant: String,
        offer: String,
        reply: Reply<String>,
    },
    Answer {
        room: String,
        participant: String,
        sdp: String,
        reply: Reply<()>,
    },
    Candidate {
        room: String,
        participant: String,
        candidate: RTCIceCandidateInit,
        reply: Reply<()>,
    },
    Leave {
        room: String,
        participant: String,
        reply: Reply<()>,
    },
    Shutdown {
        reply: Reply<()>,
    },
}

/// A selective forwarding unit: rooms of participants, each with one peer connection to the
/// SFU, whose published tracks are forwarded to every other participant of the room. All
/// media goes through one UDP port (and, for networks that block UDP, ICE-TCP on the same
/// port number), driven by one task.
pub struct Sfu {
    commands: mpsc::UnboundedSender<Command>,
    events_rx: Mutex<Option<mpsc::UnboundedReceiver<SfuEvent>>>,
    counters: Arc<Counters>,
    recordings: Option<PathBuf>,
    media_addr: SocketAddr,
}

/// Locks a std mutex, ignoring poisoning (no lock here guards an invariant a panic breaks).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The media socket's kernel buffers: a burst of every room's packets fits.
const SOCKET_BUFFER: usize = 8 << 20;
/// Datagrams read per wake-up before the loop looks at its other inputs.
const READ_BATCH: usize = 64;
/// Receive buffers are carved from arenas of this size (one allocation per ~50 packets).
const RECV_ARENA: usize = 128 * 1024;
const MAX_DATAGRAM: usize = 2048;
/// Frames queued from the ICE-TCP connections to the loop, and from the loop to each.
const TCP_QUEUE: usize = 1024;
/// An ICE-TCP connection silent this long is closed.
const TCP_IDLE: std::time::Duration = std::time::Duration::from_secs(30);
/// How long the loop sleeps when nothing has a deadline.
const IDLE_WAKE: std::time::Duration = std::time::Duration::from_secs(3600);
/// Ports tried when `media_addr`'s port is 0 and the TCP port of the picked one is taken.
const BIND_ATTEMPTS: usize = 16;

impl Sfu {
    /// Binds the media socket (UDP, and TCP on the same port for ICE-TCP) and starts the
    /// media loop on a thread of its own. The loop ends when the `Sfu` is dropped.
    pub fn new(config: SfuConfig) -> Result<Sfu, SfuError> {
        let (udp, tcp) = bind(config.media_addr, config.ice_tcp)?;
        let media_addr = udp.local_addr()?;
        let reach = reach(&config, media_addr);
        let local_udp = reach.udp[0];
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::unbounded_channel();
        let (keyframes, keyframes_rx) = mpsc::channel(256);
        let counters = Arc::new(Counters::default());
        let recordings = config.recordings.clone();
        let engine = Engine::new(
            Arc::new(config),
            reach,
            keyframes,
            events,
            Arc::clone(&counters),
        );
        // The loop has a thread and a single-threaded runtime of its own: nothing else
        // competes for it, and waking it costs one thread switch.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (udp, tcp) = {
            let _inside = runtime.enter();
            let udp = UdpSocket::from_std(udp)?;
            (udp, tcp.map(TcpListener::from_std).transpose()?)
        };
        let media = MediaLoop {
            engine,
            udp,
            local_udp,
            tcp_writers: HashMap::new(),
            counters: Arc::clone(&counters),
            commands: commands_rx,
            keyframes: keyframes_rx,
        };
        std::thread::Builder::new()
            .name("sfu-media".to_owned())
            .spawn(move || runtime.block_on(media_loop(media, tcp)))?;
        Ok(Sfu {
            commands,
            events_rx: Mutex::new(Some(events_rx)),
            counters,
            recordings,
            media_addr,
        })
    }

    /// The address the media socket is bound to (UDP; ICE-TCP listens on the same port).
    pub fn media_addr(&self) -> SocketAddr {
        self.media_addr
    }

    /// The stream of [`SfuEvent`]s, for the signaling layer. Only the first call gets it.
    pub fn take_events(&self) -> Option<mpsc::UnboundedReceiver<SfuEvent>> {
        lock(&self.events_rx).take()
    }

    async fn call<T>(&self, command: impl FnOnce(Reply<T>) -> Command) -> Result<T, SfuError> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(command(reply))
            .map_err(|_| SfuError::Stopped)?;
        rx.await.map_err(|_| SfuError::Stopped)?
    }

    /// Admits `participant` into `room` with the browser's offer and returns the SFU's
    /// answer (complete: it carries the SFU's candidates). The participant's tracks are
    /// forwarded to the others; the others' tracks reach it through an [`SfuEvent::Offer`]
    /// once its connection is up.
    #[instrument(skip(self, offer_sdp))]
    pub async fn join(
        &self,
        room: &str,
        participant: &str,
        offer_sdp: String,
    ) -> Result<String, SfuError> {
        self.join_as(RoomKind::Interview, room, participant, offer_sdp)
            .await
    }

    /// Joins the monitoring room of written session `session` with the candidate's camera
    /// offer (H264 only); returns the answer. Its video is sampled for the frame tap, whose
    /// calls name the room by `session`; it is neither forwarded nor recorded.
    pub async fn join_monitoring(
        &self,
        session: &str,
        participant: &str,
        offer_sdp: String,
    ) -> Result<String, SfuError> {
        self.join_as(RoomKind::Monitoring, session, participant, offer_sdp)
            .await
    }

    async fn join_as(
        &self,
        kind: RoomKind,
        room: &str,
        participant: &str,
        offer: String,
    ) -> Result<String, SfuError> {
        self.call(|reply| Command::Join {
            kind,
            room: room.to_owned(),
            participant: participant.to_owned(),
            offer,
            reply,
        })
        .await
    }

    /// Applies `participant`'s answer to the SFU's last [`SfuEvent::Offer`].
    #[instrument(skip(self, answer_sdp))]
    pub async fn answer(
        &self,
        room: &str,
        participant: &str,
        answer_sdp: String,
    ) -> Result<(), SfuError> {
        self.call(|reply| Command::Answer {
            room: room.to_owned(),
            participant: participant.to_owned(),
            sdp: answer_sdp,
            reply,
        })
        .await
    }

    /// Adds an ICE candidate trickled by the participant's browser. (The SFU itself does
    /// not trickle: its SDP carries all its candidates.)
    pub async fn add_ice_candidate(
        &self,
        room: &str,
        participant: &str,
        candidate: String,
        sdp_mid: Option<String>,
        sdp_mline_index: Option<u16>,
    ) -> Result<(), SfuError> {
        self.call(|reply| Command::Candidate {
            room: room.to_owned(),
            participant: participant.to_owned(),
            candidate: RTCIceCandidateInit {
                candidate,
                sdp_mid,
                sdp_mline_index,
                ..Default::default()
            },
            reply,
        })
        .await
    }

    /// Removes `participant` from `room`: its connection closes, its tracks are removed
    /// from the others' connections. The room closes `room_close_after` after its last
    /// participant left ([`SfuEvent::RoomClosed`]).
    #[instrument(skip(self))]
    pub async fn leave(&self, room: &str, participant: &str) -> Result<(), SfuError> {
        self.call(|reply| Command::Leave {
            room: room.to_owned(),
            participant: participant.to_owned(),
            reply,
        })
        .await
    }

    /// The recordings of `room` in [`SfuConfig::recordings`], sorted by path: files
    /// finished and files still being written (those can be played up to what has reached
    /// the disk, without Duration and Cues), including those of earlier runs. Empty when the
    /// SFU does not record or the room has no recording.
    ///
    /// A participant's recordings are finished when [`leave`](Self::leave) returns (and
    /// everyone's when [`shutdown`](Self::shutdown) does).
    pub fn recordings(&self, room: &str) -> Vec<PathBuf> {
        let Some(dir) = &self.recordings else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(exam_core::interview::recordings_folder(dir, room))
        else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|e| e == "webm") && path.is_file())
            .collect();
        files.sort();
        files
    }

    /// Removes every participant of every room (rooms then close as usual), and finishes
    /// every recording.
    pub async fn shutdown(&self) {
        let _ = self.call(|reply| Command::Shutdown { reply }).await;
    }

    /// Counters and sizes, now.
    pub fn stats(&self) -> SfuStats {
        let c = &self.counters;
        SfuStats {
            forwarded_packets: c.forwarded.load(Ordering::Relaxed),
            plis_sent: c.plis_sent.load(Ordering::Relaxed),
            recorder_dropped_packets: c.recorder_dropped.load(Ordering::Relaxed),
            send_dropped_packets: c.send_dropped.load(Ordering::Relaxed),
            rooms: c.rooms.load(Ordering::Relaxed),
            participants: c.participants.load(Ordering::Relaxed),
        }
    }
}

/// Binds UDP on `addr`, and TCP on the same address and port when `tcp`.
fn bind(
    addr: SocketAddr,
    tcp: bool,
) -> std::io::Result<(std::net::UdpSocket, Option<std::net::TcpListener>)> {
    let mut last = None;
    for _ in 0..BIND_ATTEMPTS {
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(addr),
            socket2::Type::DGRAM,
            Some(socket2::Protocol::UDP),
        )?;
        // Best effort: the kernel caps them at net.core.{r,w}mem_max.
        let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
        let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
        socket.set_nonblocking(true)?;
        socket.bind(&addr.into())?;
        let udp: std::net::UdpSocket = socket.into();
        if !tcp {
            return Ok((udp, None));
        }
        match std::net::TcpListener::bind(udp.local_addr()?) {
            Ok(listener) => {
                listener.set_nonblocking(true)?;
                return Ok((udp, Some(listener)));
            }
            // An ephemeral UDP port whose TCP twin is taken: pick another.
            Err(err) if addr.port() == 0 => last = Some(err),
            Err(err) => return Err(err),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no port free for both UDP and TCP")))
}

/// The addresses announced in the SFU's candidates.
fn reach(config: &SfuConfig, bound: SocketAddr) -> Reach {
    let port = bound.port();
    let ips: Vec<IpAddr> = if let Some(ip) = config.public_ip {
        vec![ip]
    } else if bound.ip().is_unspecified() {
        let interfaces: Vec<IpAddr> = rtc::shared::ifaces::ifaces()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| i.addr.map(|a| a.ip()))
            .filter(|ip| ip.is_ipv4() == bound.is_ipv4() && !ip.is_loopback())
            .collect();
        if interfaces.is_empty() {
            vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]
        } else {
            interfaces
        }
    } else {
        vec![bound.ip()]
    };
    Reach {
        udp: ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect(),
        tcp: config.ice_tcp,
    }
}

/// What the ICE-TCP connections tell the loop.
enum TcpInbound {
    Opened {
        peer: SocketAddr,
        writer: mpsc::Sender<Vec<u8>>,
    },
    Frame {
        peer: SocketAddr,
        frame: BytesMut,
    },
    Closed {
        peer: SocketAddr,
    },
}

struct MediaLoop {
    engine: Engine,
    udp: UdpSocket,
    /// The address datagrams are reported to the connections as received on: the
    /// candidate they were sent to.
    local_udp: SocketAddr,
    tcp_writers: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    counters: Arc<Counters>,
    commands: mpsc::UnboundedReceiver<Command>,
    keyframes: mpsc::Receiver<u64>,
}

async fn media_loop(mut l: MediaLoop, tcp: Option<TcpListener>) {
    let (tcp_in, mut tcp_rx) = mpsc::channel(TCP_QUEUE);
    if let Some(listener) = tcp {
        tokio::spawn(accept_tcp(listener, tcp_in));
    }
    let mut arena = BytesMut::with_capacity(RECV_ARENA);
    // One timer, moved when the deadline moves (not a new one per wake-up).
    let idle = || tokio::time::Instant::now() + IDLE_WAKE;
    let sleep = tokio::time::sleep_until(idle());
    tokio::pin!(sleep);
    // What the timer is set for; `None` once it fired (it must be set again).
    let mut armed: Option<Option<Instant>> = None;
    loop {
        l.send_all();
        let deadline = l.engine.poll_timeout();
        if armed != Some(deadline) {
            armed = Some(deadline);
            sleep
                .as_mut()
                .reset(deadline.map_or_else(idle, tokio::time::Instant::from_std));
        }
        // No bias: a flood on one input (UDP, or an ICE-TCP connection) holds up no other.
        tokio::select! {
            command = l.commands.recv() => match command {
                Some(command) => l.command(command),
                None => break,
            },
            Some(key) = l.keyframes.recv() => l.engine.request_keyframe(Instant::now(), key),
            Some(inbound) = tcp_rx.recv() => {
                l.tcp(inbound);
                for _ in 1..READ_BATCH {
                    let Ok(inbound) = tcp_rx.try_recv() else { break };
                    l.tcp(inbound);
                }
            }
            readable = l.udp.readable() => {
                if readable.is_err() {
                    break;
                }
                l.read_batch(&mut arena);
            }
            () = &mut sleep => armed = None,
        }
        // The deadline the loop slept for (one that the input just handled brought
        // forward is past at the next turn, whose timer then fires at once).
        let now = Instant::now();
        if deadline.is_some_and(|at| at <= now) {
            l.engine.handle_timeout(now);
        }
        l.finish_ended_recordings();
    }
    let now = Instant::now();
    for (room, participant) in l.engine.everyone() {
        let _ = l.engine.leave(now, &room, &participant, None);
    }
    l.send_all();
    for recorder in std::mem::take(&mut l.engine.finished_recordings) {
        recorder.finish().await;
    }
}

impl MediaLoop {
    fn read_batch(&mut self, arena: &mut BytesMut) {
        let now = Instant::now();
        for _ in 0..READ_BATCH {
            if arena.capacity() < MAX_DATAGRAM {
                *arena = BytesMut::with_capacity(RECV_ARENA);
            }
            match self.udp.try_recv_buf_from(arena) {
                Ok((_, peer)) => {
                    let datagram = arena.split();
                    self.engine.handle_datagram(
                        now,
                        self.local_udp,
                        peer,
                        TransportProtocol::UDP,
                        datagram,
                    );
                    // What it produced goes out now, not after the rest of the batch.
                    self.send_all();
                }
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(err) => {
                    // ICMP errors of earlier sends surface here on Linux: not fatal.
                    debug!(%err, "media socket read");
                    break;
                }
            }
        }
    }

    fn send_all(&mut self) {
        while let Some(transmit) = self.engine.transmits.pop_front() {
            let peer = transmit.transport.peer_addr;
            if transmit.transport.transport_protocol == TransportProtocol::TCP {
                // A congested TCP peer loses packets, as a full UDP buffer would.
                if let Some(writer) = self.tcp_writers.get(&peer)
                    && writer.try_send(frame_packet(&transmit.message)).is_err()
                {
                    self.counters.send_dropped.fetch_add(1, Ordering::Relaxed);
                }
                continue;
            }
            match self.udp.try_send_to(&transmit.message, peer) {
                Ok(_) => {}
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                    self.counters.send_dropped.fetch_add(1, Ordering::Relaxed);
                }
                Err(err) => debug!(%err, "media socket send"),
            }
        }
    }

    fn tcp(&mut self, inbound: TcpInbound) {
        match inbound {
            TcpInbound::Opened { peer, writer } => {
                self.tcp_writers.insert(peer, writer);
            }
            TcpInbound::Frame { peer, frame } => self.engine.handle_datagram(
                Instant::now(),
                self.local_udp,
                peer,
                TransportProtocol::TCP,
                frame,
            ),
            TcpInbound::Closed { peer } => {
                self.tcp_writers.remove(&peer);
                self.engine.forget_address(peer, TransportProtocol::TCP);
            }
        }
    }

    fn command(&mut self, command: Command) {
        let now = Instant::now();
        let engine = &mut self.engine;
        match command {
            Command::Join {
                kind,
                room,
                participant,
                offer,
                reply,
            } => {
                let _ = reply.send(engine.join(now, kind, &room, &participant, offer));
            }
            Command::Answer {
                room,
                participant,
                sdp,
                reply,
            } => {
                let _ = reply.send(engine.answer(now, &room, &participant, sdp));
            }
            Command::Candidate {
                room,
                participant,
                candidate,
                reply,
            } => {
                let _ = reply.send(engine.add_candidate(now, &room, &participant, candidate));
            }
            Command::Leave {
                room,
                participant,
                reply,
            } => {
                let left = engine.leave(now, &room, &participant, None);
                finish_then_reply(std::mem::take(&mut engine.finished_recordings), reply, left);
            }
            Command::Shutdown { reply } => {
                for (room, participant) in engine.everyone() {
                    let _ = engine.leave(now, &room, &participant, None);
                }
                finish_then_reply(
                    std::mem::take(&mut engine.finished_recordings),
                    reply,
                    Ok(()),
                );
            }
        }
    }

    /// Recordings of tracks that ended without a command waiting on them (a renegotiation
    /// removed the track, a connection failed): finished in the background.
    fn finish_ended_recordings(&mut self) {
        if self.engine.finished_recordings.is_empty() {
            return;
        }
        let ended = std::mem::take(&mut self.engine.finished_recordings);
        tokio::spawn(async move {
            for recorder in ended {
                recorder.finish().await;
            }
        });
    }
}

/// Replies once `recorders` are finished (their files complete), off the loop.
fn finish_then_reply(recorders: Vec<Recorder>, reply: Reply<()>, result: Result<(), SfuError>) {
    if recorders.is_empty() {
        let _ = reply.send(result);
        return;
    }
    tokio::spawn(async move {
        for recorder in recorders {
            recorder.finish().await;
        }
        let _ = reply.send(result);
    });
}

/// Accepts ICE-TCP connections; each gets a reader that hands whole frames to the loop and
/// a writer fed by it.
async fn accept_tcp(listener: TcpListener, inbound: mpsc::Sender<TcpInbound>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                warn!(%err, "ICE-TCP accept");
                continue;
            }
        };
        if inbound.is_closed() {
            return;
        }
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_tcp(stream, peer, inbound.clone()));
    }
}

async fn serve_tcp(stream: TcpStream, peer: SocketAddr, inbound: mpsc::Sender<TcpInbound>) {
    let (mut read, mut write) = stream.into_split();
    let (writer, mut outgoing) = mpsc::channel::<Vec<u8>>(TCP_QUEUE);
    if inbound
        .send(TcpInbound::Opened { peer, writer })
        .await
        .is_err()
    {
        return;
    }
    let writing = tokio::spawn(async move {
        while let Some(frame) = outgoing.recv().await {
            if write.write_all(&frame).await.is_err() {
                break;
            }
        }
    });
    let mut decoder = TcpFrameDecoder::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        // A live ICE peer sends consent checks every few seconds: silence means gone.
        let n = match tokio::time::timeout(TCP_IDLE, read.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) | Err(_) => break,
            Ok(Ok(n)) => n,
        };
        decoder.extend_from_slice(&buf[..n]);
        while let Some(frame) = decoder.next_packet() {
            let frame = BytesMut::from(&frame[..]);
            // Awaited: a fast sender waits for the loop instead of queueing without bound.
            if inbound
                .send(TcpInbound::Frame { peer, frame })
                .await
                .is_err()
            {
                break;
            }
        }
    }
    let _ = inbound.send(TcpInbound::Closed { peer }).await;
    writing.abort();
}
