//! Object storage through the `object_store` crate: a small tokio
//! runtime fetches a body and hands its chunks to the pipeline's
//! (blocking) reader through a bounded channel.

use std::io::{self, Read};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use futures_util::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, ObjectStore, ObjectStoreExt};

use super::{keys, profile, Listing, Object};

/// Where an object is, for its read.
pub struct Handle {
    store: Arc<dyn ObjectStore>,
    location: ObjectPath,
}

/// Chunks of a body in flight between the fetching task and the reader
/// (a chunk is what the HTTP client hands over, 8–64 KiB).
const IN_FLIGHT: usize = 32;

/// The runtime that drives every request (two worker threads: the work
/// is waiting on the network).
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("logburst-fetch")
            .enable_all()
            .build()
            .expect("a tokio runtime (threads and a timer) can be built")
    })
}

/// The store a URL names and the key (or prefix) in it.
/// `settings`: S3 settings over the environment's, by the names of its
/// variables in lower case (`aws_endpoint_url`, …).
fn store_of(
    url: &str,
    settings: &[(&str, &str)],
) -> Result<(Arc<dyn ObjectStore>, ObjectPath, String), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    let (scheme, key) = object_store::ObjectStoreScheme::parse(&parsed)
        .map_err(|e| format!("not an object storage URL: {e}"))?;
    let built: object_store::Result<Arc<dyn ObjectStore>> = match scheme {
        object_store::ObjectStoreScheme::AmazonS3 => {
            let mut b = object_store::aws::AmazonS3Builder::from_env();
            let get = |k: &str| std::env::var(k).ok();
            for (k, v) in profile::settings(&get)? {
                let key = k.parse().map_err(|_| format!("no S3 setting {k}"))?;
                b = b.with_config(key, v);
            }
            for (k, v) in settings {
                let key = k.parse().map_err(|_| format!("no S3 setting {k}"))?;
                b = b.with_config(key, *v);
            }
            b.with_url(url).build().map(|s| Arc::new(s) as _)
        }
        object_store::ObjectStoreScheme::GoogleCloudStorage => {
            object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_url(url)
                .build()
                .map(|s| Arc::new(s) as _)
        }
        object_store::ObjectStoreScheme::MicrosoftAzure => {
            object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_url(url)
                .build()
                .map(|s| Arc::new(s) as _)
        }
        object_store::ObjectStoreScheme::Http => {
            // The store is the server; the key is the URL's path.
            let root = format!("{}://{}", parsed.scheme(), parsed.authority());
            let plain = parsed.scheme() == "http";
            object_store::http::HttpBuilder::new()
                .with_url(root)
                .with_client_options(object_store::ClientOptions::new().with_allow_http(plain))
                .build()
                .map(|s| Arc::new(s) as _)
        }
        _ => return Err("not an object storage URL (s3://, gs://, az://, https://)".into()),
    };
    let store = built.map_err(|e| describe(&e))?;
    let key = ObjectPath::parse(key).map_err(|e| format!("not a valid key: {e}"))?;
    // `bucket/` before the key, for host naming (`s3://logs/web-1/x.gz`
    // names `web-1` as `/logs/web-1/x.gz` would).
    let container = match parsed.host_str() {
        Some(h) if !matches!(scheme, object_store::ObjectStoreScheme::Http) => h.to_string(),
        _ => String::new(),
    };
    Ok((store, key, container))
}

/// An object storage error in words a user can act on.
fn describe(e: &object_store::Error) -> String {
    use object_store::Error as E;
    let detail = e.to_string();
    let has = |words: &[&str]| words.iter().any(|w| detail.contains(w));
    match e {
        _ if has(&["NoSuchBucket"]) => "no such bucket".into(),
        _ if has(&["ContainerNotFound"]) => "no such container".into(),
        E::NotFound { .. } => "no such object".into(),
        // S3's and Azure's codes for a key they do not know or a
        // signature that does not match (some arrive as a 403).
        _ if has(&[
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
            "InvalidClientTokenId",
            "AuthenticationFailed",
            "failed to authenticate the request",
        ]) =>
        {
            "the credentials were refused".into()
        }
        E::PermissionDenied { .. } => {
            "access denied (the credentials may not read it)".into()
        }
        E::Unauthenticated { .. } => "the credentials were refused".into(),
        E::Precondition { .. } => {
            "the object changed after it was listed (its ETag no longer matches): run again"
                .into()
        }
        _ if has(&["AccessDenied"]) => "access denied (the credentials may not read it)".into(),
        // No key in the environment: the client asked the instance
        // metadata service, which is not there.
        _ if has(&["169.254.169.254", "metadata.google.internal"]) => {
            "no credentials: set the cloud's (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in ~/.aws/credentials; GOOGLE_APPLICATION_CREDENTIALS; AZURE_STORAGE_ACCOUNT_KEY), or run where an instance role gives them".into()
        }
        _ if has(&["builder error"]) && has(&["http://"]) => {
            "the endpoint is plain http: set AWS_ALLOW_HTTP=true to allow it".into()
        }
        _ if has(&["error sending request"]) => {
            "cannot reach the endpoint (connection refused or no route)".into()
        }
        _ => server_answer(&detail).unwrap_or_else(|| {
            detail
                .trim_start_matches("Generic ")
                .split_once(" error: ")
                .map_or(detail.clone(), |(_, rest)| rest.to_string())
        }),
    }
}

/// A server's error answer in one line: its status and the error code
/// of its XML body (`the server answered 409 Conflict: LeaseIdMissing`),
/// not the request's URL, retries and the body's every line.
fn server_answer(detail: &str) -> Option<String> {
    let status = detail.split_once("status code: ")?.1;
    let status = status.split_once(':').map_or(status, |(s, _)| s).trim();
    let code = detail
        .split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map(|(code, _)| code.trim());
    Some(match code {
        Some(code) => format!("the server answered {status}: {code}"),
        None => format!("the server answered {status}"),
    })
}

/// [`super::list_with`] through `object_store`.
pub fn list(
    url: &str,
    settings: &[(&str, &str)],
    span: (Option<i64>, Option<i64>),
) -> Result<Listing, String> {
    let (store, key, container) = store_of(url, settings)?;
    let scheme = &url[..url.find("://").map_or(0, |i| i + 3)];
    let base = match url[scheme.len()..].find('/') {
        Some(i) => &url[..scheme.len() + i],
        None => url,
    };
    let object = |meta: object_store::ObjectMeta| Object {
        url: format!("{base}/{}", meta.location),
        path: if container.is_empty() {
            meta.location.to_string()
        } else {
            format!("{container}/{}", meta.location)
        },
        size: meta.size,
        etag: meta.e_tag,
        modified: SystemTime::from(meta.last_modified),
        handle: Handle {
            store: store.clone(),
            location: meta.location,
        },
    };
    runtime().block_on(async {
        // The key itself first: a prefix is listed only when no object
        // has its name.
        if !key.as_ref().is_empty() && !url.ends_with('/') {
            match store.head(&key).await {
                Ok(meta) => {
                    return Ok(Listing {
                        objects: vec![object(meta)],
                        pruned: None,
                    })
                }
                Err(object_store::Error::NotFound { .. }) => {}
                // A HEAD's 403 has no body to say why: a listing's does
                // (keys refused, or only this object denied).
                Err(e @ object_store::Error::PermissionDenied { .. }) => {
                    let why = store.list(Some(&key)).next().await;
                    return Err(describe(match &why {
                        Some(Err(listing)) => listing,
                        _ => &e,
                    }));
                }
                Err(e) => return Err(describe(&e)),
            }
        }
        let (since, until) = span;
        let now = chrono::Utc::now().timestamp();
        let days = since.and_then(|s| keys::day_prefixes(key.as_ref(), s, until.unwrap_or(now)));
        let prefixes: Vec<Option<ObjectPath>> = match &days {
            Some(days) => days.iter().map(|d| Some(ObjectPath::from(d.as_str()))).collect(),
            None => vec![(!key.as_ref().is_empty()).then(|| key.clone())],
        };
        let (mut found, mut outside) = (Vec::new(), 0usize);
        for prefix in &prefixes {
            let mut listing = store.list(prefix.as_ref());
            while let Some(meta) = listing.next().await {
                let meta = meta.map_err(|e| describe(&e))?;
                let hidden = meta
                    .location
                    .parts()
                    .skip(key.parts().count())
                    .any(|p| p.as_ref().starts_with('.'));
                let dated = keys::key_span(meta.location.as_ref());
                if dated.is_some_and(|d| !keys::may_hold(d, since, until)) {
                    outside += 1;
                } else if !hidden {
                    found.push(object(meta));
                }
            }
        }
        let within = if since.is_some() || until.is_some() {
            " within --since/--until"
        } else {
            ""
        };
        if found.is_empty() {
            return Err(format!("no objects under this prefix{within}"));
        }
        found.sort_by(|a, b| a.handle.location.cmp(&b.handle.location));
        let mut pruned = Vec::new();
        if let Some(days) = &days {
            pruned.push(format!(
                "only the {} day folders of --since/--until (a day's slack either side) listed",
                days.len()
            ));
        }
        if outside > 0 {
            pruned.push(format!(
                "{outside} objects whose keys' dates lie outside --since/--until (a day's slack either side) not fetched"
            ));
        }
        let pruned = (!pruned.is_empty()).then(|| format!("{url}: {}", pruned.join("; ")));
        Ok(Listing {
            objects: found,
            pruned,
        })
    })
}

/// [`super::reader`]: the body is fetched by a task on the runtime, at
/// most `IN_FLIGHT` (32) chunks ahead of the reader; a body that ends short
/// of the listed size is an error (a truncated transfer is not the end of
/// the log).
pub fn reader(object: &Object) -> io::Result<Box<dyn Read + Send>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<bytes::Bytes>>(IN_FLIGHT);
    let (store, location) = (object.handle.store.clone(), object.handle.location.clone());
    let options = GetOptions {
        if_match: object.etag.clone(),
        ..GetOptions::default()
    };
    let expected = object.size;
    runtime().spawn(async move {
        let body = match store.get_opts(&location, options).await {
            Ok(got) => got,
            Err(e) => {
                let _ = tx.send(Err(io::Error::other(describe(&e)))).await;
                return;
            }
        };
        let mut stream = body.into_stream();
        let mut got = 0u64;
        while let Some(chunk) = stream.next().await {
            let item = chunk.map_err(|e| io::Error::other(describe(&e)));
            if let Ok(c) = &item {
                got += c.len() as u64;
            }
            let failed = item.is_err();
            // The reader went away (the run stopped reading): stop.
            if tx.send(item).await.is_err() || failed {
                return;
            }
        }
        if got != expected {
            let short = format!("the transfer ended after {got} of {expected} bytes");
            let _ = tx.send(Err(io::Error::other(short))).await;
        }
    });
    Ok(Box::new(Body {
        rx,
        chunk: bytes::Bytes::new(),
        done: false,
    }))
}

/// The reading end of an object's body.
struct Body {
    rx: tokio::sync::mpsc::Receiver<io::Result<bytes::Bytes>>,
    chunk: bytes::Bytes,
    done: bool,
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            if self.done {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Ok(c)) => self.chunk = c,
                Some(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                None => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_answer_is_one_line() {
        let azure = "Error performing list request: Error performing GET http://127.0.0.1:1/a/b?comp=list in 10ms - Server returned non-2xx status code: 409 Conflict: <?xml version=\"1.0\"?>\n<Error>\n  <Code>LeaseIdMissing</Code>\n  <Message>There is a lease.\nRequestId:1</Message>\n</Error>";
        assert_eq!(
            server_answer(azure).as_deref(),
            Some("the server answered 409 Conflict: LeaseIdMissing")
        );
        let bare = "Error performing HEAD http://h/b/k in 3s, after 10 retries - Server returned non-2xx status code: 501 Not Implemented: ";
        assert_eq!(
            server_answer(bare).as_deref(),
            Some("the server answered 501 Not Implemented")
        );
        assert_eq!(server_answer("connection reset"), None);
    }
}
