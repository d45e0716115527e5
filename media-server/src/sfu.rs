//! The SFU's public face: join, answer, leave, events and statistics.

use crate::config::SfuConfig;
use crate::error::SfuError;
use crate::forward::PublishedTrack;
use crate::negotiation::Negotiation;
use crate::peer::{self, Participant, PeerHandler};
use crate::ports::PortPool;
use crate::rooms::Rooms;
use crate::sample::RoomKind;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once};
use tokio::sync::{Notify, mpsc, watch};
use tracing::{debug, instrument, warn};
use webrtc::peer_connection::{
    PeerConnection, RTCIceCandidateInit, RTCIceGatheringState, RTCSessionDescription,
};

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
}

/// A selective forwarding unit: rooms of participants, each with one peer connection to the
/// SFU, whose published tracks are forwarded to every other participant of the room.
pub struct Sfu {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: SfuConfig,
    pub(crate) rooms: Arc<Mutex<Rooms<Arc<Participant>, Arc<PublishedTrack>>>>,
    /// Notified when a room empties: the closing task has a new deadline.
    emptied: Arc<Notify>,
    /// Starts the closing task, at the first room that empties.
    closer: Once,
    ports: Mutex<PortPool>,
    events: mpsc::UnboundedSender<SfuEvent>,
    events_rx: Mutex<Option<mpsc::UnboundedReceiver<SfuEvent>>>,
    pub(crate) forwarded: Arc<AtomicU64>,
    pub(crate) plis_sent: Arc<AtomicU64>,
    pub(crate) recorder_dropped: Arc<AtomicU64>,
    next_session: AtomicU64,
}

/// Locks a std mutex, ignoring poisoning (no lock here guards an invariant a panic breaks).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Sfu {
    /// An SFU with no rooms yet. Sockets are bound per connection, at join.
    pub fn new(config: SfuConfig) -> Result<Sfu, SfuError> {
        if config.media_ips.is_empty() {
            return Err(SfuError::Config("media_ips is empty"));
        }
        if config
            .udp_port_range
            .as_ref()
            .is_some_and(|r| r.is_empty() || *r.start() == 0)
        {
            return Err(SfuError::Config(
                "udp_port_range is empty or contains port 0",
            ));
        }
        let (events, events_rx) = mpsc::unbounded_channel();
        Ok(Sfu {
            inner: Arc::new(Inner {
                ports: Mutex::new(PortPool::new(config.udp_port_range.clone())),
                rooms: Arc::new(Mutex::new(Rooms::new(config.room_close_after))),
                emptied: Arc::new(Notify::new()),
                closer: Once::new(),
                config,
                events,
                events_rx: Mutex::new(Some(events_rx)),
                forwarded: Arc::new(AtomicU64::new(0)),
                plis_sent: Arc::new(AtomicU64::new(0)),
                recorder_dropped: Arc::new(AtomicU64::new(0)),
                next_session: AtomicU64::new(1),
            }),
        })
    }

    /// The stream of [`SfuEvent`]s, for the signaling layer. Only the first call gets it.
    pub fn take_events(&self) -> Option<mpsc::UnboundedReceiver<SfuEvent>> {
        lock(&self.inner.events_rx).take()
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
        offer_sdp: String,
    ) -> Result<String, SfuError> {
        let inner = &self.inner;
        {
            let rooms = lock(&inner.rooms);
            if rooms.kind(room).is_some_and(|k| k != kind) {
                return Err(SfuError::RoomKind);
            }
            if rooms.participant(room, participant).is_some() {
                return Err(SfuError::AlreadyJoined);
            }
        }
        let session = inner.next_session.fetch_add(1, Ordering::Relaxed);
        let (gathering, gathering_rx) = watch::channel(RTCIceGatheringState::New);
        let handler = Arc::new(PeerHandler {
            inner: Arc::downgrade(inner),
            room: room.to_owned(),
            kind,
            participant: participant.to_owned(),
            session,
            gathering,
        });
        let (pc, port) = inner.connect(handler).await?;
        let answer = match peer::answer_offer(&pc, offer_sdp, gathering_rx).await {
            Ok(answer) => answer,
            Err(err) => {
                inner.close_peer(&pc, port).await;
                return Err(err);
            }
        };
        let (answers, _) = watch::channel(0);
        let joined = Arc::new(Participant {
            id: participant.to_owned(),
            room: room.to_owned(),
            session,
            pc,
            port,
            negotiation: Mutex::new(Negotiation::default()),
            answers,
        });
        let existing = {
            let mut rooms = lock(&inner.rooms);
            rooms
                .join(room, kind, participant, Arc::clone(&joined))
                .map(|()| {
                    rooms
                        .get(room)
                        .map(|r| r.tracks.clone())
                        .unwrap_or_default()
                })
        };
        let Ok(existing) = existing else {
            // Someone joined with this id while this connection was being set up.
            inner.close_peer(&joined.pc, joined.port).await;
            return Err(SfuError::AlreadyJoined);
        };
        for track in existing {
            if let Err(err) = inner.subscribe(&joined, &track).await {
                warn!(%err, "could not subscribe the new participant to a track");
            }
        }
        debug!("joined");
        Ok(answer)
    }

    /// Applies `participant`'s answer to the SFU's last [`SfuEvent::Offer`].
    #[instrument(skip(self, answer_sdp))]
    pub async fn answer(
        &self,
        room: &str,
        participant: &str,
        answer_sdp: String,
    ) -> Result<(), SfuError> {
        let p = self.inner.participant(room, participant)?;
        if !lock(&p.negotiation).offer_outstanding() {
            return Err(SfuError::NoPendingOffer);
        }
        let description = RTCSessionDescription::answer(answer_sdp)?;
        if let Err(err) = p.pc.set_remote_description(description).await {
            lock(&p.negotiation).offer_failed();
            return Err(err.into());
        }
        p.answers.send_modify(|n| *n += 1);
        let again = lock(&p.negotiation)
            .answered()
            .map_err(|_| SfuError::NoPendingOffer)?;
        if again {
            self.inner.negotiate(&p).await;
        }
        Ok(())
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
        let p = self.inner.participant(room, participant)?;
        p.pc.add_ice_candidate(RTCIceCandidateInit {
            candidate,
            sdp_mid,
            sdp_mline_index,
            ..Default::default()
        })
        .await?;
        Ok(())
    }

    /// Removes `participant` from `room`: its connection closes, its tracks are removed
    /// from the others' connections. The room closes `room_close_after` after its last
    /// participant left ([`SfuEvent::RoomClosed`]).
    #[instrument(skip(self))]
    pub async fn leave(&self, room: &str, participant: &str) -> Result<(), SfuError> {
        self.inner.remove(room, participant, None).await
    }

    /// The recordings of `room` in [`SfuConfig::recordings`], sorted by path: files
    /// finished and files still being written (those can be played up to what has reached
    /// the disk, without Duration and Cues), including those of earlier runs. Empty when the
    /// SFU does not record or the room has no recording.
    ///
    /// A participant's recordings are finished when [`leave`](Self::leave) returns (and
    /// everyone's when [`shutdown`](Self::shutdown) does).
    pub fn recordings(&self, room: &str) -> Vec<PathBuf> {
        let Some(dir) = &self.inner.config.recordings else {
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
        let everyone: Vec<(String, String)> = {
            let rooms = lock(&self.inner.rooms);
            rooms
                .all_participants()
                .map(|(r, p)| (r.to_owned(), p.to_owned()))
                .collect()
        };
        for (room, participant) in everyone {
            let _ = self.inner.remove(&room, &participant, None).await;
        }
    }

    /// Counters and sizes, now.
    pub fn stats(&self) -> SfuStats {
        let (rooms, participants) = lock(&self.inner.rooms).counts();
        SfuStats {
            forwarded_packets: self.inner.forwarded.load(Ordering::Relaxed),
            plis_sent: self.inner.plis_sent.load(Ordering::Relaxed),
            recorder_dropped_packets: self.inner.recorder_dropped.load(Ordering::Relaxed),
            rooms,
            participants,
        }
    }
}

impl Inner {
    fn participant(&self, room: &str, participant: &str) -> Result<Arc<Participant>, SfuError> {
        lock(&self.rooms)
            .participant(room, participant)
            .cloned()
            .ok_or(SfuError::UnknownParticipant)
    }

    /// Builds a connection on the next free port, skipping ports something else holds.
    async fn connect(
        &self,
        handler: Arc<PeerHandler>,
    ) -> Result<(Arc<dyn PeerConnection>, u16), SfuError> {
        let attempts = lock(&self.ports).attempts();
        let mut last_err = SfuError::NoFreePort;
        for _ in 0..attempts {
            let Some(port) = lock(&self.ports).lease() else {
                break;
            };
            match peer::build(&self.config, port, Arc::clone(&handler)).await {
                Ok(pc) => return Ok((pc, port)),
                Err(err) => {
                    debug!(port, %err, "could not build a connection on this port");
                    lock(&self.ports).release(port);
                    last_err = err;
                }
            }
        }
        Err(last_err)
    }

    async fn close_peer(&self, pc: &Arc<dyn PeerConnection>, port: u16) {
        if let Err(err) = pc.close().await {
            debug!(%err, "closing a connection");
        }
        lock(&self.ports).release(port);
    }

    /// Creates an offer for `p` and emits it; on failure the change waits for the next one.
    pub(crate) async fn negotiate(&self, p: &Arc<Participant>) {
        let offer = async {
            let offer = p.pc.create_offer(None).await?;
            p.pc.set_local_description(offer).await?;
            p.pc.local_description()
                .await
                .ok_or_else(|| webrtc::error::Error::Other("no local description".to_owned()))
        }
        .await;
        match offer {
            Ok(local) => {
                let _ = self.events.send(SfuEvent::Offer {
                    room: p.room.clone(),
                    participant: p.id.clone(),
                    sdp: local.sdp,
                });
            }
            Err(err) => {
                warn!(%err, "could not create an offer");
                lock(&p.negotiation).offer_failed();
            }
        }
    }

    pub(crate) async fn on_connected(&self, room: &str, participant: &str, session: u64) {
        let Ok(p) = self.participant(room, participant) else {
            return;
        };
        if p.session != session {
            return;
        }
        let offer_now = lock(&p.negotiation).connected();
        if offer_now {
            self.negotiate(&p).await;
        }
    }

    pub(crate) async fn on_failed(self: Arc<Self>, room: &str, participant: &str, session: u64) {
        if self.remove(room, participant, Some(session)).await.is_ok() {
            let _ = self.events.send(SfuEvent::ConnectionFailed {
                room: room.to_owned(),
                participant: participant.to_owned(),
            });
        }
    }

    /// A room emptied: the closing task (started now if it is the first) takes its
    /// deadline into account.
    fn room_emptied(&self) {
        self.closer.call_once(|| {
            let (rooms, emptied) = (Arc::downgrade(&self.rooms), Arc::clone(&self.emptied));
            let events = self.events.clone();
            tokio::spawn(async move {
                crate::closer::close_empty_rooms(rooms, &emptied, |room| {
                    debug!(%room, "room closed");
                    let _ = events.send(SfuEvent::RoomClosed { room });
                })
                .await
            });
        });
        self.emptied.notify_one();
    }

    /// Removes a participant (only that join of it, when `session` is given).
    async fn remove(
        self: &Arc<Self>,
        room: &str,
        participant: &str,
        session: Option<u64>,
    ) -> Result<(), SfuError> {
        let (p, closes_at, tracks) = {
            let mut rooms = lock(&self.rooms);
            let current = rooms
                .participant(room, participant)
                .ok_or(SfuError::UnknownParticipant)?;
            if session.is_some_and(|s| s != current.session) {
                return Err(SfuError::UnknownParticipant);
            }
            let (p, closes_at) = rooms
                .leave(room, participant, tokio::time::Instant::now().into_std())
                .ok_or(SfuError::UnknownParticipant)?;
            let tracks = rooms
                .get(room)
                .map(|r| r.tracks.clone())
                .unwrap_or_default();
            (p, closes_at, tracks)
        };
        for track in &tracks {
            if track.publisher_session == p.session {
                self.unpublish(track).await;
            } else {
                track.drop_subscriber(p.session);
            }
        }
        self.close_peer(&p.pc, p.port).await;
        if closes_at.is_some() {
            self.room_emptied();
        }
        debug!("left");
        Ok(())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The closing task wakes up, finds the rooms gone and ends.
        self.emptied.notify_one();
    }
}
