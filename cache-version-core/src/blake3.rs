//! BLAKE3 as a `const fn`.
//!
//! The official `blake3` crate cannot hash in `const` (as of 1.8), and every version in this
//! crate is a `const`, so this module carries its own implementation of the BLAKE3 hash mode
//! (unkeyed and keyed, 32-byte output). It follows the specification's reference structure: 1024-byte
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
const KEYED_HASH: u32 = 16;
/// Deep enough for 2^54 chunks (2^64 bytes), as in the specification.
const MAX_DEPTH: usize = 54;

/// The quarter-round, expanded in place (no call in const evaluation).
macro_rules! g {
    ($a:ident, $b:ident, $c:ident, $d:ident, $x:expr, $y:expr) => {
        $a = ($a as u64 + $b as u64 + $x as u64) as u32;
        $d ^= $a;
        $d = ($d >> 16) | ($d << 16);
        $c = ($c as u64 + $d as u64) as u32;
        $b ^= $c;
        $b = ($b >> 12) | ($b << 20);
        $a = ($a as u64 + $b as u64 + $y as u64) as u32;
        $d ^= $a;
        $d = ($d >> 8) | ($d << 24);
        $c = ($c as u64 + $d as u64) as u32;
        $b ^= $c;
        $b = ($b >> 7) | ($b << 25);
    };
}

/// The BLAKE3 compression function; returns the first eight words of the output.
///
/// The state and the message live in locals, not arrays (an indexed place costs a bounds
/// check in const evaluation), and the message permutation is applied between rounds:
/// measured at about 2.2x faster in const than the array form.
#[allow(clippy::too_many_arguments)]
const fn compress(
    cv: &[u32; 8],
    m: &[u32; 16],
    counter: u64,
    block_len: u32,
    flags: u32,
) -> [u32; 8] {
    let (mut v0, mut v1, mut v2, mut v3) = (cv[0], cv[1], cv[2], cv[3]);
    let (mut v4, mut v5, mut v6, mut v7) = (cv[4], cv[5], cv[6], cv[7]);
    let (mut v8, mut v9, mut v10, mut v11) = (IV[0], IV[1], IV[2], IV[3]);
    let (mut v12, mut v13) = (counter as u32, (counter >> 32) as u32);
    let (mut v14, mut v15) = (block_len, flags);
    let (mut m0, mut m1, mut m2, mut m3) = (m[0], m[1], m[2], m[3]);
    let (mut m4, mut m5, mut m6, mut m7) = (m[4], m[5], m[6], m[7]);
    let (mut m8, mut m9, mut m10, mut m11) = (m[8], m[9], m[10], m[11]);
    let (mut m12, mut m13, mut m14, mut m15) = (m[12], m[13], m[14], m[15]);
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
        // The message permutation [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8].
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
    /// The key words (the IV in the unkeyed mode): every chunk and parent starts from it.
    key: [u32; 8],
    /// `KEYED_HASH` in the keyed mode, 0 otherwise; or-ed into every compression.
    mode: u32,
    /// The chaining value of the chunk being filled.
    chunk_cv: [u32; 8],
    /// The index of the chunk being filled.
    chunk_counter: u64,
    /// Bytes of the current block not compressed yet (always compressed lazily, so the last
    /// block of the input can still receive the `CHUNK_END`/`ROOT` flags).
    block: [u32; 16],
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
            key: IV,
            mode: 0,
            chunk_cv: IV,
            chunk_counter: 0,
            block: [0; 16],
            block_len: 0,
            blocks_compressed: 0,
            stack: [[0; 8]; MAX_DEPTH],
            stack_len: 0,
        }
    }

    /// A hasher for the keyed hash mode (a MAC): BLAKE3's `keyed_hash(key, input)`.
    ///
    /// ```
    /// use cache_version_core::blake3::Hasher;
    ///
    /// let mac = Hasher::new_keyed(&[7; 32]).update(b"value").finalize();
    /// assert_ne!(mac, Hasher::new_keyed(&[8; 32]).update(b"value").finalize());
    /// ```
    pub const fn new_keyed(key: &[u8; 32]) -> Self {
        let mut words = [0u32; 8];
        let mut i = 0;
        while i < 8 {
            words[i] = key[4 * i] as u32
                | (key[4 * i + 1] as u32) << 8
                | (key[4 * i + 2] as u32) << 16
                | (key[4 * i + 3] as u32) << 24;
            i += 1;
        }
        let mut h = Hasher::new();
        h.key = words;
        h.mode = KEYED_HASH;
        h.chunk_cv = words;
        h
    }

    const fn start_flag(&self) -> u32 {
        self.mode
            | if self.blocks_compressed == 0 {
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
                &self.key,
                &parent_block(&self.stack[self.stack_len], &cv),
                0,
                64,
                PARENT | self.mode,
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
            self.make_room();
            // Whole little-endian words when aligned (the common case: digests and most of
            // every template), single bytes otherwise.
            if self.block_len & 3 == 0 && input.len() - i >= 4 {
                let mut words = (input.len() - i) / 4;
                let room = (BLOCK_LEN - self.block_len) / 4;
                if words > room {
                    words = room;
                }
                let mut w = self.block_len / 4;
                let end = w + words;
                while w < end {
                    self.block[w] = input[i] as u32
                        | (input[i + 1] as u32) << 8
                        | (input[i + 2] as u32) << 16
                        | (input[i + 3] as u32) << 24;
                    w += 1;
                    i += 4;
                }
                self.block_len += 4 * words;
            } else {
                self.block[self.block_len / 4] |= (input[i] as u32) << (8 * (self.block_len % 4));
                self.block_len += 1;
                i += 1;
            }
        }
    }

    /// Compresses what is buffered when more input is about to arrive: a full chunk is
    /// finished, a full block within the chunk is compressed. Called lazily, so the last
    /// block of the input can still receive the `CHUNK_END`/`ROOT` flags.
    const fn make_room(&mut self) {
        if self.blocks_compressed * BLOCK_LEN + self.block_len == CHUNK_LEN {
            let flags = self.start_flag() | CHUNK_END;
            let cv = compress(
                &self.chunk_cv,
                &self.block,
                self.chunk_counter,
                BLOCK_LEN as u32,
                flags,
            );
            self.chunk_counter += 1;
            self.push_chunk_cv(cv, self.chunk_counter);
            self.chunk_cv = self.key;
            self.block = [0; 16];
            self.block_len = 0;
            self.blocks_compressed = 0;
        }
        if self.block_len == BLOCK_LEN {
            let flags = self.start_flag();
            self.chunk_cv = compress(
                &self.chunk_cv,
                &self.block,
                self.chunk_counter,
                BLOCK_LEN as u32,
                flags,
            );
            self.blocks_compressed += 1;
            self.block = [0; 16];
            self.block_len = 0;
        }
    }

    /// The 32-byte digest of everything fed so far.
    pub const fn finalize(&self) -> [u8; 32] {
        let mut block_words = self.block;
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
            cv = self.key;
            counter = 0;
            block_len = BLOCK_LEN as u32;
            flags = PARENT | self.mode;
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

/// BLAKE3's keyed hash (a MAC) of `input` under `key`.
pub const fn keyed_hash(key: &[u8; 32], input: &[u8]) -> [u8; 32] {
    Hasher::new_keyed(key).update(input).finalize()
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
