#!/usr/bin/env python3
"""Compile-time cost of #[derive(CacheVersion)] on a crate of 200 models.

Generates two crates with the same 200 realistic models (8-12 fields each, nested models,
options, vectors, maps, enums): `serde_only` derives Serialize + Deserialize; `with_cv` also
derives CacheVersion and forces every version to be computed in const (a `const _` over all
200 versions), so the cost is paid in this crate and not hidden by lazy evaluation.

Two measurements, interleaved and repeated (the machine is noisy; medians are reported):
- models only: dependencies already built, `touch src/lib.rs`, `cargo build`;
- clean: an empty target dir, `cargo build` including every dependency.

Usage: python3 scripts/compile_bench.py [--rounds 5] [--clean-rounds 2]
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = 200
# None: the core crate's default features (derive + the typed cache + registry); a list: a
# models-only crate (`--models-only`: `default-features = false, features = ["derive"]`).
CORE_FEATURES = None


def models(with_cv: bool) -> str:
    derive = "Serialize, Deserialize" + (", CacheVersion" if with_cv else "")
    out = ["#![allow(dead_code)]", "use serde::{Deserialize, Serialize};"]
    if with_cv:
        out.append("use cache_version_core::{CacheVersion, Version};")
    out.append("use std::collections::{BTreeMap, HashMap};")
    for i in range(N):
        fields = [
            "pub id: u64",
            "pub name: String",
            "#[serde(skip_serializing_if = \"Option::is_none\")] pub email: Option<String>",
            "pub tags: Vec<String>",
            "pub created_at: u64",
            "pub score: f64",
            "pub attrs: HashMap<String, i64>",
            f"pub status: Status{i}",
        ]
        if i >= 1:
            fields.append(f"pub parent: Option<Box<M{i - 1}>>")
        if i >= 3:
            fields.append(f"pub related: Vec<M{i - 3}>")
        if i >= 7:
            fields.append(f"pub index: BTreeMap<u32, M{i - 7}>")
        out.append(f"#[derive({derive})]\n#[serde(rename_all = \"camelCase\")]")
        out.append(f"pub struct M{i} {{ {', '.join(fields)} }}")
        out.append(f"#[derive({derive})]\n#[serde(tag = \"type\")]")
        out.append(f"pub enum Status{i} {{ Active, Suspended {{ reason: String, until: Option<u64> }}, Deleted }}")
    if with_cv:
        vs = ", ".join(f"<M{i} as CacheVersion>::VERSION" for i in range(N))
        out.append(f"pub const VERSIONS: [Version; {N}] = [{vs}];")
        out.append("const _: () = { let mut i = 0; while i < VERSIONS.len() { i += 1; } };")
        out.append(f"const _: () = assert!(!VERSIONS[{N - 1}].eq_const(&VERSIONS[0]));")
    return "\n".join(out) + "\n"


def make_crate(base: str, name: str, with_cv: bool) -> str:
    d = os.path.join(base, name)
    os.makedirs(os.path.join(d, "src"))
    deps = 'serde = { version = "1", features = ["derive"] }\n'
    if with_cv:
        deps += (f'cache-version-core = {{ path = "{ROOT}/cache-version-core"'
                 + ('' if CORE_FEATURES is None
                    else f', default-features = false, features = {CORE_FEATURES!r}'.replace("'", '"'))
                 + ' }\n')
    with open(os.path.join(d, "Cargo.toml"), "w") as f:
        f.write(f'[package]\nname = "{name}"\nversion = "0.0.0"\nedition = "2021"\n\n'
                f"[dependencies]\n{deps}\n[workspace]\n")
    with open(os.path.join(d, "src", "lib.rs"), "w") as f:
        f.write(models(with_cv))
    # Share the workspace's lockfile so both use the same dependency versions.
    shutil.copy(os.path.join(ROOT, "Cargo.lock"), os.path.join(d, "Cargo.lock"))
    return d


def build(crate: str, target: str) -> tuple:
    """Wall seconds and CPU seconds (user + system of cargo and rustc) of one build."""
    env = dict(os.environ, CARGO_TARGET_DIR=target)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    subprocess.run(["cargo", "build", "--quiet", "--offline"], cwd=crate, env=env, check=True)
    wall = time.monotonic() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--clean-rounds", type=int, default=2)
    ap.add_argument("--models-only", action="store_true",
                    help="depend on the core crate with only the derive feature")
    args = ap.parse_args()
    global CORE_FEATURES
    if args.models_only:
        CORE_FEATURES = ["derive"]
    base = tempfile.mkdtemp(prefix="cv-compile-bench-")
    crates = {
        "serde_only": make_crate(base, "serde_only", False),
        "with_cv": make_crate(base, "with_cv", True),
    }
    targets = {k: os.path.join(base, "target-" + k) for k in crates}
    inc = {k: [] for k in crates}
    clean = {k: [] for k in crates}
    for k in crates:  # warm: build dependencies once
        build(crates[k], targets[k])
    for r in range(args.rounds):
        order = list(crates) if r % 2 == 0 else list(reversed(list(crates)))
        for k in order:
            os.utime(os.path.join(crates[k], "src", "lib.rs"))
            inc[k].append(build(crates[k], targets[k]))
    for r in range(args.clean_rounds):
        order = list(crates) if r % 2 == 0 else list(reversed(list(crates)))
        for k in order:
            t = targets[k] + "-clean"
            shutil.rmtree(t, ignore_errors=True)
            clean[k].append(build(crates[k], t))
            shutil.rmtree(t, ignore_errors=True)
    def report(label, data):
        for i, unit in ((0, "wall"), (1, "CPU")):
            xs = [r[i] for r in data["serde_only"]]
            ys = [r[i] for r in data["with_cv"]]
            a, b = statistics.median(xs), statistics.median(ys)
            print(f"{label}, {unit}: serde only {a:.2f}s, with CacheVersion {b:.2f}s, "
                  f"ratio {b / a:.3f} (runs: {[round(x, 2) for x in xs]} vs "
                  f"{[round(y, 2) for y in ys]})")
    report(f"200 models, models crate only (median of {args.rounds})", inc)
    if args.clean_rounds:
        report(f"200 models, clean build with dependencies (median of {args.clean_rounds})", clean)
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
