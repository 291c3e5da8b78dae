//! BPMN export.
