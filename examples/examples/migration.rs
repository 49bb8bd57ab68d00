//! A field rename (seed 000's `userName` → `fullName`) without a cold cache: the new build
//! reads what the old build wrote through a typed migration, and keeps the old build warm with
//! dual-write while both run.
//!
//! ```text
//! cargo run --example migration
//! ```

use cache_version_core::{Cache, CacheVersion, MemoryStore};
use serde::{Deserialize, Serialize};

/// The old build's model, kept in the new build under the same model name.
#[derive(Debug, Clone, Serialize, Deserialize, CacheVersion)]
#[serde(rename_all = "camelCase")]
#[cache_version(name = "User")]
struct UserV1 {
    user_id: u64,
    user_name: String,
}

/// The new build's model: one field renamed, so a new version and a new key space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
#[serde(rename_all = "camelCase")]
struct User {
    user_id: u64,
    full_name: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cache = Cache::builder(MemoryStore::new())
        .namespace("prod")
        .build()?;

    // The old build wrote these before the deploy.
    let old_build = cache.model::<UserV1>();
    for id in 1..=3u64 {
        let user = UserV1 {
            user_id: id,
            user_name: format!("user {id}"),
        };
        old_build.set(id.to_string(), &user).await?;
    }
    println!(
        "UserV1 key: {}",
        String::from_utf8_lossy(&old_build.key("1")?)
    );

    // The new build registers how to read the old shape and how to write it back.
    let users = cache
        .model::<User>()
        .migrate_from::<UserV1, _>(|old| User {
            user_id: old.user_id,
            full_name: old.user_name,
        })?
        .dual_write_to::<UserV1, _>(|new| UserV1 {
            user_id: new.user_id,
            user_name: new.full_name.clone(),
        })?;
    println!("User key:   {}", String::from_utf8_lossy(&users.key("1")?));

    // Different versions, so no decode errors; and no cold cache either: a miss on the new
    // version is served from the old one, converted and written back with its remaining TTL.
    let first = users.get("1").await?;
    println!("new build reads 1: {first:?} (from the old version)");
    let again = users.get("1").await?;
    println!("new build reads 1 again: {again:?} (now from its own version)");

    // A write by the new build also lands in the old key space: old instances stay warm.
    users
        .set(
            "4",
            &User {
                user_id: 4,
                full_name: "Dana".into(),
            },
        )
        .await?;
    println!("old build reads 4: {:?}", old_build.get("4").await?);

    // A delete by the new build removes the key in both versions (no stale old entry).
    users.delete("2").await?;
    println!(
        "old build reads 2 after the delete: {:?}",
        old_build.get("2").await?
    );

    let stats = users.stats();
    println!(
        "User stats: {} hits, {} fallback hits, {} misses",
        stats.hit, stats.fallback_hit, stats.miss
    );
    assert_eq!(stats.fallback_hit, 1);
    Ok(())
}
