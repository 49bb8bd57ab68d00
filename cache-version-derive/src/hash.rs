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
const PERMUTATION: [usize; 16] = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];
const CHUNK_START: u32 = 1;
const CHUNK_END: u32 = 2;
const PARENT: u32 = 4;
const ROOT: u32 = 8;

fn g(v: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize, x: u32, y: u32) {
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(x);
    v[d] = (v[d] ^ v[a]).rotate_right(16);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(12);
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(y);
    v[d] = (v[d] ^ v[a]).rotate_right(8);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(7);
}

fn compress(cv: &[u32; 8], block: &[u32; 16], counter: u64, len: u32, flags: u32) -> [u32; 8] {
    let mut v = [
        cv[0],
        cv[1],
        cv[2],
        cv[3],
        cv[4],
        cv[5],
        cv[6],
        cv[7],
        IV[0],
        IV[1],
        IV[2],
        IV[3],
        counter as u32,
        (counter >> 32) as u32,
        len,
        flags,
    ];
    let mut m = *block;
    for round in 0..7 {
        g(&mut v, 0, 4, 8, 12, m[0], m[1]);
        g(&mut v, 1, 5, 9, 13, m[2], m[3]);
        g(&mut v, 2, 6, 10, 14, m[4], m[5]);
        g(&mut v, 3, 7, 11, 15, m[6], m[7]);
        g(&mut v, 0, 5, 10, 15, m[8], m[9]);
        g(&mut v, 1, 6, 11, 12, m[10], m[11]);
        g(&mut v, 2, 7, 8, 13, m[12], m[13]);
        g(&mut v, 3, 4, 9, 14, m[14], m[15]);
        if round < 6 {
            m = PERMUTATION.map(|i| m[i]);
        }
    }
    std::array::from_fn(|i| v[i] ^ v[i + 8])
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
