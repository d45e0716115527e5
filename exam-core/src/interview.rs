//! The interview's lifecycle as a state machine (IO-free): every path that changes an
//! interview — booking, the signaling's steps, the evaluator's closing, the no-show
//! sweep, scoring — asks [`Phase::next`] first and stores the phase it returns.
//!
//! ```text
//! held ─confirm─▶ confirmed ─┐
//! scheduled ─────────────────┼─arrive─▶ waiting ─id_checked─▶ id_checked ─start─▶ in_progress ─end─▶ ended
//!      │ cancel              │ no_show (after the grace period, never started)
//!      ▼                     ▼
//!  cancelled              no_show            close without recording (from the slot's start) ─▶ ended
//! ```
//!
//! An oral score is accepted only for an `ended` interview that was in progress for a
//! minimum time, or that its evaluator closed as held without recording ([`scoreable`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Where an interview stands. Stored as [`Phase::as_str`] in `interviews.status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Booked by the candidate, not confirmed yet.
    Held,
    /// Booked by the candidate and confirmed.
    Confirmed,
    /// Scheduled by the centre.
    Scheduled,
    /// The candidate arrived in the waiting room.
    Waiting,
    /// The evaluator checked the candidate's identity document.
    IdChecked,
    /// The interview runs.
    InProgress,
    /// The interview is over (held, or closed as held without recording).
    Ended,
    /// Cancelled before it took place.
    Cancelled,
    /// The candidate did not come.
    NoShow,
}

impl Phase {
    /// Every phase.
    pub const ALL: [Phase; 9] = [
        Phase::Held,
        Phase::Confirmed,
        Phase::Scheduled,
        Phase::Waiting,
        Phase::IdChecked,
        Phase::InProgress,
        Phase::Ended,
        Phase::Cancelled,
        Phase::NoShow,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Held => "held",
            Phase::Confirmed => "confirmed",
            Phase::Scheduled => "scheduled",
            Phase::Waiting => "waiting",
            Phase::IdChecked => "id_checked",
            Phase::InProgress => "in_progress",
            Phase::Ended => "ended",
            Phase::Cancelled => "cancelled",
            Phase::NoShow => "no_show",
        }
    }

    /// Booked, not taken place yet: the booking may still move or be cancelled.
    pub fn is_booked(self) -> bool {
        matches!(self, Phase::Held | Phase::Confirmed | Phase::Scheduled)
    }

    /// Over for good: no signaling, no booking change.
    pub fn is_closed(self) -> bool {
        matches!(self, Phase::Ended | Phase::Cancelled | Phase::NoShow)
    }

    /// Applies `event` at `now` to an interview in this phase; `Err` says why not.
    pub fn next(self, event: Event, slot: &Slot, now: i64) -> Result<Phase, Refusal> {
        use Phase::*;
        match (self, event) {
            (Held, Event::Confirm) => Ok(Confirmed),
            (p, Event::Cancel) if p.is_booked() => Ok(Cancelled),
            (p, Event::Arrive) if p.is_booked() => Ok(Waiting),
            // A reload or a second knock changes nothing.
            (p @ (Waiting | IdChecked | InProgress), Event::Arrive) => Ok(p),
            (Waiting, Event::IdChecked) => Ok(IdChecked),
            (IdChecked, Event::IdChecked) => Ok(IdChecked),
            (IdChecked, Event::Start) => Ok(InProgress),
            (InProgress, Event::End) => Ok(Ended),
            (p, Event::NoShow) if p.is_booked() || p == Waiting => {
                if now < slot.no_show_from() {
                    Err(Refusal::TooEarlyForNoShow {
                        from: slot.no_show_from(),
                    })
                } else {
                    Ok(NoShow)
                }
            }
            // Held in the room but too short to be scored (the connection failed and it
            // went on by phone): its evaluator may still close it as held without
            // recording, with a reason.
            (Ended, Event::CloseWithoutRecording) if slot.ended_too_short => Ok(Ended),
            (p, Event::CloseWithoutRecording) if !p.is_closed() && p != Held => {
                if now < slot.start_ms {
                    Err(Refusal::NotStartedYet {
                        start: slot.start_ms,
                    })
                } else {
                    Ok(Ended)
                }
            }
            (p, _) if p.is_closed() => Err(Refusal::Closed(p)),
            (p, e) => Err(Refusal::WrongOrder { phase: p, event: e }),
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Phase {
    type Err = UnknownPhase;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Phase::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownPhase(s.to_owned()))
    }
}

/// A stored status that is no phase (a bug or a foreign write).
#[derive(Debug, thiserror::Error)]
#[error("unknown interview status {0:?}")]
pub struct UnknownPhase(pub String);

/// What happens to an interview.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The candidate confirms their booking.
    Confirm,
    /// The candidate or the centre cancels.
    Cancel,
    /// The candidate knocks at the waiting room.
    Arrive,
    /// The evaluator checked the identity document.
    IdChecked,
    /// The evaluator starts the interview.
    Start,
    /// The evaluator ends it.
    End,
    /// The candidate did not come (the evaluator says so, or the sweep after the slot).
    NoShow,
    /// The evaluator closes an interview that took place without the recorded room
    /// (a broken connection, a phone call), with a reason.
    CloseWithoutRecording,
}

impl Event {
    /// Its name in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Confirm => "confirm",
            Event::Cancel => "cancel",
            Event::Arrive => "arrive",
            Event::IdChecked => "id_checked",
            Event::Start => "start",
            Event::End => "end",
            Event::NoShow => "no_show",
            Event::CloseWithoutRecording => "held_without_recording",
        }
    }
}

/// The interview's time and the centre's rules that bound the transitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Scheduled start (ms since the epoch).
    pub start_ms: i64,
    /// Scheduled length.
    pub duration_ms: i64,
    /// How long after the start a candidate who did not come may be recorded absent.
    pub no_show_grace_ms: i64,
    /// It ended in the room after less than the minimum time in progress.
    pub ended_too_short: bool,
}

impl Slot {
    /// From when a no-show may be recorded.
    pub fn no_show_from(&self) -> i64 {
        self.start_ms + self.no_show_grace_ms
    }
}

/// The rules of the lifecycle (the server's settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifecycle {
    /// How long before the slot the room opens (default 15 min).
    pub open_before_ms: i64,
    /// The least time in progress for an interview to be scored (default 10 min).
    pub min_in_progress_ms: i64,
    /// How long after the start a candidate may still come (default 10 min).
    pub no_show_grace_ms: i64,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            open_before_ms: 15 * 60_000,
            min_in_progress_ms: 10 * 60_000,
            no_show_grace_ms: 10 * 60_000,
        }
    }
}

impl Lifecycle {
    /// When the room of an interview starting at `start_ms` opens.
    pub fn opens_at(&self, start_ms: i64) -> i64 {
        start_ms - self.open_before_ms
    }
}

/// Why an event does not apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The interview is over (ended, cancelled or no-show).
    #[error("this interview is {0}: nothing more can happen to it")]
    Closed(Phase),
    /// The event does not follow from the phase.
    #[error("not possible while the interview is {phase}: {}", event.as_str())]
    WrongOrder {
        /// The current phase.
        phase: Phase,
        /// The refused event.
        event: Event,
    },
    /// A no-show before the grace period is over.
    #[error("a no-show can be recorded from the end of the grace period")]
    TooEarlyForNoShow {
        /// From when (ms since the epoch).
        from: i64,
    },
    /// Closing an interview whose time has not come.
    #[error("the interview's time has not come yet")]
    NotStartedYet {
        /// The scheduled start (ms since the epoch).
        start: i64,
    },
}

impl Refusal {
    /// A machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Closed(Phase::Cancelled) => "cancelled",
            Refusal::Closed(Phase::NoShow) => "no_show",
            Refusal::Closed(_) => "ended",
            Refusal::WrongOrder { .. } => "wrong_order",
            Refusal::TooEarlyForNoShow { .. } => "too_early_for_no_show",
            Refusal::NotStartedYet { .. } => "not_started_yet",
        }
    }
}

/// How an ended interview was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closure {
    /// Held in the room: started, then ended.
    Held {
        /// When the evaluator started it.
        started_at: i64,
        /// When they ended it.
        ended_at: i64,
    },
    /// Closed by the evaluator as held without recording (with a reason).
    WithoutRecording,
}

/// Why an interview cannot be scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotScoreable {
    /// The interview has not ended (or was cancelled, or the candidate did not come).
    #[error("the interview is {0}: an oral is scored once it has ended")]
    NotEnded(Phase),
    /// It ended after too short a time in progress.
    #[error(
        "the interview lasted {lasted_s} s in progress; at least {min_s} s are needed to score it (or close it as held without recording, with a reason)"
    )]
    TooShort {
        /// How long it was in progress, in seconds.
        lasted_s: i64,
        /// The minimum, in seconds.
        min_s: i64,
    },
}

impl NotScoreable {
    /// A machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            NotScoreable::NotEnded(Phase::Cancelled) => "cancelled",
            NotScoreable::NotEnded(Phase::NoShow) => "no_show",
            NotScoreable::NotEnded(_) => "interview_not_ended",
            NotScoreable::TooShort { .. } => "interview_too_short",
        }
    }
}

/// Whether an interview in `phase`, closed as `closure`, may be scored when the minimum
/// time in progress is `min_ms`.
pub fn scoreable(phase: Phase, closure: Option<Closure>, min_ms: i64) -> Result<(), NotScoreable> {
    match (phase, closure) {
        (Phase::Ended, Some(Closure::WithoutRecording)) => Ok(()),
        (
            Phase::Ended,
            Some(Closure::Held {
                started_at,
                ended_at,
            }),
        ) if ended_at - started_at >= min_ms => Ok(()),
        (
            Phase::Ended,
            Some(Closure::Held {
                started_at,
                ended_at,
            }),
        ) => Err(NotScoreable::TooShort {
            lasted_s: (ended_at - started_at) / 1000,
            min_s: min_ms / 1000,
        }),
        (p, _) => Err(NotScoreable::NotEnded(p)),
    }
}

/// The folder of interview `id`'s recordings under the recordings directory: the media
/// server writes there (one file per participant and track) and the API serves it.
pub fn recordings_folder(recordings: &Path, id: &str) -> PathBuf {
    recordings.join(path_component(id))
}

/// An id made safe as one path component: ASCII letters, digits and `-` stay, every other
/// byte (`_` included) becomes `_XX` in hex. Injective; never empty, never starting with a
/// dot; only `[A-Za-z0-9_-]`, which is what the recordings API serves. Ids such as UUIDs
/// pass unchanged.
pub fn path_component(id: &str) -> String {
    if id.is_empty() {
        return "_".to_owned();
    }
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("_{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const SLOT: Slot = Slot {
        start_ms: 100 * MIN,
        duration_ms: 30 * MIN,
        no_show_grace_ms: 10 * MIN,
        ended_too_short: false,
    };

    #[test]
    fn an_interview_goes_through_its_steps_in_order_only() {
        let now = SLOT.start_ms;
        let mut p = Phase::Held;
        for (e, want) in [
            (Event::Confirm, Phase::Confirmed),
            (Event::Arrive, Phase::Waiting),
            (Event::Arrive, Phase::Waiting),
            (Event::IdChecked, Phase::IdChecked),
            (Event::Start, Phase::InProgress),
            (Event::Arrive, Phase::InProgress),
            (Event::End, Phase::Ended),
        ] {
            p = p.next(e, &SLOT, now).unwrap();
            assert_eq!(p, want, "{e:?}");
        }
        assert_eq!(
            Phase::Ended.next(Event::Start, &SLOT, now),
            Err(Refusal::Closed(Phase::Ended))
        );
        assert!(matches!(
            Phase::Waiting.next(Event::Start, &SLOT, now),
            Err(Refusal::WrongOrder { .. })
        ));
        assert!(matches!(
            Phase::Confirmed.next(Event::End, &SLOT, now),
            Err(Refusal::WrongOrder { .. })
        ));
        assert_eq!(
            Phase::InProgress
                .next(Event::Cancel, &SLOT, now)
                .unwrap_err()
                .code(),
            "wrong_order"
        );
    }

    #[test]
    fn a_no_show_waits_for_the_grace_period_and_never_follows_a_start() {
        let early = SLOT.start_ms + 9 * MIN;
        assert_eq!(
            Phase::Confirmed.next(Event::NoShow, &SLOT, early),
            Err(Refusal::TooEarlyForNoShow {
                from: SLOT.start_ms + 10 * MIN
            })
        );
        let late = SLOT.start_ms + 10 * MIN;
        for p in [
            Phase::Held,
            Phase::Confirmed,
            Phase::Scheduled,
            Phase::Waiting,
        ] {
            assert_eq!(p.next(Event::NoShow, &SLOT, late), Ok(Phase::NoShow));
        }
        for p in [Phase::IdChecked, Phase::InProgress] {
            assert!(p.next(Event::NoShow, &SLOT, late).is_err(), "{p}");
        }
        assert_eq!(
            Phase::NoShow
                .next(Event::Arrive, &SLOT, late)
                .unwrap_err()
                .code(),
            "no_show"
        );
    }

    #[test]
    fn closing_without_recording_needs_the_slot_to_have_begun() {
        assert_eq!(
            Phase::Confirmed.next(Event::CloseWithoutRecording, &SLOT, SLOT.start_ms - 1),
            Err(Refusal::NotStartedYet {
                start: SLOT.start_ms
            })
        );
        for p in [
            Phase::Confirmed,
            Phase::Waiting,
            Phase::IdChecked,
            Phase::InProgress,
        ] {
            assert_eq!(
                p.next(Event::CloseWithoutRecording, &SLOT, SLOT.start_ms),
                Ok(Phase::Ended)
            );
        }
        assert!(
            Phase::Held
                .next(Event::CloseWithoutRecording, &SLOT, SLOT.start_ms)
                .is_err()
        );
        assert!(matches!(
            Phase::Ended.next(Event::CloseWithoutRecording, &SLOT, SLOT.start_ms),
            Err(Refusal::Closed(Phase::Ended))
        ));
        let short = Slot {
            ended_too_short: true,
            ..SLOT
        };
        assert_eq!(
            Phase::Ended.next(Event::CloseWithoutRecording, &short, SLOT.start_ms),
            Ok(Phase::Ended)
        );
        assert_eq!(
            Phase::Cancelled
                .next(Event::CloseWithoutRecording, &SLOT, SLOT.start_ms)
                .unwrap_err()
                .code(),
            "cancelled"
        );
    }

    #[test]
    fn only_an_ended_interview_long_enough_or_closed_with_a_reason_is_scored() {
        let min = 10 * MIN;
        for p in [
            Phase::Held,
            Phase::Scheduled,
            Phase::Waiting,
            Phase::IdChecked,
            Phase::InProgress,
            Phase::Cancelled,
            Phase::NoShow,
        ] {
            assert_eq!(scoreable(p, None, min), Err(NotScoreable::NotEnded(p)));
        }
        let held = |minutes| Closure::Held {
            started_at: 0,
            ended_at: minutes * MIN,
        };
        assert_eq!(
            scoreable(Phase::Ended, Some(held(9)), min),
            Err(NotScoreable::TooShort {
                lasted_s: 540,
                min_s: 600
            })
        );
        assert_eq!(scoreable(Phase::Ended, Some(held(10)), min), Ok(()));
        assert_eq!(
            scoreable(Phase::Ended, Some(Closure::WithoutRecording), min),
            Ok(())
        );
    }

    #[test]
    fn every_phase_reads_back_from_its_name() {
        for p in Phase::ALL {
            assert_eq!(p.as_str().parse::<Phase>().unwrap(), p);
        }
        assert!("done".parse::<Phase>().is_err());
    }
    #[test]
    fn ids_become_safe_distinct_path_components() {
        let uuid = "0b6c1a52-4f0e-4d5e-9a8b-2c3d4e5f6a7b";
        assert_eq!(path_component(uuid), uuid);
        assert_eq!(path_component("room-42"), "room-42");
        assert_eq!(path_component(".."), "_2E_2E");
        assert_eq!(path_component("a/b"), "a_2Fb");
        assert_eq!(path_component("a_2Fb"), "a_5F2Fb");
        assert_eq!(path_component(""), "_");
        assert_eq!(path_component("é"), "_C3_A9");
    }
}
