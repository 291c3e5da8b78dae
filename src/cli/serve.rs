//! `gemeinwerk serve`

use std::net::TcpListener;

use clap::Args;

use anyhow::Context as _;

use super::StoreArgs;
use crate::tr;
use gemeinwerk_package::archive::ArchiveLimits;
use gemeinwerk_server::registry::{demo, RegistryConfig};

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Address to listen on.
    #[arg(long, env = "GEMEINWERK_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// The URL clients use to reach this registry (default: http:// + bind).
    #[arg(long, env = "GEMEINWERK_PUBLIC_URL")]
    public_url: Option<String>,
    /// Seed demo municipalities, accounts and packages into an empty registry.
    #[arg(long)]
    demo: bool,
    /// Largest accepted upload, in bytes.
    #[arg(long, env = "GEMEINWERK_MAX_UPLOAD_BYTES", default_value_t = ArchiveLimits::default().max_upload_bytes)]
    max_upload_bytes: u64,
    /// Largest unpacked size of an archive, in bytes.
    #[arg(long, env = "GEMEINWERK_MAX_UNPACKED_BYTES", default_value_t = ArchiveLimits::default().max_unpacked_bytes)]
    max_unpacked_bytes: u64,
    /// How often download counts are brought into the search ranking, in seconds.
    #[arg(long, env = "GEMEINWERK_SEARCH_REFRESH_SECS", default_value_t = gemeinwerk_server::registry::search::ADOPTION_REFRESH.as_secs())]
    search_refresh_secs: u64,
    /// `text` (one line per event) or `json` (one object per line).
    #[arg(
        long,
        env = "GEMEINWERK_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: crate::LogFormat,
    /// How often counted downloads are written to the database, in seconds.
    #[arg(long, env = "GEMEINWERK_DOWNLOADS_FLUSH_SECS", default_value_t = gemeinwerk_server::registry::downloads::FLUSH_EVERY.as_secs())]
    downloads_flush_secs: u64,
    /// Squash the git index's history into one snapshot commit after this
    /// many commits (the old history goes to /git/index-archive.git); 0 never.
    #[arg(long, env = "GEMEINWERK_INDEX_SQUASH_AFTER", default_value_t = gemeinwerk_server::registry::jobs::SQUASH_AFTER_COMMITS)]
    index_squash_after: u64,
    /// How long a node's claim on a job holds, in seconds: when a node dies
    /// mid-job, another takes the job over after this long.
    #[arg(long, env = "GEMEINWERK_JOB_LEASE_SECS", default_value_t = gemeinwerk_server::registry::jobs::LEASE.as_secs())]
    job_lease_secs: u64,
    /// Package histories this node keeps on disk; beyond that the least
    /// recently used go, and are made again from the database when asked for.
    #[arg(long, env = "GEMEINWERK_HISTORY_CACHE_REPOS", default_value_t = gemeinwerk_server::registry::history_cache::KEEP_REPOS)]
    history_cache_repos: usize,
    /// Most entries in an archive.
    #[arg(long, env = "GEMEINWERK_MAX_ENTRIES", default_value_t = ArchiveLimits::default().max_entries)]
    max_entries: usize,
}

pub fn exec(args: ServeArgs) -> anyhow::Result<()> {
    crate::init_logging(args.log_format);
    let listener = TcpListener::bind(&args.bind)
        .with_context(|| tr!("serve-cannot-listen", bind = args.bind.as_str()))?;
    let local = listener.local_addr()?;
    let base_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"));
    let config = RegistryConfig {
        limits: ArchiveLimits {
            max_upload_bytes: args.max_upload_bytes,
            max_unpacked_bytes: args.max_unpacked_bytes,
            max_entries: args.max_entries,
        },
        base_url: base_url.clone(),
    };
    let mut registry = args.store.open_registry(config)?;
    // Held until the process ends: one serving process per data dir.
    let _node = registry.start_node()?;
    registry
        .search
        .set_adoption_refresh(std::time::Duration::from_secs(
            args.search_refresh_secs.max(1),
        ));
    registry
        .downloads
        .set_flush_every(std::time::Duration::from_secs(
            args.downloads_flush_secs.max(1),
        ));
    registry.git.set_squash_after(args.index_squash_after);
    registry.job_lease = std::time::Duration::from_secs(args.job_lease_secs.max(1));
    registry.history_cache_repos = args.history_cache_repos.max(1);
    if args.demo {
        match demo::seed(&registry).with_context(|| tr!("serve-cannot-seed"))? {
            Some(accounts) => {
                println!(
                    "{}",
                    tr!(
                        "serve-demo-seeded",
                        file = registry
                            .data_dir
                            .join("demo-tokens.toml")
                            .display()
                            .to_string()
                    )
                );
                for a in accounts {
                    println!("  {:<10} {:<22} {}", a.namespace, a.login, a.token);
                }
            }
            None => println!("{}", tr!("serve-demo-skipped")),
        }
    }
    println!("{}", tr!("serve-listening", url = base_url.as_str()));
    tracing::info!(bind = %local, data_dir = %registry.data_dir.display(), "serving");
    actix_web::rt::System::new()
        .block_on(gemeinwerk_server::http::serve(registry, listener))
        .with_context(|| tr!("serve-stopped"))
}
