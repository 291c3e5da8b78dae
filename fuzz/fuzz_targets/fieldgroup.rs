//! `fieldgroup.toml` beside a valid manifest, through the whole package check
//! (reading, references, conditions, limits), as `validate` and publish run it.
#![no_main]
use gemeinwerk_package::{check_package, PackageFiles};
use libfuzzer_sys::fuzz_target;

const MANIFEST: &str = "[package]\nname = \"kassel/fuzz\"\nversion = \"1.0.0\"\nkind = \"fieldgroup\"\n\
description = \"Fuzz\"\nlicense = \"EUPL-1.2\"\nthemenfeld = \"mobilitaet_reisen\"\n";

fuzz_target!(|data: &[u8]| {
    let mut files = PackageFiles::new();
    files.insert("gemeinwerk.toml".into(), MANIFEST.as_bytes().to_vec());
    files.insert("fieldgroup.toml".into(), data.to_vec());
    let _ = check_package(&files);
});
