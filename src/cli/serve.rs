//! `gemeinwerk serve`

use std::net::TcpListener;

use clap::Args;

use anyhow::Context as _;

use super::StoreArgs;
use crate::tr;
use gemeinwerk_package::archive::ArchiveLimits;
use gemeinwerk_server::registry::rate_limits::RateLimits;
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
    /// A package history used this recently stays on disk beyond that
    /// number, in seconds: a client that read its refs may still be
    /// fetching its packs.
    #[arg(long, env = "GEMEINWERK_HISTORY_CACHE_GRACE_SECS", default_value_t = gemeinwerk_server::registry::history_cache::IN_USE_GRACE.as_secs())]
    history_cache_grace_secs: u64,
    /// Most entries in an archive.
    #[arg(long, env = "GEMEINWERK_MAX_ENTRIES", default_value_t = ArchiveLimits::default().max_entries)]
    max_entries: usize,
    /// Sign-in attempts a client address may make per minute on this node; 0 no limit.
    #[arg(long, env = "GEMEINWERK_RATE_LIMIT_SIGN_IN", default_value_t = gemeinwerk_server::registry::rate_limits::SIGN_IN_PER_MINUTE)]
    rate_limit_sign_in: u32,
    /// Publishes a token may make per minute on this node; 0 no limit.
    #[arg(long, env = "GEMEINWERK_RATE_LIMIT_PUBLISH", default_value_t = gemeinwerk_server::registry::rate_limits::PUBLISH_PER_MINUTE)]
    rate_limit_publish: u32,
    /// Tokens a token may make per minute on this node; 0 no limit.
    #[arg(long, env = "GEMEINWERK_RATE_LIMIT_TOKEN_CREATE", default_value_t = gemeinwerk_server::registry::rate_limits::TOKEN_CREATE_PER_MINUTE)]
    rate_limit_token_create: u32,
    /// Trusted-publishing token exchanges a client address may make per minute on this node; 0 no limit.
    #[arg(long, env = "GEMEINWERK_RATE_LIMIT_TOKEN_EXCHANGE", default_value_t = gemeinwerk_server::registry::rate_limits::TOKEN_EXCHANGE_PER_MINUTE)]
    rate_limit_token_exchange: u32,
    /// An OIDC issuer whose CI ID tokens may be exchanged for publish tokens (repeat for several); default: gitlab.com, gitlab.opencode.de and GitHub Actions.
    #[arg(
        long = "trusted-publishing-issuer",
        env = "GEMEINWERK_TRUSTED_PUBLISHING_ISSUERS",
        value_delimiter = ','
    )]
    trusted_publishing_issuers: Vec<String>,
    /// The audience CI ID tokens must name (default: the public URL).
    #[arg(long, env = "GEMEINWERK_TRUSTED_PUBLISHING_AUDIENCE")]
    trusted_publishing_audience: Option<String>,
    /// A TOML file with the identity providers people sign in with (`[[provider]]` tables, see docs/identity.md).
    #[arg(long, env = "GEMEINWERK_IDENTITY_CONFIG")]
    identity_config: Option<std::path::PathBuf>,
    /// The issuer of one OpenID Connect provider to sign in with (several: --identity-config).
    #[arg(long, env = "GEMEINWERK_OIDC_ISSUER")]
    oidc_issuer: Option<String>,
    /// This registry's client id at that provider.
    #[arg(long, env = "GEMEINWERK_OIDC_CLIENT_ID", requires = "oidc_issuer")]
    oidc_client_id: Option<String>,
    /// This registry's client secret at that provider (better from the environment than on the command line).
    #[arg(
        long,
        env = "GEMEINWERK_OIDC_CLIENT_SECRET",
        hide_env_values = true,
        requires = "oidc_issuer"
    )]
    oidc_client_secret: Option<String>,
    /// The provider's name on the sign-in page.
    #[arg(long, env = "GEMEINWERK_OIDC_NAME", default_value = "Ihrer Verwaltung")]
    oidc_name: String,
    /// The ID token claim that gives the login.
    #[arg(
        long,
        env = "GEMEINWERK_OIDC_LOGIN_CLAIM",
        default_value = "preferred_username"
    )]
    oidc_login_claim: String,
    /// The ID token claim that lists the groups.
    #[arg(long, env = "GEMEINWERK_OIDC_GROUPS_CLAIM", default_value = "groups")]
    oidc_groups_claim: String,
    /// A group that gives a namespace role, as GROUP=NAMESPACE:ROLE (repeat for several).
    #[arg(
        long = "oidc-group-role",
        env = "GEMEINWERK_OIDC_GROUP_ROLES",
        value_delimiter = ','
    )]
    oidc_group_roles: Vec<String>,
    /// A proxy or load balancer whose X-Forwarded-For names the client (repeat for several); others' headers are ignored.
    #[arg(
        long = "trusted-proxy",
        env = "GEMEINWERK_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// How long to wait at start for PostgreSQL or the object store when they do not answer, in seconds, answering 503 meanwhile; 0 stops at once.
    #[arg(long, env = "GEMEINWERK_WAIT_FOR_STORES_SECS", default_value_t = 120)]
    wait_for_stores_secs: u64,
    /// Let webhooks call private, loopback and link-local addresses (receivers on the operator's own network; tests).
    #[arg(long, env = "GEMEINWERK_WEBHOOK_ALLOW_PRIVATE")]
    webhook_allow_private: bool,
    /// How long one webhook attempt may take, connecting and reading the answer included, in seconds.
    #[arg(long, env = "GEMEINWERK_WEBHOOK_TIMEOUT_SECS", default_value_t = 5)]
    webhook_timeout_secs: u64,
    /// The wait before a failed delivery's first retry, in milliseconds; it doubles with every attempt, up to an hour.
    #[arg(
        long,
        env = "GEMEINWERK_WEBHOOK_RETRY_BASE_MS",
        default_value_t = 30_000
    )]
    webhook_retry_base_ms: u64,
    /// How long a failed delivery is retried before it is given up, in seconds.
    #[arg(long, env = "GEMEINWERK_WEBHOOK_RETRY_FOR_SECS", default_value_t = 24 * 3600)]
    webhook_retry_for_secs: u64,
    /// Failed attempts in a row after which a subscription is paused until its owner resumes it.
    #[arg(long, env = "GEMEINWERK_WEBHOOK_PAUSE_AFTER", default_value_t = 20)]
    webhook_pause_after: u32,
    /// The SMTP server for mails about package events, e.g. smtp://user:pass@mail.example.de:587?tls=required; without it no mail is sent.
    #[arg(long, env = "GEMEINWERK_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The sender of those mails, e.g. "gemeinwerk <gemeinwerk@ekom21.de>".
    #[arg(long, env = "GEMEINWERK_MAIL_FROM", requires = "smtp_url")]
    mail_from: Option<String>,
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
    // Checked before any store is touched: a wrong setting writes nothing.
    let identity = identity_config(&args)?;
    let issuers = trusted_publishing_issuers(&args)?;
    let mailer = mailer(&args)?;
    let config = RegistryConfig {
        limits: ArchiveLimits {
            max_upload_bytes: args.max_upload_bytes,
            max_unpacked_bytes: args.max_unpacked_bytes,
            max_entries: args.max_entries,
        },
        base_url: base_url.clone(),
    };
    let wait = std::time::Duration::from_secs(args.wait_for_stores_secs);
    let mut registry = actix_web::rt::System::new().block_on(open_when_reachable(
        &args.store,
        config,
        &listener,
        wait,
    ))?;
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
    registry.history_cache_grace = std::time::Duration::from_secs(args.history_cache_grace_secs);
    registry.rate = RateLimits::per_minute(
        args.rate_limit_sign_in,
        args.rate_limit_publish,
        args.rate_limit_token_create,
        args.rate_limit_token_exchange,
    );
    registry.oidc = gemeinwerk_server::registry::oidc::Providers::new(&identity, &base_url);
    registry.ci_issuers = gemeinwerk_server::registry::id_tokens::CiIssuers::new(
        &issuers,
        args.trusted_publishing_audience
            .as_deref()
            .unwrap_or(&base_url),
    );
    registry.trusted_proxies = args.trusted_proxies.clone();
    registry.webhooks = gemeinwerk_server::registry::deliveries::WebhookSettings {
        allow_private: args.webhook_allow_private,
        timeout: std::time::Duration::from_secs(args.webhook_timeout_secs.clamp(1, 60)),
        retry_base: std::time::Duration::from_millis(args.webhook_retry_base_ms.max(1)),
        retry_for: std::time::Duration::from_secs(args.webhook_retry_for_secs),
        pause_after: args.webhook_pause_after.clamp(1, i32::MAX as u32) as i32,
    };
    registry.mailer = mailer;
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

/// The SMTP server and sender, if the operator set them.
fn mailer(args: &ServeArgs) -> anyhow::Result<Option<gemeinwerk_server::registry::mail::Mailer>> {
    let Some(url) = &args.smtp_url else {
        return Ok(None);
    };
    let from = args
        .mail_from
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("--smtp-url needs --mail-from, the sender of the mails"))?;
    gemeinwerk_server::registry::mail::Mailer::new(url, from)
        .map(Some)
        .map_err(|e| anyhow::anyhow!(e))
}

/// The CI issuers trusted publishing accepts: the flags', or the defaults.
fn trusted_publishing_issuers(args: &ServeArgs) -> anyhow::Result<Vec<String>> {
    let issuers = if args.trusted_publishing_issuers.is_empty() {
        gemeinwerk_server::registry::id_tokens::DEFAULT_ISSUERS
            .map(String::from)
            .to_vec()
    } else {
        args.trusted_publishing_issuers.clone()
    };
    for issuer in &issuers {
        gemeinwerk_server::registry::id_tokens::check_issuer(issuer)
            .map_err(|e| anyhow::anyhow!("--trusted-publishing-issuer: {e}"))?;
    }
    Ok(issuers)
}

/// The identity providers: the file's, and the one of the `--oidc-*` flags
/// (id `oidc`).
fn identity_config(
    args: &ServeArgs,
) -> anyhow::Result<gemeinwerk_server::registry::oidc::IdentityConfig> {
    use gemeinwerk_server::registry::oidc::{GroupRole, IdentityConfig, ProviderConfig};
    let mut config = match &args.identity_config {
        Some(path) => {
            IdentityConfig::load(path).map_err(|e| anyhow::anyhow!("--identity-config: {e}"))?
        }
        None => IdentityConfig::default(),
    };
    if let Some(issuer) = &args.oidc_issuer {
        let mut roles = Vec::new();
        for mapping in &args.oidc_group_roles {
            let parsed = mapping.split_once('=').and_then(|(group, target)| {
                let (namespace, role) = target.split_once(':')?;
                Some(GroupRole {
                    group: group.trim().to_string(),
                    namespace: namespace.trim().to_string(),
                    role: role.trim().to_string(),
                })
            });
            roles.push(parsed.ok_or_else(|| {
                anyhow::anyhow!("--oidc-group-role: \"{mapping}\" is not GROUP=NAMESPACE:ROLE, e.g. kassel-owners=kassel:owner")
            })?);
        }
        config.providers.push(ProviderConfig {
            id: "oidc".into(),
            name: args.oidc_name.clone(),
            issuer: issuer.clone(),
            client_id: args
                .oidc_client_id
                .clone()
                .ok_or_else(|| anyhow::anyhow!("--oidc-issuer needs --oidc-client-id"))?,
            client_secret: args.oidc_client_secret.clone().unwrap_or_default(),
            client_secret_env: None,
            login_claim: args.oidc_login_claim.clone(),
            groups_claim: args.oidc_groups_claim.clone(),
            roles,
        });
    }
    config
        .check()
        .map_err(|e| anyhow::anyhow!("identity providers: {e}"))?;
    Ok(config)
}

/// Opens the stores. While PostgreSQL or the object store does not answer
/// (down, starting, a wrong address) it tries again for up to `wait`,
/// answering 503 on the listener meanwhile with the reason; what waiting
/// cannot mend (a wrong password, bucket or key, foreign objects) stops
/// at once. Nothing is written before the stores answer.
async fn open_when_reachable(
    store: &StoreArgs,
    config: RegistryConfig,
    listener: &TcpListener,
    wait: std::time::Duration,
) -> anyhow::Result<gemeinwerk_server::registry::Registry> {
    let open = || {
        let (store, config) = (store.clone(), config.clone());
        async move {
            actix_web::web::block(move || store.open_registry(config))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
        }
    };
    let mut error = match open().await {
        Ok(registry) => return Ok(registry),
        Err(e) if wait.is_zero() || !stores_unreachable(&e) => return Err(e),
        Err(e) => e,
    };
    let started = std::time::Instant::now();
    let starting =
        gemeinwerk_server::http::starting::Starting::start(listener, &format!("{error:#}"))?;
    let mut pause = std::time::Duration::from_secs(1);
    loop {
        tracing::warn!(error = %format!("{error:#}"), "the stores do not answer; trying again");
        starting.set_reason(&format!("{error:#}"));
        if started.elapsed() + pause > wait {
            starting.stop().await;
            return Err(error.context(tr!("serve-gave-up-waiting", secs = wait.as_secs())));
        }
        actix_web::rt::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_secs(10));
        match open().await {
            Ok(registry) => {
                starting.stop().await;
                tracing::info!(
                    waited_secs = started.elapsed().as_secs(),
                    "the stores answer"
                );
                return Ok(registry);
            }
            Err(e) if stores_unreachable(&e) => error = e,
            Err(e) => {
                starting.stop().await;
                return Err(e);
            }
        }
    }
}

/// Whether the failure is a store that does not answer, which waiting may
/// mend.
fn stores_unreachable(e: &anyhow::Error) -> bool {
    use gemeinwerk_server::registry::RegistryError;
    use gemeinwerk_server::store::blobs::BlobError;
    use gemeinwerk_server::store::db::DbError;
    e.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<BlobError>(),
            Some(BlobError::Unreachable(_))
        ) || matches!(
            cause.downcast_ref::<RegistryError>(),
            Some(RegistryError::Db(DbError::Unreachable(_)))
        ) || matches!(
            cause.downcast_ref::<DbError>(),
            Some(DbError::Unreachable(_))
        )
    })
}
