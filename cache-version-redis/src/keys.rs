//! Hash slots, glob escaping and scan cursors.

/// The number of hash slots of a Redis Cluster.
pub const SLOTS: u16 = 16384;

/// The Redis Cluster hash slot of `key` (CRC16/XMODEM of the key, or of its hash tag, mod
/// 16384), as `CLUSTER KEYSLOT` computes it.
///
/// The hash tag is the part between the first `{` and the first `}` after it, when that part
/// is not empty: `{user:1}:a` and `{user:1}:b` share a slot.
///
/// ```
/// use cache_version_redis::key_slot;
/// assert_eq!(key_slot(b"foo"), 12182);
/// assert_eq!(key_slot(b"{user:1}:a"), key_slot(b"{user:1}:b"));
/// assert_eq!(key_slot(b"{user:1}:a"), key_slot(b"user:1"));
/// assert_eq!(key_slot(b"{}:a"), key_slot(b"{}:a"));
/// ```
pub fn key_slot(key: &[u8]) -> u16 {
    crc16(hash_tag(key).unwrap_or(key)) % SLOTS
}

fn hash_tag(key: &[u8]) -> Option<&[u8]> {
    let open = key.iter().position(|&b| b == b'{')?;
    let close = key[open + 1..].iter().position(|&b| b == b'}')?;
    (close > 0).then(|| &key[open + 1..open + 1 + close])
}

/// CRC16/XMODEM (polynomial 0x1021, initial value 0), Redis Cluster's key hash.
fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// A `SCAN … MATCH` pattern for the keys that start with `prefix`: every glob character of the
/// prefix (`* ? [ ] \`) escaped with a backslash, then `*`.
///
/// ```
/// use cache_version_redis::prefix_pattern;
/// assert_eq!(prefix_pattern(b"ns:User:"), b"ns:User:*".to_vec());
/// assert_eq!(prefix_pattern(b"a*?[]\\b"), b"a\\*\\?\\[\\]\\\\b*".to_vec());
/// ```
pub fn prefix_pattern(prefix: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(prefix.len() + 8);
    for &b in prefix {
        if matches!(b, b'*' | b'?' | b'[' | b']' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'*');
    out
}

/// A position in a walk, as the bytes of a [`cache_version_core::ScanCursor`].
///
/// - standalone: `b'S'`, the server cursor (u64, big endian), the length of the server's
///   `run_id` (u8) and the `run_id`;
/// - cluster: `b'C'`, the node's index in the walk (u16), the node's lowest slot (u16), the
///   node's cursor (u64), a fingerprint of the cluster's primaries and their slots when the
///   walk began (u64), then the node's `run_id` as above (empty before the node's first
///   page). The node is found again by its lowest slot; the index only counts the nodes done.
///
/// The `run_id` changes when a server restarts, and differs between the servers a reconnect
/// may reach: a cursor is only meaningful on the server that issued it, so a page whose
/// server has another `run_id` starts the walk again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Position {
    Standalone {
        cursor: u64,
        run_id: Vec<u8>,
    },
    Cluster {
        index: u16,
        slot: u16,
        cursor: u64,
        topology: u64,
        run_id: Vec<u8>,
    },
}

impl Position {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(64);
        let run = |v: &mut Vec<u8>, run_id: &[u8]| {
            let n = run_id.len().min(255);
            v.push(n as u8);
            v.extend_from_slice(&run_id[..n]);
        };
        match self {
            Position::Standalone { cursor, run_id } => {
                v.push(b'S');
                v.extend_from_slice(&cursor.to_be_bytes());
                run(&mut v, run_id);
            }
            Position::Cluster {
                index,
                slot,
                cursor,
                topology,
                run_id,
            } => {
                v.push(b'C');
                v.extend_from_slice(&index.to_be_bytes());
                v.extend_from_slice(&slot.to_be_bytes());
                v.extend_from_slice(&cursor.to_be_bytes());
                v.extend_from_slice(&topology.to_be_bytes());
                run(&mut v, run_id);
            }
        }
        v
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Position> {
        fn run_id(rest: &[u8]) -> Option<Vec<u8>> {
            let (&n, id) = rest.split_first()?;
            (id.len() == usize::from(n)).then(|| id.to_vec())
        }
        match bytes {
            [b'S', rest @ ..] if rest.len() >= 9 => Some(Position::Standalone {
                cursor: u64::from_be_bytes(rest[0..8].try_into().ok()?),
                run_id: run_id(&rest[8..])?,
            }),
            [b'C', rest @ ..] if rest.len() >= 21 => Some(Position::Cluster {
                index: u16::from_be_bytes(rest[0..2].try_into().ok()?),
                slot: u16::from_be_bytes(rest[2..4].try_into().ok()?),
                cursor: u64::from_be_bytes(rest[4..12].try_into().ok()?),
                topology: u64::from_be_bytes(rest[12..20].try_into().ok()?),
                run_id: run_id(&rest[20..])?,
            }),
            _ => None,
        }
    }
}

/// FNV-1a (64 bits): a fingerprint of a cluster's slot map, not a secure hash.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The `run_id` in the text of `INFO server`.
pub(crate) fn run_id_of(info: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(info).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("run_id:"))
        .map(|id| id.trim().as_bytes().to_vec())
        .filter(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_redis() {
        // Values from `CLUSTER KEYSLOT` on Redis 7.
        assert_eq!(key_slot(b""), 0);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"123456789"), 12739);
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_ne!(
            key_slot(b"foo{}{bar}"),
            key_slot(b"bar"),
            "empty tag: whole key"
        );
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
        assert_eq!(key_slot(b"foo{bar}{zap}"), key_slot(b"bar"));
    }

    #[test]
    fn the_driver_agrees() {
        use redis::cluster_routing::{Route, SlotAddr};
        for key in [&b"a"[..], b"{x}y", b"\xff\x00", b"ns:User:0123:{42}"] {
            let want = Route::new(key_slot(key), SlotAddr::Master);
            assert_eq!(Route::with_key(key, SlotAddr::Master), want, "{key:?}");
        }
    }

    #[test]
    fn positions_round_trip() {
        let id = b"0123456789abcdef0123456789abcdef01234567".to_vec();
        for p in [
            Position::Standalone {
                cursor: 0,
                run_id: Vec::new(),
            },
            Position::Standalone {
                cursor: u64::MAX,
                run_id: id.clone(),
            },
            Position::Cluster {
                index: 2,
                slot: 10923,
                cursor: 77,
                topology: 0xfeed,
                run_id: id.clone(),
            },
            Position::Cluster {
                index: 0,
                slot: 0,
                cursor: 0,
                topology: 1,
                run_id: Vec::new(),
            },
        ] {
            assert_eq!(Position::decode(&p.encode()), Some(p));
        }
        assert_eq!(Position::decode(b""), None);
        assert_eq!(Position::decode(b"S123"), None);
        // The format before run ids: refused, not misread.
        assert_eq!(Position::decode(&[b'S', 0, 0, 0, 0, 0, 0, 0, 1]), None);
        let mut long = Position::Standalone {
            cursor: 1,
            run_id: id,
        }
        .encode();
        long.push(0);
        assert_eq!(Position::decode(&long), None);
    }

    #[test]
    fn run_ids_from_info() {
        let info = b"# Server\r\nredis_version:7.0.15\r\nrun_id:abc123\r\ntcp_port:6379\r\n";
        assert_eq!(run_id_of(info), Some(b"abc123".to_vec()));
        assert_eq!(run_id_of(b"# Server\r\n"), None);
        assert_eq!(run_id_of(b"run_id:\r\n"), None);
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
    }
}
