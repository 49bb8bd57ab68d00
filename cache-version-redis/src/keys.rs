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
/// - standalone: `b'S'`, the server cursor (u64, big endian);
/// - cluster: `b'C'`, the node's index in the walk (u16), the node's lowest slot (u16), the
///   node's cursor (u64). The node is found again by its lowest slot, so a walk survives a
///   reconnect; the index only counts the nodes done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Position {
    Standalone { cursor: u64 },
    Cluster { index: u16, slot: u16, cursor: u64 },
}

impl Position {
    pub(crate) fn encode(self) -> Vec<u8> {
        match self {
            Position::Standalone { cursor } => {
                let mut v = vec![b'S'];
                v.extend_from_slice(&cursor.to_be_bytes());
                v
            }
            Position::Cluster {
                index,
                slot,
                cursor,
            } => {
                let mut v = vec![b'C'];
                v.extend_from_slice(&index.to_be_bytes());
                v.extend_from_slice(&slot.to_be_bytes());
                v.extend_from_slice(&cursor.to_be_bytes());
                v
            }
        }
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Position> {
        match bytes {
            [b'S', rest @ ..] if rest.len() == 8 => Some(Position::Standalone {
                cursor: u64::from_be_bytes(rest.try_into().ok()?),
            }),
            [b'C', rest @ ..] if rest.len() == 12 => Some(Position::Cluster {
                index: u16::from_be_bytes(rest[0..2].try_into().ok()?),
                slot: u16::from_be_bytes(rest[2..4].try_into().ok()?),
                cursor: u64::from_be_bytes(rest[4..12].try_into().ok()?),
            }),
            _ => None,
        }
    }
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
        for p in [
            Position::Standalone { cursor: 0 },
            Position::Standalone { cursor: u64::MAX },
            Position::Cluster {
                index: 2,
                slot: 10923,
                cursor: 77,
            },
        ] {
            assert_eq!(Position::decode(&p.encode()), Some(p));
        }
        assert_eq!(Position::decode(b""), None);
        assert_eq!(Position::decode(b"S123"), None);
    }
}
