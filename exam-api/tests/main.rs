//! Integration tests of exam-api, compiled into one binary. Tests that touch a database
//! run twice, on SQLite and on PostgreSQL (see `common::both!`).

mod api;
mod bank;
mod booking;
mod certificates;
mod common;
mod flows;
mod lifecycle;
mod openapi;
mod proctoring;
mod written;
