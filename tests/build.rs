//! Generates the 200-model graphs of `tests/graph.rs`: model `i` holds `Option<Box<M{i-1}>>`
//! and `Vec<M{i-3}>`. Fully expanded, such a schema grows exponentially with the number of
//! models; the Merkle versions keep it one small hash per model. Graph `b` is graph `a` with
//! one change at the bottom (`M0.id` is a `u32`), which must reach every model above it.

use std::fmt::Write;

const N: usize = 200;

fn graph(module: &str, bottom_id: &str) -> String {
    let mut out = format!("pub mod {module} {{\n");
    for i in 0..N {
        out.push_str("#[derive(serde::Serialize, cache_version_core::CacheVersion)]\n");
        let id = if i == 0 { bottom_id } else { "u64" };
        write!(out, "pub struct M{i} {{ pub id: {id}, pub name: String").unwrap();
        if i >= 1 {
            write!(out, ", pub prev: Option<Box<M{}>>", i - 1).unwrap();
        }
        if i >= 3 {
            write!(out, ", pub back3: Vec<M{}>", i - 3).unwrap();
        }
        out.push_str(" }\n");
    }
    write!(
        out,
        "pub const VERSIONS: [cache_version_core::Version; {N}] = ["
    )
    .unwrap();
    for i in 0..N {
        write!(out, "<M{i} as cache_version_core::CacheVersion>::VERSION,").unwrap();
    }
    out.push_str("];\n}\n");
    out
}

fn main() {
    let out = graph("a", "u64") + &graph("b", "u32");
    let dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(format!("{dir}/graph200.rs"), out).expect("write the generated graph");
    println!("cargo:rerun-if-changed=build.rs");
}
