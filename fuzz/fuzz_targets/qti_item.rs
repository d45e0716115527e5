//! Fuzzes the QTI 3.0 item reader: any XML gives an item or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(xml) = std::str::from_utf8(data) {
        let _ = exam_core::bank::qti::item_from_xml(xml);
    }
});
