//! The genericode code list reader: any bytes give a code list or an
//! error, and a code list read has a code in every row, each once.
#![no_main]
use gemeinwerk_package::interop::genericode::read;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = read(data) {
        let mut codes = std::collections::HashSet::new();
        for row in &list.rows {
            let code = list.code(row);
            assert!(!code.is_empty());
            assert!(codes.insert(code.to_string()), "code {code} twice");
            assert_eq!(row.values.len(), list.columns.len());
        }
    }
});
