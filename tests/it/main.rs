//! Integration tests: one binary, so that the crate is linked once.

mod auth;
mod common;
mod fork;
mod git_index;
mod index;
mod interop;
mod lifecycle;
mod package;
mod publish;
mod pull;
mod search;
mod search_corpus;
mod search_relevance;
mod serve;
mod story;
mod web;
