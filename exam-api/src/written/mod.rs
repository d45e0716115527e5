//! The written test: the sans-IO session machine of [`exam_core::written`] driven by an
//! HTTP shell that stores every event before it answers.

pub mod routes;
pub mod store;

pub use routes::WrittenState;
