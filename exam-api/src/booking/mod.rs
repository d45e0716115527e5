//! The oral interview's booking: evaluators' availability ([`availability`]), the free
//! slots a candidate may book, bookings that the database makes impossible to double
//! (unique indexes on evaluator + start and on candidate), calendar invitations
//! ([`ics`]) and the mails that carry them.

pub mod availability;
pub mod ics;
pub mod routes;
pub mod store;

pub use availability::Availability;
