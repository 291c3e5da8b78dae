//! The upload reader: whatever bytes arrive, `unpack` returns files or an
//! error, never panics; and what it accepts, it accepts again after being
//! rebuilt (the stored form is one the reader agrees with).
#![no_main]
use gemeinwerk_package::archive::{build, unpack, ArchiveLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = ArchiveLimits {
        max_upload_bytes: 1 << 20,
        max_unpacked_bytes: 4 << 20,
        max_entries: 200,
    };
    if let Ok((prefix, files)) = unpack(data, &limits) {
        let again = build(&prefix, &files);
        let (prefix2, files2) = unpack(&again, &ArchiveLimits::default())
            .expect("an archive rebuilt from accepted files is accepted");
        assert_eq!(prefix, prefix2);
        assert_eq!(files, files2);
    }
});
