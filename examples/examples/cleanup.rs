//! After the rollout: migrate or delete what is left under older versions of a model, with a
//! dry run first. The job never touches the current version, other models or other
//! namespaces.
//!
//! ```text
//! cargo run --example cleanup
//! ```

use cache_version_core::{Cache, CacheVersion, MemoryStore, Store};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, CacheVersion)]
#[cache_version(name = "User")]
struct UserV1 {
    user_id: u64,
    user_name: String,
}

#[derive(Serialize, Deserialize, CacheVersion)]
struct User {
    user_id: u64,
    full_name: String,
}

#[derive(Serialize, Deserialize, CacheVersion)]
struct Order {
    order_id: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = MemoryStore::new();
    let cache = Cache::builder(store.clone()).namespace("prod").build()?;
    let old = cache.model::<UserV1>();
    let users = cache.model::<User>();
    let orders = cache.model::<Order>();
    for id in 0..100u64 {
        let v1 = UserV1 {
            user_id: id,
            user_name: format!("u{id}"),
        };
        old.set(id.to_string(), &v1).await?;
        if id % 2 == 0 {
            let user = User {
                user_id: id,
                full_name: format!("u{id}"),
            };
            users.set(id.to_string(), &user).await?;
        }
        orders.set(id.to_string(), &Order { order_id: id }).await?;
    }
    println!("keys before: {}", store.len());

    let dry = users.cleanup().dry_run(true).run().await?;
    println!("dry run:     {dry:?}");
    let report = users
        .cleanup()
        .batch_size(25)
        .rate_limit(10_000.0)
        .run()
        .await?;
    println!("cleanup:     {report:?}");
    println!("keys after:  {}", store.len());

    assert_eq!(report.deleted, 100, "every UserV1 key, nothing else");
    assert_eq!(
        store.len(),
        50 + 100,
        "current User keys and all Order keys remain"
    );
    assert!(store.get(&users.key("0")?).await?.is_some());
    Ok(())
}
