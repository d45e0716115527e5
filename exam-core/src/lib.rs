//! exam-core: the domain of langcert, free of IO — no clock, no network, no database, no
//! async runtime. Every function takes what it needs (the time included) as arguments,
//! so the HTTP shell (`exam-api`) stores what it returns and tests drive it in virtual
//! time.
//!
//! - [`bank`]: the item-bank file format, its validation, the shipped English bank and
//!   the exchange with IMS QTI 3.0; scoring of every item type.
//! - [`cat`]: the adaptive engine — IRT models, EAP ability estimates, item selection
//!   with exposure control, the per-candidate [`cat::CatSession`].
//! - [`cefr`]: the CEFR levels and the cut scores that map an ability to a level.
//! - [`written`]: the written-test session as a sans-IO state machine (timers,
//!   deadlines, restarts).
//! - [`interview`]: the oral interview's lifecycle (booked → held → ended, no-show,
//!   cancellation) as a state machine.
//! - [`proctoring`]: the vocabulary of the proctoring — event kinds, severities, the
//!   identity step's captures and why one is refused.

pub mod bank;
pub mod cat;
pub mod cefr;
pub mod interview;
pub mod proctoring;
pub mod written;
