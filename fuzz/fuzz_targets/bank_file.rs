//! Fuzzes the item bank file parser: any text gives items or a list of errors, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok((language, items)) = exam_core::bank::parse_file(text) {
            // What parses must write back to something that parses to the same items.
            let refs: Vec<_> = items.iter().collect();
            let again = exam_core::bank::parse_file(&exam_core::bank::to_toml(&language, &refs)).expect("rewritten file parses");
            assert_eq!(again.1, items);
        }
    }
});
