//! The signaling hub: one per server. Each WebSocket connection is driven by
//! [`Hub::run`] over any `Stream` of text frames and `Sink` of replies (an axum socket in
//! production, channels in tests); the waiting room's rules live in
//! [`crate::waiting_room::Lobby`], media in whatever implements [`Media`], and who is who
//! in whatever implements [`Directory`].

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::mpsc;

use crate::messages::{ClientMsg, ServerMsg, WaitingEntry, parse};
use crate::waiting_room::{Lobby, Output, Refused, Standing, Timing};

/// An interview, as the signaling needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interview {
    /// The candidate's user id.
    pub candidate: String,
    /// The evaluator's user id.
    pub evaluator: String,
    /// The scheduled time (ms since the epoch).
    pub scheduled_at: i64,
    /// When its room opens (ms since the epoch); nobody joins before.
    pub opens_at: i64,
    /// Set once it is over.
    pub closed: Option<Closed>,
}

/// How an interview is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// It took place.
    Ended,
    /// It was cancelled.
    Cancelled,
    /// The candidate did not come.
    NoShow,
}

impl Closed {
    /// Its name in [`ServerMsg::Closed`].
    pub fn as_str(self) -> &'static str {
        match self {
            Closed::Ended => "ended",
            Closed::Cancelled => "cancelled",
            Closed::NoShow => "no_show",
        }
    }
}

/// A step of the interview the signaling reports to the directory, which stores it
/// (or refuses it) in the interview's persisted lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The candidate knocked at the waiting room.
    Arrived,
    /// The evaluator checked the candidate's identity document.
    IdChecked,
    /// The evaluator started the interview.
    Started,
    /// The evaluator ended it.
    Ended,
}

impl Step {
    /// The interview's state after the step, as [`ServerMsg::Interview`] names it.
    pub fn state(self) -> &'static str {
        match self {
            Step::Arrived => "waiting",
            Step::IdChecked => "id_checked",
            Step::Started => "in_progress",
            Step::Ended => "ended",
        }
    }
}

/// A step the lifecycle refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRefused {
    /// Machine-readable code (`wrong_order`, `ended`…).
    pub code: String,
    /// Explanation.
    pub message: String,
}

/// Who is who, and the media grants (implemented by the binary over the database).
pub trait Directory: Send + Sync + 'static {
    /// The interview with this id, if any.
    fn interview(&self, room: &str) -> impl Future<Output = Option<Interview>> + Send;
    /// The name the evaluator sees for a candidate.
    fn display_name(&self, user: &str) -> impl Future<Output = String> + Send;
    /// A media grant for `user` in `room` (a short-lived signed token).
    fn media_token(&self, user: &str, room: &str) -> String;
    /// Whether `token` is a valid media grant of `user` in `room`.
    fn check_media_token(&self, token: &str, user: &str, room: &str) -> bool;
    /// Applies a step of `user` to the interview's lifecycle and stores it; returns when
    /// the interview started, once it has.
    fn advance(
        &self,
        room: &str,
        user: &str,
        step: Step,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<i64>, StepRefused>> + Send;
}

/// The media server, as the signaling drives it.
pub trait Media: Send + Sync + 'static {
    /// A participant's complete SDP offer; returns the answer.
    fn offer(
        &self,
        room: &str,
        participant: &str,
        sdp: String,
    ) -> impl Future<Output = Result<String, String>> + Send;
    /// A participant's answer to a server offer.
    fn answer(
        &self,
        room: &str,
        participant: &str,
        sdp: String,
    ) -> impl Future<Output = Result<(), String>> + Send;
    /// The participant's media stops (left, removed, gone too long).
    fn leave(&self, room: &str, participant: &str) -> impl Future<Output = ()> + Send;
}

/// The signed-in user of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Their id.
    pub id: String,
}

/// Every live connection and room.
pub struct Hub<D, M> {
    directory: D,
    media: M,
    lobby: Mutex<Lobby>,
    senders: Mutex<HashMap<(String, String), mpsc::UnboundedSender<ServerMsg>>>,
}

impl<D, M> std::fmt::Debug for Hub<D, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hub")
    }
}

/// Locks a mutex, also after a panic elsewhere (the state stays usable).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn refusal(r: Refused) -> ServerMsg {
    let code = match r {
        Refused::NoRoom => "unknown_room",
        Refused::NotYourRoom | Refused::Refused => "forbidden",
        Refused::NotWaiting => "not_admitted",
        _ => "wrong_order",
    };
    ServerMsg::error(code, r.to_string())
}

impl<D: Directory, M: Media> Hub<D, M> {
    /// A hub over a directory and a media server.
    pub fn new(directory: D, media: M, timing: Timing) -> Self {
        Hub {
            directory,
            media,
            lobby: Mutex::new(Lobby::new(timing)),
            senders: Mutex::new(HashMap::new()),
        }
    }

    /// The media server.
    pub fn media(&self) -> &M {
        &self.media
    }

    /// Sends a message to a participant's connection, if they are connected.
    pub fn deliver(&self, room: &str, user: &str, msg: ServerMsg) {
        if let Some(tx) = lock(&self.senders).get(&(room.to_owned(), user.to_owned())) {
            let _ = tx.send(msg);
        }
    }

    /// Runs the waiting room's timers (expiry after 60 s, rejoin grace of 30 s); call it
    /// every second or so.
    pub async fn tick(&self, now: i64) {
        let outputs = lock(&self.lobby).handle_timeout(now);
        self.apply(outputs).await;
    }

    async fn apply(&self, outputs: Vec<Output>) {
        for o in outputs {
            match o {
                Output::WaitingList {
                    room,
                    list,
                    arrived,
                } => {
                    let mut entries = Vec::with_capacity(list.len());
                    for w in list {
                        entries.push(WaitingEntry {
                            name: w.name,
                            candidate: w.candidate,
                            scheduled_at: rfc3339(w.scheduled_at),
                            since: rfc3339(w.since),
                            connected: w.connected,
                        });
                    }
                    let evaluator = self.directory.interview(&room).await.map(|i| i.evaluator);
                    if let Some(ev) = evaluator {
                        self.deliver(
                            &room,
                            &ev,
                            ServerMsg::WaitingList {
                                room: room.clone(),
                                arrived,
                                list: entries,
                            },
                        );
                    }
                }
                Output::Wait {
                    room,
                    candidate,
                    scheduled_at,
                } => self.deliver(
                    &room,
                    &candidate,
                    ServerMsg::Waiting {
                        room: room.clone(),
                        scheduled_at: rfc3339(scheduled_at),
                    },
                ),
                Output::Admit { room, candidate } => {
                    let media_token = self.directory.media_token(&candidate, &room);
                    self.deliver(
                        &room,
                        &candidate,
                        ServerMsg::Admitted {
                            room: room.clone(),
                            media_token,
                        },
                    );
                }
                Output::Deny {
                    room,
                    candidate,
                    reason,
                } => self.deliver(
                    &room,
                    &candidate,
                    ServerMsg::Denied {
                        room: room.clone(),
                        reason,
                    },
                ),
                Output::Remove { room, candidate } => {
                    self.deliver(&room, &candidate, ServerMsg::Removed { room: room.clone() })
                }
                Output::Expired { room, candidate } => {
                    self.deliver(&room, &candidate, ServerMsg::Expired { room: room.clone() })
                }
                Output::RevokeMedia { room, candidate } => {
                    self.media.leave(&room, &candidate).await
                }
            }
        }
    }

    /// Handles one message of `user` (joined to `room` if `Some`); returns the room joined.
    async fn handle(
        &self,
        user: &User,
        room: &mut Option<String>,
        msg: ClientMsg,
        tx: &mpsc::UnboundedSender<ServerMsg>,
    ) {
        let now = now_ms();
        let reply = |m: ServerMsg| {
            let _ = tx.send(m);
        };
        let Some(r) = room.clone() else {
            let ClientMsg::Join { room: wanted } = msg else {
                return reply(ServerMsg::error("not_joined", "join a room first"));
            };
            let Some(interview) = self.directory.interview(&wanted).await else {
                return reply(ServerMsg::error("unknown_room", "no such interview"));
            };
            if user.id != interview.candidate && user.id != interview.evaluator {
                return reply(ServerMsg::error("forbidden", "this is not your interview"));
            }
            if let Some(closed) = interview.closed {
                return reply(ServerMsg::Closed {
                    room: wanted,
                    state: closed.as_str().to_owned(),
                });
            }
            if now < interview.opens_at {
                return reply(ServerMsg::NotOpen {
                    room: wanted,
                    opens_at: rfc3339(interview.opens_at),
                    scheduled_at: rfc3339(interview.scheduled_at),
                });
            }
            lock(&self.senders).insert((wanted.clone(), user.id.clone()), tx.clone());
            *room = Some(wanted.clone());
            lock(&self.lobby).open_room(&wanted, &interview.evaluator, interview.scheduled_at);
            match user.id == interview.evaluator {
                true => {
                    reply(ServerMsg::Joined {
                        room: wanted.clone(),
                        role: "evaluator".into(),
                        media_token: self.directory.media_token(&user.id, &wanted),
                    });
                    // The current waiting list.
                    let list = lock(&self.lobby).list_of(&wanted);
                    self.apply(list.into_iter().collect()).await;
                }
                false => {
                    let name = self.directory.display_name(&user.id).await;
                    let out = lock(&self.lobby).knock(
                        now,
                        &wanted,
                        &user.id,
                        &name,
                        interview.scheduled_at,
                    );
                    match out {
                        Ok(outputs) => {
                            // The arrival is part of the record (a second knock changes
                            // nothing); a refusal here cannot stop the knock.
                            let _ = self
                                .directory
                                .advance(&wanted, &user.id, Step::Arrived, now)
                                .await;
                            self.apply(outputs).await
                        }
                        Err(e) => reply(refusal(e)),
                    }
                }
            }
            return;
        };
        let Some(interview) = self.directory.interview(&r).await else {
            return reply(ServerMsg::error("unknown_room", "no such interview"));
        };
        let is_evaluator = user.id == interview.evaluator;
        match msg {
            ClientMsg::Join { .. } => reply(ServerMsg::error("wrong_order", "already in a room")),
            ClientMsg::Admit { candidate }
            | ClientMsg::Deny { candidate, .. }
            | ClientMsg::Remove { candidate }
                if !is_evaluator || candidate != interview.candidate =>
            {
                let _ = candidate;
                reply(ServerMsg::error(
                    "forbidden",
                    "only this interview's evaluator may do that, for its candidate",
                ))
            }
            ClientMsg::Admit { candidate } => {
                let out = lock(&self.lobby).admit(now, &user.id, &r, &candidate);
                match out {
                    Ok(o) => self.apply(o).await,
                    Err(e) => reply(refusal(e)),
                }
            }
            ClientMsg::Deny { candidate, reason } => {
                let out = lock(&self.lobby).deny(&user.id, &r, &candidate, &reason);
                match out {
                    Ok(o) => self.apply(o).await,
                    Err(e) => reply(refusal(e)),
                }
            }
            ClientMsg::Remove { candidate } => {
                let out = lock(&self.lobby).remove(&user.id, &r, &candidate);
                match out {
                    Ok(o) => self.apply(o).await,
                    Err(e) => reply(refusal(e)),
                }
            }
            ClientMsg::Offer { sdp, media_token } | ClientMsg::Answer { sdp, media_token }
                if !self.directory.check_media_token(&media_token, &user.id, &r) =>
            {
                let _ = sdp;
                reply(ServerMsg::error(
                    "forbidden",
                    "no valid media grant for this room",
                ))
            }
            ClientMsg::Offer { .. } | ClientMsg::Answer { .. }
                if !is_evaluator && !lock(&self.lobby).may_exchange_media(&r, &user.id) =>
            {
                reply(ServerMsg::error(
                    "not_admitted",
                    "media flows only once the evaluator has admitted you",
                ))
            }
            ClientMsg::Offer { .. } | ClientMsg::Answer { .. } if interview.closed.is_some() => {
                reply(ServerMsg::error("wrong_order", "the interview has ended"))
            }
            ClientMsg::Offer { sdp, .. } => match self.media.offer(&r, &user.id, sdp).await {
                // Admission may have been withdrawn while the media server was joining.
                Ok(_) if !is_evaluator && !self.may_media(&r, &user.id) => {
                    self.media.leave(&r, &user.id).await;
                    reply(ServerMsg::error(
                        "not_admitted",
                        "you are no longer admitted",
                    ))
                }
                Ok(answer) => reply(ServerMsg::Answer { sdp: answer }),
                Err(e) => reply(ServerMsg::error("media", e)),
            },
            ClientMsg::Answer { sdp, .. } => {
                if let Err(e) = self.media.answer(&r, &user.id, sdp).await {
                    reply(ServerMsg::error("media", e));
                }
            }
            ClientMsg::IdChecked | ClientMsg::Start | ClientMsg::End if !is_evaluator => reply(
                ServerMsg::error("forbidden", "only the evaluator runs the interview"),
            ),
            ClientMsg::IdChecked | ClientMsg::Start | ClientMsg::End => {
                let step = match msg {
                    ClientMsg::IdChecked => Step::IdChecked,
                    ClientMsg::Start => Step::Started,
                    _ => Step::Ended,
                };
                match self.directory.advance(&r, &user.id, step, now).await {
                    Ok(started) => {
                        let m = ServerMsg::Interview {
                            room: r.clone(),
                            state: step.state().to_owned(),
                            started_at: started.map(rfc3339),
                        };
                        self.deliver(&r, &interview.evaluator, m.clone());
                        if lock(&self.lobby).may_exchange_media(&r, &interview.candidate) {
                            self.deliver(&r, &interview.candidate, m);
                        }
                        if step == Step::Ended {
                            // The interview is over: its media stops (and recordings close).
                            self.media.leave(&r, &interview.candidate).await;
                            self.media.leave(&r, &interview.evaluator).await;
                        }
                    }
                    Err(why) => reply(ServerMsg::error(&why.code, why.message)),
                }
            }
            ClientMsg::Leave => {
                self.media.leave(&r, &user.id).await;
                self.disconnect(user, &r, tx).await;
                *room = None;
            }
        }
    }

    /// A connection of `user` in `room` closed (or left). A newer connection of the same
    /// user (a reload) has replaced it in the map: then nothing else changes.
    async fn disconnect(&self, user: &User, room: &str, tx: &mpsc::UnboundedSender<ServerMsg>) {
        {
            let mut senders = lock(&self.senders);
            let key = (room.to_owned(), user.id.clone());
            match senders.get(&key) {
                Some(current) if current.same_channel(tx) => {
                    senders.remove(&key);
                }
                _ => return,
            }
        }
        if self
            .directory
            .interview(room)
            .await
            .is_some_and(|i| i.evaluator == user.id)
        {
            // The evaluator's media stops with their connection (a reload re-offers).
            self.media.leave(room, &user.id).await;
        }
        let out = lock(&self.lobby).disconnect(now_ms(), room, &user.id);
        self.apply(out).await;
    }

    /// Drives one connection until it closes: text frames in, replies out.
    pub async fn run<S, E>(
        &self,
        user: User,
        mut incoming: S,
        mut outgoing: impl Sink<String, Error = E> + Unpin,
    ) where
        S: Stream<Item = String> + Unpin,
    {
        let (tx, mut rx) = mpsc::unbounded_channel::<ServerMsg>();
        let mut room: Option<String> = None;
        loop {
            tokio::select! {
                frame = incoming.next() => match frame {
                    Some(text) => match parse(&text) {
                        Ok(msg) => self.handle(&user, &mut room, msg, &tx).await,
                        Err(e) => { let _ = tx.send(ServerMsg::error(e.code(), e.to_string())); }
                    },
                    None => break,
                },
                Some(msg) = rx.recv() => {
                    if outgoing.send(msg.to_text()).await.is_err() {
                        break;
                    }
                }
            }
        }
        if let Some(r) = room {
            self.disconnect(&user, &r, &tx).await;
        }
    }

    fn may_media(&self, room: &str, user: &str) -> bool {
        lock(&self.lobby).may_exchange_media(room, user)
    }

    /// The interview `room` was closed outside the room (its evaluator's closing): both
    /// sides are told, and their media stops.
    pub async fn closed(&self, room: &str) {
        let Some(interview) = self.directory.interview(room).await else {
            return;
        };
        let Some(closed) = interview.closed else {
            return;
        };
        let msg = ServerMsg::Closed {
            room: room.to_owned(),
            state: closed.as_str().to_owned(),
        };
        self.deliver(room, &interview.candidate, msg.clone());
        self.deliver(room, &interview.evaluator, msg);
        self.media.leave(room, &interview.candidate).await;
        self.media.leave(room, &interview.evaluator).await;
    }

    /// The standing of a candidate (for tests and pages).
    pub fn standing(&self, room: &str, candidate: &str) -> Option<Standing> {
        lock(&self.lobby).standing(room, candidate).cloned()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    /// An in-memory directory: one interview, tokens "grant:<user>:<room>", and the
    /// lifecycle's order of steps (id checked → started → ended).
    #[derive(Default)]
    struct Dir(Mutex<Vec<Step>>);

    impl Directory for Dir {
        async fn interview(&self, room: &str) -> Option<Interview> {
            let ended = self.0.lock().unwrap().contains(&Step::Ended);
            (room == "room-1").then(|| Interview {
                candidate: "cand".into(),
                evaluator: "eval".into(),
                scheduled_at: 0,
                opens_at: 0,
                closed: ended.then_some(Closed::Ended),
            })
        }
        async fn display_name(&self, user: &str) -> String {
            format!("Name of {user}")
        }
        fn media_token(&self, user: &str, room: &str) -> String {
            format!("grant:{user}:{room}")
        }
        fn check_media_token(&self, token: &str, user: &str, room: &str) -> bool {
            token == format!("grant:{user}:{room}")
        }
        async fn advance(
            &self,
            _room: &str,
            _user: &str,
            step: Step,
            now_ms: i64,
        ) -> Result<Option<i64>, StepRefused> {
            let mut done = self.0.lock().unwrap();
            let before = match step {
                Step::Arrived => return Ok(None),
                Step::IdChecked => None,
                Step::Started => Some(Step::IdChecked),
                Step::Ended => Some(Step::Started),
            };
            if done.contains(&step) || before.is_some_and(|b| done.last() != Some(&b)) {
                return Err(StepRefused {
                    code: "wrong_order".into(),
                    message: "not now".into(),
                });
            }
            done.push(step);
            Ok(done.contains(&Step::Started).then_some(now_ms))
        }
    }

    /// Records what reaches the media server.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    impl Media for Arc<Recorder> {
        async fn offer(
            &self,
            room: &str,
            participant: &str,
            _sdp: String,
        ) -> Result<String, String> {
            self.0
                .lock()
                .unwrap()
                .push(format!("offer {room} {participant}"));
            Ok("v=0 answer".into())
        }
        async fn answer(&self, room: &str, participant: &str, _sdp: String) -> Result<(), String> {
            self.0
                .lock()
                .unwrap()
                .push(format!("answer {room} {participant}"));
            Ok(())
        }
        async fn leave(&self, room: &str, participant: &str) {
            self.0
                .lock()
                .unwrap()
                .push(format!("leave {room} {participant}"));
        }
    }

    struct Client {
        tx: mpsc::UnboundedSender<String>,
        rx: mpsc::UnboundedReceiver<String>,
    }

    impl Client {
        fn send(&self, text: &str) {
            self.tx.send(text.to_owned()).unwrap();
        }

        async fn next(&mut self) -> ServerMsg {
            let text = tokio::time::timeout(Duration::from_secs(5), self.rx.recv())
                .await
                .expect("a reply")
                .expect("open");
            serde_json::from_str(&text).unwrap()
        }

        /// The next message of a type, skipping others.
        async fn expect(&mut self, wanted: &str) -> ServerMsg {
            loop {
                let m = self.next().await;
                let json = serde_json::to_value(&m).unwrap();
                if json["type"] == wanted {
                    return m;
                }
            }
        }
    }

    type TestHub = Hub<Dir, Arc<Recorder>>;

    fn connect(hub: &Arc<TestHub>, user: &str) -> Client {
        let (in_tx, in_rx) = mpsc::unbounded_channel::<String>();
        let (out_tx, out_rx) = mpsc::unbounded_channel::<String>();
        let incoming = futures_util::stream::unfold(in_rx, |mut rx| async move {
            rx.recv().await.map(|m| (m, rx))
        });
        let outgoing = futures_util::sink::unfold(out_tx, |tx, m: String| async move {
            tx.send(m).map_err(|_| ())?;
            Ok::<_, ()>(tx)
        });
        let hub = hub.clone();
        let user = User {
            id: user.to_owned(),
        };
        tokio::spawn(async move { hub.run(user, Box::pin(incoming), Box::pin(outgoing)).await });
        Client {
            tx: in_tx,
            rx: out_rx,
        }
    }

    fn hub() -> (Arc<TestHub>, Arc<Recorder>) {
        let rec = Arc::new(Recorder::default());
        (
            Arc::new(Hub::new(Dir::default(), rec.clone(), Timing::default())),
            rec,
        )
    }

    #[tokio::test]
    async fn knock_admit_then_media() {
        let (hub, rec) = hub();
        let mut cand = connect(&hub, "cand");
        cand.send(r#"{"type":"join","room":"room-1"}"#);
        assert!(matches!(cand.next().await, ServerMsg::Waiting { .. }));
        // Waiting: an offer, even with a well-formed token, is refused and reaches nothing.
        cand.send(r#"{"type":"offer","sdp":"v=0 x","media_token":"grant:cand:room-1"}"#);
        assert!(
            matches!(cand.next().await, ServerMsg::Error { code, .. } if code == "not_admitted")
        );
        let mut eval = connect(&hub, "eval");
        eval.send(r#"{"type":"join","room":"room-1"}"#);
        let ServerMsg::Joined { media_token, .. } = eval.expect("joined").await else {
            unreachable!()
        };
        let ServerMsg::WaitingList { list, .. } = eval.expect("waiting_list").await else {
            unreachable!()
        };
        assert_eq!(list[0].candidate, "cand");
        assert_eq!(list[0].name, "Name of cand");
        eval.send(&format!(
            r#"{{"type":"offer","sdp":"v=0 e","media_token":"{media_token}"}}"#
        ));
        assert!(matches!(
            eval.expect("answer").await,
            ServerMsg::Answer { .. }
        ));
        eval.send(r#"{"type":"admit","candidate":"cand"}"#);
        let ServerMsg::Admitted { media_token, .. } = cand.expect("admitted").await else {
            unreachable!()
        };
        cand.send(&format!(
            r#"{{"type":"offer","sdp":"v=0 c","media_token":"{media_token}"}}"#
        ));
        assert!(matches!(
            cand.expect("answer").await,
            ServerMsg::Answer { .. }
        ));
        assert_eq!(
            *rec.0.lock().unwrap(),
            ["offer room-1 eval", "offer room-1 cand"]
        );
    }

    #[tokio::test]
    async fn forged_grants_wrong_roles_and_bad_order_are_refused() {
        let (hub, rec) = hub();
        let mut cand = connect(&hub, "cand");
        cand.send(r#"{"type":"start"}"#);
        assert!(matches!(cand.next().await, ServerMsg::Error { code, .. } if code == "not_joined"));
        cand.send("{not json");
        assert!(matches!(cand.next().await, ServerMsg::Error { code, .. } if code == "malformed"));
        let mut stranger = connect(&hub, "someone");
        stranger.send(r#"{"type":"join","room":"room-1"}"#);
        assert!(
            matches!(stranger.next().await, ServerMsg::Error { code, .. } if code == "forbidden")
        );
        stranger.send(r#"{"type":"join","room":"room-9"}"#);
        assert!(
            matches!(stranger.next().await, ServerMsg::Error { code, .. } if code == "unknown_room")
        );
        cand.send(r#"{"type":"join","room":"room-1"}"#);
        cand.expect("waiting").await;
        // A candidate cannot admit themself nor run the interview.
        cand.send(r#"{"type":"admit","candidate":"cand"}"#);
        assert!(matches!(cand.next().await, ServerMsg::Error { code, .. } if code == "forbidden"));
        cand.send(r#"{"type":"id_checked"}"#);
        assert!(matches!(cand.next().await, ServerMsg::Error { code, .. } if code == "forbidden"));
        let mut eval = connect(&hub, "eval");
        eval.send(r#"{"type":"join","room":"room-1"}"#);
        eval.expect("waiting_list").await;
        eval.send(r#"{"type":"admit","candidate":"cand"}"#);
        cand.expect("admitted").await;
        // A forged token is refused.
        cand.send(r#"{"type":"offer","sdp":"v=0 c","media_token":"grant:eval:room-1"}"#);
        assert!(matches!(cand.next().await, ServerMsg::Error { code, .. } if code == "forbidden"));
        // The interview's steps in order only.
        eval.send(r#"{"type":"start"}"#);
        assert!(
            matches!(eval.expect("error").await, ServerMsg::Error { code, .. } if code == "wrong_order")
        );
        eval.send(r#"{"type":"id_checked"}"#);
        assert!(
            matches!(eval.expect("interview").await, ServerMsg::Interview { state, .. } if state == "id_checked")
        );
        eval.send(r#"{"type":"start"}"#);
        assert!(
            matches!(cand.expect("interview").await, ServerMsg::Interview { state, .. } if state == "id_checked")
        );
        assert!(
            matches!(cand.expect("interview").await, ServerMsg::Interview { state, started_at: Some(_), .. } if state == "in_progress")
        );
        assert!(
            rec.0.lock().unwrap().is_empty(),
            "nothing reached the media server"
        );
    }

    #[tokio::test]
    async fn a_denied_candidate_gets_the_reason_and_no_media() {
        let (hub, rec) = hub();
        let mut cand = connect(&hub, "cand");
        cand.send(r#"{"type":"join","room":"room-1"}"#);
        cand.expect("waiting").await;
        let mut eval = connect(&hub, "eval");
        eval.send(r#"{"type":"join","room":"room-1"}"#);
        eval.expect("waiting_list").await;
        eval.send(r#"{"type":"deny","candidate":"cand","reason":"Wrong day"}"#);
        assert!(
            matches!(cand.expect("denied").await, ServerMsg::Denied { reason, .. } if reason == "Wrong day")
        );
        cand.send(r#"{"type":"offer","sdp":"v=0 c","media_token":"grant:cand:room-1"}"#);
        assert!(
            matches!(cand.next().await, ServerMsg::Error { code, .. } if code == "not_admitted")
        );
        assert!(rec.0.lock().unwrap().is_empty());
    }
}
