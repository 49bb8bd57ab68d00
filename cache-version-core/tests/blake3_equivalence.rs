//! The const BLAKE3 is byte-for-byte the `blake3` crate's, across block, chunk and tree edges.

use cache_version_core::blake3::{hash, Hasher};

fn input(len: usize, seed: u64) -> Vec<u8> {
    // A small xorshift so every length sees different bytes.
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn every_length_up_to_10_000() {
    for len in 0..=10_000 {
        let data = input(len, len as u64);
        assert_eq!(
            hash(&data),
            *blake3::hash(&data).as_bytes(),
            "one-shot hash differs at length {len}"
        );
    }
}

#[test]
fn edges_and_large_inputs() {
    let mut lens = vec![
        63, 64, 65, 1023, 1024, 1025, 2047, 2048, 2049, 3072, 4095, 4096, 4097,
    ];
    lens.extend([
        8191,
        8192,
        8193,
        16 * 1024 + 1,
        31 * 1024,
        65 * 1024 + 7,
        300_001,
    ]);
    for len in lens {
        let data = input(len, 7);
        assert_eq!(hash(&data), *blake3::hash(&data).as_bytes(), "length {len}");
    }
}

#[test]
fn incremental_updates_match_one_shot() {
    let data = input(5000, 99);
    for split in [
        0usize, 1, 31, 63, 64, 65, 1023, 1024, 1025, 2048, 4999, 5000,
    ] {
        for step in [1usize, 7, 64, 1000] {
            let mut h = Hasher::new();
            h.update_in_place(&data[..split]);
            for chunk in data[split..].chunks(step) {
                h.update_in_place(chunk);
            }
            assert_eq!(
                h.finalize(),
                *blake3::hash(&data).as_bytes(),
                "split {split} step {step}"
            );
        }
    }
}

#[test]
fn usable_in_const() {
    const H: [u8; 32] = hash(b"abc");
    assert_eq!(H, *blake3::hash(b"abc").as_bytes());
}

#[test]
fn keyed_mode_matches_the_blake3_crate() {
    use cache_version_core::blake3::keyed_hash;
    let key: [u8; 32] = std::array::from_fn(|i| (i * 7 + 3) as u8);
    for len in (0..=5000)
        .step_by(7)
        .chain([63, 64, 65, 1023, 1024, 1025, 2048, 4097, 70_000])
    {
        let data = input(len, 99 + len as u64);
        assert_eq!(
            keyed_hash(&key, &data),
            *blake3::keyed_hash(&key, &data).as_bytes(),
            "keyed hash differs at length {len}"
        );
        let mut h = Hasher::new_keyed(&key);
        let (a, b) = data.split_at(len / 3);
        h.update_in_place(a);
        h.update_in_place(b);
        assert_eq!(
            h.finalize(),
            keyed_hash(&key, &data),
            "split at {}",
            len / 3
        );
    }
}
