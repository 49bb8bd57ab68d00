//! BLAKE3 (hash mode, 32-byte output) for the template digests, at run time of the macro.
//!
//! A proc-macro crate cannot use `cache_version_core::blake3` (the core crate depends on this
//! one), and the `blake3` crate's build script alone cost about 3 CPU-seconds of every clean
//! build of a user's project (it compiles the `cc` crate), for a few hundred bytes hashed per
//! derive. So this is a plain portable implementation of the specification; a test proves it
//! equal to the `blake3` crate.

const IV: [u32; 8] = [
    0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
];
const CHUNK_START: u32 = 1;
const CHUNK_END: u32 = 2;
const PARENT: u32 = 4;
const ROOT: u32 = 8;

// Written for an unoptimized build, the profile a proc macro is compiled with by default:
// the state in sixteen locals, the message permuted by rebinding, no indexing, no calls
// (`wrapping_add` and `rotate_right` are always inlined). Measured under callgrind on a
// crate of 60 derives: `hash` took 10.5 M instructions, against 32.5 M over arrays.
macro_rules! g {
    ($a:ident, $b:ident, $c:ident, $d:ident, $x:expr, $y:expr) => {
        $a = $a.wrapping_add($b).wrapping_add($x);
        $d = ($d ^ $a).rotate_right(16);
        $c = $c.wrapping_add($d);
        $b = ($b ^ $c).rotate_right(12);
        $a = $a.wrapping_add($b).wrapping_add($y);
        $d = ($d ^ $a).rotate_right(8);
        $c = $c.wrapping_add($d);
        $b = ($b ^ $c).rotate_right(7);
    };
}

fn compress(cv: &[u32; 8], block: &[u32; 16], counter: u64, len: u32, flags: u32) -> [u32; 8] {
    let [mut v0, mut v1, mut v2, mut v3, mut v4, mut v5, mut v6, mut v7] = *cv;
    let [mut v8, mut v9, mut v10, mut v11, ..] = IV;
    let mut v12 = counter as u32;
    let mut v13 = (counter >> 32) as u32;
    let mut v14 = len;
    let mut v15 = flags;
    let [mut m0, mut m1, mut m2, mut m3, mut m4, mut m5, mut m6, mut m7, mut m8, mut m9, mut m10, mut m11, mut m12, mut m13, mut m14, mut m15] =
        *block;
    let mut round = 0;
    loop {
        g!(v0, v4, v8, v12, m0, m1);
        g!(v1, v5, v9, v13, m2, m3);
        g!(v2, v6, v10, v14, m4, m5);
        g!(v3, v7, v11, v15, m6, m7);
        g!(v0, v5, v10, v15, m8, m9);
        g!(v1, v6, v11, v12, m10, m11);
        g!(v2, v7, v8, v13, m12, m13);
        g!(v3, v4, v9, v14, m14, m15);
        round += 1;
        if round == 7 {
            break;
        }
        // The message permutation of the specification, [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12,
        // 5, 9, 14, 15, 8]: word i takes the word at position i of that list.
        (
            m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15,
        ) = (
            m2, m6, m3, m10, m7, m0, m4, m13, m1, m11, m12, m5, m9, m14, m15, m8,
        );
    }
    [
        v0 ^ v8,
        v1 ^ v9,
        v2 ^ v10,
        v3 ^ v11,
        v4 ^ v12,
        v5 ^ v13,
        v6 ^ v14,
        v7 ^ v15,
    ]
}

fn words(bytes: &[u8]) -> [u32; 16] {
    let mut block = [0u8; 64];
    block[..bytes.len()].copy_from_slice(bytes);
    std::array::from_fn(|i| u32::from_le_bytes(block[4 * i..4 * i + 4].try_into().unwrap()))
}

/// The chaining value of one chunk, or its root output words when it is the only chunk.
fn chunk(data: &[u8], counter: u64, root: bool) -> [u32; 8] {
    let mut cv = IV;
    let blocks: Vec<&[u8]> = if data.is_empty() {
        vec![&[][..]]
    } else {
        data.chunks(64).collect()
    };
    for (i, block) in blocks.iter().enumerate() {
        let mut flags = 0;
        if i == 0 {
            flags |= CHUNK_START;
        }
        if i == blocks.len() - 1 {
            flags |= CHUNK_END;
            if root {
                flags |= ROOT;
            }
        }
        cv = compress(&cv, &words(block), counter, block.len() as u32, flags);
    }
    cv
}

fn parent(left: &[u32; 8], right: &[u32; 8], root: bool) -> [u32; 8] {
    let mut block = [0u32; 16];
    block[..8].copy_from_slice(left);
    block[8..].copy_from_slice(right);
    compress(&IV, &block, 0, 64, PARENT | if root { ROOT } else { 0 })
}

/// The chaining value after compressing `blocks` (64 bytes each) as the first blocks of the
/// first chunk, none of them the last: what the const hasher resumes from
/// (`__private::version_resumed`).
pub fn chain(blocks: &[[u8; 64]]) -> [u8; 32] {
    let mut cv = IV;
    for (i, block) in blocks.iter().enumerate() {
        let flags = if i == 0 { CHUNK_START } else { 0 };
        cv = compress(&cv, &words(block), 0, 64, flags);
    }
    let mut bytes = [0u8; 32];
    for (i, w) in cv.iter().enumerate() {
        bytes[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    bytes
}

/// The BLAKE3 hash of `input`.
pub fn hash(input: &[u8]) -> [u8; 32] {
    let chunks: Vec<&[u8]> = if input.is_empty() {
        vec![input]
    } else {
        input.chunks(1024).collect()
    };
    let out = if chunks.len() == 1 {
        chunk(chunks[0], 0, true)
    } else {
        // The tree: the left subtree takes the largest power of two of chunks that leaves at
        // least one chunk for the right.
        fn subtree(chunks: &[&[u8]], first: u64, root: bool) -> [u32; 8] {
            if chunks.len() == 1 {
                return chunk(chunks[0], first, root);
            }
            let left = chunks.len().next_power_of_two() / 2;
            let l = subtree(&chunks[..left], first, false);
            let r = subtree(&chunks[left..], first + left as u64, false);
            parent(&l, &r, root)
        }
        subtree(&chunks, 0, true)
    };
    let mut bytes = [0u8; 32];
    for (i, w) in out.iter().enumerate() {
        bytes[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    bytes
}

#[cfg(test)]
mod tests {
    #[test]
    fn equal_to_the_blake3_crate() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 31 % 251) as u8).collect();
        for len in (0..=2100).chain([3071, 3072, 3073, 4095, 4096, 4097, 5000]) {
            assert_eq!(
                super::hash(&data[..len]),
                *blake3::hash(&data[..len]).as_bytes(),
                "length {len}"
            );
        }
    }
}
