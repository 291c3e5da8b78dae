//! Integration tests: one binary, so that the crate is linked once.

mod auth;
mod common;
mod index;
mod lifecycle;
mod package;
mod publish;
mod pull;
mod serve;
