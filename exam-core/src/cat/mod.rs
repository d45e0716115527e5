//! The adaptive test engine (CAT) of the written test.
//!
//! Each candidate gets a [`CatSession`]: the five domains of [`Domain::ALL`] in order,
//! [`CatConfig::items_per_domain`] items each (10 by default). Within a domain the next
//! item is the most informative one at the current ability estimate, subject to a
//! spread of item types and a cap on how often any item is shown ([`select`]). Ability
//! is estimated by EAP on a fixed grid ([`eap`]); items follow the 2PL, 3PL or the
//! generalized partial credit model with D = 1.7 ([`irt`]). A later domain starts from a
//! prior informed by the earlier ones, the domains being treated as correlated
//! ([`prior`]; the common correlation 0.75 is an assumption, see
//! [`CatConfig::correlation`]).
//!
//! The engine is sans-IO: it reads no clock, does no I/O and has no global randomness.
//! The pool ([`Pool`]) and the exposure counters shared by all candidates
//! ([`ExposureCounts`]) are owned by the caller and lent to each call; a session's only
//! randomness comes from its seed and the position in the test, so a session can be
//! rebuilt from `(config, seed, scored responses)` with [`CatSession::replay`].
//!
//! # Drive loop
//!
//! ```
//! # use exam_core::cat::{CatConfig, CatSession, ExposureCounts, sim};
//! # use rand::{SeedableRng, rngs::StdRng};
//! # let pool = sim::synthetic_pool(40, &mut StdRng::seed_from_u64(1));
//! # let mut give_to_candidate = |_: &exam_core::cat::CatItem| 1u32;
//! let mut exposure = ExposureCounts::new(); // shared by every session of the pool
//! let mut session = CatSession::new(CatConfig::default(), 42)?;
//! while let Some(item) = session.next_item(&pool, &mut exposure) {
//!     let id = item.id.clone();
//!     let score = give_to_candidate(item); // show it, wait, score the answer
//!     session.record(&id, score)?;
//! }
//! for estimate in session.estimates() {
//!     // domain, θ, SE, CEFR level and band, items answered
//!     assert_eq!(estimate.answered, 10);
//! }
//! # Ok::<(), exam_core::cat::CatError>(())
//! ```
//!
//! After a crash, `CatSession::replay(config, &pool, seed, &[(item_id, score), …])`
//! gives back the same session, and [`CatSession::restore_pending`] the item that was
//! on screen.
//!
//! [`CatSession::estimates`] are the live estimates: a domain borrows only from the
//! domains before it. [`CatSession::collateral_estimates`] let every domain borrow from
//! all the others once the test is over (more precise, independent of the order, but
//! an earlier domain's result then depends on later ones) — a scoring policy choice.
//!
//! # Simulation
//!
//! [`sim::synthetic_pool`] builds a synthetic 2PL bank, [`sim::run`] runs simulated
//! candidates through it and [`sim::run_on_pool`] through any pool (the real bank);
//! both return a [`sim::SimReport`] of RMSE, bias, level agreement, exposure and overlap,
//! scoring either kind of estimate ([`sim::Scoring`]).
//!
//! [`Domain::ALL`]: crate::bank::Domain::ALL

pub mod eap;
mod error;
pub mod exposure;
pub mod irt;
mod pool;
pub mod prior;
pub mod select;
mod session;
pub mod sim;

pub use eap::{Estimate, Grid, Normal};
pub use error::CatError;
pub use exposure::ExposureCounts;
pub use irt::{Model, ModelError};
pub use pool::{CatItem, Pool};
pub use select::SelectionConfig;
pub use session::{CatConfig, CatSession, DomainEstimate, Response};
