//! The lockfile on a 200-model crate (`tests/support/models200.rs`: each model reaches every
//! model below it, 400 named types):
//!
//! - `check_up_to_date`: what `check_lockfile` costs in a test when nothing changed (build the
//!   lockfile from the shapes, verify them, read and compare the file);
//! - `generate`: the lockfile's text from the shapes;
//! - `parse`: reading the file back (every definition re-hashed);
//! - `diff_all_changed`: the structural diff when a change at the bottom reached all 200
//!   models (both lockfiles already parsed).
//!
//! `cargo bench -p cache-version-core --bench lockfile -- --warm-up-time 1 --measurement-time 3`
#![recursion_limit = "512"]

use std::hint::black_box;

use cache_version_core::lockfile::{self, CheckOptions, CodecKind, Lockfile, Mode};
use criterion::{criterion_group, criterion_main, Criterion};

#[allow(dead_code)]
mod a {
    include!("../tests/support/models200.rs");
    models200!(u64);
}

#[allow(dead_code)]
mod b {
    include!("../tests/support/models200.rs");
    models200!(u32);
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("cv-lockfile-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cache-versions.lock");
    let overwrite = CheckOptions {
        mode: Mode::Overwrite,
        ..Default::default()
    };
    let check = CheckOptions {
        mode: Mode::Check,
        ..Default::default()
    };
    lockfile::check_lockfile_with(&path, a::models(), overwrite).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let old = Lockfile::parse(&text).unwrap();
    let new = Lockfile::from_models(b::models()).unwrap();
    let report = lockfile::diff(&old, &new, CodecKind::Json);
    assert_eq!(report.models.len(), 200);
    eprintln!(
        "200 models: {} KiB lockfile, {} types; diff: {} changes",
        text.len() / 1024,
        old.types.len(),
        report.models.iter().map(|m| m.changes.len()).sum::<usize>()
    );

    let mut g = c.benchmark_group("lockfile_200_models");
    g.bench_function("check_up_to_date", |bench| {
        bench.iter(|| lockfile::check_lockfile_with(&path, a::models(), check).unwrap())
    });
    g.bench_function("generate", |bench| {
        bench.iter(|| Lockfile::from_models(a::models()).unwrap().to_text())
    });
    g.bench_function("parse", |bench| {
        bench.iter(|| Lockfile::parse(black_box(&text)).unwrap())
    });
    g.bench_function("diff_all_changed", |bench| {
        bench.iter(|| lockfile::diff(black_box(&old), black_box(&new), CodecKind::Json))
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
