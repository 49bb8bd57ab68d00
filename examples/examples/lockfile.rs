//! The schema lockfile in CI: the example models register themselves, `examples/cache-versions.lock`
//! records their versions and schemas, and a check (run by `cargo test` through this example's
//! test) fails with a classified diff when a model changes without the file being updated.
//!
//! ```text
//! cargo run --example lockfile                                   # check, then show a sample diff
//! CACHE_VERSION_LOCK=overwrite cargo run --example lockfile      # accept changes: rewrite the file
//! cargo test -p cache-version-examples --example lockfile        # the check as a #[test]
//! ```
//!
//! In CI, the `cache-version` binary diffs the base branch's lockfile with the pull request's
//! and posts the Markdown report (recipe in the `cache_version_core::lockfile` docs).

use cache_version_core::lockfile::{self, CodecKind, Lockfile, Model};
use cache_version_core::CacheVersion;
use serde::{Deserialize, Serialize};

/// Where the project's own lockfile lives (next to this crate's `Cargo.toml`).
const LOCKFILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/cache-versions.lock");

// The example models (the ones `basic.rs` caches, plus an order with an enum and a page).

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub city: String,
    pub zip: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub user_id: u64,
    pub full_name: String,
    pub address: Option<Box<Address>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Shipped {
        tracking: String,
    },
    Delivered {
        at: u64,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: u64,
    pub customer: User,
    pub lines: Vec<(String, u32)>,
    pub status: OrderStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

// Registered once, here: nobody keeps a list. Generic models by the instantiations cached.
cache_version_core::register!(User, Order, Page<User>);

/// The `User` of an older build, to show what a diff looks like.
mod previous {
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    #[serde(rename_all = "camelCase")]
    pub struct User {
        pub user_id: u64,
        pub user_name: String,
        pub address: Option<Box<super::Address>>,
    }
}

fn main() {
    println!("registered models:");
    let mut models = lockfile::registered();
    models.sort_by_key(Model::label);
    for m in &models {
        println!(
            "  {:<12} {}",
            m.label(),
            cache_version_core::Version::of(m.shape()).short()
        );
    }

    // The CI check: the same call the test below makes.
    match lockfile::check_lockfile(LOCKFILE, lockfile::registered()) {
        Ok(outcome) => println!("\n{LOCKFILE}: {outcome:?}"),
        Err(e) => {
            eprintln!("\n{e}");
            std::process::exit(1);
        }
    }

    // What a reviewer sees when `userName` became `fullName` (text, and Markdown for a PR).
    let old =
        Lockfile::from_models([Model::new::<previous::User>("User")]).expect("one model per label");
    let new = Lockfile::from_models([Model::new::<User>("User")]).expect("one model per label");
    let report = lockfile::diff(&old, &new, CodecKind::Json);
    println!("\nsample diff (the rename of userName):\n\n{report}");
    println!("as a pull-request comment:\n\n{}", report.to_markdown());
    const _: () = assert!(
        !<User as CacheVersion>::VERSION.eq_const(&<previous::User as CacheVersion>::VERSION)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The project's own example models are checked by their own lockfile.
    #[test]
    fn example_models_match_their_lockfile() {
        lockfile::assert_lockfile(LOCKFILE, lockfile::registered());
    }

    #[test]
    fn every_example_model_is_registered() {
        let labels: Vec<String> = lockfile::registered().iter().map(Model::label).collect();
        for l in ["User", "Order", "Page<User>"] {
            assert!(labels.iter().any(|x| x == l), "{l} missing from {labels:?}");
        }
    }
}
