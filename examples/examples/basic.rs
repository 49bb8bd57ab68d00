//! The smallest tour: derive a version, see the key, write and read through the typed cache.
//!
//! ```text
//! cargo run --example basic
//! ```

use cache_version_core::{Cache, CacheVersion, MemoryStore};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
#[serde(rename_all = "camelCase")]
struct Address {
    city: String,
    zip: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
#[serde(rename_all = "camelCase")]
struct User {
    user_id: u64,
    full_name: String,
    address: Option<Box<Address>>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The version is a constant computed at compile time from what serde writes.
    const USER_VERSION: cache_version_core::Version = <User as CacheVersion>::VERSION;
    println!("User definition: {}", User::SHAPE);
    println!("User version:    {USER_VERSION}");
    println!("whole schema:\n{}", cache_version_core::schema_of::<User>());

    let cache = Cache::builder(MemoryStore::new())
        .namespace("demo")
        .build()?;
    let users = cache.model::<User>();
    let key = users.key("42")?;
    println!("cache key:       {}", String::from_utf8_lossy(&key));

    let alice = User {
        user_id: 42,
        full_name: "Alice Liddell".into(),
        address: Some(Box::new(Address {
            city: "Oxford".into(),
            zip: "OX1".into(),
        })),
    };
    users.set("42", &alice).await?;
    let back = users.get("42").await?;
    assert_eq!(back.as_ref(), Some(&alice));
    println!("read back:       {back:?}");

    // A miss calls the loader once; the value is cached for the next read.
    let bob = users
        .get_or_load("7", || async {
            Ok::<_, std::io::Error>(User {
                user_id: 7,
                full_name: "Bob".into(),
                address: None,
            })
        })
        .await?;
    println!("loaded:          {bob:?}");
    println!("stats:           {:?}", users.stats());
    Ok(())
}
