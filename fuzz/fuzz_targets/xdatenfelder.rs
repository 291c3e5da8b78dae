//! The XDatenfelder 2 and 3 import: any bytes give a package or an error.
#![no_main]
use gemeinwerk_package::interop::xdatenfelder::{import, ImportOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = import(data, &ImportOptions::default());
});
