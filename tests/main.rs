//! End-to-end tests of the `langcert` binary: the commands of the README, run as a
//! user runs them, against real SQLite and PostgreSQL databases.

mod aiortc;
mod items_cli;
mod kit;
mod proctoring;
mod resume;
mod serve;
mod signaling;
mod simulate;
mod smtp;
mod verify;
