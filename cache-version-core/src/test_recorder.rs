//! A `metrics` recorder for unit tests: counts increments by `name{label=value,...}`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Counts increments by `name{label=value,...}`.
#[derive(Default, Clone)]
pub(crate) struct TestRecorder(pub(crate) Arc<Mutex<BTreeMap<String, u64>>>);

struct TestCounter {
    counts: TestRecorder,
    id: String,
}

impl metrics::CounterFn for TestCounter {
    fn increment(&self, n: u64) {
        *self
            .counts
            .0
            .lock()
            .unwrap()
            .entry(self.id.clone())
            .or_default() += n;
    }
    fn absolute(&self, _: u64) {}
}

impl metrics::Recorder for TestRecorder {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        metrics::Counter::from_arc(Arc::new(TestCounter {
            counts: self.clone(),
            id: format!("{}{{{}}}", key.name(), labels.join(",")),
        }))
    }
    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::noop()
    }
    fn register_histogram(
        &self,
        _: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        metrics::Histogram::noop()
    }
}
