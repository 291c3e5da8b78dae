//! Integration tests: one binary, so that the crate is linked once.

mod auth;
mod common;
mod fork;
mod index;
mod lifecycle;
mod package;
mod publish;
mod pull;
mod serve;
mod story;
mod web;
