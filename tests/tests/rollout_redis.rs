//! The rolling-deploy cases (`cache_version_tests::rollout`) on real Redis: one server and a
//! three-primary Redis Cluster, started by the harness for this test binary. On the cluster
//! the cleanup and migrator cases cover every primary (the store scans each in turn).

use cache_version_redis::RedisStore;
use cache_version_tests::redis_harness::{RedisCluster, RedisServer};

async fn standalone_store() -> RedisStore {
    RedisStore::open(RedisServer::shared().url())
        .await
        .expect("connect to the test server")
}

async fn cluster_store() -> RedisStore {
    RedisStore::open_cluster(RedisCluster::shared().urls())
        .await
        .expect("connect to the test cluster")
}

mod standalone {
    cache_version_tests::rollout_suite!(super::standalone_store);
}

mod cluster {
    cache_version_tests::rollout_suite!(super::cluster_store);
}

mod exact_counts {
    //! The cleanup counted by the servers themselves: `DBSIZE` on a server of its own, and on
    //! the cluster each primary's own `SCAN`, so the test does not rely on the store's walk
    //! to check the store's walk.

    use std::collections::BTreeSet;

    use cache_version_redis::{prefix_pattern, redis, RedisStore};
    use cache_version_tests::redis_harness::{RedisCluster, RedisServer};
    use cache_version_tests::rollout::populate;

    /// The keys starting with `base` on one server, by that server's own `SCAN`.
    fn node_keys(server: &RedisServer, base: &str) -> BTreeSet<Vec<u8>> {
        let mut con = server.admin();
        let pattern = prefix_pattern(base.as_bytes());
        let mut cursor: u64 = 0;
        let mut out = BTreeSet::new();
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query(&mut con)
                .expect("SCAN");
            out.extend(keys);
            if next == 0 {
                return out;
            }
            cursor = next;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn standalone_cleanup_by_dbsize() {
        let server = RedisServer::start();
        let store = RedisStore::open(server.url()).await.expect("connect");
        let (pop, users) = populate(&store, "dbsize").await;
        let before: u64 = server.cmd(&["DBSIZE"]);
        assert_eq!(
            before,
            pop.all.len() as u64,
            "the server holds only this population"
        );
        assert_eq!(node_keys(&server, &pop.base), pop.all);

        let dry = users.cleanup().dry_run(true).run().await.unwrap();
        assert_eq!(server.cmd::<u64>(&["DBSIZE"]), before);
        let report = users.cleanup().run().await.unwrap();
        let after: u64 = server.cmd(&["DBSIZE"]);
        assert_eq!(after, before - pop.old.len() as u64, "{report:?}");
        let expected: BTreeSet<Vec<u8>> = pop.all.difference(&pop.old).cloned().collect();
        assert_eq!(node_keys(&server, &pop.base), expected);
        assert_eq!((dry.scanned, dry.deleted), (report.scanned, report.deleted));
        assert_eq!(report.deleted, pop.old.len() as u64);
        println!(
            "standalone cleanup: DBSIZE {before} -> {after}; {} old keys of {} total; {report:?}",
            pop.old.len(),
            pop.all.len()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cluster_cleanup_covers_every_primary() {
        let cluster = RedisCluster::shared();
        let store = RedisStore::open_cluster(cluster.urls())
            .await
            .expect("connect");
        let (pop, users) = populate(&store, "primaries").await;
        let before: Vec<BTreeSet<Vec<u8>>> = cluster
            .nodes()
            .iter()
            .map(|n| node_keys(n, &pop.base))
            .collect();
        let union: BTreeSet<Vec<u8>> = before.iter().flatten().cloned().collect();
        assert_eq!(union, pop.all, "every key is on exactly one primary");
        for (i, keys) in before.iter().enumerate() {
            let old_here = keys.intersection(&pop.old).count();
            assert!(
                old_here > 0,
                "primary {i} holds no old key: the test would prove less"
            );
        }

        let report = users.cleanup().batch_size(10).run().await.unwrap();
        let mut counts = Vec::new();
        for (node, keys_before) in cluster.nodes().iter().zip(&before) {
            let after = node_keys(node, &pop.base);
            let expected: BTreeSet<Vec<u8>> = keys_before.difference(&pop.old).cloned().collect();
            assert_eq!(after, expected, "primary on port {}", node.port());
            counts.push((keys_before.len(), after.len()));
        }
        assert_eq!(report.deleted, pop.old.len() as u64, "{report:?}");
        println!("cluster cleanup: keys per primary (before, after) {counts:?}; {report:?}");
    }
}
