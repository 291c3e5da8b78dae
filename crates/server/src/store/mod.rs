//! The stores: the database and the blob store are the source of truth; the
//! git index is a view derived from them.

pub mod blobs;
pub mod db;
pub mod history;
pub mod models;
pub mod schema;
pub mod search;

pub use blobs::{BlobConfig, BlobStore};
pub use db::{write_tx, Backend, Db, DbConn, DbUrl};
