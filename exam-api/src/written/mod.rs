//! The written test: a sans-IO session machine ([`machine`]) driven by an HTTP shell
//! that stores every event before it answers.

pub mod machine;
pub mod routes;
pub mod store;

pub use machine::{Event, Phase, Refusal, StoredItem, Timing, WrittenSession};
pub use routes::WrittenState;
