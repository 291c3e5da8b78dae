//! gemeinwerk: a package registry for German public administrations.
//!
//! The arrows point one way: `server` and `client` use `registry`, which uses
//! `package` and `store`; `package` depends on nothing of ours.

pub mod package;
