//! [`RedisStoreError`]: the error of this crate, with every password scrubbed out, and the
//! redaction of Redis URLs.

use std::fmt;

/// What went wrong, coarsely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The URL or the configuration is invalid (bad scheme, bad database number, TLS without
    /// the `tls` feature, …). Not retried.
    Config,
    /// The server could not be reached, or the connection dropped; on a cluster also a node
    /// that is down (`MOVED`/`ASK` to it, `CLUSTERDOWN`, `TRYAGAIN` past the client's
    /// retries).
    Connection,
    /// The server did not answer within the bound.
    Timeout,
    /// The server refused the credentials (`WRONGPASS`, `NOAUTH`). Not retried.
    Auth,
    /// The server's ACL does not let the user run a command the store needs (`NOPERM`). Not
    /// retried.
    Permission,
    /// The server answered with an error (OOM, wrong type, `CLUSTERDOWN`, …).
    Server,
    /// The answer had an unexpected shape.
    Protocol,
}

/// An error of [`crate::RedisStore`].
///
/// The message says what failed, on which server (URLs shown with their passwords replaced
/// by `***`, see [`redact_url`]) and, for errors that retrying cannot fix (credentials, ACL,
/// database number, URL), what to do instead. The driver's error stays reachable through
/// [`std::error::Error::source`]: the [`redis::RedisError`] itself when its text (and its own
/// chain's) holds no secret the store knows of, else [`RedactedDriverError`], its text with
/// the secrets replaced. No password can reach `Display`, `Debug` or the error chain.
#[derive(Clone)]
pub struct RedisStoreError {
    kind: ErrorKind,
    message: String,
    source: Option<DriverSource>,
    /// A cluster redirection or `CLUSTERDOWN`/`TRYAGAIN` the client could not get past.
    cluster: bool,
}

#[derive(Clone)]
enum DriverSource {
    /// The driver's error, whose whole chain was checked to hold no known secret.
    Clean(redis::RedisError),
    Redacted(RedactedDriverError),
}

/// The text of a driver error that held a secret, with every secret replaced by `***`: the
/// [`source`](std::error::Error::source) of a [`RedisStoreError`] in place of the
/// [`redis::RedisError`] itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedactedDriverError {
    text: String,
    code: Option<String>,
}

impl RedactedDriverError {
    /// The server's error code (`WRONGPASS`, `NOPERM`, `ERR`, …), when there was one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
}

impl fmt::Display for RedactedDriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for RedactedDriverError {}

impl PartialEq for RedisStoreError {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

impl Eq for RedisStoreError {}

impl RedisStoreError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        RedisStoreError {
            kind,
            message: message.into(),
            source: None,
            cluster: false,
        }
    }

    /// Converts a driver error, scrubbing `secrets` (and any URL password) from its text and
    /// adding what to do when retrying cannot help.
    pub(crate) fn from_redis(e: &redis::RedisError, secrets: &Secrets) -> Self {
        let kind = classify(e);
        let text = secrets.scrub(&e.to_string());
        let message = match hint(kind, e) {
            Some(hint) => format!("{text} ({hint})"),
            None => text,
        };
        RedisStoreError {
            kind,
            message,
            source: Some(DriverSource::from(e, secrets)),
            cluster: e.is_cluster_error(),
        }
    }

    /// Whether the cluster answered with a redirection (`MOVED`, `ASK`) or `CLUSTERDOWN`/
    /// `TRYAGAIN` that its client could not get past.
    pub(crate) fn is_cluster_error(&self) -> bool {
        self.cluster
    }

    /// The same error with `context` before its message (`connecting to …: `).
    pub(crate) fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The (redacted) message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether trying again may succeed: `false` for wrong credentials, missing ACL
    /// permissions and invalid configuration (a bad URL or database number), which the
    /// store never retries.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self.kind,
            ErrorKind::Config | ErrorKind::Auth | ErrorKind::Permission
        )
    }

    /// The driver's error when its text holds no secret (else use
    /// [`source`](std::error::Error::source) for the redacted text).
    pub fn redis_error(&self) -> Option<&redis::RedisError> {
        match &self.source {
            Some(DriverSource::Clean(e)) => Some(e),
            _ => None,
        }
    }
}

impl DriverSource {
    fn from(e: &redis::RedisError, secrets: &Secrets) -> DriverSource {
        let mut clean = true;
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = cur {
            let text = err.to_string();
            let debug = format!("{err:?}");
            if secrets.scrub(&text) != text || secrets.scrub(&debug) != debug {
                clean = false;
                break;
            }
            cur = err.source();
        }
        if clean {
            DriverSource::Clean(e.clone())
        } else {
            DriverSource::Redacted(RedactedDriverError {
                text: secrets.scrub(&e.to_string()),
                code: e.code().map(str::to_owned),
            })
        }
    }
}

/// The kind of a driver error.
fn classify(e: &redis::RedisError) -> ErrorKind {
    let code = e.code();
    if e.is_timeout() {
        ErrorKind::Timeout
    } else if e.kind() == redis::ErrorKind::AuthenticationFailed
        || matches!(code, Some("NOAUTH" | "WRONGPASS"))
    {
        ErrorKind::Auth
    } else if code == Some("NOPERM") {
        ErrorKind::Permission
    } else if is_bad_database(e) || e.kind() == redis::ErrorKind::InvalidClientConfig {
        ErrorKind::Config
    } else if e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_io_error()
        || e.kind() == redis::ErrorKind::ClusterConnectionNotFound
        // A redirection or CLUSTERDOWN the cluster client could not get past within its
        // retries: a node is down or the slot map is changing.
        || e.is_cluster_error()
    {
        ErrorKind::Connection
    } else if matches!(
        e.kind(),
        redis::ErrorKind::Parse | redis::ErrorKind::UnexpectedReturnType
    ) {
        ErrorKind::Protocol
    } else {
        ErrorKind::Server
    }
}

/// `SELECT` of a database the server does not have (`ERR DB index is out of range`), or a
/// cluster that has only database 0.
fn is_bad_database(e: &redis::RedisError) -> bool {
    let text = e.to_string();
    text.contains("DB index is out of range")
        || text.contains("SELECT is not allowed in cluster mode")
        || text.contains("Invalid database number")
}

/// What to do about an error retrying cannot fix.
fn hint(kind: ErrorKind, e: &redis::RedisError) -> Option<&'static str> {
    match kind {
        ErrorKind::Auth => Some(
            "the server refused the credentials: check the user name and password (in the URL \
             or given to the builder) against the server's `requirepass`/ACL users; not retried",
        ),
        ErrorKind::Permission => Some(
            "the server's ACL does not allow a command this store sends: give the user \
             `+@read +@write +@keyspace +info` or at least GET, MGET, SET, UNLINK, PTTL, \
             PEXPIRE, HSET, HGETALL, HDEL, SCAN and INFO on the cache's keys; not retried",
        ),
        ErrorKind::Config if e.to_string().contains("Invalid database number") => Some(
            "the database number (the URL's path, `redis://host/N`, or `?db=N` for a unix \
             socket) must be a whole number from 0; not retried",
        ),
        ErrorKind::Config if is_bad_database(e) => Some(
            "the database number (the URL's path, `redis://host/N`, or `?db=N` for a unix \
             socket) does not exist on this server: `databases` in redis.conf sets how many \
             there are (16 by default, numbered from 0), and a cluster has only database 0; \
             not retried",
        ),
        ErrorKind::Config => Some("not retried"),
        _ => None,
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
        let mut d = f.debug_struct("RedisStoreError");
        d.field("kind", &self.kind).field("message", &self.message);
        match &self.source {
            Some(DriverSource::Clean(e)) => d.field("source", &e.to_string()),
            Some(DriverSource::Redacted(e)) => d.field("source", &e.text),
            None => d.field("source", &None::<()>),
        };
        d.finish()
    }
}

impl std::error::Error for RedisStoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.source {
            Some(DriverSource::Clean(e)) => Some(e),
            Some(DriverSource::Redacted(e)) => Some(e),
            None => None,
        }
    }
}

/// The secrets a store knows of, to scrub them from every driver message.
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

    /// Adds every part of `url` that [`redact_url`] hides (as written and percent-decoded).
    pub(crate) fn add_from_url(&mut self, url: &str) {
        for range in secret_ranges(url) {
            let s = &url[range];
            self.add(s);
            self.add(&percent_decode(s));
        }
    }

    /// `text` with every known secret and every URL password replaced by `***`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.0 {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        redact_text(&out)
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} redacted>", self.0.len())
    }
}

/// The parts of a URL that are secret, as byte ranges of `url` (sorted, not overlapping).
///
/// The whole string is taken as one URL, and the rules lean towards hiding too much rather
/// than too little, whatever characters the password holds:
/// - the user info ends at the *last* `@` after `://` (or after the start, when the scheme's
///   `://` is mistyped), so a password may hold `/ ? # @ :` and spaces unencoded; the user
///   name is what precedes the first `:` of the user info, the rest is the password;
/// - a `pass=` or `password=` query parameter (unix sockets) hides everything after it up to
///   the end of the URL, whatever it holds.
fn secret_ranges(url: &str) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let start = url.find("://").map_or(0, |i| i + 3);
    if let Some(at) = url[start..].rfind('@').map(|i| start + i) {
        if let Some(colon) = url[start..at].find(':').map(|i| start + i) {
            ranges.push(colon + 1..at);
        }
    }
    for key in ["pass=", "password="] {
        let mut from = 0;
        while let Some(i) = url[from..].find(key).map(|i| from + i) {
            let preceded = i > 0 && matches!(url.as_bytes()[i - 1], b'?' | b'&');
            let vstart = i + key.len();
            if preceded && vstart < url.len() {
                ranges.push(vstart..url.len());
                break;
            }
            from = vstart;
        }
    }
    merge(ranges)
}

fn merge(mut ranges: Vec<std::ops::Range<usize>>) -> Vec<std::ops::Range<usize>> {
    ranges.retain(|r| !r.is_empty());
    ranges.sort_by_key(|r| r.start);
    let mut out: Vec<std::ops::Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

fn mask(text: &str, ranges: &[std::ops::Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for r in ranges {
        out.push_str(&text[at..r.start]);
        out.push_str("***");
        at = r.end;
    }
    out.push_str(&text[at..]);
    out
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
/// The whole string is one URL, written in any way, percent-encoded or not: a password with
/// unencoded `/`, `?`, `#`, `@`, `:` or spaces is hidden whole (the user info ends at the
/// last `@`), and a `pass=`/`password=` parameter hides the rest of the URL. When in doubt,
/// more is hidden, never less.
///
/// ```
/// use cache_version_redis::redact_url;
/// assert_eq!(redact_url("redis://app:s3cret@10.0.0.1:6379/2"), "redis://app:***@10.0.0.1:6379/2");
/// assert_eq!(redact_url("redis://:s3cret@localhost"), "redis://:***@localhost");
/// // A base64 password pasted as is.
/// assert_eq!(redact_url("redis://app:ab/cd+ef==@10.0.0.1:6379"), "redis://app:***@10.0.0.1:6379");
/// assert_eq!(redact_url("redis+unix:///run/redis.sock?db=1&pass=a&b c"), "redis+unix:///run/redis.sock?db=1&pass=***");
/// assert_eq!(redact_url("redis://localhost:6379"), "redis://localhost:6379");
/// ```
pub fn redact_url(url: &str) -> String {
    mask(url, &secret_ranges(url))
}

/// Redacts every URL password found in free text (a driver's message): for each `://`, the
/// user info up to the last `@` before the next whitespace, and every `pass=`/`password=`
/// value up to the next whitespace. A second line of defence: the store also replaces the
/// passwords it knows of, spaces and all, and builds its own messages from [`redact_url`].
fn redact_text(text: &str) -> String {
    let mut ranges = Vec::new();
    let word_end = |from: usize| {
        text[from..]
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .map_or(text.len(), |i| from + i)
    };
    let mut from = 0;
    while let Some(i) = text[from..].find("://").map(|i| from + i) {
        let start = i + 3;
        let end = word_end(start);
        let word = &text[start..end];
        if let Some(at) = word.rfind('@') {
            if let Some(colon) = word[..at].find(':') {
                ranges.push(start + colon + 1..start + at);
            }
        }
        from = start;
    }
    for key in ["pass=", "password="] {
        let mut from = 0;
        while let Some(i) = text[from..].find(key).map(|i| from + i) {
            let vstart = i + key.len();
            let preceded = i > 0 && matches!(text.as_bytes()[i - 1], b'?' | b'&');
            if preceded {
                ranges.push(vstart..word_end(vstart));
            }
            from = vstart;
        }
    }
    let ranges = merge(ranges);
    // `***` itself is no secret: do not mask what is already masked.
    let ranges: Vec<_> = ranges
        .into_iter()
        .filter(|r| &text[r.clone()] != "***")
        .collect();
    mask(text, &ranges)
}

/// The expected forms of a Redis URL, for error messages.
pub(crate) const URL_FORMS: &str = "expected redis://[[user]:password@]host[:port][/db], \
     rediss://… (TLS, feature `tls`), redis+unix:///path/to/socket[?db=N&user=U&pass=P] or \
     unix:///path/to/socket[?…]";

/// Checks the form of a Redis URL before the driver parses it, so a typo gets a message that
/// names it and shows the expected forms. `shown` is the redacted URL.
pub(crate) fn check_url(url: &str, shown: &str) -> Result<(), RedisStoreError> {
    const SCHEMES: [&str; 7] = [
        "redis",
        "rediss",
        "valkey",
        "valkeys",
        "redis+unix",
        "valkey+unix",
        "unix",
    ];
    let bad = |what: String| {
        RedisStoreError::new(
            ErrorKind::Config,
            format!("invalid Redis URL `{shown}`: {what}; {URL_FORMS}"),
        )
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        let lower = url.to_ascii_lowercase();
        let typo = SCHEMES
            .iter()
            .rev()
            .find(|s| lower.starts_with(*s) && !lower[s.len()..].starts_with("://"));
        return Err(bad(match typo {
            Some(s) => format!("`{s}` must be followed by `://`"),
            None => "no scheme (`redis://`)".to_owned(),
        }));
    };
    let lower = scheme.to_ascii_lowercase();
    if !SCHEMES.contains(&lower.as_str()) {
        let near = SCHEMES
            .iter()
            .find(|s| edit_distance(s, &lower) <= 2)
            .map(|s| format!(" (did you mean `{s}://`?)"))
            .unwrap_or_default();
        // The scheme is shown only when it cannot be part of a secret.
        let named = if scheme.len() <= 16
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            format!("unknown scheme `{scheme}`")
        } else {
            "unknown scheme".to_owned()
        };
        return Err(bad(format!("{named}{near}")));
    }
    if !lower.ends_with("unix") && rest.is_empty() {
        return Err(bad("no host".to_owned()));
    }
    Ok(())
}

/// Levenshtein distance, for short ASCII words.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
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
            ("redis://u:ab/cd+ef==@h:1/0", "redis://u:***@h:1/0"),
            ("redis://u:a#b?c d@h", "redis://u:***@h"),
            ("redis://:a://b@h", "redis://:***@h"),
            ("redis//u:pw@h", "redis//u:***@h"),
            (
                "redis+unix:///tmp/r.sock?db=1&pass=xyz",
                "redis+unix:///tmp/r.sock?db=1&pass=***",
            ),
            (
                "unix:///tmp/r.sock?password=x&y#z w&db=2",
                "unix:///tmp/r.sock?password=***",
            ),
            (
                "redis+unix:///tmp/s.sock?pass=a@b",
                "redis+unix:///tmp/s.sock?pass=***",
            ),
            (
                "redis+unix:///tmp/pass=x.sock",
                "redis+unix:///tmp/pass=x.sock",
            ),
            ("no url here", "no url here"),
        ] {
            assert_eq!(redact_url(url), want, "{url}");
        }
    }

    #[test]
    fn text_is_redacted() {
        for (text, want) in [
            (
                "failed for redis://u:p@h and rediss://x:y@z:2",
                "failed for redis://u:***@h and rediss://x:***@z:2",
            ),
            (
                "at redis://u:a/b#c@h: refused",
                "at redis://u:***@h: refused",
            ),
            ("already redis://u:***@h", "already redis://u:***@h"),
            ("x?pass=abc def", "x?pass=*** def"),
            ("no url here", "no url here"),
        ] {
            assert_eq!(redact_text(text), want, "{text}");
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
        let mut s = Secrets::default();
        s.add_from_url("redis://app:ab cd/ef@h:1");
        assert_eq!(s.scrub("no ab cd/ef here"), "no *** here");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%40b%2"), "a@b%2");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%41"), "A");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%"), "%");
    }

    #[test]
    fn url_typos_are_named() {
        let msg = |u: &str| check_url(u, &redact_url(u)).unwrap_err().to_string();
        let m = msg("redis//host:6379");
        assert!(
            m.contains("`redis` must be followed by `://`") && m.contains("expected redis://"),
            "{m}"
        );
        let m = msg("rdis://host");
        assert!(
            m.contains("unknown scheme `rdis`") && m.contains("did you mean `redis://`"),
            "{m}"
        );
        let m = msg("localhost:6379");
        assert!(m.contains("no scheme"), "{m}");
        let m = msg("redis://");
        assert!(m.contains("no host"), "{m}");
        assert!(check_url("redis://h", "redis://h").is_ok());
        assert!(check_url("unix:///tmp/s", "").is_ok());
        assert!(check_url("REDIS://h", "").is_ok());
        assert_eq!(edit_distance("rdis", "redis"), 1);
    }
}
