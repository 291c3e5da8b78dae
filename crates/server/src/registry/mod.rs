//! The use cases: publish, yank, accounts, tokens, jobs. Each talks to the
//! stores; none knows about HTTP.

pub mod accounts;
pub mod advisories;
pub mod audit;
pub mod auth;
pub mod changes;
pub mod content;
pub mod db_health;
pub mod deliveries;
pub mod demo;
pub mod downloads;
pub mod error;
pub mod events;
pub mod exports;
pub mod feeds;
pub mod forks;
pub mod fsck;
pub mod history;
pub mod history_cache;
pub mod id_tokens;
pub mod index;
pub mod jobs;
pub mod mail;
pub mod node;
pub mod oidc;
pub mod packages;
pub mod publish;
pub mod rate_limits;
pub mod search;
pub mod secrets;
pub mod sessions;
pub mod shared_index;
pub mod sources;
pub mod subscriptions;
pub mod supervisor;
pub mod text;
pub mod tokens;
pub mod trusted_publishing;
pub mod version_cache;
pub mod views;
pub mod webhook_target;
pub mod yank;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use error::{ErrorKind, RegistryError, Result};

use crate::store::{BlobStore, Db, DbUrl};
use gemeinwerk_package::archive::ArchiveLimits;

#[derive(Debug, Clone)]
pub struct RegistryConfig {
    pub limits: ArchiveLimits,
    /// The URL clients reach this registry at; written into `config.json`.
    pub base_url: String,
}

/// The registry: its stores and the state shared by every request.
pub struct Registry {
    pub db: Db,
    pub blobs: BlobStore,
    pub data_dir: PathBuf,
    pub config: RegistryConfig,
    /// Wakes the job runner's lane of package histories (and other jobs).
    pub wakeup: Arc<jobs::Wakeup>,
    /// Wakes the job runner's git index lane.
    pub index_wakeup: Arc<jobs::Wakeup>,
    /// Wakes the job runner's webhook lane (fan-outs and deliveries).
    pub webhook_wakeup: Arc<jobs::Wakeup>,
    pub git: jobs::GitWriter,
    pub index_cache: index::IndexCache,
    /// Changes made through other nodes (PostgreSQL's notifications).
    pub changes: changes::ChangeListener,
    /// Whether this node writes the git index that the nodes share.
    pub shared_index: shared_index::Leadership,
    pub search: search::SearchService,
    /// Downloads counted and not yet written.
    pub downloads: downloads::DownloadCounter,
    /// The name this process's job claims carry: the [`node::Node`] id
    /// when it serves, else one for this process alone.
    pub node_id: String,
    /// How long this node's job claims hold ([`jobs::LEASE`]).
    pub job_lease: std::time::Duration,
    /// One writer per package history at a time.
    pub history_locks: history_cache::HistoryLocks,
    /// Package histories this node keeps on disk ([`history_cache`]).
    pub history_cache_repos: usize,
    /// How long a used history is spared ([`history_cache::IN_USE_GRACE`]).
    pub history_cache_grace: std::time::Duration,
    /// This node's rate limits (none unless `serve` sets them).
    pub rate: rate_limits::RateLimits,
    /// Proxies whose `X-Forwarded-For` names the client (`serve
    /// --trusted-proxy`); any other peer is the client itself.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The CI issuers trusted publishing accepts, and their keys.
    pub ci_issuers: id_tokens::CiIssuers,
    /// The identity providers people sign in with (none unless `serve`
    /// configures them).
    pub oidc: oidc::Providers,
    /// How webhooks are sent (`serve --webhook-*`).
    pub webhooks: deliveries::WebhookSettings,
    /// The operator's SMTP server, if mails are sent.
    pub mailer: Option<mail::Mailer>,
}

impl Registry {
    /// Opens (and migrates) the stores under `data_dir`. Without a database
    /// URL the SQLite file `data_dir/gemeinwerk.db` is used.
    pub fn open(data_dir: &Path, db_url: Option<&str>, config: RegistryConfig) -> Result<Registry> {
        std::fs::create_dir_all(data_dir)?;
        let blobs = BlobStore::open(&data_dir.join("blobs"))?;
        Self::open_with_blobs(data_dir, db_url, blobs, config)
    }

    /// As [`Registry::open`], with a blob store opened beforehand (from
    /// [`crate::store::BlobConfig`]), so that a wrong bucket stops the start
    /// before the data dir or the database is touched.
    pub fn open_with_blobs(
        data_dir: &Path,
        db_url: Option<&str>,
        blobs: BlobStore,
        config: RegistryConfig,
    ) -> Result<Registry> {
        std::fs::create_dir_all(data_dir)?;
        let url = match db_url {
            Some(u) => DbUrl::parse(u),
            None => DbUrl::sqlite_file(&data_dir.join("gemeinwerk.db")),
        };
        let db = Db::open(&url)?;
        // The audience of CI tokens is the registry's own address, as
        // PyPI's is `pypi`: a token minted for another service is refused.
        let ci_issuers = id_tokens::CiIssuers::new(
            &id_tokens::DEFAULT_ISSUERS.map(String::from),
            &config.base_url,
        );
        let oidc = oidc::Providers::new(&oidc::IdentityConfig::default(), &config.base_url);
        Ok(Registry {
            db,
            blobs,
            data_dir: data_dir.to_path_buf(),
            config,
            wakeup: Arc::new(jobs::Wakeup::default()),
            index_wakeup: Arc::new(jobs::Wakeup::default()),
            webhook_wakeup: Arc::new(jobs::Wakeup::default()),
            git: jobs::GitWriter::new(),
            index_cache: index::IndexCache::default(),
            changes: changes::ChangeListener::default(),
            shared_index: shared_index::Leadership::default(),
            search: search::SearchService::new(data_dir),
            downloads: downloads::DownloadCounter::default(),
            node_id: format!("process-{}", std::process::id()),
            job_lease: jobs::LEASE,
            history_locks: history_cache::HistoryLocks::new(),
            history_cache_repos: history_cache::KEEP_REPOS,
            history_cache_grace: history_cache::IN_USE_GRACE,
            rate: rate_limits::RateLimits::default(),
            trusted_proxies: Vec::new(),
            ci_issuers,
            oidc,
            webhooks: deliveries::WebhookSettings::default(),
            mailer: None,
        })
    }

    /// Call after committing a change to a package: the cached index file
    /// goes, the job runner wakes for the git index, and the search
    /// follower for the search index.
    pub fn package_changed(&self, full_name: &str) {
        self.index_cache.invalidate(full_name);
        self.views_may_change();
    }

    /// Wakes the job lanes and the search follower: something they follow
    /// may have changed.
    pub fn views_may_change(&self) {
        self.wakeup.notify();
        self.index_wakeup.notify();
        self.webhook_wakeup.notify();
        self.search.wakeup.notify();
    }

    /// Whether a cached index file is current without asking the database:
    /// every change reaches this node's cache (one node on SQLite, or the
    /// change listener connected on PostgreSQL).
    pub fn index_cache_trusted(&self) -> bool {
        self.db.backend == crate::store::Backend::Sqlite || self.changes.connected()
    }

    /// Makes this process a serving node: locks its data dir (and an
    /// SQLite database) and takes the node's id for job claims.
    pub fn start_node(&mut self) -> std::result::Result<node::Node, node::NodeError> {
        let node = node::Node::start(&self.data_dir, &self.db.url)?;
        self.node_id = node.id.clone();
        Ok(node)
    }

    pub fn git_index_path(&self) -> PathBuf {
        self.data_dir.join("git").join("index.git")
    }
}
