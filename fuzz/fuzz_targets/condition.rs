//! The condition language: any text parses or gives a positioned error;
//! a parsed condition compiles and evaluates without panicking, with every
//! field empty and with every field holding the same value.
#![no_main]
use gemeinwerk_package::{eval, expr};
use libfuzzer_sys::fuzz_target;

struct Same(Vec<String>);

impl eval::Values for Same {
    fn raw(&self, _: &str) -> &[String] {
        &self.0
    }
    fn entries(&self, _: &str) -> u32 {
        self.0.len() as u32
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = expr::parse(source) else {
        return;
    };
    let _ = parsed.paths();
    for slot in [
        eval::Slot::Text,
        eval::Slot::Number,
        eval::Slot::Bool,
        eval::Slot::Multi,
        eval::Slot::Group,
    ] {
        let compiled = eval::compile(&parsed, &|path| Some((path.to_string(), slot)));
        for value in ["", "1", "2026-02-29", "ja"] {
            let values = Same(if value.is_empty() { vec![] } else { vec![value.into()] });
            let _ = eval::eval(&compiled, &values, "2026-11-30");
        }
    }
});
