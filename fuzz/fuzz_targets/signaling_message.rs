//! Fuzzes the signaling message parser: any text gives a message or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(msg) = signaling::messages::parse(text) {
            // What parses serializes back to something that parses the same.
            let again = serde_json::to_string(&msg).unwrap();
            assert_eq!(signaling::messages::parse(&again).ok(), Some(msg));
        }
    }
});
