//! The waiting room of oral interviews, as a sans-IO state machine.
//!
//! Each interview has a room with one evaluator. A candidate who opens their interview
//! link knocks and waits; the evaluator sees the waiting list live and admits, denies
//! (with a reason shown to the candidate) or later removes them. Media may flow only for
//! admitted, present participants — [`Lobby::may_exchange_media`] is what the media
//! shell asks before it sends or forwards anything.
//!
//! Presence: a page reload is a disconnect followed by a knock. A waiting entry survives
//! a disconnect of up to [`Timing::waiting_grace_ms`] (60 s) and then expires; an
//! admitted participant who comes back within [`Timing::admitted_grace_ms`] (30 s)
//! rejoins without waiting again, later they must knock and wait like anyone else.

use std::collections::BTreeMap;

/// Grace periods of the waiting room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// How long a waiting candidate may be gone before their entry expires.
    pub waiting_grace_ms: i64,
    /// How long an admitted participant may be gone and still rejoin without waiting.
    pub admitted_grace_ms: i64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            waiting_grace_ms: 60_000,
            admitted_grace_ms: 30_000,
        }
    }
}

/// Where a candidate stands in a room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Knocked, waiting for the evaluator.
    Waiting {
        /// Since when (the first knock; a reload keeps it).
        since: i64,
    },
    /// In the interview.
    Admitted {
        /// When admitted.
        at: i64,
    },
    /// Refused, with the reason shown to the candidate.
    Denied {
        /// The evaluator's reason.
        reason: String,
    },
    /// Taken out of the interview by the evaluator.
    Removed,
}

/// A candidate's entry.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    name: String,
    standing: Standing,
    /// `None` while connected; when disconnected, since when.
    gone_since: Option<i64>,
}

/// One line of the evaluator's waiting list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// The candidate's participant id.
    pub candidate: String,
    /// The name shown to the evaluator.
    pub name: String,
    /// The interview's scheduled time (ms).
    pub scheduled_at: i64,
    /// Waiting since (ms).
    pub since: i64,
    /// False while their page is away (reloading or lost connection).
    pub connected: bool,
}

/// What the shell must do after an input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send the evaluator of `room` the new waiting list (play the arrival sound when
    /// `arrived` is set).
    WaitingList {
        /// The room.
        room: String,
        /// The list, by arrival.
        list: Vec<Waiting>,
        /// A candidate just arrived.
        arrived: bool,
    },
    /// Tell a candidate they are waiting, and for which scheduled time.
    Wait {
        /// The room.
        room: String,
        /// The candidate.
        candidate: String,
        /// The interview's scheduled time.
        scheduled_at: i64,
    },
    /// Admit a candidate: issue their media credentials (and only now).
    Admit {
        /// The room.
        room: String,
        /// The candidate.
        candidate: String,
    },
    /// Tell a candidate they were denied, with the reason.
    Deny {
        /// The room.
        room: String,
        /// The candidate.
        candidate: String,
        /// The evaluator's reason.
        reason: String,
    },
    /// Stop the candidate's media and tell them they were removed.
    Remove {
        /// The room.
        room: String,
        /// The candidate.
        candidate: String,
    },
    /// The candidate's waiting entry expired (gone too long).
    Expired {
        /// The room.
        room: String,
        /// The candidate.
        candidate: String,
    },
    /// Revoke a participant's media credentials (gone longer than the rejoin grace).
    RevokeMedia {
        /// The room.
        room: String,
        /// The participant.
        candidate: String,
    },
}

/// Why an input was refused; nothing changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refused {
    /// No such room.
    #[error("no such interview room")]
    NoRoom,
    /// The evaluator does not run this room.
    #[error("this is not your interview")]
    NotYourRoom,
    /// The candidate is not in the room's list.
    #[error("this candidate is not in the waiting room")]
    NotWaiting,
    /// The action does not fit the candidate's standing (e.g. removing a waiting candidate).
    #[error("not possible now: {0}")]
    WrongOrder(&'static str),
    /// A denied or removed candidate knocked again.
    #[error("access to this interview was refused")]
    Refused,
}

#[derive(Clone, Debug, Default)]
struct Room {
    evaluator: String,
    scheduled_at: i64,
    entries: BTreeMap<String, Entry>,
}

/// Every open waiting room.
#[derive(Clone, Debug, Default)]
pub struct Lobby {
    timing: Timing,
    rooms: BTreeMap<String, Room>,
}

impl Lobby {
    /// An empty lobby with the given grace periods.
    pub fn new(timing: Timing) -> Self {
        Lobby {
            timing,
            rooms: BTreeMap::new(),
        }
    }

    /// Opens the room of an interview run by `evaluator`, scheduled at `scheduled_at`.
    pub fn open_room(&mut self, room: &str, evaluator: &str, scheduled_at: i64) {
        self.rooms.entry(room.to_owned()).or_insert_with(|| Room {
            evaluator: evaluator.to_owned(),
            scheduled_at,
            entries: BTreeMap::new(),
        });
    }

    fn list(&self, room: &str, arrived: bool) -> Output {
        let r = &self.rooms[room];
        let mut list: Vec<Waiting> = r
            .entries
            .iter()
            .filter_map(|(id, e)| match e.standing {
                Standing::Waiting { since } => Some(Waiting {
                    candidate: id.clone(),
                    name: e.name.clone(),
                    scheduled_at: r.scheduled_at,
                    since,
                    connected: e.gone_since.is_none(),
                }),
                _ => None,
            })
            .collect();
        list.sort_by_key(|w| (w.since, w.candidate.clone()));
        Output::WaitingList {
            room: room.to_owned(),
            list,
            arrived,
        }
    }

    /// A candidate opens their interview link (a reload knocks again).
    pub fn knock(
        &mut self,
        now: i64,
        room: &str,
        candidate: &str,
        name: &str,
        scheduled_at: i64,
    ) -> Result<Vec<Output>, Refused> {
        let timing = self.timing;
        let r = self.rooms.get_mut(room).ok_or(Refused::NoRoom)?;
        if r.scheduled_at == 0 {
            r.scheduled_at = scheduled_at;
        }
        let scheduled_at = r.scheduled_at;
        let wait = Output::Wait {
            room: room.to_owned(),
            candidate: candidate.to_owned(),
            scheduled_at,
        };
        match r.entries.get_mut(candidate) {
            Some(e) => match e.standing.clone() {
                Standing::Denied { .. } | Standing::Removed => Err(Refused::Refused),
                Standing::Waiting { .. } => {
                    // A reload: same place in the list.
                    e.gone_since = None;
                    Ok(vec![wait, self.list(room, false)])
                }
                Standing::Admitted { .. } => match e.gone_since {
                    Some(gone) if now - gone > timing.admitted_grace_ms => {
                        e.standing = Standing::Waiting { since: now };
                        e.gone_since = None;
                        Ok(vec![wait, self.list(room, true)])
                    }
                    _ => {
                        // Back within the grace period: straight in again.
                        e.gone_since = None;
                        Ok(vec![Output::Admit {
                            room: room.to_owned(),
                            candidate: candidate.to_owned(),
                        }])
                    }
                },
            },
            None => {
                r.entries.insert(
                    candidate.to_owned(),
                    Entry {
                        name: name.to_owned(),
                        standing: Standing::Waiting { since: now },
                        gone_since: None,
                    },
                );
                Ok(vec![wait, self.list(room, true)])
            }
        }
    }

    /// The current waiting list of a room, for an evaluator who just (re)connected.
    pub fn list_of(&self, room: &str) -> Option<Output> {
        self.rooms
            .contains_key(room)
            .then(|| self.list(room, false))
    }

    /// A participant's connection closed (a reload, a network loss, a closed tab).
    pub fn disconnect(&mut self, now: i64, room: &str, candidate: &str) -> Vec<Output> {
        let Some(e) = self
            .rooms
            .get_mut(room)
            .and_then(|r| r.entries.get_mut(candidate))
        else {
            return vec![];
        };
        if e.gone_since.is_none() {
            e.gone_since = Some(now);
        }
        match e.standing {
            Standing::Waiting { .. } => vec![self.list(room, false)],
            _ => vec![],
        }
    }

    fn check_evaluator(&self, evaluator: &str, room: &str) -> Result<(), Refused> {
        let r = self.rooms.get(room).ok_or(Refused::NoRoom)?;
        if r.evaluator == evaluator {
            Ok(())
        } else {
            Err(Refused::NotYourRoom)
        }
    }

    /// The evaluator admits a waiting candidate: media credentials are issued now.
    pub fn admit(
        &mut self,
        now: i64,
        evaluator: &str,
        room: &str,
        candidate: &str,
    ) -> Result<Vec<Output>, Refused> {
        self.check_evaluator(evaluator, room)?;
        let e = self
            .rooms
            .get_mut(room)
            .and_then(|r| r.entries.get_mut(candidate))
            .ok_or(Refused::NotWaiting)?;
        match e.standing {
            Standing::Waiting { .. } => {
                e.standing = Standing::Admitted { at: now };
                Ok(vec![
                    Output::Admit {
                        room: room.to_owned(),
                        candidate: candidate.to_owned(),
                    },
                    self.list(room, false),
                ])
            }
            Standing::Admitted { .. } => Err(Refused::WrongOrder("already admitted")),
            _ => Err(Refused::NotWaiting),
        }
    }

    /// The evaluator denies a waiting candidate, with a reason shown to them.
    pub fn deny(
        &mut self,
        evaluator: &str,
        room: &str,
        candidate: &str,
        reason: &str,
    ) -> Result<Vec<Output>, Refused> {
        self.check_evaluator(evaluator, room)?;
        let e = self
            .rooms
            .get_mut(room)
            .and_then(|r| r.entries.get_mut(candidate))
            .ok_or(Refused::NotWaiting)?;
        if !matches!(e.standing, Standing::Waiting { .. }) {
            return Err(Refused::WrongOrder(
                "only a waiting candidate can be denied",
            ));
        }
        e.standing = Standing::Denied {
            reason: reason.to_owned(),
        };
        Ok(vec![
            Output::Deny {
                room: room.to_owned(),
                candidate: candidate.to_owned(),
                reason: reason.to_owned(),
            },
            self.list(room, false),
        ])
    }

    /// The evaluator removes an admitted participant.
    pub fn remove(
        &mut self,
        evaluator: &str,
        room: &str,
        candidate: &str,
    ) -> Result<Vec<Output>, Refused> {
        self.check_evaluator(evaluator, room)?;
        let e = self
            .rooms
            .get_mut(room)
            .and_then(|r| r.entries.get_mut(candidate))
            .ok_or(Refused::NotWaiting)?;
        if !matches!(e.standing, Standing::Admitted { .. }) {
            return Err(Refused::WrongOrder(
                "only an admitted participant can be removed",
            ));
        }
        e.standing = Standing::Removed;
        Ok(vec![
            Output::RevokeMedia {
                room: room.to_owned(),
                candidate: candidate.to_owned(),
            },
            Output::Remove {
                room: room.to_owned(),
                candidate: candidate.to_owned(),
            },
        ])
    }

    /// Whether media may flow to and from this participant now.
    pub fn may_exchange_media(&self, room: &str, candidate: &str) -> bool {
        self.rooms
            .get(room)
            .and_then(|r| r.entries.get(candidate))
            .is_some_and(|e| matches!(e.standing, Standing::Admitted { .. }))
    }

    /// A candidate's standing, if they knocked.
    pub fn standing(&self, room: &str, candidate: &str) -> Option<&Standing> {
        self.rooms
            .get(room)
            .and_then(|r| r.entries.get(candidate))
            .map(|e| &e.standing)
    }

    /// When [`Lobby::handle_timeout`] next has something to do.
    pub fn poll_timeout(&self) -> Option<i64> {
        self.rooms
            .values()
            .flat_map(|r| r.entries.values())
            .filter_map(|e| match (&e.standing, e.gone_since) {
                (Standing::Waiting { .. }, Some(g)) => Some(g + self.timing.waiting_grace_ms + 1),
                (Standing::Admitted { .. }, Some(g)) => Some(g + self.timing.admitted_grace_ms + 1),
                _ => None,
            })
            .min()
    }

    /// Expires waiting entries gone longer than 60 s and revokes the media of admitted
    /// participants gone longer than 30 s (they will have to knock and wait again).
    pub fn handle_timeout(&mut self, now: i64) -> Vec<Output> {
        let timing = self.timing;
        let mut out = Vec::new();
        let mut changed_rooms = Vec::new();
        for (room_id, r) in &mut self.rooms {
            let mut expired = Vec::new();
            for (id, e) in &mut r.entries {
                match (&e.standing, e.gone_since) {
                    (Standing::Waiting { .. }, Some(g)) if now - g > timing.waiting_grace_ms => {
                        expired.push(id.clone())
                    }
                    (Standing::Admitted { .. }, Some(g)) if now - g > timing.admitted_grace_ms => {
                        // The grace is over: no more media until admitted again.
                        e.standing = Standing::Waiting { since: now };
                        out.push(Output::RevokeMedia {
                            room: room_id.clone(),
                            candidate: id.clone(),
                        });
                        changed_rooms.push(room_id.clone());
                    }
                    _ => {}
                }
            }
            for id in expired {
                r.entries.remove(&id);
                out.push(Output::Expired {
                    room: room_id.clone(),
                    candidate: id,
                });
                changed_rooms.push(room_id.clone());
            }
        }
        changed_rooms.dedup();
        for room in changed_rooms {
            out.push(self.list(&room, false));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOM: &str = "interview-1";
    const EV: &str = "evaluator-1";
    const C: &str = "candidate-1";

    fn lobby() -> Lobby {
        let mut l = Lobby::default();
        l.open_room(ROOM, EV, 10_000);
        l.open_room("interview-2", "evaluator-2", 20_000);
        l
    }

    fn list(out: &[Output]) -> Vec<Waiting> {
        out.iter()
            .find_map(|o| match o {
                Output::WaitingList { list, .. } => Some(list.clone()),
                _ => None,
            })
            .expect("a waiting list")
    }

    #[test]
    fn a_knock_waits_and_the_evaluator_sees_it_arrive() {
        let mut l = lobby();
        let out = l.knock(1_000, ROOM, C, "Camille Martin", 10_000).unwrap();
        assert_eq!(
            out[0],
            Output::Wait {
                room: ROOM.into(),
                candidate: C.into(),
                scheduled_at: 10_000
            }
        );
        assert!(matches!(&out[1], Output::WaitingList { arrived: true, .. }));
        let w = list(&out);
        assert_eq!(
            w,
            vec![Waiting {
                candidate: C.into(),
                name: "Camille Martin".into(),
                scheduled_at: 10_000,
                since: 1_000,
                connected: true
            }]
        );
        assert!(!l.may_exchange_media(ROOM, C), "no media while waiting");
    }

    #[test]
    fn admit_issues_media_deny_shows_the_reason() {
        let mut l = lobby();
        l.knock(0, ROOM, C, "A", 0).unwrap();
        l.knock(0, ROOM, "candidate-2", "B", 0).unwrap();
        let out = l.admit(5, EV, ROOM, C).unwrap();
        assert_eq!(
            out[0],
            Output::Admit {
                room: ROOM.into(),
                candidate: C.into()
            }
        );
        assert_eq!(
            list(&out).len(),
            1,
            "the admitted candidate leaves the list"
        );
        assert!(l.may_exchange_media(ROOM, C));
        let out = l.deny(EV, ROOM, "candidate-2", "Wrong time slot").unwrap();
        assert_eq!(
            out[0],
            Output::Deny {
                room: ROOM.into(),
                candidate: "candidate-2".into(),
                reason: "Wrong time slot".into()
            }
        );
        assert!(!l.may_exchange_media(ROOM, "candidate-2"));
        assert_eq!(
            l.knock(10, ROOM, "candidate-2", "B", 0),
            Err(Refused::Refused),
            "a denied candidate cannot knock again"
        );
        // Remove later: media revoked.
        let out = l.remove(EV, ROOM, C).unwrap();
        assert_eq!(
            out[0],
            Output::RevokeMedia {
                room: ROOM.into(),
                candidate: C.into()
            }
        );
        assert!(!l.may_exchange_media(ROOM, C));
    }

    #[test]
    fn an_evaluator_of_another_room_is_refused_and_nothing_changes() {
        let mut l = lobby();
        l.knock(0, ROOM, C, "A", 0).unwrap();
        let before = l.clone().rooms[ROOM].entries.clone();
        assert_eq!(
            l.admit(1, "evaluator-2", ROOM, C),
            Err(Refused::NotYourRoom)
        );
        assert_eq!(
            l.deny("evaluator-2", ROOM, C, "x"),
            Err(Refused::NotYourRoom)
        );
        assert_eq!(l.admit(1, EV, "interview-9", C), Err(Refused::NoRoom));
        assert_eq!(l.rooms[ROOM].entries, before);
        assert!(!l.may_exchange_media(ROOM, C));
    }

    #[test]
    fn out_of_order_actions_are_refused() {
        let mut l = lobby();
        assert_eq!(l.admit(0, EV, ROOM, C), Err(Refused::NotWaiting));
        l.knock(0, ROOM, C, "A", 0).unwrap();
        assert!(matches!(l.remove(EV, ROOM, C), Err(Refused::WrongOrder(_))));
        l.admit(1, EV, ROOM, C).unwrap();
        assert!(matches!(
            l.admit(2, EV, ROOM, C),
            Err(Refused::WrongOrder(_))
        ));
        assert!(matches!(
            l.deny(EV, ROOM, C, "x"),
            Err(Refused::WrongOrder(_))
        ));
    }

    #[test]
    fn a_reload_keeps_the_place_and_a_long_absence_expires_after_60_s() {
        let mut l = lobby();
        l.knock(1_000, ROOM, C, "A", 0).unwrap();
        l.knock(2_000, ROOM, "candidate-2", "B", 0).unwrap();
        let out = l.disconnect(5_000, ROOM, C);
        assert!(!list(&out)[0].connected);
        // Back 10 s later: the same place (since = 1 000), connected again.
        let out = l.knock(15_000, ROOM, C, "A", 0).unwrap();
        assert_eq!(list(&out)[0].candidate, C);
        assert_eq!(list(&out)[0].since, 1_000);
        assert!(list(&out)[0].connected);
        // Gone for good: at 60 s it is still there, just after it expires.
        l.disconnect(20_000, ROOM, C);
        assert_eq!(l.poll_timeout(), Some(80_001));
        assert!(l.handle_timeout(80_000).is_empty());
        let out = l.handle_timeout(80_001);
        assert_eq!(
            out[0],
            Output::Expired {
                room: ROOM.into(),
                candidate: C.into()
            }
        );
        assert_eq!(list(&out).len(), 1);
        assert_eq!(l.standing(ROOM, C), None);
        assert_eq!(l.poll_timeout(), None);
    }

    #[test]
    fn an_admitted_participant_rejoins_within_30_s_without_waiting() {
        let mut l = lobby();
        l.knock(0, ROOM, C, "A", 0).unwrap();
        l.admit(1_000, EV, ROOM, C).unwrap();
        l.disconnect(10_000, ROOM, C);
        let out = l.knock(39_000, ROOM, C, "A", 0).unwrap();
        assert_eq!(
            out,
            vec![Output::Admit {
                room: ROOM.into(),
                candidate: C.into()
            }]
        );
        assert!(l.may_exchange_media(ROOM, C));
        // Gone longer than 30 s: media revoked, waiting again.
        l.disconnect(50_000, ROOM, C);
        assert_eq!(l.poll_timeout(), Some(80_001));
        let out = l.handle_timeout(80_001);
        assert_eq!(
            out[0],
            Output::RevokeMedia {
                room: ROOM.into(),
                candidate: C.into()
            }
        );
        assert!(!l.may_exchange_media(ROOM, C));
        // Coming back now means waiting for the evaluator again.
        let out = l.knock(90_000, ROOM, C, "A", 0).unwrap();
        assert!(matches!(out[0], Output::Wait { .. }));
        assert!(matches!(
            l.standing(ROOM, C),
            Some(Standing::Waiting { .. })
        ));
    }
}
