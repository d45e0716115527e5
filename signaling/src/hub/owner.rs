//! The hub's owner task: the only holder of the waiting rooms, the connections and the
//! joined rooms' interviews. Its methods never await and never read a clock: `now` comes
//! from [`drive`], and whatever is slow (the directory, the media server) is spawned and
//! comes back as an [`Outcome`].

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::{
    Clock, ConnId, Directory, Input, Interview, Media, Seat, Step, StepRefused, Timing, Turn,
};
use crate::messages::{ClientMsg, ServerMsg, WaitingEntry};
use crate::waiting_room::{Lobby, Output, Refused};

/// The result of work the owner spawned.
pub(super) enum Outcome {
    /// A join's interview (and, for its candidate, their name) was read.
    Looked {
        conn: ConnId,
        room: String,
        seq: u64,
        interview: Option<Interview>,
        name: Option<String>,
        turn: Turn,
    },
    /// A candidate's arrival was stored: their knock's outputs may go out.
    Arrived {
        room: String,
        outputs: Vec<Output>,
        turn: Turn,
    },
    /// A step was stored (or refused); the interview as read after it.
    Stepped {
        conn: ConnId,
        room: String,
        step: Step,
        seq: u64,
        result: Result<Option<i64>, StepRefused>,
        interview: Option<Interview>,
        turn: Turn,
    },
    /// The media server answered a participant's offer.
    Offered {
        conn: ConnId,
        room: String,
        user: String,
        seat: Option<Seat>,
        result: Result<String, String>,
        turn: Turn,
    },
    /// The media server took (or refused) a participant's answer.
    Answered {
        conn: ConnId,
        result: Result<(), String>,
        turn: Turn,
    },
    /// The interview of a room closed elsewhere, as read.
    RoomLooked {
        room: String,
        seq: u64,
        interview: Option<Interview>,
    },
}

/// Runs the owner until every [`super::Hub`] handle is gone: one input, outcome or
/// timeout at a time, sleeping in between until the waiting room's next deadline.
pub(super) async fn drive<D: Directory, M: Media>(
    directory: Arc<D>,
    media: Arc<M>,
    timing: Timing,
    mut inputs: mpsc::UnboundedReceiver<Input>,
    clock: impl Clock,
) {
    let (outcomes_tx, mut outcomes) = mpsc::unbounded_channel();
    let mut owner = Owner {
        directory,
        media,
        lobby: Lobby::new(timing),
        conns: HashMap::new(),
        seats: HashMap::new(),
        rooms: HashMap::new(),
        seq: 0,
        outcomes: outcomes_tx,
    };
    loop {
        let wake = owner
            .lobby
            .poll_timeout()
            .map(|at| Duration::from_millis(at.saturating_sub(clock.epoch_ms()).max(0) as u64));
        tokio::select! {
            input = inputs.recv() => match input {
                Some(input) => owner.input(clock.epoch_ms(), input),
                None => return,
            },
            Some(outcome) = outcomes.recv() => owner.outcome(clock.epoch_ms(), outcome),
            () = tokio::time::sleep(wake.unwrap_or_default()), if wake.is_some() => {
                owner.timeout(clock.epoch_ms())
            }
        }
    }
}

/// One connection.
struct Conn {
    user: String,
    tx: mpsc::UnboundedSender<ServerMsg>,
    /// The room joined, once the join succeeded.
    room: Option<String>,
}

/// The interview of a joined room, as last read (`seq` orders the reads).
struct Cached {
    seq: u64,
    interview: Interview,
}

/// Every room and connection of the hub.
struct Owner<D, M> {
    directory: Arc<D>,
    media: Arc<M>,
    lobby: Lobby,
    conns: HashMap<ConnId, Conn>,
    /// The connection that speaks for a participant of a room (the latest one: a reload
    /// replaces the previous).
    seats: HashMap<(String, String), ConnId>,
    /// The interview of each room someone is joined to.
    rooms: HashMap<String, Cached>,
    /// The number of the last read of an interview spawned.
    seq: u64,
    outcomes: mpsc::UnboundedSender<Outcome>,
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
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

impl<D: Directory, M: Media> Owner<D, M> {
    fn input(&mut self, now: i64, input: Input) {
        match input {
            Input::Connected { conn, user, tx } => {
                self.conns.insert(
                    conn,
                    Conn {
                        user,
                        tx,
                        room: None,
                    },
                );
            }
            Input::Frame { conn, msg, turn } => self.frame(now, conn, msg, turn),
            Input::Closed { conn } => {
                self.disconnect(now, conn);
                self.conns.remove(&conn);
            }
            Input::RoomClosed { room } => {
                let seq = self.next_seq();
                let directory = self.directory.clone();
                self.spawn(async move {
                    let interview = directory.interview(&room).await;
                    Outcome::RoomLooked {
                        room,
                        seq,
                        interview,
                    }
                });
            }
            Input::MediaOffer {
                room,
                participant,
                sdp,
            } => self.deliver(&room, &participant, ServerMsg::Offer { sdp }),
        }
    }

    fn timeout(&mut self, now: i64) {
        let outputs = self.lobby.handle_timeout(now);
        self.apply(now, outputs);
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Runs slow work off the loop; its outcome comes back as an input.
    fn spawn(&self, work: impl Future<Output = Outcome> + Send + 'static) {
        let outcomes = self.outcomes.clone();
        tokio::spawn(async move {
            let _ = outcomes.send(work.await);
        });
    }

    /// Stops a participant's media, off the loop; `turn` (if any) ends with it.
    fn leave(&self, room: &str, participant: &str, turn: Option<Turn>) {
        let (media, room, participant) =
            (self.media.clone(), room.to_owned(), participant.to_owned());
        tokio::spawn(async move {
            media.leave(&room, &participant).await;
            drop(turn);
        });
    }

    fn reply(&self, conn: ConnId, msg: ServerMsg) {
        if let Some(c) = self.conns.get(&conn) {
            let _ = c.tx.send(msg);
        }
    }

    /// Sends a message to a participant's connection, if they are connected.
    fn deliver(&self, room: &str, user: &str, msg: ServerMsg) {
        if let Some(conn) = self.seats.get(&(room.to_owned(), user.to_owned())) {
            self.reply(*conn, msg);
        }
    }

    /// Keeps the freshest read of a room's interview (reads finish in any order) and
    /// returns it; `None` when this read found nothing and nothing is known.
    fn refresh(&mut self, room: &str, seq: u64, read: Option<Interview>) -> Option<Interview> {
        match (self.rooms.get(room), read) {
            (Some(c), read) if c.seq > seq || read.is_none() => Some(c.interview.clone()),
            (_, Some(interview)) => {
                self.rooms.insert(
                    room.to_owned(),
                    Cached {
                        seq,
                        interview: interview.clone(),
                    },
                );
                Some(interview)
            }
            (_, None) => None,
        }
    }

    /// Forgets a room's interview once no connection is joined to it.
    fn forget_if_unused(&mut self, room: &str) {
        if !self.conns.values().any(|c| c.room.as_deref() == Some(room)) {
            self.rooms.remove(room);
        }
    }

    /// A media grant for `user` in `room`, or the error the client gets instead.
    /// A media grant and the TURN servers that go with it.
    fn grant(
        &self,
        now: i64,
        room: &str,
        user: &str,
        seat: Seat,
    ) -> Result<(String, Vec<crate::turn::IceServer>), ServerMsg> {
        self.directory
            .media_token(user, seat, room, now)
            .map(|token| (token, self.directory.ice_servers(now)))
            .map_err(|e| ServerMsg::error("unavailable", format!("{e}; join again in a moment")))
    }

    fn frame(&mut self, now: i64, conn: ConnId, msg: ClientMsg, turn: Turn) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let user = c.user.clone();
        let Some(room) = c.room.clone() else {
            let ClientMsg::Join { room } = msg else {
                return self.reply(conn, ServerMsg::error("not_joined", "join a room first"));
            };
            return self.look_up(conn, user, room, turn);
        };
        let Some(interview) = self.rooms.get(&room).map(|c| c.interview.clone()) else {
            return self.reply(conn, ServerMsg::error("unknown_room", "no such interview"));
        };
        let seat = interview.seat(&user);
        let is_evaluator = seat == Some(Seat::Evaluator);
        match msg {
            ClientMsg::Join { .. } => {
                self.reply(conn, ServerMsg::error("wrong_order", "already in a room"))
            }
            ClientMsg::Admit { candidate }
            | ClientMsg::Deny { candidate, .. }
            | ClientMsg::Remove { candidate }
                if !is_evaluator || candidate != interview.candidate =>
            {
                let _ = candidate;
                self.reply(
                    conn,
                    ServerMsg::error(
                        "forbidden",
                        "only this interview's evaluator may do that, for its candidate",
                    ),
                )
            }
            ClientMsg::Admit { candidate } => {
                let out = self.lobby.admit(now, &user, &room, &candidate);
                self.apply_or_refuse(now, conn, out)
            }
            ClientMsg::Deny { candidate, reason } => {
                let out = self.lobby.deny(&user, &room, &candidate, &reason);
                self.apply_or_refuse(now, conn, out)
            }
            ClientMsg::Remove { candidate } => {
                let out = self.lobby.remove(&user, &room, &candidate);
                self.apply_or_refuse(now, conn, out)
            }
            ClientMsg::Offer { sdp, media_token } | ClientMsg::Answer { sdp, media_token }
                if !self.directory.check_media_token(&media_token, &user, &room) =>
            {
                let _ = sdp;
                self.reply(
                    conn,
                    ServerMsg::error("forbidden", "no valid media grant for this room"),
                )
            }
            ClientMsg::Offer { .. } | ClientMsg::Answer { .. }
                if !is_evaluator && !self.lobby.may_exchange_media(&room, &user) =>
            {
                self.reply(
                    conn,
                    ServerMsg::error(
                        "not_admitted",
                        "media flows only once the evaluator has admitted you",
                    ),
                )
            }
            ClientMsg::Offer { .. } | ClientMsg::Answer { .. } if interview.closed.is_some() => {
                self.reply(
                    conn,
                    ServerMsg::error("wrong_order", "the interview has ended"),
                )
            }
            ClientMsg::Offer { sdp, .. } => {
                let media = self.media.clone();
                self.spawn(async move {
                    let result = media
                        .offer(&room, &user, sdp)
                        .await
                        .map_err(|e| e.to_string());
                    Outcome::Offered {
                        conn,
                        room,
                        user,
                        seat,
                        result,
                        turn,
                    }
                })
            }
            ClientMsg::Answer { sdp, .. } => {
                let media = self.media.clone();
                self.spawn(async move {
                    let result = media
                        .answer(&room, &user, sdp)
                        .await
                        .map_err(|e| e.to_string());
                    Outcome::Answered { conn, result, turn }
                })
            }
            ClientMsg::IdChecked | ClientMsg::Start | ClientMsg::End if !is_evaluator => self
                .reply(
                    conn,
                    ServerMsg::error("forbidden", "only the evaluator runs the interview"),
                ),
            ClientMsg::IdChecked | ClientMsg::Start | ClientMsg::End => {
                let step = match msg {
                    ClientMsg::IdChecked => Step::IdChecked,
                    ClientMsg::Start => Step::Started,
                    _ => Step::Ended,
                };
                let seq = self.next_seq();
                let directory = self.directory.clone();
                self.spawn(async move {
                    let result = directory.advance(&room, &user, step, now).await;
                    let interview = directory.interview(&room).await;
                    Outcome::Stepped {
                        conn,
                        room,
                        step,
                        seq,
                        result,
                        interview,
                        turn,
                    }
                })
            }
            ClientMsg::Leave => {
                self.leave(&room, &user, Some(turn));
                self.disconnect(now, conn);
            }
        }
    }

    /// A join: the interview (and the candidate's name) is read off the loop.
    fn look_up(&mut self, conn: ConnId, user: String, room: String, turn: Turn) {
        let seq = self.next_seq();
        let directory = self.directory.clone();
        self.spawn(async move {
            let interview = directory.interview(&room).await;
            let name = match &interview {
                Some(i) if i.candidate == user => Some(directory.display_name(&user).await),
                _ => None,
            };
            Outcome::Looked {
                conn,
                room,
                seq,
                interview,
                name,
                turn,
            }
        });
    }

    fn outcome(&mut self, now: i64, outcome: Outcome) {
        match outcome {
            Outcome::Looked {
                conn,
                room,
                seq,
                interview,
                name,
                turn,
            } => {
                let interview = self.refresh(&room, seq, interview);
                self.join(now, conn, room, interview, name, turn);
            }
            Outcome::Arrived {
                room,
                outputs,
                turn,
            } => {
                // The lists may have changed while the arrival was stored: send the current one.
                let outputs = outputs
                    .into_iter()
                    .map(|o| match o {
                        Output::WaitingList { arrived, .. } => match self.lobby.list_of(&room) {
                            Some(Output::WaitingList { room, list, .. }) => Output::WaitingList {
                                room,
                                list,
                                arrived,
                            },
                            other => other.unwrap_or(o),
                        },
                        o => o,
                    })
                    .collect();
                self.apply(now, outputs);
                drop(turn);
            }
            Outcome::Stepped {
                conn,
                room,
                step,
                seq,
                result,
                interview,
                turn,
            } => {
                let interview = self.refresh(&room, seq, interview);
                self.stepped(conn, &room, step, result, interview);
                drop(turn);
            }
            Outcome::Offered {
                conn,
                room,
                user,
                seat,
                result,
                turn,
            } => match result {
                // Admission may have been withdrawn while the media server was joining.
                Ok(_)
                    if seat != Some(Seat::Evaluator)
                        && !self.lobby.may_exchange_media(&room, &user) =>
                {
                    self.leave(&room, &user, Some(turn));
                    self.reply(
                        conn,
                        ServerMsg::error("not_admitted", "you are no longer admitted"),
                    );
                }
                Ok(sdp) => self.reply(conn, ServerMsg::Answer { sdp }),
                Err(e) => self.reply(conn, ServerMsg::error("media", e)),
            },
            Outcome::Answered { conn, result, turn } => {
                if let Err(e) = result {
                    self.reply(conn, ServerMsg::error("media", e));
                }
                drop(turn);
            }
            Outcome::RoomLooked {
                room,
                seq,
                interview,
            } => {
                let interview = self.refresh(&room, seq, interview);
                self.room_closed(&room, interview);
                self.forget_if_unused(&room);
            }
        }
    }

    /// A join's interview is known: the connection takes its seat, or is told why not.
    fn join(
        &mut self,
        now: i64,
        conn: ConnId,
        room: String,
        interview: Option<Interview>,
        name: Option<String>,
        turn: Turn,
    ) {
        let Some(c) = self.conns.get(&conn) else {
            // The connection closed meanwhile.
            return;
        };
        let user = c.user.clone();
        let Some(interview) = interview else {
            return self.reply(conn, ServerMsg::error("unknown_room", "no such interview"));
        };
        let Some(seat) = interview.seat(&user) else {
            self.forget_if_unused(&room);
            return self.reply(
                conn,
                ServerMsg::error("forbidden", "this is not your interview"),
            );
        };
        if let Some(closed) = interview.closed {
            self.forget_if_unused(&room);
            return self.reply(
                conn,
                ServerMsg::Closed {
                    room,
                    state: closed.as_str().to_owned(),
                },
            );
        }
        if now < interview.opens_at {
            self.forget_if_unused(&room);
            return self.reply(
                conn,
                ServerMsg::NotOpen {
                    room,
                    opens_at: rfc3339(interview.opens_at),
                    scheduled_at: rfc3339(interview.scheduled_at),
                },
            );
        }
        let media_token = match seat {
            Seat::Evaluator => match self.grant(now, &room, &user, seat) {
                Ok(token) => Some(token),
                Err(refused) => {
                    self.forget_if_unused(&room);
                    return self.reply(conn, refused);
                }
            },
            Seat::Candidate => None,
        };
        self.seats.insert((room.clone(), user.clone()), conn);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.room = Some(room.clone());
        }
        self.lobby
            .open_room(&room, &interview.evaluator, interview.scheduled_at);
        match media_token {
            Some((media_token, ice_servers)) => {
                self.reply(
                    conn,
                    ServerMsg::Joined {
                        room: room.clone(),
                        role: "evaluator".into(),
                        media_token,
                        ice_servers,
                    },
                );
                // The current waiting list.
                let list = self.lobby.list_of(&room);
                self.apply(now, list.into_iter().collect());
            }
            None => {
                let name = name.unwrap_or_default();
                match self
                    .lobby
                    .knock(now, &room, &user, &name, interview.scheduled_at)
                {
                    Ok(outputs) => {
                        // The arrival is part of the record (a second knock changes
                        // nothing), stored before the evaluator hears of it; a refusal
                        // here cannot stop the knock.
                        let directory = self.directory.clone();
                        self.spawn(async move {
                            let _ = directory.advance(&room, &user, Step::Arrived, now).await;
                            Outcome::Arrived {
                                room,
                                outputs,
                                turn,
                            }
                        });
                    }
                    Err(e) => self.reply(conn, refusal(e)),
                }
            }
        }
    }

    /// A step was stored (or refused): both sides are told, and the media stops at the end.
    fn stepped(
        &mut self,
        conn: ConnId,
        room: &str,
        step: Step,
        result: Result<Option<i64>, StepRefused>,
        interview: Option<Interview>,
    ) {
        let started = match result {
            Ok(started) => started,
            Err(why) => return self.reply(conn, ServerMsg::error(&why.code, why.message)),
        };
        let Some(interview) = interview else {
            return;
        };
        let m = ServerMsg::Interview {
            room: room.to_owned(),
            state: step.state().to_owned(),
            started_at: started.map(rfc3339),
        };
        self.deliver(room, &interview.evaluator, m.clone());
        if self.lobby.may_exchange_media(room, &interview.candidate) {
            self.deliver(room, &interview.candidate, m);
        }
        if step == Step::Ended {
            // The interview is over: its media stops (and recordings close).
            self.leave(room, &interview.candidate, None);
            self.leave(room, &interview.evaluator, None);
        }
    }

    /// The interview was closed elsewhere: both sides are told, and their media stops.
    fn room_closed(&mut self, room: &str, interview: Option<Interview>) {
        let Some(interview) = interview else {
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
        self.leave(room, &interview.candidate, None);
        self.leave(room, &interview.evaluator, None);
    }

    /// A connection closed or left its room. A newer connection of the same user (a
    /// reload) may have taken its seat: then nothing else changes.
    fn disconnect(&mut self, now: i64, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let Some(room) = c.room.take() else {
            return;
        };
        let user = c.user.clone();
        let key = (room.clone(), user.clone());
        if self.seats.get(&key) == Some(&conn) {
            self.seats.remove(&key);
            if self
                .rooms
                .get(&room)
                .is_some_and(|c| c.interview.evaluator == user)
            {
                // The evaluator's media stops with their connection (a reload re-offers).
                self.leave(&room, &user, None);
            }
            let outputs = self.lobby.disconnect(now, &room, &user);
            self.apply(now, outputs);
        }
        self.forget_if_unused(&room);
    }

    fn apply_or_refuse(&mut self, now: i64, conn: ConnId, out: Result<Vec<Output>, Refused>) {
        match out {
            Ok(outputs) => self.apply(now, outputs),
            Err(e) => self.reply(conn, refusal(e)),
        }
    }

    fn apply(&mut self, now: i64, outputs: Vec<Output>) {
        for o in outputs {
            match o {
                Output::WaitingList {
                    room,
                    list,
                    arrived,
                } => {
                    let Some(evaluator) =
                        self.rooms.get(&room).map(|c| c.interview.evaluator.clone())
                    else {
                        // Nobody is joined to the room: nobody to tell.
                        continue;
                    };
                    let list = list
                        .into_iter()
                        .map(|w| WaitingEntry {
                            name: w.name,
                            candidate: w.candidate,
                            scheduled_at: rfc3339(w.scheduled_at),
                            since: rfc3339(w.since),
                            connected: w.connected,
                        })
                        .collect();
                    self.deliver(
                        &room,
                        &evaluator,
                        ServerMsg::WaitingList {
                            room: room.clone(),
                            arrived,
                            list,
                        },
                    );
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
                    let msg = match self.grant(now, &room, &candidate, Seat::Candidate) {
                        Ok((media_token, ice_servers)) => ServerMsg::Admitted {
                            room: room.clone(),
                            media_token,
                            ice_servers,
                        },
                        Err(refused) => refused,
                    };
                    self.deliver(&room, &candidate, msg);
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
                Output::RevokeMedia { room, candidate } => self.leave(&room, &candidate, None),
            }
        }
    }
}
