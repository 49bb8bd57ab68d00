#!/usr/bin/env python3
"""Compile-time cost of #[derive(CacheVersion)] on a crate of 200 models.

Two model sets, each generated twice: derived with Serialize + Deserialize only, and with
CacheVersion as well.
- realistic: 200 models of 8-12 fields (nested models, options, vectors, maps, an internally
  tagged enum per model); the CacheVersion crate uses every version in a `const`.
- chained (issue 18): 200 models where each holds the previous one (`Option<Box<Prev>>`) and
  the one three back (`Vec<...>`), plus 20 internally tagged enums. Two CacheVersion crates:
  `lazy` (no version used) and `const` (every `VERSION` in one `const ALL: [Version; 200]`
  and a const assert over it), so the cost of the versions is paid in this crate.

Measurements, interleaved and repeated (the machine is noisy; medians of CPU seconds, user +
system of cargo and rustc, are what to quote; wall is printed too):
- incremental: dependencies built, `touch src/lib.rs`, `cargo build` (the dev profile's
  incremental cache answers for everything whose input did not change);
- full: the same with `CARGO_INCREMENTAL=0`, so the models crate is compiled from scratch
  (what CI, a release build or an edit that reaches every model pays);
- clean (realistic set only): an empty target dir, `cargo build` including every dependency.

Then a breakdown of the chained crates: `-Z time-passes` (through RUSTC_BOOTSTRAP=1) of one
full build of each, the passes that differ most.

With `--callgrind`, the chained crates are also built under `valgrind --tool=callgrind`, a
full and an incremental rebuild each: instructions, not seconds, so the ratio is the same on
a loaded machine and from run to run (within a fraction of a percent), with what the derive
macro itself ran (inclusive, its proc-macro bridge traffic in) and the extra instructions
grouped by the rustc crate that runs them (`rustc_const_eval` is const evaluation). Slow:
about 50 times a native build.

Usage: python3 scripts/compile_bench.py [--rounds 5] [--clean-rounds 2] [--sets chained,realistic]
                                        [--callgrind] [--models N] [--models-only] [--pin CPU]
                                        [--no-lazy] [--no-breakdown] [--dir DIR]
"""
import argparse
import os
import re
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
# `--pin CPU`: the CPU every timed build runs on.
PIN = None


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


E = 20


def chained(with_cv: bool, use_consts: bool) -> str:
    """200 models, each holding the previous one and the one three back, 20 tagged enums."""
    derive = "Serialize, Deserialize" + (", CacheVersion" if with_cv else "")
    out = ["#![allow(dead_code)]", "use serde::{Deserialize, Serialize};"]
    if with_cv and use_consts:
        out.append("use cache_version_core::{CacheVersion, Version};")
    elif with_cv:
        out.append("use cache_version_core::CacheVersion;")
    for j in range(E):
        out.append(f"#[derive({derive})]\n#[serde(tag = \"kind\")]")
        out.append(f"pub enum E{j} {{ Active {{ since: u64 }}, "
                   "Suspended { reason: String, until: Option<u64> }, Deleted }")
    for i in range(N):
        fields = ["pub id: u64", "pub name: String", "pub tags: Vec<String>", "pub score: f64",
                  f"pub state: E{i % E}"]
        if i >= 1:
            fields.append(f"pub prev: Option<Box<M{i - 1}>>")
        if i >= 3:
            fields.append(f"pub back: Vec<M{i - 3}>")
        out.append(f"#[derive({derive})]")
        out.append(f"pub struct M{i} {{ {', '.join(fields)} }}")
    if with_cv and use_consts:
        vs = ", ".join(f"<M{i} as CacheVersion>::VERSION" for i in range(N))
        out.append(f"pub const ALL: [Version; {N}] = [{vs}];")
        out.append(f"const _: () = assert!(!ALL[{N - 1}].eq_const(&ALL[0]));")
    return "\n".join(out) + "\n"


def make_crate(base: str, name: str, with_cv: bool, source: str) -> str:
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
        f.write(source)
    # Share the workspace's lockfile so both use the same dependency versions.
    shutil.copy(os.path.join(ROOT, "Cargo.lock"), os.path.join(d, "Cargo.lock"))
    return d


def build(crate: str, target: str, incremental: bool = True) -> tuple:
    """Wall seconds and CPU seconds (user + system of cargo and rustc) of one build."""
    env = dict(os.environ, CARGO_TARGET_DIR=target)
    if not incremental:
        env["CARGO_INCREMENTAL"] = "0"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    pin = ["taskset", "-c", PIN] if PIN is not None else []
    subprocess.run(pin + ["cargo", "build", "--quiet", "--offline"], cwd=crate, env=env,
                   check=True)
    wall = time.monotonic() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def time_passes(crate: str, target: str) -> dict:
    """Seconds per pass of one full (non-incremental) build of the crate, from -Z time-passes."""
    env = dict(os.environ, CARGO_TARGET_DIR=target, CARGO_INCREMENTAL="0", RUSTC_BOOTSTRAP="1")
    os.utime(os.path.join(crate, "src", "lib.rs"))
    out = subprocess.run(["cargo", "rustc", "--quiet", "--offline", "--lib", "--",
                          "-Z", "time-passes"], cwd=crate, env=env, check=True,
                         capture_output=True, text=True)
    passes = {}
    for line in out.stderr.splitlines():
        m = re.match(r"time:\s+([\d.]+);.*\t(\S+)$", line)
        if m:
            passes[m.group(2)] = passes.get(m.group(2), 0.0) + float(m.group(1))
    return passes


def rustc_command(crate: str, target: str, incremental: bool = False) -> str:
    """The rustc command line cargo runs for the crate itself: a full (non-incremental) build,
    or with `incremental` an incremental rebuild (cargo's run of it leaves the incremental
    cache answering for everything, as in the timed rounds)."""
    env = dict(os.environ, CARGO_TARGET_DIR=target)
    if not incremental:
        env["CARGO_INCREMENTAL"] = "0"
    os.utime(os.path.join(crate, "src", "lib.rs"))
    out = subprocess.run(["cargo", "build", "-v", "--offline"], cwd=crate, env=env, check=True,
                         capture_output=True, text=True)
    name = os.path.basename(crate)
    for line in out.stderr.splitlines():
        m = re.match(r"\s*Running `(.*)`$", line)
        if m and f"--crate-name {name} " in m.group(1):
            return m.group(1)
    raise RuntimeError(f"no rustc command for {name} in cargo's output")


def callgrind(crate: str, target: str, out: str, incremental: bool = False) -> tuple:
    """Instructions of one build of the crate under callgrind, per rustc crate, and inclusive
    of the derive macros' entry points (what each proc macro ran, its bridge traffic in)."""
    cmd = rustc_command(crate, target, incremental)
    run = subprocess.run(f"valgrind --tool=callgrind --callgrind-out-file={out} {cmd}",
                         shell=True, cwd=crate, capture_output=True, text=True)
    m = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or not m:
        raise RuntimeError(f"callgrind of {crate} failed: {run.stderr[-2000:]}")
    ann = subprocess.run(["callgrind_annotate", "--threshold=100", out], capture_output=True,
                         text=True).stdout
    groups = {}
    for line in ann.splitlines():
        f = re.match(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)(\s+\[.*\])?$", line)
        if not f or "PROGRAM TOTALS" in line:
            continue
        g = re.search(r"(rustc_[a-z_]+|cache_version_derive|serde_derive_internals|serde_derive"
                      r"|syn|proc_macro2|quote|proc_macro)", f.group(2))
        key = g.group(1) if g else "other"
        groups[key] = groups.get(key, 0) + int(f.group(1).replace(",", ""))
    inclusive = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=99", out],
                               capture_output=True, text=True).stdout
    macros = {}
    for name in ("cache_version_derive::derive_cache_version", "serde_derive::derive_serialize",
                 "serde_derive::derive_deserialize"):
        f = re.search(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+\S*?:" + re.escape(name) + r"\s",
                      inclusive, re.M)
        macros[name] = int(f.group(1).replace(",", "")) if f else 0
    return int(m.group(1)), groups, macros


def report(label, data, base, other):
    for i, unit in ((1, "CPU"), (0, "wall")):
        xs = [r[i] for r in data[base]]
        ys = [r[i] for r in data[other]]
        a, b = statistics.median(xs), statistics.median(ys)
        # Each round builds both crates one after the other: the ratio within a round is
        # less exposed to the machine's slow drifts than the ratio of the two medians.
        per_round = statistics.median(y / x for x, y in zip(xs, ys))
        print(f"{label}, {unit}: serde only {a:.2f}s, with CacheVersion {b:.2f}s, "
              f"ratio {b / a:.3f}, median of per-round ratios {per_round:.3f} "
              f"(runs: {[round(x, 2) for x in xs]} vs {[round(y, 2) for y in ys]})")


def main():
    global CORE_FEATURES, N, PIN
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--clean-rounds", type=int, default=2)
    ap.add_argument("--sets", default="chained,realistic",
                    help="comma-separated model sets: chained, realistic")
    ap.add_argument("--no-breakdown", action="store_true", help="skip the -Z time-passes runs")
    ap.add_argument("--dir", help="where to generate the crates and their target dir "
                    "(default: a new temporary directory, removed at the end)")
    ap.add_argument("--models", type=int, default=N,
                    help="models per generated crate (default 200; fewer for a quick callgrind)")
    ap.add_argument("--callgrind", action="store_true",
                    help="also count the instructions of one build of each chained crate")
    ap.add_argument("--models-only", action="store_true",
                    help="depend on the core crate with only the derive feature")
    ap.add_argument("--pin", metavar="CPU",
                    help="run every timed build on this CPU (taskset -c): no migrations")
    ap.add_argument("--no-lazy", action="store_true",
                    help="leave out the chained crate that uses no version (faster rounds)")
    args = ap.parse_args()
    PIN = args.pin
    N = args.models
    if args.models_only:
        CORE_FEATURES = ["derive"]
    sets = args.sets.split(",")
    if args.dir:
        base = args.dir
        for name in ("chained_serde", "chained_lazy", "chained_const", "serde_only", "with_cv"):
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)
        os.makedirs(base, exist_ok=True)
    else:
        base = tempfile.mkdtemp(prefix="cv-compile-bench-")
    crates = {}
    if "chained" in sets:
        crates["chained_serde"] = make_crate(base, "chained_serde", False, chained(False, False))
        if not args.no_lazy:
            crates["chained_lazy"] = make_crate(base, "chained_lazy", True, chained(True, False))
        crates["chained_const"] = make_crate(base, "chained_const", True, chained(True, True))
    if "realistic" in sets:
        crates["serde_only"] = make_crate(base, "serde_only", False, models(False))
        crates["with_cv"] = make_crate(base, "with_cv", True, models(True))
    # One target dir: the crates have different names, the dependencies are built once.
    targets = {k: os.path.join(base, "target") for k in crates}
    inc = {k: [] for k in crates}
    full = {k: [] for k in crates}
    clean = {k: [] for k in crates}
    for k in crates:  # warm: build dependencies once, in both modes
        build(crates[k], targets[k])
        build(crates[k], targets[k], incremental=False)
    for r in range(args.rounds):
        order = list(crates) if r % 2 == 0 else list(reversed(list(crates)))
        for incremental, data in ((True, inc), (False, full)):
            for k in order:
                os.utime(os.path.join(crates[k], "src", "lib.rs"))
                data[k].append(build(crates[k], targets[k], incremental))
    if "realistic" in sets:
        for r in range(args.clean_rounds):
            order = ["serde_only", "with_cv"] if r % 2 == 0 else ["with_cv", "serde_only"]
            for k in order:
                t = targets[k] + "-clean"
                shutil.rmtree(t, ignore_errors=True)
                clean[k].append(build(crates[k], t))
                shutil.rmtree(t, ignore_errors=True)
    n = args.rounds
    if "chained" in sets:
        for mode, data in (("full rebuild", full), ("incremental rebuild", inc)):
            report(f"chained {N} models + {E} enums, every VERSION in a const, {mode} "
                   f"(median of {n})", data, "chained_serde", "chained_const")
            if "chained_lazy" in data:
                report(f"chained {N} models + {E} enums, no version used, {mode} "
                       f"(median of {n})", data, "chained_serde", "chained_lazy")
    if "realistic" in sets:
        report(f"200 realistic models, full rebuild (median of {n})", full, "serde_only", "with_cv")
        report(f"200 realistic models, incremental rebuild (median of {n})", inc,
               "serde_only", "with_cv")
        if args.clean_rounds:
            report(f"200 realistic models, clean build with dependencies (median of "
                   f"{args.clean_rounds})", clean, "serde_only", "with_cv")
    if "chained" in sets and not args.no_breakdown:
        # One run each, so noisy: read it for where the time goes, not for the ratio.
        a = time_passes(crates["chained_serde"], targets["chained_serde"])
        b = time_passes(crates["chained_const"], targets["chained_const"])
        print("breakdown (chained, every VERSION in a const, one full build each, -Z time-passes,"
              " wall seconds of the pass; nested passes overlap):")
        print(f"  {'pass':34} {'serde':>7} {'+CV':>7} {'extra':>7}")
        keys = sorted(set(a) | set(b), key=lambda p: -(b.get(p, 0) - a.get(p, 0)))
        shown = [p for p in keys if p != "total" and abs(b.get(p, 0) - a.get(p, 0)) >= 0.02][:14]
        for p in shown + ["total"]:
            print(f"  {p:34} {a.get(p, 0):7.2f} {b.get(p, 0):7.2f} "
                  f"{b.get(p, 0) - a.get(p, 0):+7.2f}")
    if "chained" in sets and args.callgrind:
        for mode, incremental in (("full rebuild", False), ("incremental rebuild", True)):
            counts = {}
            for k in ("chained_serde", "chained_const"):
                counts[k] = callgrind(crates[k], targets[k],
                                      os.path.join(base, f"callgrind.{k}.{int(incremental)}"),
                                      incremental)
            (a, ga, ma), (b, gb, mb) = counts["chained_serde"], counts["chained_const"]
            extra = b - a
            print(f"chained {N} models + {E} enums, every VERSION in a const, {mode}, "
                  f"instructions (callgrind): serde only {a / 1e9:.3f}G, with CacheVersion "
                  f"{b / 1e9:.3f}G, ratio {b / a:.3f}")
            derive = mb["cache_version_derive::derive_cache_version"]
            serde = mb["serde_derive::derive_serialize"] + mb["serde_derive::derive_deserialize"]
            print(f"  the CacheVersion macro itself (inclusive, its bridge traffic in): "
                  f"{derive / 1e6:.1f} M, {100 * derive / extra:.1f}% of the extra "
                  f"(serde's two derives: {serde / 1e6:.1f} M)")
            print("  where the extra instructions run (rustc crate, millions, share of the extra):")
            keys = sorted(set(ga) | set(gb), key=lambda k: -(gb.get(k, 0) - ga.get(k, 0)))
            for k in keys[:12]:
                d = gb.get(k, 0) - ga.get(k, 0)
                print(f"  {k:28} {ga.get(k, 0) / 1e6:9.1f} {gb.get(k, 0) / 1e6:9.1f} "
                      f"{d / 1e6:+9.1f} {100 * d / extra:5.1f}%")
    if not args.dir:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
