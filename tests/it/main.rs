//! Integration tests: one binary, so that the crate is linked once.

mod auth;
mod blob_store;
mod common;
mod contract;
mod crash;
mod db_health;
mod downloads;
mod follower;
mod fork;
mod git_index;
mod hostile;
mod index;
mod integrity;
mod interop;
mod lifecycle;
mod package;
mod publish;
mod pull;
mod query_plans;
mod schemathesis;
mod search;
mod search_corpus;
mod search_relevance;
mod serve;
mod story;
mod web;
