//! `gemeinwerk.toml`: any text gives a manifest or diagnostics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(source) = std::str::from_utf8(data) {
        let _ = gemeinwerk_package::manifest::parse_manifest(source);
    }
});
