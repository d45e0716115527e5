//! The SFU's core: every room, connection and forwarded track, with no socket and no clock.
//!
//! ```text
//! datagram (any peer) ─▶ Engine::handle_datagram ─▶ connection (by address, else by the
//!                                                   STUN USERNAME's ufrag) ─▶ rtc::RTCPeerConnection
//!       publisher's RTP ─▶ Published::fan_out ─▶ each subscriber's RTCRtpSender ─▶ transmits
//!                                            ├─▶ recorder queue (interview rooms)
//!                                            └─▶ frame sampler (monitoring rooms)
//! subscriber's PLI/FIR, a new leg, a recorder, a sampler ─▶ KeyframeLimiter (≤ 1 per 500 ms) ─▶ PLI
//! ```
//!
//! The media loop (`sfu.rs`) owns one `Engine`: it feeds in datagrams, commands and the
//! time, sends what [`Engine::transmits`] holds and sleeps until [`Engine::poll_timeout`].
//! Each connection is a sans-IO `rtc` peer connection (ICE, DTLS, SRTP, and the default
//! interceptors: NACK generation and answers, sender and receiver reports, TWCC feedback).
//!
//! Forwarding rewrites only the SSRC and payload type of the subscriber's leg and drops
//! header extensions (their ids are per leg); sequence numbers, timestamps and payloads
//! pass untouched, and the payload's bytes are shared, not copied.
//!
//! A subscriber's connection reuses, for a new track, a transceiver of the same kind that
//! no longer sends (`add_track`'s rule), so a participant who leaves and rejoins does not
//! grow the others' SDP.

use crate::codecs::{self, payload_type_for};
use crate::config::SfuConfig;
use crate::error::SfuError;
use crate::keyframe::{KEYFRAME_INTERVAL, KeyframeLimiter, KeyframeRequests};
use crate::negotiation::Negotiation;
use crate::recording::{Recorder, Target};
use crate::rooms::Rooms;
use crate::sample::{RoomKind, Sampler};
use crate::sfu::{Counters, SfuEvent};
use crate::tap::{is_keyframe_request, with_keyframe_request_tap};
use bytes::BytesMut;
use rand::Rng;
use rtc::interceptor::Registry;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_H264;
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::event::{RTCPeerConnectionEvent, RTCTrackEvent};
use rtc::peer_connection::message::{RTCMessage, TaggedRTCMessage};
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::transport::{
    CandidateConfig, CandidateHostConfig, RTCIceCandidate, RTCIceCandidateInit,
};
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use rtc::rtp_transceiver::{RTCRtpReceiverId, RTCRtpSenderId};
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tokio::sync::mpsc;
use tracing::{debug, warn};

/// Remote addresses one connection may be reached from (host, server-reflexive, relayed
/// candidates over UDP and TCP, and a few rebindings).
const MAX_ADDRESSES: usize = 16;

/// A connection's index in [`Engine::conns`] (reused once it is free: pair it with the
/// session to be sure).
type ConnId = usize;
/// A published track's key.
type TrackKey = u64;

/// Where the SFU can be reached: its host candidates.
#[derive(Debug, Clone)]
pub(crate) struct Reach {
    /// UDP addresses announced (the bound one, each interface's, or the public one).
    pub(crate) udp: Vec<SocketAddr>,
    /// Whether a passive ICE-TCP candidate is announced on each of them, same port.
    pub(crate) tcp: bool,
}

pub(crate) struct Engine {
    config: Arc<SfuConfig>,
    reach: Reach,
    conns: Vec<Option<Conn>>,
    free: Vec<ConnId>,
    by_ufrag: HashMap<String, ConnId>,
    by_addr: HashMap<(SocketAddr, TransportProtocol), ConnId>,
    rooms: Rooms<ConnId, TrackKey>,
    tracks: HashMap<TrackKey, Published>,
    next_track: TrackKey,
    next_session: u64,
    keyframe_requests: mpsc::Sender<TrackKey>,
    events: mpsc::UnboundedSender<SfuEvent>,
    counters: Arc<Counters>,
    /// Packets to put on the wire, in order.
    pub(crate) transmits: VecDeque<TaggedBytesMut>,
    /// Recordings whose track ended, to be finished off the loop.
    pub(crate) finished_recordings: Vec<Recorder>,
}

struct Conn {
    room: String,
    participant: String,
    session: u64,
    ufrag: String,
    pc: RTCPeerConnection,
    /// The remote addresses learnt for this connection.
    addrs: Vec<(SocketAddr, TransportProtocol)>,
    negotiation: Negotiation,
    /// When `pc` next wants `handle_timeout`, as of the last time it was driven.
    deadline: Option<Instant>,
    /// Remote track id → its receiver, from `OnTrack`; published at its first packet.
    receivers: HashMap<String, RTCRtpReceiverId>,
    /// Remote track id → what this connection publishes.
    published: HashMap<String, TrackKey>,
    /// Local track id → the published track this connection receives on it.
    subscribed: HashMap<String, TrackKey>,
    /// Remote tracks whose payload type was not negotiated: their packets are dropped.
    refused: std::collections::HashSet<String>,
}

/// A track a participant publishes, and where it goes.
struct Published {
    room: String,
    publisher: ConnId,
    publisher_session: u64,
    receiver: RTCRtpReceiverId,
    media_ssrc: u32,
    kind: RtpCodecKind,
    codec: RTCRtpCodec,
    /// The publisher's own track id.
    track_id: String,
    downs: Vec<Down>,
    limiter: KeyframeLimiter,
    recorder: Option<Recorder>,
    sampler: Option<Sampler>,
}

/// The forwarding of one published track to one subscriber.
struct Down {
    conn: ConnId,
    session: u64,
    sender: RTCRtpSenderId,
    ssrc: u32,
    /// Known once the subscriber answered an offer carrying the leg.
    payload_type: Option<u8>,
}

fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

impl Engine {
    pub(crate) fn new(
        config: Arc<SfuConfig>,
        reach: Reach,
        keyframe_requests: mpsc::Sender<TrackKey>,
        events: mpsc::UnboundedSender<SfuEvent>,
        counters: Arc<Counters>,
    ) -> Self {
        Self {
            rooms: Rooms::new(config.room_close_after),
            config,
            reach,
            conns: Vec::new(),
            free: Vec::new(),
            by_ufrag: HashMap::new(),
            by_addr: HashMap::new(),
            tracks: HashMap::new(),
            next_track: 1,
            next_session: 1,
            keyframe_requests,
            events,
            counters,
            transmits: VecDeque::new(),
            finished_recordings: Vec::new(),
        }
    }

    fn publish_counts(&self) {
        let (rooms, participants) = self.rooms.counts();
        self.counters.rooms.store(rooms, Ordering::Relaxed);
        self.counters
            .participants
            .store(participants, Ordering::Relaxed);
    }

    fn find(&self, room: &str, participant: &str) -> Result<ConnId, SfuError> {
        self.rooms
            .participant(room, participant)
            .copied()
            .ok_or(SfuError::UnknownParticipant)
    }

    fn conn(&mut self, id: ConnId) -> Option<&mut Conn> {
        self.conns.get_mut(id).and_then(Option::as_mut)
    }

    /// Admits `participant` into `room` with its offer; returns the answer, which carries
    /// every candidate of the SFU (it does not trickle).
    pub(crate) fn join(
        &mut self,
        now: Instant,
        kind: RoomKind,
        room: &str,
        participant: &str,
        offer: String,
    ) -> Result<String, SfuError> {
        if self.rooms.kind(room).is_some_and(|k| k != kind) {
            return Err(SfuError::RoomKind);
        }
        if self.rooms.participant(room, participant).is_some() {
            return Err(SfuError::AlreadyJoined);
        }
        let ufrag = loop {
            let candidate = random_token(16);
            if !self.by_ufrag.contains_key(&candidate) {
                break candidate;
            }
        };
        let (mut pc, answer) = self.answer_offer(now, kind, &ufrag, offer)?;
        let session = self.next_session;
        self.next_session += 1;
        let id = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        if self.rooms.join(room, kind, participant, id).is_err() {
            self.free.push(id);
            let _ = pc.close();
            return Err(SfuError::AlreadyJoined);
        }
        self.by_ufrag.insert(ufrag.clone(), id);
        self.conns[id] = Some(Conn {
            room: room.to_owned(),
            participant: participant.to_owned(),
            session,
            ufrag,
            deadline: pc.poll_timeout(),
            pc,
            addrs: Vec::new(),
            negotiation: Negotiation::default(),
            receivers: HashMap::new(),
            published: HashMap::new(),
            subscribed: HashMap::new(),
            refused: std::collections::HashSet::new(),
        });
        let existing: Vec<TrackKey> = self
            .rooms
            .get(room)
            .map(|r| r.tracks.clone())
            .unwrap_or_default();
        for key in existing {
            self.subscribe(now, id, key);
        }
        self.publish_counts();
        debug!("joined");
        Ok(answer)
    }

    fn answer_offer(
        &self,
        now: Instant,
        kind: RoomKind,
        ufrag: &str,
        offer: String,
    ) -> Result<(RTCPeerConnection, String), SfuError> {
        let mut media = codecs::media_engine(kind == RoomKind::Monitoring)?;
        let registry = register_default_interceptors(Registry::new(), &mut media)?;
        let registry = with_keyframe_request_tap(registry);
        let settings = SettingEngineBuilder::new()
            .with_ice_credentials(ufrag.to_owned(), random_token(24))
            .build();
        let mut pc = RTCPeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(media)
            .with_interceptor_registry(registry)
            .with_setting_engine(settings)
            .build(now)?;
        pc.set_remote_description(now, RTCSessionDescription::offer(offer)?)?;
        for addr in &self.reach.udp {
            let mut networks = vec![("udp", rtc::ice::tcp_type::TcpType::Unspecified)];
            if self.reach.tcp {
                networks.push(("tcp", rtc::ice::tcp_type::TcpType::Passive));
            }
            for (network, tcp_type) in networks {
                let candidate = CandidateHostConfig {
                    base_config: CandidateConfig {
                        network: network.to_owned(),
                        address: addr.ip().to_string(),
                        port: addr.port(),
                        component: 1,
                        ..Default::default()
                    },
                    tcp_type,
                }
                .new_candidate_host()?;
                pc.add_local_candidate(RTCIceCandidate::from(&candidate).to_json()?)?;
            }
        }
        // The end of the SFU's candidates.
        pc.add_local_candidate(RTCIceCandidateInit::default())?;
        let answer = pc.create_answer(None)?;
        pc.set_local_description(now, answer)?;
        let sdp = pc
            .local_description()
            .map(|d| d.sdp)
            .ok_or(SfuError::Config("no local description after answering"))?;
        Ok((pc, sdp))
    }

    /// Applies `participant`'s answer to the SFU's last offer.
    pub(crate) fn answer(
        &mut self,
        now: Instant,
        room: &str,
        participant: &str,
        sdp: String,
    ) -> Result<(), SfuError> {
        let id = self.find(room, participant)?;
        let Some(conn) = self.conn(id) else {
            return Err(SfuError::UnknownParticipant);
        };
        if !conn.negotiation.offer_outstanding() {
            return Err(SfuError::NoPendingOffer);
        }
        let applied = RTCSessionDescription::answer(sdp)
            .and_then(|answer| conn.pc.set_remote_description(now, answer));
        if let Err(err) = applied {
            conn.negotiation.offer_failed();
            return Err(err.into());
        }
        let again = conn
            .negotiation
            .answered()
            .map_err(|_| SfuError::NoPendingOffer)?;
        self.legs_negotiated(now, id);
        if again {
            self.negotiate(now, id);
        }
        self.drive(now, id);
        Ok(())
    }

    /// Adds a candidate the participant trickled.
    pub(crate) fn add_candidate(
        &mut self,
        now: Instant,
        room: &str,
        participant: &str,
        candidate: RTCIceCandidateInit,
    ) -> Result<(), SfuError> {
        let id = self.find(room, participant)?;
        let conn = self.conn(id).ok_or(SfuError::UnknownParticipant)?;
        conn.pc.add_remote_candidate(candidate)?;
        self.drive(now, id);
        Ok(())
    }

    /// Removes `participant` from `room` (that join of it, when `session` is given): its
    /// tracks are unpublished (their recordings go to `finished_recordings`), its
    /// subscriptions dropped, its connection closed.
    pub(crate) fn leave(
        &mut self,
        now: Instant,
        room: &str,
        participant: &str,
        session: Option<u64>,
    ) -> Result<(), SfuError> {
        let id = self.find(room, participant)?;
        let Some(conn) = self.conns.get(id).and_then(Option::as_ref) else {
            return Err(SfuError::UnknownParticipant);
        };
        if session.is_some_and(|s| s != conn.session) {
            return Err(SfuError::UnknownParticipant);
        }
        let session = conn.session;
        self.rooms.leave(room, participant, now);
        let keys: Vec<TrackKey> = self
            .tracks
            .iter()
            .filter(|(_, t)| t.room == room)
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            let Some(track) = self.tracks.get_mut(&key) else {
                continue;
            };
            if track.publisher == id && track.publisher_session == session {
                self.unpublish(now, key);
            } else {
                track
                    .downs
                    .retain(|d| !(d.conn == id && d.session == session));
            }
        }
        if let Some(mut conn) = self.conns[id].take() {
            self.by_ufrag.remove(&conn.ufrag);
            for addr in &conn.addrs {
                self.by_addr.remove(addr);
            }
            if let Err(err) = conn.pc.close() {
                debug!(%err, "closing a connection");
            }
            while let Some(transmit) = conn.pc.poll_write() {
                self.transmits.push_back(transmit);
            }
        }
        self.free.push(id);
        self.publish_counts();
        debug!("left");
        Ok(())
    }

    /// Every participant of every room, to remove them all.
    pub(crate) fn everyone(&self) -> Vec<(String, String)> {
        self.rooms
            .all_participants()
            .map(|(r, p)| (r.to_owned(), p.to_owned()))
            .collect()
    }

    /// A datagram (or an ICE-TCP frame) from `peer` to `local`.
    pub(crate) fn handle_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        peer: SocketAddr,
        protocol: TransportProtocol,
        datagram: BytesMut,
    ) {
        let known = self.by_addr.get(&(peer, protocol)).copied();
        let Some(id) = known.or_else(|| {
            crate::stun::local_ufrag(&datagram)
                .and_then(|ufrag| self.by_ufrag.get(ufrag))
                .copied()
        }) else {
            return; // not for any connection of ours
        };
        let Some(conn) = self.conn(id) else {
            return;
        };
        let read = conn.pc.handle_read(TaggedBytesMut {
            now,
            transport: TransportContext {
                local_addr: local,
                peer_addr: peer,
                ecn: None,
                transport_protocol: protocol,
            },
            message: datagram,
        });
        match read {
            // A new address is learnt only once its STUN message passed the connection's
            // checks (its integrity), and a connection learns a bounded number of them.
            Ok(()) if known.is_none() && conn.addrs.len() < MAX_ADDRESSES => {
                conn.addrs.push((peer, protocol));
                self.by_addr.insert((peer, protocol), id);
            }
            Ok(()) => {}
            Err(err) => debug!(%err, "a connection refused a datagram"),
        }
        self.drive(now, id);
    }

    /// A peer's ICE-TCP connection closed: its address is forgotten.
    pub(crate) fn forget_address(&mut self, peer: SocketAddr, protocol: TransportProtocol) {
        if let Some(id) = self.by_addr.remove(&(peer, protocol))
            && let Some(conn) = self.conn(id)
        {
            conn.addrs.retain(|a| *a != (peer, protocol));
        }
    }

    /// The earliest time anything here needs [`handle_timeout`](Self::handle_timeout).
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let conns = self.conns.iter().flatten().filter_map(|c| c.deadline);
        let limiters = self
            .tracks
            .values()
            .filter_map(|t| t.limiter.poll_timeout());
        conns.chain(limiters).chain(self.rooms.poll_timeout()).min()
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        for id in 0..self.conns.len() {
            let due = self
                .conns
                .get(id)
                .and_then(Option::as_ref)
                .and_then(|c| c.deadline)
                .is_some_and(|d| d <= now);
            if due {
                if let Some(conn) = self.conn(id)
                    && let Err(err) = conn.pc.handle_timeout(now)
                {
                    debug!(%err, "a connection's timeout failed");
                }
                self.drive(now, id);
            }
        }
        let due: Vec<TrackKey> = self
            .tracks
            .iter_mut()
            .filter(|(_, t)| t.limiter.poll_timeout().is_some_and(|d| d <= now))
            .filter_map(|(k, t)| t.limiter.handle_timeout(now).then_some(*k))
            .collect();
        for key in due {
            self.send_pli(now, key);
        }
        for room in self.rooms.close_expired(now) {
            debug!(%room, "room closed");
            let _ = self.events.send(SfuEvent::RoomClosed { room });
        }
        self.publish_counts();
    }

    /// A keyframe of `key` is wanted (a recorder, a sampler, a subscriber).
    pub(crate) fn request_keyframe(&mut self, now: Instant, key: TrackKey) {
        let send = match self.tracks.get_mut(&key) {
            Some(track) if track.kind == RtpCodecKind::Video => track.limiter.request(now),
            _ => false,
        };
        if send {
            self.send_pli(now, key);
        }
    }

    fn send_pli(&mut self, now: Instant, key: TrackKey) {
        let Some(track) = self.tracks.get(&key) else {
            return;
        };
        let (publisher, receiver, media_ssrc) = (track.publisher, track.receiver, track.media_ssrc);
        let Some(conn) = self.conn(publisher) else {
            return;
        };
        let Some(mut rtp_receiver) = conn.pc.rtp_receiver(receiver) else {
            return;
        };
        let pli = PictureLossIndication {
            sender_ssrc: 0,
            media_ssrc,
        };
        if rtp_receiver.write_rtcp(now, vec![Box::new(pli)]).is_ok() {
            self.counters.plis_sent.fetch_add(1, Ordering::Relaxed);
        }
        self.flush(publisher);
    }

    /// Moves what `id`'s connection wants to send to the transmit queue.
    fn flush(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(id).and_then(Option::as_mut) else {
            return;
        };
        while let Some(transmit) = conn.pc.poll_write() {
            self.transmits.push_back(transmit);
        }
        conn.deadline = conn.pc.poll_timeout();
    }

    /// Drains everything `id`'s connection produced after an input: packets to send, state
    /// changes, media.
    fn drive(&mut self, now: Instant, id: ConnId) {
        self.flush(id);
        loop {
            let Some(conn) = self.conn(id) else {
                return;
            };
            let Some(event) = conn.pc.poll_event() else {
                break;
            };
            self.on_event(now, id, event);
        }
        loop {
            let Some(conn) = self.conn(id) else {
                return;
            };
            let Some(TaggedRTCMessage { message, .. }) = conn.pc.poll_read() else {
                break;
            };
            match message {
                RTCMessage::RtpPacket(track_id, packet) => self.on_rtp(now, id, &track_id, packet),
                RTCMessage::RtcpPacket(track_id, packets) => {
                    let key = conn.subscribed.get(&track_id).copied();
                    if let Some(key) = key
                        && packets.iter().any(|p| is_keyframe_request(p.as_ref()))
                    {
                        self.request_keyframe(now, key);
                    }
                }
                _ => {}
            }
        }
        self.flush(id);
    }

    fn on_event(&mut self, now: Instant, id: ConnId, event: RTCPeerConnectionEvent) {
        let Some(conn) = self.conn(id) else {
            return;
        };
        match event {
            RTCPeerConnectionEvent::OnConnectionStateChangeEvent(
                RTCPeerConnectionState::Connected,
            ) => {
                // The first offer waited for the connection to be up.
                let offer_now = conn.negotiation.connected();
                if offer_now {
                    self.negotiate(now, id);
                }
            }
            RTCPeerConnectionEvent::OnConnectionStateChangeEvent(
                RTCPeerConnectionState::Failed,
            ) => {
                let (room, participant, session) =
                    (conn.room.clone(), conn.participant.clone(), conn.session);
                if self.leave(now, &room, &participant, Some(session)).is_ok() {
                    let _ = self
                        .events
                        .send(SfuEvent::ConnectionFailed { room, participant });
                }
            }
            RTCPeerConnectionEvent::OnTrack(RTCTrackEvent::OnOpen(init)) => {
                conn.receivers.insert(init.track_id, init.receiver_id);
            }
            RTCPeerConnectionEvent::OnTrack(RTCTrackEvent::OnClose(track_id)) => {
                conn.receivers.remove(&track_id);
                if let Some(key) = conn.published.remove(&track_id) {
                    self.unpublish(now, key);
                }
            }
            _ => {}
        }
    }

    fn on_rtp(&mut self, now: Instant, id: ConnId, track_id: &str, packet: rtp::Packet) {
        let Some(conn) = self.conn(id) else {
            return;
        };
        let key = match conn.published.get(track_id) {
            Some(key) => *key,
            None if conn.refused.contains(track_id) => return,
            None => match self.publish(now, id, track_id, &packet) {
                Some(key) => key,
                None => return,
            },
        };
        let Engine {
            tracks,
            conns,
            transmits,
            counters,
            ..
        } = self;
        let Some(track) = tracks.get_mut(&key) else {
            return;
        };
        if let Some(sampler) = &mut track.sampler {
            sampler.push(&packet);
        }
        for down in &track.downs {
            let Some(pt) = down.payload_type else {
                continue;
            };
            let Some(conn) = conns.get_mut(down.conn).and_then(Option::as_mut) else {
                continue;
            };
            if conn.session != down.session {
                continue;
            }
            let Some(mut sender) = conn.pc.rtp_sender(down.sender) else {
                continue;
            };
            if sender
                .write_rtp(now, leg_packet(&packet, down.ssrc, pt))
                .is_ok()
            {
                counters.forwarded.fetch_add(1, Ordering::Relaxed);
            }
            while let Some(transmit) = conn.pc.poll_write() {
                transmits.push_back(transmit);
            }
        }
        if let Some(recorder) = &track.recorder {
            // Without its header extensions, which the recording has no use for: copying
            // them would allocate per packet.
            let h = &packet.header;
            recorder.push(&leg_packet(&packet, h.ssrc, h.payload_type));
        }
    }

    /// Publishes `track_id` of connection `id` at its first packet (whose payload type
    /// tells its codec); subscribes everyone else in the room to it.
    fn publish(
        &mut self,
        now: Instant,
        id: ConnId,
        track_id: &str,
        first: &rtp::Packet,
    ) -> Option<TrackKey> {
        let key = self.next_track;
        let keyframes = KeyframeRequests::new(self.keyframe_requests.clone(), key);
        let conn = self.conns.get_mut(id).and_then(Option::as_mut)?;
        let receiver = *conn.receivers.get(track_id)?;
        let (kind, codec) = {
            let mut rtp_receiver = conn.pc.rtp_receiver(receiver)?;
            let kind = rtp_receiver.track().kind();
            let codec = rtp_receiver
                .get_parameters()
                .rtp_parameters
                .codecs
                .iter()
                .find(|c| c.payload_type == first.header.payload_type)
                .map(|c| c.rtp_codec.clone());
            (kind, codec)
        };
        let Some(codec) = codec else {
            warn!(
                pt = first.header.payload_type,
                "published track's payload type was not negotiated; ignored"
            );
            conn.refused.insert(track_id.to_owned());
            return None;
        };
        self.next_track += 1;
        conn.published.insert(track_id.to_owned(), key);
        let (room, publisher, session) =
            (conn.room.clone(), conn.participant.clone(), conn.session);
        let room_kind = self.rooms.kind(&room)?;
        let video = kind == RtpCodecKind::Video;
        let sampler = match &self.config.frame_tap {
            Some(tap)
                if room_kind == RoomKind::Monitoring
                    && video
                    && codec.mime_type.eq_ignore_ascii_case(MIME_TYPE_H264) =>
            {
                Some(Sampler::new(
                    Arc::clone(tap),
                    &room,
                    &publisher,
                    Some(keyframes.clone()),
                ))
            }
            _ => None,
        };
        let recorder = match &self.config.recordings {
            Some(dir) if room_kind == RoomKind::Interview => Recorder::start(
                Target::new(dir, &room, &publisher, kind),
                &codec,
                video.then(|| keyframes.clone()),
                Arc::clone(&self.counters.recorder_dropped),
            ),
            _ => None,
        };
        debug!(%room, mime = %codec.mime_type, "track published");
        self.tracks.insert(
            key,
            Published {
                room: room.clone(),
                publisher: id,
                publisher_session: session,
                receiver,
                media_ssrc: first.header.ssrc,
                kind,
                codec,
                track_id: track_id.to_owned(),
                downs: Vec::new(),
                limiter: KeyframeLimiter::new(KEYFRAME_INTERVAL),
                recorder,
                sampler,
            },
        );
        let others: Vec<ConnId> = match self.rooms.get_mut(&room) {
            Some(r) => {
                r.tracks.push(key);
                r.participants
                    .values()
                    .copied()
                    .filter(|c| *c != id)
                    .collect()
            }
            None => Vec::new(),
        };
        for other in others {
            self.subscribe(now, other, key);
        }
        Some(key)
    }

    /// Adds a leg of `key` to connection `id` and renegotiates.
    fn subscribe(&mut self, now: Instant, id: ConnId, key: TrackKey) {
        let Some(track) = self.tracks.get(&key) else {
            return;
        };
        let publisher = self
            .conns
            .get(track.publisher)
            .and_then(Option::as_ref)
            .map(|c| c.participant.clone())
            .unwrap_or_default();
        let ssrc = rand::random::<u32>();
        let local_id = format!("{publisher}:{}", track.track_id);
        // Stream id = publisher id, so a browser groups a participant's audio and video.
        let local = MediaStreamTrack::new(
            publisher,
            local_id.clone(),
            track.track_id.clone(),
            track.kind,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                active: true,
                codec: track.codec.clone(),
                ..Default::default()
            }],
        );
        let Some(conn) = self.conns.get_mut(id).and_then(Option::as_mut) else {
            return;
        };
        let sender = match conn.pc.add_track(local) {
            Ok(sender) => sender,
            Err(err) => {
                warn!(%err, "could not subscribe a participant to a track");
                return;
            }
        };
        conn.subscribed.insert(local_id, key);
        let session = conn.session;
        let offer_now = conn.negotiation.changed();
        if let Some(track) = self.tracks.get_mut(&key) {
            track.downs.push(Down {
                conn: id,
                session,
                sender,
                ssrc,
                payload_type: None,
            });
        }
        if offer_now {
            self.negotiate(now, id);
        }
    }

    /// After an answer from `id`: the payload type of each of its legs still waiting for
    /// one, and a keyframe for each leg that goes live.
    fn legs_negotiated(&mut self, now: Instant, id: ConnId) {
        let mut live = Vec::new();
        let Engine { tracks, conns, .. } = self;
        let Some(conn) = conns.get_mut(id).and_then(Option::as_mut) else {
            return;
        };
        for (key, track) in tracks.iter_mut() {
            for down in track
                .downs
                .iter_mut()
                .filter(|d| d.conn == id && d.session == conn.session && d.payload_type.is_none())
            {
                let sending = conn
                    .pc
                    .rtp_transceiver(down.sender.into())
                    .is_some_and(|t| t.current_direction().has_send());
                if !sending {
                    continue;
                }
                let Some(mut sender) = conn.pc.rtp_sender(down.sender) else {
                    continue;
                };
                let pt =
                    payload_type_for(&track.codec, &sender.get_parameters().rtp_parameters.codecs);
                if pt.is_none() {
                    warn!(mime = %track.codec.mime_type, "subscriber cannot receive this codec; not forwarded");
                }
                down.payload_type = pt;
                if pt.is_some() {
                    live.push(*key);
                }
            }
        }
        for key in live {
            self.request_keyframe(now, key);
        }
    }

    /// Creates an offer for `id` and emits it; on failure the change waits for the next.
    fn negotiate(&mut self, now: Instant, id: ConnId) {
        let Engine { conns, events, .. } = self;
        let Some(conn) = conns.get_mut(id).and_then(Option::as_mut) else {
            return;
        };
        let offer = conn
            .pc
            .create_offer(None)
            .and_then(|offer| conn.pc.set_local_description(now, offer))
            .map(|()| conn.pc.local_description().map(|d| d.sdp));
        match offer {
            Ok(Some(sdp)) => {
                let _ = events.send(SfuEvent::Offer {
                    room: conn.room.clone(),
                    participant: conn.participant.clone(),
                    sdp,
                });
            }
            Ok(None) => conn.negotiation.offer_failed(),
            Err(err) => {
                warn!(%err, "could not create an offer");
                conn.negotiation.offer_failed();
            }
        }
        self.flush(id);
    }

    /// Ends the forwarding of `key`: its legs are removed from the subscribers' connections
    /// (each renegotiated), its recording handed over to be finished.
    fn unpublish(&mut self, now: Instant, key: TrackKey) {
        let Some(mut track) = self.tracks.remove(&key) else {
            return;
        };
        if let Some(room) = self.rooms.get_mut(&track.room) {
            room.tracks.retain(|k| *k != key);
        }
        if let Some(conn) = self.conn(track.publisher)
            && conn.session == track.publisher_session
        {
            conn.published.retain(|_, k| *k != key);
        }
        for down in track.downs.drain(..) {
            let Some(conn) = self.conns.get_mut(down.conn).and_then(Option::as_mut) else {
                continue;
            };
            if conn.session != down.session {
                continue;
            }
            conn.subscribed.retain(|_, k| *k != key);
            if conn.pc.remove_track(down.sender).is_err() {
                continue;
            }
            if conn.negotiation.changed() {
                self.negotiate(now, down.conn);
            }
        }
        if let Some(recorder) = track.recorder.take() {
            self.finished_recordings.push(recorder);
        }
    }
}

/// A forwarded packet as a subscriber's leg sends it: its SSRC and payload type, no
/// header extensions; the payload's bytes are shared with the original.
fn leg_packet(packet: &rtp::Packet, ssrc: u32, payload_type: u8) -> rtp::Packet {
    let h = &packet.header;
    rtp::Packet {
        header: rtp::header::Header {
            version: h.version,
            padding: h.padding,
            marker: h.marker,
            payload_type,
            sequence_number: h.sequence_number,
            timestamp: h.timestamp,
            ssrc,
            csrc: h.csrc.clone(),
            ..Default::default()
        },
        payload: packet.payload.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::rtp::header::{Extension, Header};

    #[test]
    fn a_leg_packet_keeps_payload_and_sequence_and_drops_extensions() {
        let packet = rtp::Packet {
            header: Header {
                version: 2,
                marker: true,
                payload_type: 96,
                sequence_number: 4242,
                timestamp: 90_000,
                ssrc: 1,
                extension: true,
                extension_profile: 0xBEDE,
                extensions: vec![Extension {
                    id: 3,
                    payload: vec![1, 2].into(),
                }],
                ..Default::default()
            },
            payload: vec![9, 8, 7].into(),
        };
        let leg = leg_packet(&packet, 77, 100);
        assert_eq!(leg.header.ssrc, 77);
        assert_eq!(leg.header.payload_type, 100);
        assert_eq!(leg.header.sequence_number, 4242);
        assert_eq!(leg.header.timestamp, 90_000);
        assert!(leg.header.marker);
        assert!(!leg.header.extension);
        assert!(leg.header.extensions.is_empty());
        assert_eq!(&leg.payload[..], &[9, 8, 7]);
        // The payload is shared, not copied.
        assert_eq!(leg.payload.as_ptr(), packet.payload.as_ptr());
    }
}
