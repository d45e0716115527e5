//! End-to-end tests of the `langcert` binary: the commands of the README, run as a
//! user runs them, against real SQLite and PostgreSQL databases.

mod items_cli;
mod kit;
mod proctoring;
mod resume;
mod serve;
mod signaling;
mod simulate;
mod smtp;
mod verify;

use serde_json::{Value, json};

/// A response of the right shape for a public item (see `docs/written-test.md`).
pub(crate) fn written_response(item: &Value) -> Value {
    let gaps = |i: &Value| i["gaps"].as_array().map_or(0, Vec::len);
    match item["type"].as_str().unwrap() {
        "dropdown_gaps" => json!({ "selected": vec![1; gaps(item)] }),
        "word_bank" => {
            json!({ "placed": vec![Value::Null; item["gap_count"].as_u64().unwrap() as usize] })
        }
        "text_gaps" => json!({ "typed": vec!["answer"; gaps(item)] }),
        "choice" => json!({ "choice": 1 }),
        "order_sentences" | "order_words" => {
            json!({ "order": (0..item["shuffled"].as_array().unwrap().len()).rev().collect::<Vec<_>>() })
        }
        "listening" if item["response"] == "choice" => json!({ "choice": 0 }),
        "listening" => json!({ "typed": vec!["x"; gaps(item)] }),
        t => panic!("unknown type {t}"),
    }
}
