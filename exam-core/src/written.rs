//! The written-test session as a sans-IO state machine.
//!
//! It never reads a clock: every call takes `now` (milliseconds). The shell persists
//! what each call returns ([`Event`]) before it answers the candidate, and rebuilds the
//! machine from what it stored ([`WrittenSession::restore`]) after a restart.
//!
//! ```text
//!            present (deadline = now + limit × multiplier)
//!   Pause ───────────────────────────────────────────────▶ Presenting
//!     ▲   answer before the deadline (stored, scored)          │
//!     └────────────── or the deadline passes (timeout) ────────┘
//!   … 50 items later: Finished (a CEFR level per domain)
//! ```

use serde::{Deserialize, Serialize};

use crate::bank::{Bank, Body, Item, Response};
use crate::cat::{CatConfig, CatError, CatSession, DomainEstimate, ExposureCounts, Pool};

/// Timing rules of the written test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    /// The pause between an item and the next (the guide's 3 seconds).
    pub pause_ms: i64,
    /// Transit allowance: an answer that left the page just before the deadline may
    /// reach the server up to this much later.
    pub grace_ms: i64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            pause_ms: 3000,
            grace_ms: 500,
        }
    }
}

/// Where a session is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Phase {
    /// Between two items (or before the first); the next comes at `until`.
    Pause {
        /// When the next item may be presented.
        until: i64,
    },
    /// An item is on screen.
    Presenting {
        /// The item.
        item_id: String,
        /// Its 1-based position in the test.
        position: u32,
        /// When it was presented.
        presented_at: i64,
        /// When its time is up.
        deadline: i64,
        /// Clip plays used so far.
        plays: u32,
    },
    /// All items are done.
    Finished,
}

/// What happened, for the shell to store (in this order, in one transaction).
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// An item was presented.
    Presented {
        /// Position (1-based).
        position: u32,
        /// The item.
        item_id: String,
        /// When.
        at: i64,
        /// Its deadline.
        deadline: i64,
    },
    /// The current item was answered in time.
    Answered {
        /// Position.
        position: u32,
        /// The item.
        item_id: String,
        /// When the answer arrived.
        at: i64,
        /// The response as sent.
        response: Response,
        /// Its score.
        score: u32,
    },
    /// The current item's time ran out (also when a late answer arrived).
    TimedOut {
        /// Position.
        position: u32,
        /// The item.
        item_id: String,
        /// The deadline that passed.
        at: i64,
    },
    /// A listening clip was played (the n-th play).
    Played {
        /// Position.
        position: u32,
        /// Plays so far, this one included.
        plays: u32,
    },
    /// The last item is done.
    Finished {
        /// When.
        at: i64,
        /// The result: one estimate per domain.
        estimates: [DomainEstimate; 5],
    },
}

/// Why an answer or a play was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// The deadline had passed: the item is recorded as a timeout.
    #[error("the time for this question is over; it is recorded as unanswered")]
    TooLate,
    /// The answer is for another item than the one on screen.
    #[error("this is not the current question")]
    NotCurrent,
    /// The test is over.
    #[error("the test is finished")]
    Finished,
    /// The response does not fit the item.
    #[error("the response does not fit the question: {0}")]
    Invalid(String),
    /// The clip was already played the maximum number of times.
    #[error("the recording may be played {0} times only")]
    PlayLimit(u32),
    /// The current item has no clip.
    #[error("this question has no recording")]
    NoClip,
}

/// A stored presentation, to rebuild a session: `(item_id, outcome)` where the outcome
/// is `Some(score)` (0 for a timeout) once done, `None` for the item still on screen.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredItem {
    /// The item.
    pub item_id: String,
    /// When it was presented.
    pub presented_at: i64,
    /// Its deadline (already extended for server downtime, if any).
    pub deadline: i64,
    /// When it was answered or timed out, with its score; `None` while on screen.
    pub done: Option<(i64, u32)>,
    /// Clip plays used.
    pub plays: u32,
}

/// One candidate's written test.
#[derive(Debug, Clone)]
pub struct WrittenSession {
    seed: u64,
    multiplier: f64,
    timing: Timing,
    cat: CatSession,
    phase: Phase,
    done: u32,
}

impl WrittenSession {
    /// A new session; the first item comes at the first [`WrittenSession::poll`].
    pub fn new(
        config: CatConfig,
        seed: u64,
        multiplier: f64,
        timing: Timing,
        now: i64,
    ) -> Result<Self, CatError> {
        Ok(WrittenSession {
            seed,
            multiplier: multiplier.max(1.0),
            timing,
            cat: CatSession::new(config, seed)?,
            phase: Phase::Pause { until: now },
            done: 0,
        })
    }

    /// Rebuilds a session from its stored presentations, in order.
    pub fn restore(
        config: CatConfig,
        pool: &Pool,
        seed: u64,
        multiplier: f64,
        timing: Timing,
        created_at: i64,
        stored: &[StoredItem],
    ) -> Result<Self, CatError> {
        let answered: Vec<(&str, u32)> = stored
            .iter()
            .filter_map(|s| s.done.map(|(_, score)| (s.item_id.as_str(), score)))
            .collect();
        let mut cat = CatSession::replay(config, pool, seed, &answered)?;
        let done = answered.len() as u32;
        let phase = match stored.iter().find(|s| s.done.is_none()) {
            Some(open) => {
                cat.restore_pending(pool, &open.item_id)?;
                Phase::Presenting {
                    item_id: open.item_id.clone(),
                    position: done + 1,
                    presented_at: open.presented_at,
                    deadline: open.deadline,
                    plays: open.plays,
                }
            }
            None if cat.is_finished() => Phase::Finished,
            None => Phase::Pause {
                until: stored
                    .last()
                    .and_then(|s| s.done)
                    .map_or(created_at, |(at, _)| at + timing.pause_ms),
            },
        };
        Ok(WrittenSession {
            seed,
            multiplier: multiplier.max(1.0),
            timing,
            cat,
            phase,
            done,
        })
    }

    /// The session's seed (it fixes selection randomness and shuffles).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The time multiplier (accommodation).
    pub fn multiplier(&self) -> f64 {
        self.multiplier
    }

    /// Where the session is.
    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// Items done (answered or timed out).
    pub fn done(&self) -> u32 {
        self.done
    }

    /// The engine's state (domain, estimates).
    pub fn cat(&self) -> &CatSession {
        &self.cat
    }

    /// The next time something happens without input (a deadline or the pause's end).
    pub fn poll_timeout(&self) -> Option<i64> {
        match &self.phase {
            Phase::Pause { until } => Some(*until),
            Phase::Presenting { deadline, .. } => Some(*deadline),
            Phase::Finished => None,
        }
    }

    /// Moves time on to `now`: times out an expired item, presents the next one once the
    /// pause is over, finishes after the last. Returns what to store.
    pub fn poll(
        &mut self,
        now: i64,
        bank: &Bank,
        pool: &Pool,
        exposure: &mut ExposureCounts,
    ) -> Vec<Event> {
        let mut events = Vec::new();
        loop {
            match &self.phase {
                Phase::Presenting { deadline, .. } if now > *deadline + self.timing.grace_ms => {
                    events.push(self.time_out());
                }
                Phase::Pause { until } if now >= *until => {
                    let until = *until;
                    match self.cat.next_item(pool, exposure).map(|i| i.id.clone()) {
                        Some(item_id) => {
                            // Present at `now`, or at the pause's end when catching up.
                            let at = now.max(until);
                            let limit = bank
                                .item(&item_id)
                                .map_or(60_000, |i| i.time_limit_ms(self.multiplier) as i64);
                            let position = self.done + 1;
                            self.phase = Phase::Presenting {
                                item_id: item_id.clone(),
                                position,
                                presented_at: at,
                                deadline: at + limit,
                                plays: 0,
                            };
                            events.push(Event::Presented {
                                position,
                                item_id,
                                at,
                                deadline: at + limit,
                            });
                        }
                        None => {
                            self.phase = Phase::Finished;
                            events.push(Event::Finished {
                                at: now.max(until),
                                estimates: self.cat.estimates(),
                            });
                        }
                    }
                }
                _ => return events,
            }
        }
    }

    fn time_out(&mut self) -> Event {
        let Phase::Presenting {
            item_id,
            position,
            deadline,
            ..
        } = self.phase.clone()
        else {
            unreachable!("time_out is called while presenting")
        };
        // A timeout scores 0; the engine cannot refuse the pending item.
        let _ = self.cat.record(&item_id, 0);
        self.done += 1;
        self.phase = Phase::Pause {
            until: deadline + self.timing.pause_ms,
        };
        Event::TimedOut {
            position,
            item_id,
            at: deadline,
        }
    }

    /// An answer to `item_id` arriving at `now`. On success the answer is scored and the
    /// pause starts; a late answer is refused and the item recorded as a timeout (the
    /// events to store come back in both cases).
    pub fn answer(
        &mut self,
        now: i64,
        item_id: &str,
        response: Response,
        item: &Item,
    ) -> (Vec<Event>, Result<(), Refusal>) {
        let Phase::Presenting {
            item_id: current,
            position,
            deadline,
            ..
        } = self.phase.clone()
        else {
            return match self.phase {
                Phase::Finished => (vec![], Err(Refusal::Finished)),
                _ => (vec![], Err(Refusal::NotCurrent)),
            };
        };
        if current != item_id || item.id != item_id {
            return (vec![], Err(Refusal::NotCurrent));
        }
        if now > deadline + self.timing.grace_ms {
            return (vec![self.time_out()], Err(Refusal::TooLate));
        }
        let score = match item.score(&response, self.seed) {
            Ok(s) => s,
            Err(e) => return (vec![], Err(Refusal::Invalid(e.0))),
        };
        if let Err(e) = self.cat.record(item_id, score) {
            return (vec![], Err(Refusal::Invalid(e.to_string())));
        }
        self.done += 1;
        self.phase = Phase::Pause {
            until: now + self.timing.pause_ms,
        };
        (
            vec![Event::Answered {
                position,
                item_id: item_id.to_owned(),
                at: now,
                response,
                score,
            }],
            Ok(()),
        )
    }

    /// A play of the current item's clip at `now`; returns the play's number (1-based).
    pub fn play(&mut self, now: i64, item_id: &str, item: &Item) -> Result<Event, Refusal> {
        let Phase::Presenting {
            item_id: current,
            position,
            deadline,
            plays,
            ..
        } = &mut self.phase
        else {
            return Err(if self.phase == Phase::Finished {
                Refusal::Finished
            } else {
                Refusal::NotCurrent
            });
        };
        if current != item_id {
            return Err(Refusal::NotCurrent);
        }
        if now > *deadline + self.timing.grace_ms {
            return Err(Refusal::TooLate);
        }
        let Body::Listening { max_plays, .. } = &item.body else {
            return Err(Refusal::NoClip);
        };
        if *plays >= *max_plays {
            return Err(Refusal::PlayLimit(*max_plays));
        }
        *plays += 1;
        Ok(Event::Played {
            position: *position,
            plays: *plays,
        })
    }

    /// Per-domain results once finished.
    pub fn result(&self) -> Option<[DomainEstimate; 5]> {
        (self.phase == Phase::Finished).then(|| self.cat.estimates())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::ItemType;

    struct Harness {
        bank: Bank,
        pool: Pool,
        exposure: ExposureCounts,
        session: WrittenSession,
        stored: Vec<StoredItem>,
        now: i64,
    }

    const T0: i64 = 1_000_000;

    impl Harness {
        fn new(multiplier: f64) -> Harness {
            let bank = Bank::english();
            let pool = bank.cat_pool().unwrap();
            let session =
                WrittenSession::new(CatConfig::default(), 42, multiplier, Timing::default(), T0)
                    .unwrap();
            Harness {
                bank,
                pool,
                exposure: ExposureCounts::new(),
                session,
                stored: Vec::new(),
                now: T0,
            }
        }

        /// Stores events as the shell would.
        fn store(&mut self, events: &[Event]) {
            for e in events {
                match e {
                    Event::Presented {
                        item_id,
                        at,
                        deadline,
                        ..
                    } => self.stored.push(StoredItem {
                        item_id: item_id.clone(),
                        presented_at: *at,
                        deadline: *deadline,
                        done: None,
                        plays: 0,
                    }),
                    Event::Answered { score, at, .. } => {
                        self.stored.last_mut().unwrap().done = Some((*at, *score))
                    }
                    Event::TimedOut { at, .. } => {
                        self.stored.last_mut().unwrap().done = Some((*at, 0))
                    }
                    Event::Played { plays, .. } => self.stored.last_mut().unwrap().plays = *plays,
                    Event::Finished { .. } => {}
                }
            }
        }

        fn poll_at(&mut self, now: i64) -> Vec<Event> {
            self.now = now;
            let events = self
                .session
                .poll(now, &self.bank, &self.pool, &mut self.exposure);
            self.store(&events);
            events
        }

        /// Jumps to the next moment something happens, past the grace period.
        fn step(&mut self) -> Vec<Event> {
            let t = self.session.poll_timeout().expect("not finished");
            let t = if matches!(self.session.phase(), Phase::Presenting { .. }) {
                t + Timing::default().grace_ms + 1
            } else {
                t
            };
            self.poll_at(t)
        }

        fn current(&self) -> (String, i64, i64) {
            match self.session.phase() {
                Phase::Presenting {
                    item_id,
                    presented_at,
                    deadline,
                    ..
                } => (item_id.clone(), *presented_at, *deadline),
                p => panic!("not presenting: {p:?}"),
            }
        }

        fn item(&self, id: &str) -> Item {
            self.bank.item(id).unwrap().clone()
        }
    }

    /// A response with every part right.
    fn right(item: &Item, seed: u64) -> Response {
        item.key_response(seed)
    }

    #[test]
    fn the_first_item_comes_at_once_with_its_deadline() {
        let mut h = Harness::new(1.0);
        let events = h.poll_at(T0);
        let (id, at, deadline) = h.current();
        assert_eq!(
            events,
            vec![Event::Presented {
                position: 1,
                item_id: id.clone(),
                at: T0,
                deadline
            }]
        );
        assert_eq!(at, T0);
        assert_eq!(deadline - at, i64::from(h.item(&id).time_limit_s) * 1000);
        assert_eq!(h.session.poll_timeout(), Some(deadline));
        assert!(
            h.poll_at(deadline).is_empty(),
            "nothing happens at the deadline itself"
        );
    }

    #[test]
    fn an_answer_in_time_is_scored_then_a_three_second_pause() {
        let mut h = Harness::new(1.0);
        h.poll_at(T0);
        let (id, _, _) = h.current();
        let item = h.item(&id);
        let t = T0 + 5_000;
        let (events, ok) = h.session.answer(t, &id, right(&item, 42), &item);
        assert_eq!(ok, Ok(()));
        assert!(
            matches!(&events[..], [Event::Answered { position: 1, score, at, .. }] if *score == item.body.max_score() && *at == t)
        );
        h.store(&events);
        assert_eq!(h.session.phase(), &Phase::Pause { until: t + 3000 });
        // The next item is not given before the pause is over …
        assert!(h.poll_at(t + 2999).is_empty());
        assert!(matches!(h.session.phase(), Phase::Pause { .. }));
        // … and is at 3 s.
        let events = h.poll_at(t + 3000);
        assert!(
            matches!(&events[..], [Event::Presented { position: 2, at, .. }] if *at == t + 3000)
        );
        // Answering the previous item again is refused.
        let (events, r) = h.session.answer(t + 3100, &id, right(&item, 42), &item);
        assert!(events.is_empty());
        assert_eq!(r, Err(Refusal::NotCurrent));
    }

    #[test]
    fn a_deadline_passing_records_a_timeout_and_a_late_answer_is_refused() {
        let mut h = Harness::new(1.0);
        h.poll_at(T0);
        let (_, _, deadline) = h.current();
        let grace = Timing::default().grace_ms;
        // Polled after the deadline: a timeout at the deadline, the pause counted from it.
        let events = h.poll_at(deadline + grace + 1);
        assert!(
            matches!(&events[..], [Event::TimedOut { position: 1, at, .. }] if *at == deadline)
        );
        assert_eq!(
            h.session.phase(),
            &Phase::Pause {
                until: deadline + 3000
            }
        );
        assert_eq!(h.session.cat().responses()[0].score, 0);
        // Item 2, answered late: refused, recorded as a timeout.
        h.poll_at(deadline + 3000);
        let (id2, _, deadline2) = h.current();
        let item2 = h.item(&id2);
        let (events, r) = h
            .session
            .answer(deadline2 + grace + 1, &id2, right(&item2, 42), &item2);
        assert_eq!(r, Err(Refusal::TooLate));
        assert!(matches!(&events[..], [Event::TimedOut { position: 2, .. }]));
        // Within the grace period it is still taken.
        h.store(&events);
        h.poll_at(deadline2 + 3000);
        let (id3, _, deadline3) = h.current();
        let item3 = h.item(&id3);
        let (_, r) = h
            .session
            .answer(deadline3 + grace, &id3, right(&item3, 42), &item3);
        assert_eq!(r, Ok(()));
    }

    #[test]
    fn extra_time_multiplies_every_limit() {
        let mut base = Harness::new(1.0);
        let mut extra = Harness::new(1.33);
        base.poll_at(T0);
        extra.poll_at(T0);
        let (id, _, d1) = base.current();
        let (id2, _, d2) = extra.current();
        assert_eq!(id, id2, "same seed, same first item");
        let limit = i64::from(base.item(&id).time_limit_s) * 1000;
        assert_eq!(d1 - T0, limit);
        assert_eq!(d2 - T0, (limit as f64 * 1.33).round() as i64);
    }

    #[test]
    fn a_wrong_shape_is_refused_without_losing_the_item() {
        let mut h = Harness::new(1.0);
        h.poll_at(T0);
        let (id, _, _) = h.current();
        let item = h.item(&id);
        let wrong = match item.item_type() {
            ItemType::Choice => Response::Typed { typed: vec![] },
            _ => Response::Choice { choice: Some(0) },
        };
        let (events, r) = h.session.answer(T0 + 1000, &id, wrong, &item);
        assert!(events.is_empty());
        assert!(matches!(r, Err(Refusal::Invalid(_))));
        assert_eq!(h.current().0, id, "still on screen");
        assert_eq!(
            h.session.answer(T0 + 2000, &id, right(&item, 42), &item).1,
            Ok(())
        );
    }

    #[test]
    fn a_clip_plays_twice_at_most() {
        let mut h = Harness::new(1.0);
        h.poll_at(T0);
        // Time out through the first four domains (virtual time, no sleeping).
        while h.session.done() < 40 || !matches!(h.session.phase(), Phase::Presenting { .. }) {
            h.step();
        }
        let (id, _, _) = h.current();
        let item = h.item(&id);
        assert_eq!(
            item.item_type(),
            ItemType::Listening,
            "the fifth domain is listening"
        );
        let t = h.now + 100;
        assert_eq!(
            h.session.play(t, &id, &item),
            Ok(Event::Played {
                position: 41,
                plays: 1
            })
        );
        assert_eq!(
            h.session.play(t + 10_000, &id, &item),
            Ok(Event::Played {
                position: 41,
                plays: 2
            })
        );
        assert_eq!(
            h.session.play(t + 20_000, &id, &item),
            Err(Refusal::PlayLimit(2))
        );
        assert_eq!(
            h.session.play(t, "en-voc-001", &item),
            Err(Refusal::NotCurrent)
        );
    }

    #[test]
    fn fifty_items_then_a_level_per_domain() {
        let mut h = Harness::new(1.0);
        let mut finished = None;
        for _ in 0..200 {
            for e in h.step() {
                if let Event::Finished { estimates, .. } = e {
                    finished = Some(estimates);
                }
            }
            if h.session.phase() == &Phase::Finished {
                break;
            }
        }
        let estimates = finished.expect("finished");
        assert_eq!(h.session.done(), 50);
        assert_eq!(h.stored.len(), 50);
        for (e, d) in estimates.iter().zip(crate::bank::Domain::ALL) {
            assert_eq!(e.domain, d);
            assert_eq!(e.answered, 10);
        }
        assert_eq!(h.session.poll_timeout(), None);
        assert_eq!(h.session.result(), Some(estimates));
        let any = h.item("en-voc-001");
        assert_eq!(
            h.session
                .answer(
                    h.now,
                    "en-voc-001",
                    Response::Choice { choice: Some(0) },
                    &any
                )
                .1,
            Err(Refusal::Finished)
        );
    }

    #[test]
    fn a_restored_session_continues_at_the_same_item() {
        let mut h = Harness::new(1.33);
        h.poll_at(T0);
        // A mix of answers and timeouts.
        for k in 0..13 {
            let (id, _, _) = h.current();
            if k % 3 == 0 {
                h.step();
            } else {
                let item = h.item(&id);
                let t = h.now + 2_000;
                let (events, r) = h.session.answer(t, &id, right(&item, 42), &item);
                assert_eq!(r, Ok(()));
                h.store(&events);
                h.now = t;
            }
            h.step();
        }
        let (id, presented, deadline) = h.current();
        let restored = WrittenSession::restore(
            CatConfig::default(),
            &h.pool,
            42,
            1.33,
            Timing::default(),
            T0,
            &h.stored,
        )
        .unwrap();
        assert_eq!(restored.phase(), h.session.phase());
        assert_eq!(restored.done(), h.session.done());
        assert_eq!(restored.cat().estimates(), h.session.cat().estimates());
        assert!(
            matches!(restored.phase(), Phase::Presenting { item_id, presented_at, deadline: d, .. }
            if *item_id == id && *presented_at == presented && *d == deadline)
        );
        // Restored during a pause: the pause ends 3 s after the last answer.
        let item = h.item(&id);
        let (events, _) = h.session.answer(deadline - 1, &id, right(&item, 42), &item);
        h.store(&events);
        let restored = WrittenSession::restore(
            CatConfig::default(),
            &h.pool,
            42,
            1.33,
            Timing::default(),
            T0,
            &h.stored,
        )
        .unwrap();
        assert_eq!(
            restored.phase(),
            &Phase::Pause {
                until: deadline - 1 + 3000
            }
        );
    }
}
