//! Object storage inputs: `s3://bucket/prefix`, `gs://…`, `az://…` (and
//! `https://` for one object) wherever a path is accepted.
//!
//! A URL is listed like a directory is walked (recursively, hidden names
//! skipped, rotated files oldest first); an object is streamed, never held
//! whole: the pipeline's readers fetch several objects at once, each with
//! a few chunks in flight. The read asks for the ETag the listing saw: an
//! object replaced or deleted since is an error, not a mix of two
//! versions. Credentials and endpoints come from each cloud's environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`,
//! `GOOGLE_APPLICATION_CREDENTIALS`, `AZURE_STORAGE_ACCOUNT_NAME`, …), as
//! the `object_store` crate reads them, and for S3 from the AWS profile
//! files where the environment leaves them unset.
//!
//! The client is the `object-storage` feature (on by default); a build
//! without it (the fuzz targets', which need none of its network stack)
//! still tells URLs from paths and says it cannot read them.

use std::fmt;
use std::io::{self, Read};
use std::time::SystemTime;

#[cfg(feature = "object-storage")]
mod client;
#[cfg(feature = "object-storage")]
mod keys;
#[cfg(feature = "object-storage")]
mod profile;

/// The URL schemes read as object storage.
const SCHEMES: [&str; 8] = [
    "s3://", "s3a://", "gs://", "az://", "abfs://", "abfss://", "azure://", "https://",
];

/// Whether a command-line path is an object storage URL (`http://` too:
/// a local endpoint).
pub fn is_url(arg: &str) -> bool {
    let lower = arg.get(..8).unwrap_or(arg).to_ascii_lowercase();
    SCHEMES.iter().any(|s| lower.starts_with(s)) || lower.starts_with("http://")
}

/// One object to read, as the listing saw it.
pub struct Object {
    /// `s3://bucket/key`, as shown in reports.
    pub url: String,
    /// `bucket/key`: what host naming reads, as it reads a path.
    pub path: String,
    /// Bytes, as listed.
    pub size: u64,
    /// The version the listing saw; the read asks for it.
    pub etag: Option<String>,
    /// Last modified: the reference for placing year-less lines.
    pub modified: SystemTime,
    handle: Handle,
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Object")
            .field("url", &self.url)
            .field("size", &self.size)
            .field("etag", &self.etag)
            .finish()
    }
}

impl PartialEq for Object {
    fn eq(&self, other: &Object) -> bool {
        (&self.url, self.size, &self.etag) == (&other.url, other.size, &other.etag)
    }
}

impl Eq for Object {}

/// What a listing found.
#[derive(Debug)]
pub struct Listing {
    /// In key order.
    pub objects: Vec<Object>,
    /// What `--since` / `--until` left out, for the report's notes.
    pub pruned: Option<String>,
}

#[cfg(feature = "object-storage")]
use client::Handle;

/// Where an object is: nowhere without the client (no object is ever
/// listed).
#[cfg(not(feature = "object-storage"))]
enum Handle {}

/// What a build without the client says for a URL.
#[cfg(not(feature = "object-storage"))]
const NO_CLIENT: &str =
    "this logburst was built without object storage (cargo feature object-storage)";

/// The objects a URL names: the object itself, or every object under it
/// as a prefix (`/`-separated, like a directory), hidden names skipped,
/// in key order; errors name the cause. `settings` are S3 settings over
/// the environment's (`aws_endpoint_url`, `aws_allow_http`, …). Only the
/// objects whose keys' dates may hold lines in `span` (`--since`,
/// `--until`, UTC seconds) are kept: a load balancer prefix is listed day
/// by day, other dated keys filtered.
pub fn list_with(
    url: &str,
    settings: &[(&str, &str)],
    span: (Option<i64>, Option<i64>),
) -> Result<Listing, String> {
    #[cfg(feature = "object-storage")]
    return client::list(url, settings, span);
    #[cfg(not(feature = "object-storage"))]
    {
        let _ = (url, settings, span);
        Err(NO_CLIENT.into())
    }
}

/// Streams an object's body: a reader the pipeline reads as it reads a
/// file (an incremental run skips what it read after decompressing, as
/// for a compressed file).
pub fn reader(object: &Object) -> io::Result<Box<dyn Read + Send>> {
    #[cfg(feature = "object-storage")]
    return client::reader(object);
    #[cfg(not(feature = "object-storage"))]
    match object.handle {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths() {
        for url in [
            "s3://b/k",
            "S3://b",
            "gs://b/p/",
            "az://c/x",
            "https://h/x",
            "http://127.0.0.1:9000/b",
        ] {
            assert!(is_url(url), "{url}");
        }
        for path in ["/var/log/nginx", "s3", "web-1=s3.log", "./https", "-"] {
            assert!(!is_url(path), "{path}");
        }
    }

    #[test]
    #[cfg(feature = "object-storage")]
    fn bad_urls_say_why() {
        let none = (None, None);
        assert!(list_with("s3://", &[], none).unwrap_err().contains("URL"));
        assert!(list_with("ftp://x/y", &[], none).is_err());
    }
}
