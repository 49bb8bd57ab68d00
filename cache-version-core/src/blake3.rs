//! BLAKE3 as a `const fn`.
//!
//! The official `blake3` crate cannot hash in `const` (as of 1.8), and every version in this
//! crate is a `const`, so this module carries its own implementation of the BLAKE3 hash mode
//! (unkeyed, 32-byte output). It follows the specification's reference structure: 1024-byte
//! chunks of 64-byte blocks, a chaining-value stack for the binary tree, the `ROOT` flag on
//! the last compression.
//!
//! Const evaluation is an interpreter, and in it a function call costs far more than an
//! arithmetic operation. The compression function is therefore written as straight-line code:
//! the quarter-round `g!` is a macro, 32-bit additions are done in `u64` and truncated, and
//! rotations are two shifts. At run time the optimiser turns all of that back into the usual
//! instructions, so the same code serves both worlds; it is not meant to compete with the SIMD
//! `blake3` crate on large inputs (this crate only ever hashes a few hundred bytes).
//!
//! Tests prove it equal to the `blake3` crate for every length from 0 to 10 000 bytes and
//! beyond (`tests/blake3_equivalence.rs`).
//!
//! ```
//! use cache_version_core::blake3;
//!
//! const EMPTY: [u8; 32] = blake3::hash(b"");
//! assert_eq!(EMPTY[..4], [0xaf, 0x13, 0x49, 0xb9]);
//! ```

// Rotations are written as two shifts on purpose: `rotate_right` is a function call in const
// evaluation, which costs far more than the shifts (see the module docs).
#![allow(clippy::manual_rotate)]

const IV: [u32; 8] = [
    0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
];

const BLOCK_LEN: usize = 64;
const CHUNK_LEN: usize = 1024;
const CHUNK_START: u32 = 1;
const CHUNK_END: u32 = 2;
const PARENT: u32 = 4;
const ROOT: u32 = 8;
/// Deep enough for 2^54 chunks (2^64 bytes), as in the specification.
const MAX_DEPTH: usize = 54;

/// The message word order for each of the seven rounds (the permutation applied 0..=6 times).
const SCHEDULE: [[usize; 16]; 7] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8],
    [3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1],
    [10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6],
    [12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4],
    [9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7],
    [11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13],
];

/// The quarter-round, expanded in place (no call in const evaluation).
macro_rules! g {
    ($v:ident, $a:literal, $b:literal, $c:literal, $d:literal, $x:expr, $y:expr) => {
        $v[$a] = ($v[$a] as u64 + $v[$b] as u64 + $x as u64) as u32;
        $v[$d] ^= $v[$a];
        $v[$d] = ($v[$d] >> 16) | ($v[$d] << 16);
        $v[$c] = ($v[$c] as u64 + $v[$d] as u64) as u32;
        $v[$b] ^= $v[$c];
        $v[$b] = ($v[$b] >> 12) | ($v[$b] << 20);
        $v[$a] = ($v[$a] as u64 + $v[$b] as u64 + $y as u64) as u32;
        $v[$d] ^= $v[$a];
        $v[$d] = ($v[$d] >> 8) | ($v[$d] << 24);
        $v[$c] = ($v[$c] as u64 + $v[$d] as u64) as u32;
        $v[$b] ^= $v[$c];
        $v[$b] = ($v[$b] >> 7) | ($v[$b] << 25);
    };
}

/// The BLAKE3 compression function; returns the first eight words of the output.
const fn compress(
    cv: &[u32; 8],
    m: &[u32; 16],
    counter: u64,
    block_len: u32,
    flags: u32,
) -> [u32; 8] {
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
        block_len,
        flags,
    ];
    let mut r = 0;
    while r < 7 {
        let s = &SCHEDULE[r];
        g!(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
        g!(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
        g!(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
        g!(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
        g!(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
        g!(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
        g!(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
        g!(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
        r += 1;
    }
    [
        v[0] ^ v[8],
        v[1] ^ v[9],
        v[2] ^ v[10],
        v[3] ^ v[11],
        v[4] ^ v[12],
        v[5] ^ v[13],
        v[6] ^ v[14],
        v[7] ^ v[15],
    ]
}

/// Reads a (zero-padded) block of little-endian words.
const fn words(block: &[u8; BLOCK_LEN]) -> [u32; 16] {
    let mut m = [0u32; 16];
    let mut i = 0;
    while i < 16 {
        m[i] = block[4 * i] as u32
            | (block[4 * i + 1] as u32) << 8
            | (block[4 * i + 2] as u32) << 16
            | (block[4 * i + 3] as u32) << 24;
        i += 1;
    }
    m
}

const fn parent_block(left: &[u32; 8], right: &[u32; 8]) -> [u32; 16] {
    [
        left[0], left[1], left[2], left[3], left[4], left[5], left[6], left[7], right[0], right[1],
        right[2], right[3], right[4], right[5], right[6], right[7],
    ]
}

const fn to_bytes(cv: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 8 {
        out[4 * i] = cv[i] as u8;
        out[4 * i + 1] = (cv[i] >> 8) as u8;
        out[4 * i + 2] = (cv[i] >> 16) as u8;
        out[4 * i + 3] = (cv[i] >> 24) as u8;
        i += 1;
    }
    out
}

/// An incremental BLAKE3 hasher usable in `const` (and at run time).
///
/// ```
/// use cache_version_core::blake3::{hash, Hasher};
///
/// const SPLIT: [u8; 32] = Hasher::new().update(b"cache-").update(b"version").finalize();
/// assert_eq!(SPLIT, hash(b"cache-version"));
/// ```
#[derive(Clone, Debug)]
pub struct Hasher {
    /// The chaining value of the chunk being filled.
    chunk_cv: [u32; 8],
    /// The index of the chunk being filled.
    chunk_counter: u64,
    /// Bytes of the current block not compressed yet (always compressed lazily, so the last
    /// block of the input can still receive the `CHUNK_END`/`ROOT` flags).
    block: [u8; BLOCK_LEN],
    block_len: usize,
    blocks_compressed: usize,
    /// Chaining values of completed subtrees, as in the reference implementation.
    stack: [[u32; 8]; MAX_DEPTH],
    stack_len: usize,
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher {
    /// A hasher for the unkeyed hash mode.
    pub const fn new() -> Self {
        Hasher {
            chunk_cv: IV,
            chunk_counter: 0,
            block: [0; BLOCK_LEN],
            block_len: 0,
            blocks_compressed: 0,
            stack: [[0; 8]; MAX_DEPTH],
            stack_len: 0,
        }
    }

    const fn start_flag(&self) -> u32 {
        if self.blocks_compressed == 0 {
            CHUNK_START
        } else {
            0
        }
    }

    /// Adds the chaining value of a finished chunk and merges completed subtrees.
    const fn push_chunk_cv(&mut self, mut cv: [u32; 8], mut total_chunks: u64) {
        while total_chunks & 1 == 0 {
            self.stack_len -= 1;
            cv = compress(
                &IV,
                &parent_block(&self.stack[self.stack_len], &cv),
                0,
                64,
                PARENT,
            );
            total_chunks >>= 1;
        }
        self.stack[self.stack_len] = cv;
        self.stack_len += 1;
    }

    /// Feeds `input`; returns the hasher so calls chain in `const` items.
    pub const fn update(mut self, input: &[u8]) -> Self {
        self.update_in_place(input);
        self
    }

    /// Feeds `input` in place.
    pub const fn update_in_place(&mut self, input: &[u8]) {
        let mut i = 0;
        while i < input.len() {
            // A full chunk followed by more input: finish it and start the next one.
            if self.blocks_compressed * BLOCK_LEN + self.block_len == CHUNK_LEN {
                let flags = self.start_flag() | CHUNK_END;
                let cv = compress(
                    &self.chunk_cv,
                    &words(&self.block),
                    self.chunk_counter,
                    BLOCK_LEN as u32,
                    flags,
                );
                self.chunk_counter += 1;
                self.push_chunk_cv(cv, self.chunk_counter);
                self.chunk_cv = IV;
                self.block = [0; BLOCK_LEN];
                self.block_len = 0;
                self.blocks_compressed = 0;
            }
            // A full block followed by more input within the chunk: compress it.
            if self.block_len == BLOCK_LEN {
                let flags = self.start_flag();
                self.chunk_cv = compress(
                    &self.chunk_cv,
                    &words(&self.block),
                    self.chunk_counter,
                    BLOCK_LEN as u32,
                    flags,
                );
                self.blocks_compressed += 1;
                self.block = [0; BLOCK_LEN];
                self.block_len = 0;
            }
            self.block[self.block_len] = input[i];
            self.block_len += 1;
            i += 1;
        }
    }

    /// The 32-byte digest of everything fed so far.
    pub const fn finalize(&self) -> [u8; 32] {
        let mut block_words = words(&self.block);
        let mut cv = self.chunk_cv;
        let mut counter = self.chunk_counter;
        let mut block_len = self.block_len as u32;
        let mut flags = self.start_flag() | CHUNK_END;
        // Walk up the stack: every pending subtree becomes a parent of the running output.
        let mut depth = self.stack_len;
        while depth > 0 {
            depth -= 1;
            let child = compress(&cv, &block_words, counter, block_len, flags);
            block_words = parent_block(&self.stack[depth], &child);
            cv = IV;
            counter = 0;
            block_len = BLOCK_LEN as u32;
            flags = PARENT;
        }
        to_bytes(&compress(
            &cv,
            &block_words,
            counter,
            block_len,
            flags | ROOT,
        ))
    }
}

/// The BLAKE3 hash of `input`, in `const`.
pub const fn hash(input: &[u8]) -> [u8; 32] {
    Hasher::new().update(input).finalize()
}

/// Hashes `count` 32-byte digests behind a leading 32-byte digest without copying them into
/// one buffer: the shape of every version computation (`BLAKE3(template ‖ children)`).
pub(crate) const fn hash_digests(head: &[u8; 32], rest: &[crate::Version]) -> [u8; 32] {
    let mut h = Hasher::new();
    h.update_in_place(head);
    let mut i = 0;
    while i < rest.len() {
        h.update_in_place(rest[i].as_bytes());
        i += 1;
    }
    h.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        // Published test vectors of the BLAKE3 team (input byte i is i % 251).
        let input: Vec<u8> = (0..1025u32).map(|i| (i % 251) as u8).collect();
        let hex = |d: [u8; 32]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(hash(&input[..0])),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert_eq!(
            hex(hash(&input[..1])),
            "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"
        );
        assert_eq!(
            hex(hash(&input[..1024])),
            "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"
        );
        assert_eq!(
            hex(hash(&input[..1025])),
            "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"
        );
    }
}
