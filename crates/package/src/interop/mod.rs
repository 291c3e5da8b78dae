//! Speaking the standards: FIM XDatenfelder and genericode code lists in, JSON Schema (for
//! FIT-Connect) and BPMN 2.0 out. Pure like `package`, on whose model it
//! works: the callers (CLI, server) read and write files.

pub mod bpmn;
pub mod codelist_import;
pub mod genericode;
pub mod json_schema;
pub mod reason;
pub mod report;
pub mod xdatenfelder;
pub mod xml;

pub use report::ImportReport;
