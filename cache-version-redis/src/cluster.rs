//! A cluster's slot map (`CLUSTER SLOTS`), and grouping of batch items by slot and by node.

use std::collections::HashMap;

use redis::Value;

use crate::keys::{fnv1a, key_slot};

/// A primary's id and its slot ranges (inclusive).
pub(crate) type NodeSlots = (Vec<u8>, Vec<(u16, u16)>);

/// The primaries of a `CLUSTER SLOTS` answer (an array of `[start, end, [host, port, id, …],
/// replicas…]`): each primary's id (the node id when the server sends one, else host:port)
/// and its slot ranges, sorted; primaries ordered by their lowest slot.
pub(crate) fn parse_slots(value: &Value) -> Option<Vec<NodeSlots>> {
    let Value::Array(ranges) = value else {
        return None;
    };
    let mut nodes: HashMap<Vec<u8>, Vec<(u16, u16)>> = HashMap::new();
    for range in ranges {
        let Value::Array(fields) = range else {
            return None;
        };
        let slot = |v: Option<&Value>| match v? {
            Value::Int(i) => u16::try_from(*i).ok().filter(|s| *s < crate::SLOTS),
            _ => None,
        };
        let (start, end) = (slot(fields.first())?, slot(fields.get(1))?);
        let Value::Array(node) = fields.get(2)? else {
            return None;
        };
        let id = match (node.get(2), node.first(), node.get(1)) {
            (Some(Value::BulkString(id)), _, _) => id.clone(),
            (_, Some(Value::BulkString(host)), Some(Value::Int(port))) => {
                let mut id = host.clone();
                id.extend_from_slice(format!(":{port}").as_bytes());
                id
            }
            _ => return None,
        };
        nodes.entry(id).or_default().push((start, end.max(start)));
    }
    let mut out: Vec<NodeSlots> = nodes.into_iter().collect();
    for (_, ranges) in &mut out {
        ranges.sort_unstable();
    }
    out.sort_unstable_by_key(|(_, r)| r[0].0);
    Some(out)
}

/// The `(host, port)` of every primary in a `CLUSTER SLOTS` answer, sorted, each once; an
/// empty host (a node that does not know its address) is `fallback_host`.
pub(crate) fn primary_endpoints(value: &Value, fallback_host: &str) -> Option<Vec<(String, u16)>> {
    let Value::Array(ranges) = value else {
        return None;
    };
    let mut out = Vec::new();
    for range in ranges {
        let Value::Array(fields) = range else {
            return None;
        };
        let Some(Value::Array(node)) = fields.get(2) else {
            return None;
        };
        let host = match node.first() {
            Some(Value::BulkString(h)) => String::from_utf8_lossy(h).into_owned(),
            Some(Value::SimpleString(h)) => h.clone(),
            _ => return None,
        };
        let host = if host.is_empty() || host == "?" {
            fallback_host.to_owned()
        } else {
            host
        };
        let port = match node.get(1) {
            Some(Value::Int(p)) => u16::try_from(*p).ok()?,
            _ => return None,
        };
        out.push((host, port));
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// The primaries of a slot map: the lowest slot of each, ascending, and a fingerprint of the
/// whole map (which node owns which slots), which changes when a failover or a resharding
/// changes the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Primaries {
    pub(crate) lowest_slots: Vec<u16>,
    pub(crate) fingerprint: u64,
}

impl Primaries {
    pub(crate) fn from_value(value: &Value) -> Option<Primaries> {
        let nodes = parse_slots(value)?;
        let mut bytes = Vec::new();
        for (id, ranges) in &nodes {
            bytes.extend_from_slice(&(id.len() as u32).to_be_bytes());
            bytes.extend_from_slice(id);
            for (a, b) in ranges {
                bytes.extend_from_slice(&a.to_be_bytes());
                bytes.extend_from_slice(&b.to_be_bytes());
            }
            bytes.push(b';');
        }
        Some(Primaries {
            lowest_slots: nodes.iter().map(|(_, r)| r[0].0).collect(),
            fingerprint: fnv1a(&bytes),
        })
    }
}

/// Which primary owns each slot, as last read from `CLUSTER SLOTS`.
pub(crate) struct Topology {
    /// The primary's index (by lowest slot) for every slot; `u16::MAX` when unassigned.
    pub(crate) owner: Vec<u16>,
}

impl Topology {
    pub(crate) fn from_value(value: &Value) -> Option<Topology> {
        let mut owner = vec![u16::MAX; usize::from(crate::SLOTS)];
        for (i, (_, ranges)) in parse_slots(value)?.iter().enumerate() {
            for &(a, b) in ranges {
                for slot in a..=b {
                    owner[usize::from(slot)] = u16::try_from(i).ok()?;
                }
            }
        }
        Some(Topology { owner })
    }
}

/// Groups items by the hash slot of their key, keeping their order within a slot.
pub(crate) fn by_slot<T>(items: &[T], key: impl Fn(&T) -> &[u8]) -> Vec<Vec<&T>> {
    let mut groups: HashMap<u16, Vec<&T>> = HashMap::new();
    for item in items {
        groups.entry(key_slot(key(item))).or_default().push(item);
    }
    groups.into_values().collect()
}

/// Groups items by the primary that owns their key's slot, keeping their order; each group
/// carries a slot of its node to route by.
pub(crate) fn by_node<'a, T>(
    items: &'a [T],
    key: impl Fn(&T) -> &[u8],
    topology: &Topology,
) -> HashMap<u16, (u16, Vec<&'a T>)> {
    let mut groups: HashMap<u16, (u16, Vec<&T>)> = HashMap::new();
    for item in items {
        let slot = key_slot(key(item));
        let node = topology.owner[usize::from(slot)];
        groups
            .entry(node)
            .or_insert_with(|| (slot, Vec::new()))
            .1
            .push(item);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    fn node(port: i64, id: &str) -> Value {
        Value::Array(vec![bulk("127.0.0.1"), Value::Int(port), bulk(id)])
    }

    fn range(a: i64, b: i64, n: Value) -> Value {
        Value::Array(vec![Value::Int(a), Value::Int(b), n])
    }

    #[test]
    fn cluster_slots_parse() {
        let v = Value::Array(vec![
            range(10923, 16383, node(3, "c")),
            range(0, 5460, node(1, "a")),
            range(5461, 8000, node(2, "b")),
            range(8001, 10922, node(2, "b")),
        ]);
        let p = Primaries::from_value(&v).unwrap();
        assert_eq!(p.lowest_slots, vec![0, 5461, 10923]);
        assert_eq!(Primaries::from_value(&Value::Nil), None);
        assert_eq!(
            Primaries::from_value(&Value::Array(vec![]))
                .unwrap()
                .lowest_slots,
            Vec::<u16>::new()
        );
        let t = Topology::from_value(&v).unwrap();
        assert_eq!((t.owner[0], t.owner[8000], t.owner[16383]), (0, 1, 2));
    }

    #[test]
    fn endpoints_of_the_primaries() {
        let v = Value::Array(vec![
            range(10923, 16383, node(3, "c")),
            range(0, 5460, node(1, "a")),
            range(5461, 8000, node(2, "b")),
            range(8001, 10922, node(2, "b")),
            range(1, 1, Value::Array(vec![bulk(""), Value::Int(4), bulk("d")])),
        ]);
        assert_eq!(
            primary_endpoints(&v, "seed").unwrap(),
            vec![
                ("127.0.0.1".to_owned(), 1),
                ("127.0.0.1".to_owned(), 2),
                ("127.0.0.1".to_owned(), 3),
                ("seed".to_owned(), 4)
            ]
        );
        assert_eq!(primary_endpoints(&Value::Nil, "seed"), None);
    }

    #[test]
    fn fingerprints_see_every_change() {
        let base = vec![
            range(0, 5460, node(1, "a")),
            range(5461, 10922, node(2, "b")),
            range(10923, 16383, node(3, "c")),
        ];
        let fp = |v: Vec<Value>| Primaries::from_value(&Value::Array(v)).unwrap().fingerprint;
        let same_other_order = vec![base[2].clone(), base[0].clone(), base[1].clone()];
        assert_eq!(fp(base.clone()), fp(same_other_order));
        // A failover: another node id owns the same slots.
        let mut failover = base.clone();
        failover[1] = range(5461, 10922, node(4, "d"));
        assert_ne!(fp(base.clone()), fp(failover));
        // A resharding: one slot moved.
        let mut moved = base.clone();
        moved[0] = range(0, 5459, node(1, "a"));
        moved.push(range(5460, 5460, node(2, "b")));
        assert_ne!(fp(base), fp(moved));
    }
}
