//! Redaction that cannot be fooled: for random passwords (every printable ASCII character,
//! spaces included, unencoded or percent-encoded) in every form of Redis URL (user and
//! password, password only, TLS, unix sockets with `pass=`/`password=`, cluster URL lists,
//! the builder's `password`, mistyped schemes), the password appears in no `Debug` or
//! `Display` of the builder, the store, `redact_url`, any error or any error in its
//! `source()` chain, nor in any log line (`tracing` events and spans, and the driver's `log`
//! records) captured at TRACE.
//!
//! Half the cases connect to a real server with another password (the driver's
//! authentication error path), half to a port nobody listens on.

use std::error::Error;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use cache_version_core::Store;
use cache_version_redis::{redact_url, RedisStore, RedisStoreBuilder};
use cache_version_tests::redis_harness::RedisServer;
use cache_version_tests::restartable::unused_port;
use proptest::prelude::*;

// -------------------------------------------------------------------------------------------
// Capture of every log line.

static CAPTURED: Mutex<String> = Mutex::new(String::new());

fn captured() -> std::sync::MutexGuard<'static, String> {
    CAPTURED.lock().unwrap_or_else(|e| e.into_inner())
}

struct Visitor<'a>(&'a mut String);

impl tracing::field::Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        let _ = write!(self.0, " {}={value}", field.name());
    }
    fn record_error(&mut self, field: &tracing::field::Field, value: &(dyn Error + 'static)) {
        let _ = write!(self.0, " {}={value} / {value:?}", field.name());
        let mut cur = value.source();
        while let Some(e) = cur {
            let _ = write!(self.0, " <- {e} / {e:?}");
            cur = e.source();
        }
    }
}

/// A `tracing` subscriber that keeps everything, at every level.
struct Capture {
    next_id: AtomicU64,
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::always()
    }
    fn new_span(&self, attrs: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut line = format!("span {}", attrs.metadata().name());
        attrs.record(&mut Visitor(&mut line));
        captured().push_str(&(line + "\n"));
        tracing::span::Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut line = String::from("record");
        values.record(&mut Visitor(&mut line));
        captured().push_str(&(line + "\n"));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let m = event.metadata();
        let mut line = format!("{} {}", m.level(), m.target());
        event.record(&mut Visitor(&mut line));
        captured().push_str(&(line + "\n"));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// The driver logs through `log`.
struct LogCapture;

impl log::Log for LogCapture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = format!(
            "log {} {} {}\n",
            record.level(),
            record.target(),
            record.args()
        );
        captured().push_str(&line);
    }
    fn flush(&self) {}
}

fn install_capture() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        tracing::subscriber::set_global_default(Capture {
            next_id: AtomicU64::new(0),
        })
        .expect("the only subscriber of this test binary");
        log::set_boxed_logger(Box::new(LogCapture)).expect("the only logger");
        log::set_max_level(log::LevelFilter::Trace);
    });
}

// -------------------------------------------------------------------------------------------
// Cases.

/// Percent-encodes everything but unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
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

/// The forms of URL a password can be written in; `{pw}` is the password as written.
const FORMS: &[&str] = &[
    "redis://:{pw}@127.0.0.1:{port}",
    "redis://app:{pw}@127.0.0.1:{port}/0",
    "redis://app:{pw}@127.0.0.1:{port}",
    "rediss://app:{pw}@127.0.0.1:{port}/1",
    "redis+unix:///tmp/cv-redaction-none.sock?db=1&pass={pw}",
    "unix:///tmp/cv-redaction-none.sock?password={pw}",
    "redis+unix:///tmp/cv-redaction-none.sock?pass={pw}&db=2",
    "redis//app:{pw}@127.0.0.1:{port}",
    "rdis://app:{pw}@127.0.0.1:{port}",
    "REDIS://app:{pw}@127.0.0.1:{port}",
];

#[derive(Debug, Clone)]
enum How {
    /// One URL of `FORMS`.
    Url(usize),
    /// A cluster list: every URL of the given forms.
    Cluster(Vec<usize>),
    /// A plain URL and `.password(pw)` (and a user name) on the builder.
    Builder,
}

fn how() -> impl Strategy<Value = How> {
    prop_oneof![
        (0..FORMS.len()).prop_map(How::Url),
        proptest::collection::vec(0..FORMS.len(), 1..4).prop_map(How::Cluster),
        Just(How::Builder),
    ]
}

fn password() -> impl Strategy<Value = String> {
    proptest::collection::vec(0x20u8..=0x7e, 8..24)
        .prop_map(|b| String::from_utf8(b).expect("ASCII"))
        // Distinctive: a password of a few spaces would "appear" in any text.
        .prop_filter("at least 4 distinct non-space characters", |p| {
            let mut c: Vec<char> = p.chars().filter(|c| *c != ' ').collect();
            c.sort();
            c.dedup();
            c.len() >= 4
        })
}

/// Everything a user could see of one case: `Debug`/`Display` of each value and each error
/// in the chain.
fn texts_of_error(e: &(dyn Error + 'static), out: &mut Vec<String>) {
    out.push(e.to_string());
    out.push(format!("{e:?}"));
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push(s.to_string());
        out.push(format!("{s:?}"));
        cur = s.source();
    }
}

fn check(case: &str, secrets: &[&str], texts: &[String]) -> Result<(), TestCaseError> {
    for t in texts {
        for s in secrets {
            prop_assert!(!t.contains(s), "{case}: the password {s:?} shows in:\n{t}");
        }
    }
    Ok(())
}

fn server() -> &'static RedisServer {
    static SERVER: OnceLock<RedisServer> = OnceLock::new();
    SERVER.get_or_init(|| RedisServer::start_with(&["--requirepass", "Q9-the-real-one-zz"]))
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

fn builder_for(how: &How, pw_written: &str, port: u16) -> (RedisStoreBuilder, Vec<String>) {
    let url = |form: usize| {
        FORMS[form]
            .replace("{pw}", pw_written)
            .replace("{port}", &port.to_string())
    };
    let fast = |b: RedisStoreBuilder| {
        b.reconnect_retries(0)
            .connect_timeout(Duration::from_millis(300))
            .response_timeout(Duration::from_millis(300))
    };
    match how {
        How::Url(form) => {
            let u = url(*form);
            (fast(RedisStore::builder(u.clone())), vec![u])
        }
        How::Cluster(forms) => {
            let us: Vec<String> = forms.iter().map(|f| url(*f)).collect();
            (fast(RedisStore::cluster_builder(&us)), us)
        }
        How::Builder => (
            fast(
                RedisStore::builder(format!("redis://127.0.0.1:{port}"))
                    .username("app")
                    .password(pw_written),
            ),
            Vec::new(),
        ),
    }
}

fn one_case(how: How, pw: String, encoded: bool, real: bool) -> Result<(), TestCaseError> {
    let written = if encoded { encode(&pw) } else { pw.clone() };
    let mut secrets: Vec<&str> = vec![pw.as_str()];
    let decoded = decode(&written);
    if encoded {
        secrets.push(&written);
    }
    if decoded.len() >= 6 {
        secrets.push(&decoded);
    }
    let port = if real { server().port() } else { unused_port() };
    let case = format!("{how:?}, encoded {encoded}, real server {real}");
    // The buffer only grows (the other test of this binary writes to it too).
    let from = captured().len();
    let mut texts = Vec::new();
    let (builder, urls) = builder_for(&how, &written, port);
    texts.push(format!("{builder:?}"));
    for u in &urls {
        texts.push(redact_url(u));
    }
    let rt = runtime();
    // Connecting now.
    match rt.block_on(builder.build()) {
        Ok(store) => {
            texts.push(format!("{store:?}"));
            if let Err(e) = rt.block_on(store.get(b"k")) {
                texts_of_error(&e, &mut texts);
            }
        }
        Err(e) => texts_of_error(&e, &mut texts),
    }
    // Connecting in the background: the store, its errors, and what it logs meanwhile.
    let (builder, _) = builder_for(&how, &written, port);
    let lazy = {
        let _guard = rt.enter();
        builder.build_lazy()
    };
    match lazy {
        Ok(store) => {
            texts.push(format!("{store:?}"));
            rt.block_on(async {
                for _ in 0..3 {
                    if let Err(e) = store.get(b"k").await {
                        texts_of_error(&e, &mut texts);
                    }
                    if let Err(e) = store.set_many_and_delete(&[], &[b"k".to_vec()]).await {
                        texts_of_error(&e, &mut texts);
                    }
                    tokio::time::sleep(Duration::from_millis(30)).await;
                }
            });
            drop(store);
        }
        Err(e) => texts_of_error(&e, &mut texts),
    }
    texts.push(captured()[from..].to_owned());
    check(&case, &secrets, &texts)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn passwords_never_show(how in how(), pw in password(), encoded in any::<bool>(), real in any::<bool>()) {
        install_capture();
        one_case(how, pw, encoded, real)?;
    }
}

/// The capture works (the property would pass vacuously otherwise): a lazily built store that
/// cannot connect logs a warning with the redacted URL, and the driver's `log` records land
/// too.
#[test]
fn the_capture_sees_log_lines() {
    install_capture();
    let rt = runtime();
    let port = unused_port();
    let _guard = rt.enter();
    let store = RedisStore::builder(format!("redis://:visible-marker@127.0.0.1:{port}"))
        .build_lazy()
        .unwrap();
    rt.block_on(tokio::time::sleep(Duration::from_millis(200)));
    drop(store);
    // Both tests of this binary share the buffer; look for this port.
    let text = captured().clone();
    let line = text
        .lines()
        .find(|l| l.contains(&format!(":***@127.0.0.1:{port}")))
        .unwrap_or_else(|| panic!("no line for port {port} in:\n{text}"));
    assert!(line.contains("cannot connect"), "{line}");
    assert!(!text.contains("visible-marker"), "{text}");
}
