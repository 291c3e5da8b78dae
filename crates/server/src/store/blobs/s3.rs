//! The blob store on S3-compatible object storage (AWS S3, Garage, MinIO,
//! Ceph RGW…) through `object_store`: `<prefix>/<two hex digits>/<sha256>`
//! in one bucket, addressed path-style so that self-hosted stores work
//! without wildcard DNS.
//!
//! The use cases are synchronous (diesel inside `web::block`, the job
//! runner's threads), `object_store` is async. The bucket owns a small
//! tokio runtime of its own and every call is spawned onto it and waited
//! for on a plain channel. Why not `block_on` on the caller's thread: that
//! panics when the caller is inside another runtime (actix's workers), and
//! why not async all the way: a publish is one diesel transaction on a
//! blocking thread, and the blob write belongs before it in the same
//! sequence. The cost is one thread hop per blob, small beside the network.

use std::future::Future;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use futures_util::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};

use super::{BlobBackend, BlobError, BlobResult};

/// Where the bucket is: `--blob-store s3://BUCKET[/PREFIX]`,
/// `--s3-endpoint`, `--s3-region`; credentials come from the usual `AWS_*`
/// variables.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    /// Folder inside the bucket, without slashes at either end; may be empty.
    pub prefix: String,
    /// `None`: `AWS_ENDPOINT` / `AWS_ENDPOINT_URL`, else AWS itself.
    pub endpoint: Option<String>,
    /// `None`: `AWS_REGION` / `AWS_DEFAULT_REGION`, else `us-east-1`.
    pub region: Option<String>,
    /// Access key id and secret; `None`: `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY` (the command line takes them only from there,
    /// so that no secret shows in a process list).
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|(id, _)| (id, "…")),
            )
            .finish()
    }
}

impl S3Config {
    /// Parses `s3://BUCKET` or `s3://BUCKET/PREFIX`.
    pub fn parse(url: &str) -> Result<S3Config, String> {
        let rest = url.strip_prefix("s3://").ok_or_else(|| {
            format!("--blob-store {url:?}: expected s3://BUCKET or s3://BUCKET/PREFIX")
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !bucket_ok {
            return Err(format!(
                "--blob-store {url:?}: \"{bucket}\" is not a bucket name (3 to 63 lowercase letters, digits, '-' or '.')"
            ));
        }
        Ok(S3Config {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            ..S3Config::default()
        })
    }

    fn url(&self) -> String {
        match self.prefix.as_str() {
            "" => format!("s3://{}", self.bucket),
            p => format!("s3://{}/{p}", self.bucket),
        }
    }
}

#[derive(Debug)]
pub struct S3Bucket {
    store: Arc<AmazonS3>,
    prefix: String,
    /// `s3://bucket/prefix at endpoint`, for messages.
    label: String,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for S3Bucket {
    fn drop(&mut self) {
        // A runtime dropped the normal way blocks, which panics when the
        // last owner goes away inside another runtime.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// How long one request may take, and how often it is tried: long enough
/// for a busy store, short enough that an unreachable one fails a start or
/// a publish within seconds instead of the library's three minutes.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const RETRIES: usize = 3;
const RETRY_WITHIN: Duration = Duration::from_secs(20);

impl S3Bucket {
    /// Builds the client and reaches the bucket once (see [`Self::probe`]).
    pub fn open(config: &S3Config) -> BlobResult<S3Bucket> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&config.bucket)
            .with_virtual_hosted_style_request(false)
            .with_retry(RetryConfig {
                max_retries: RETRIES,
                retry_timeout: RETRY_WITHIN,
                ..RetryConfig::default()
            })
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(CONNECT_TIMEOUT)
                    .with_timeout(REQUEST_TIMEOUT),
            );
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(region) = &config.region {
            builder = builder.with_region(region);
        }
        if let Some((id, secret)) = &config.credentials {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
        }
        let endpoint = builder
            .get_config_value(&AmazonS3ConfigKey::Endpoint)
            .unwrap_or_else(|| "AWS S3".to_string());
        if endpoint.starts_with("http://") {
            // Said explicitly by the operator's endpoint; typical inside a
            // cluster network or on one machine.
            builder = builder.with_allow_http(true);
        }
        check_credentials(&builder)?;
        let store = builder.build().map_err(|e| {
            BlobError::Config(format!(
                "the S3 blob store {} cannot be set up (--blob-store, --s3-endpoint, --s3-region, AWS_*): {e}",
                config.url()
            ))
        })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("gw-blobs")
            .enable_all()
            .build()?;
        let bucket = S3Bucket {
            store: Arc::new(store),
            prefix: config.prefix.clone(),
            label: format!("{} at {endpoint}", config.url()),
            runtime: Some(runtime),
        };
        bucket.probe(config, &endpoint)?;
        Ok(bucket)
    }

    /// Runs `fut` on the bucket's runtime and waits for it.
    fn run<T: Send + 'static>(&self, fut: impl Future<Output = T> + Send + 'static) -> T {
        let (tx, rx) = mpsc::sync_channel(1);
        let runtime = self
            .runtime
            .as_ref()
            .expect("the runtime lives as long as the bucket");
        runtime.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().expect("the blob store's runtime stopped")
    }

    fn path_of(&self, sha256: &str) -> ObjectPath {
        ObjectPath::from(self.key_of(&format!("{}/{sha256}", &sha256[..2])))
    }

    fn key_of(&self, rest: &str) -> String {
        match self.prefix.as_str() {
            "" => rest.to_string(),
            p => format!("{p}/{rest}"),
        }
    }

    fn prefix_path(&self) -> Option<ObjectPath> {
        (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()))
    }

    fn failed(&self, what: &str, e: object_store::Error) -> BlobError {
        BlobError::Unavailable {
            store: self.label.clone(),
            detail: format!("{what}: {e}"),
        }
    }

    /// One listing of the top level: it proves that the endpoint answers,
    /// the credentials and the region are accepted and the bucket exists,
    /// and that what lies there is gemeinwerk's (only two-digit shard
    /// folders), so that fsck never takes foreign objects for orphans.
    fn probe(&self, config: &S3Config, endpoint: &str) -> BlobResult<()> {
        let store = self.store.clone();
        let prefix = self.prefix_path();
        let listing = self
            .run(async move { store.list_with_delimiter(prefix.as_ref()).await })
            .map_err(|e| {
                let message = explain_start_failure(config, endpoint, &e);
                if is_unreachable(&e) {
                    BlobError::Unreachable(message)
                } else {
                    BlobError::Config(message)
                }
            })?;
        let foreign: Vec<String> = listing
            .objects
            .iter()
            .map(|o| o.location.to_string())
            .chain(
                listing
                    .common_prefixes
                    .iter()
                    .filter(|p| {
                        !p.filename()
                            .is_some_and(|n| is_shard(n) || n == super::SHARED_FILES)
                    })
                    .map(|p| format!("{p}/")),
            )
            .collect();
        if !foreign.is_empty() {
            let shown: Vec<&str> = foreign.iter().take(3).map(String::as_str).collect();
            return Err(BlobError::Config(format!(
                "--blob-store {}: the bucket holds {} object(s) or folder(s) that are not gemeinwerk archives ({}{}); give the registry a bucket or a prefix of its own (s3://BUCKET/PREFIX)",
                config.url(),
                foreign.len(),
                shown.join(", "),
                if foreign.len() > 3 { ", …" } else { "" }
            )));
        }
        Ok(())
    }
}

fn is_shard(name: &str) -> bool {
    name.len() == 2
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Credentials are read from `AWS_*`; without any, the library would ask
/// the EC2 metadata service and wait for it, which on a self-hosted machine
/// only ends in a timeout.
fn check_credentials(builder: &AmazonS3Builder) -> BlobResult<()> {
    let key = builder.get_config_value(&AmazonS3ConfigKey::AccessKeyId);
    let secret = builder.get_config_value(&AmazonS3ConfigKey::SecretAccessKey);
    let other_source = [
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some());
    match (key, secret) {
        (Some(_), None) => Err(BlobError::Config(
            "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; the S3 blob store needs both"
                .into(),
        )),
        (None, Some(_)) => Err(BlobError::Config(
            "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not; the S3 blob store needs both"
                .into(),
        )),
        (None, None) if !other_source => Err(BlobError::Config(
            "the S3 blob store has no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_WEB_IDENTITY_TOKEN_FILE)"
                .into(),
        )),
        _ => Ok(()),
    }
}

/// Whether an error text speaks of the region, not counting the
/// `<Region>` element that some stores (Garage) put into every error.
fn mentions_region(text: &str) -> bool {
    let mut rest = text.to_lowercase();
    while let (Some(start), Some(end)) = (rest.find("<region>"), rest.find("</region>")) {
        if end < start {
            break;
        }
        rest.replace_range(start..end + "</region>".len(), "");
    }
    rest.contains("region")
}

/// Turns the first request's failure into a message that names the
/// setting to look at.
/// Whether the request failed to reach the store at all (no connection,
/// or no answer in time).
fn is_unreachable(e: &object_store::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(http) = s.downcast_ref::<object_store::client::HttpError>() {
            use object_store::client::HttpErrorKind;
            if matches!(http.kind(), HttpErrorKind::Connect | HttpErrorKind::Timeout) {
                return true;
            }
        }
        source = s.source();
    }
    false
}

fn explain_start_failure(config: &S3Config, endpoint: &str, e: &object_store::Error) -> String {
    let text = e.to_string();
    let bucket = &config.bucket;
    if is_unreachable(e) {
        format!("cannot reach the S3 endpoint {endpoint} (--s3-endpoint or AWS_ENDPOINT): {text}")
    } else if text.contains("NoSuchBucket") || matches!(e, object_store::Error::NotFound { .. }) {
        format!("the bucket \"{bucket}\" does not exist at {endpoint} (--blob-store s3://{bucket}); create it first")
    } else if text.contains("AuthorizationHeaderMalformed") || mentions_region(&text) {
        format!(
            "the S3 endpoint {endpoint} expects another region than \"{}\" (--s3-region or AWS_REGION): {text}",
            config.region.as_deref().unwrap_or("the default")
        )
    } else if matches!(
        e,
        object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. }
    ) || [
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "No such key",
    ]
    .iter()
    .any(|c| text.contains(c))
    {
        format!(
            "the S3 endpoint {endpoint} refused the credentials for bucket \"{bucket}\" (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): {text}"
        )
    } else {
        format!(
            "the S3 blob store {} at {endpoint} cannot be used: {text}",
            config.url()
        )
    }
}

impl S3Bucket {
    /// The one way each request is made, for archives and shared files.
    fn put_at(&self, path: ObjectPath, bytes: &[u8], what: &str) -> BlobResult<()> {
        let store = self.store.clone();
        let payload = PutPayload::from(bytes.to_vec());
        self.run(async move { store.put(&path, payload).await })
            .map(drop)
            .map_err(|e| self.failed(what, e))
    }

    fn get_at(&self, path: ObjectPath, what: &str) -> BlobResult<Option<Vec<u8>>> {
        let store = self.store.clone();
        let read = self.run(async move {
            match store.get(&path).await {
                Ok(found) => found.bytes().await.map(|b| Some(b.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        });
        read.map_err(|e| self.failed(what, e))
    }

    fn delete_at(&self, path: ObjectPath, what: &str) -> BlobResult<()> {
        let store = self.store.clone();
        match self.run(async move { store.delete(&path).await }) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.failed(what, e)),
        }
    }
}

impl BlobBackend for S3Bucket {
    fn put(&self, sha256: &str, bytes: &[u8]) -> BlobResult<()> {
        self.put_at(self.path_of(sha256), bytes, "storing an archive")
    }

    fn read(&self, sha256: &str) -> BlobResult<Option<Vec<u8>>> {
        self.get_at(self.path_of(sha256), "reading an archive")
    }

    fn delete(&self, sha256: &str) -> BlobResult<()> {
        self.delete_at(self.path_of(sha256), "removing an archive")
    }

    fn age(&self, sha256: &str) -> BlobResult<Option<Duration>> {
        let (store, path) = (self.store.clone(), self.path_of(sha256));
        match self.run(async move { store.head(&path).await }) {
            Ok(meta) => Ok(Some(
                (chrono::Utc::now() - meta.last_modified)
                    .to_std()
                    .unwrap_or_default(),
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.failed("looking at an archive", e)),
        }
    }

    fn shares_files(&self) -> bool {
        true
    }

    fn put_file(&self, key: &str, bytes: &[u8]) -> BlobResult<()> {
        self.put_at(
            ObjectPath::from(self.key_of(key)),
            bytes,
            "storing a shared file",
        )
    }

    fn get_file(&self, key: &str) -> BlobResult<Option<Vec<u8>>> {
        self.get_at(ObjectPath::from(self.key_of(key)), "reading a shared file")
    }

    fn delete_file(&self, key: &str) -> BlobResult<()> {
        self.delete_at(ObjectPath::from(self.key_of(key)), "removing a shared file")
    }

    fn list(&self) -> BlobResult<Vec<String>> {
        let (store, prefix) = (self.store.clone(), self.prefix_path());
        let listed = self.run(async move {
            store
                .list(prefix.as_ref())
                .map_ok(|meta| meta.location)
                .try_collect::<Vec<_>>()
                .await
        });
        let locations = listed.map_err(|e| self.failed("listing the archives", e))?;
        let skip = self.prefix_path().map_or(0, |p| p.parts().count());
        let mut names: Vec<String> = locations
            .iter()
            .filter_map(|location| {
                let parts: Vec<_> = location.parts().skip(skip).collect();
                match parts.as_slice() {
                    [shard, name] if is_shard(shard.as_ref()) => Some(name.as_ref().to_string()),
                    _ => None,
                }
            })
            .collect();
        names.sort();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_and_prefix() {
        let c = S3Config::parse("s3://gemeinwerk").unwrap();
        assert_eq!((c.bucket.as_str(), c.prefix.as_str()), ("gemeinwerk", ""));
        let c = S3Config::parse("s3://gemeinwerk/hessen/blobs/").unwrap();
        assert_eq!(
            (c.bucket.as_str(), c.prefix.as_str()),
            ("gemeinwerk", "hessen/blobs")
        );
        assert!(S3Config::parse("gemeinwerk")
            .unwrap_err()
            .contains("s3://BUCKET"));
        assert!(S3Config::parse("s3://Gemein_Werk")
            .unwrap_err()
            .contains("not a bucket name"));
        assert!(S3Config::parse("s3://").is_err());
    }

    #[test]
    fn only_two_hex_digits_are_shards() {
        assert!(is_shard("ab") && is_shard("09"));
        assert!(!is_shard("abc") && !is_shard("AB") && !is_shard("tmp") && !is_shard("zz"));
    }

    #[test]
    fn a_region_element_in_an_error_body_is_not_a_region_problem() {
        let garage = "403 Forbidden: <Error><Code>AccessDenied</Code><Message>Forbidden: Invalid signature</Message><Region>garage</Region></Error>";
        assert!(!mentions_region(garage));
        assert!(mentions_region(
            "400: <Message>the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region>"
        ));
    }
}
