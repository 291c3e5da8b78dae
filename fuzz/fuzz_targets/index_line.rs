//! The index file a client reads (sparse or git): any text parses into
//! lines or gives an error; parsed lines serialise and parse back the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use registry_index::{parse_lines, serialize_lines};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(lines) = parse_lines(text) {
        let again = serialize_lines(&lines);
        let reparsed = parse_lines(&again).expect("serialised lines parse");
        assert_eq!(serialize_lines(&reparsed), again);
    }
});
