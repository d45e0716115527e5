//! Integration tests of exam-api, compiled into one binary.

mod bank;
