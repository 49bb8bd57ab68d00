//! [`RedisStoreError`]: the error of this crate, with every password scrubbed out.

use std::fmt;

/// What went wrong, coarsely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The URL or the configuration is invalid (bad scheme, TLS without the `tls` feature, …).
    Config,
    /// The server could not be reached, or the connection dropped.
    Connection,
    /// The server did not answer within the bound.
    Timeout,
    /// The server refused the credentials.
    Auth,
    /// The server answered with an error (OOM, wrong type, `CLUSTERDOWN`, …).
    Server,
    /// The answer had an unexpected shape.
    Protocol,
}

/// An error of [`crate::RedisStore`].
///
/// Built from the driver's error as text with every known secret (the password of the URL or
/// of the builder) replaced by `***` and every URL's password redacted: it never carries the
/// driver's error as a `source`, so no password can leak through the error chain, `Debug`,
/// `Display` or a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisStoreError {
    kind: ErrorKind,
    message: String,
}

impl RedisStoreError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        RedisStoreError {
            kind,
            message: message.into(),
        }
    }

    /// Converts a driver error, scrubbing `secrets` (and any URL password) from its text.
    pub(crate) fn from_redis(e: &redis::RedisError, secrets: &Secrets) -> Self {
        let kind = if e.is_timeout() {
            ErrorKind::Timeout
        } else if e.kind() == redis::ErrorKind::AuthenticationFailed
            || e.code() == Some("NOAUTH")
            || e.code() == Some("WRONGPASS")
        {
            ErrorKind::Auth
        } else if e.is_connection_dropped()
            || e.is_connection_refusal()
            || e.is_io_error()
            || e.kind() == redis::ErrorKind::ClusterConnectionNotFound
        {
            ErrorKind::Connection
        } else if e.kind() == redis::ErrorKind::InvalidClientConfig {
            ErrorKind::Config
        } else if matches!(
            e.kind(),
            redis::ErrorKind::Parse | redis::ErrorKind::UnexpectedReturnType
        ) {
            ErrorKind::Protocol
        } else {
            ErrorKind::Server
        };
        RedisStoreError::new(kind, secrets.scrub(&e.to_string()))
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The (redacted) message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for RedisStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("redis: ")?;
        f.write_str(&self.message)
    }
}

impl fmt::Debug for RedisStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .finish()
    }
}

impl std::error::Error for RedisStoreError {}

/// The secrets a store knows of, to scrub them from every message.
#[derive(Clone, Default)]
pub(crate) struct Secrets(Vec<String>);

impl Secrets {
    pub(crate) fn add(&mut self, secret: &str) {
        if !secret.is_empty() && !self.0.iter().any(|s| s == secret) {
            self.0.push(secret.to_owned());
            // Longest first, so a secret that contains another is replaced whole.
            self.0.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Adds the password of `url` (as written and percent-decoded).
    pub(crate) fn add_from_url(&mut self, url: &str) {
        if let Some(p) = url_password(url) {
            let decoded = percent_decode(p);
            self.add(p);
            self.add(&decoded);
        }
        for key in ["pass=", "password="] {
            if let Some(v) = query_value(url, key) {
                self.add(v);
                self.add(&percent_decode(v));
            }
        }
    }

    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = redact_urls(text);
        for s in &self.0 {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        out
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} redacted>", self.0.len())
    }
}

/// The end of the authority part of a URL starting at `from`.
fn authority_end(s: &str, from: usize) -> usize {
    s[from..]
        .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"')
        .map_or(s.len(), |i| from + i)
}

/// The password in `scheme://user:password@host…`, if any.
fn url_password(url: &str) -> Option<&str> {
    let start = url.find("://")? + 3;
    let end = authority_end(url, start);
    let authority = &url[start..end];
    let at = authority.rfind('@')?;
    let userinfo = &authority[..at];
    let colon = userinfo.find(':')?;
    Some(&userinfo[colon + 1..])
}

fn query_value<'a>(url: &'a str, key: &str) -> Option<&'a str> {
    let q = url.find('?')?;
    url[q + 1..]
        .split(['&', '#'])
        .find_map(|kv| kv.strip_prefix(key))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Redacts a Redis URL for display: the password (in the user info or a `pass`/`password`
/// query parameter) becomes `***`; the scheme, user name, host, port and database stay.
///
/// ```
/// use cache_version_redis::redact_url;
/// assert_eq!(redact_url("redis://app:s3cret@10.0.0.1:6379/2"), "redis://app:***@10.0.0.1:6379/2");
/// assert_eq!(redact_url("redis://:s3cret@localhost"), "redis://:***@localhost");
/// assert_eq!(redact_url("redis://localhost:6379"), "redis://localhost:6379");
/// ```
pub fn redact_url(url: &str) -> String {
    redact_urls(url)
}

/// Redacts the password of every `scheme://user:password@` and every `pass=`/`password=`
/// query value found anywhere in `text`.
fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let start = i + 3;
        let end = authority_end(rest, start);
        out.push_str(&rest[..start]);
        let authority = &rest[start..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon]);
                        out.push_str(":***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    for key in ["pass=", "password="] {
        let mut searched = 0;
        while let Some(i) = out[searched..].find(key) {
            let at = searched + i;
            let preceded_ok = at == 0 || matches!(out.as_bytes()[at - 1], b'?' | b'&');
            let vstart = at + key.len();
            if !preceded_ok {
                searched = vstart;
                continue;
            }
            let vend = out[vstart..]
                .find(|c: char| c == '&' || c == '#' || c.is_whitespace() || c == '"')
                .map_or(out.len(), |j| vstart + j);
            out.replace_range(vstart..vend, "***");
            searched = vstart + 3;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        for (url, want) in [
            ("redis://u:p@h:1/0", "redis://u:***@h:1/0"),
            ("rediss://:p%40x@h", "rediss://:***@h"),
            ("redis://u@h", "redis://u@h"),
            ("redis://h:1", "redis://h:1"),
            ("redis://u:a:b@c@h/2", "redis://u:***@h/2"),
            (
                "redis+unix:///tmp/r.sock?db=1&pass=xyz",
                "redis+unix:///tmp/r.sock?db=1&pass=***",
            ),
            (
                "failed for redis://u:p@h and rediss://x:y@z:2",
                "failed for redis://u:***@h and rediss://x:***@z:2",
            ),
            ("no url here", "no url here"),
        ] {
            assert_eq!(redact_url(url), want, "{url}");
        }
    }

    #[test]
    fn secrets_are_scrubbed() {
        let mut s = Secrets::default();
        s.add_from_url("redis://app:p%40ss@h:1");
        assert_eq!(s.scrub("wrong p@ss and p%40ss"), "wrong *** and ***");
        s.add("hunter2");
        assert_eq!(s.scrub("auth hunter2 failed"), "auth *** failed");
        assert_eq!(format!("{s:?}"), "<3 redacted>");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%40b%2"), "a@b%2");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%41"), "A");
    }
}
