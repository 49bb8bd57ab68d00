//! BLAKE3 as a `const fn`.
//!
//! The official `blake3` crate cannot hash in `const` (as of 1.8), and every version in this
//! crate is a `const`, so this module carries its own implementation of the BLAKE3 hash mode
//! (unkeyed and keyed, 32-byte output). It follows the specification's reference structure: 1024-byte
//! chunks of 64-byte blocks, a chaining-value stack for the binary tree, the `ROOT` flag on
//! the last compression.
//!
//! Const evaluation is an interpreter, and every version of every model is computed by it, so
//! the compression function is written for it, not for a CPU. Measured on rustc 1.95 (const
//! evaluation of a dependency built in the dev profile): a checked operation (`+`, `<<`, `>>`:
//! overflow checks are on) costs about twice an unchecked one (`^`, `&`, `|`, casts), a
//! function call about ten (so no `wrapping_add`/`rotate_right`), and a named constant in an
//! operand is a query where a literal is not. The state is therefore four `u128` rows of four
//! 32-bit lanes (SWAR): one operation works on a whole row, so the four quarter-rounds of a
//! column (or diagonal) step cost what one did. Lane-wise addition is carry-free addition of
//! the low 31 bits with the top bit patched in by `^`; lane-wise rotation is two shifts and two
//! masks. A compression costs about 0.7x what the straight-line scalar version did. At run time
//! it is not meant to compete with the SIMD `blake3` crate (this crate hashes a few hundred
//! bytes at a time).
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

// Lane rotations of the u128 rows are written as two shifts on purpose: `rotate_right` is a
// function call in const evaluation, which costs far more than the shifts (see the module docs).
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

/// Lane-wise addition of two rows (four 32-bit lanes each, modulo 2^32 per lane): the low 31
/// bits of each lane add without reaching the next lane, the top bit is the xor of both top
/// bits and that carry. Literal masks: a named constant is a query in const evaluation.
macro_rules! add {
    ($a:expr, $b:expr) => {
        (($a & 0x7fff_ffff_7fff_ffff_7fff_ffff_7fff_ffff_u128)
            + ($b & 0x7fff_ffff_7fff_ffff_7fff_ffff_7fff_ffff_u128))
            ^ (($a ^ $b) & 0x8000_0000_8000_0000_8000_0000_8000_0000_u128)
    };
}

/// Lane-wise right rotation by `$r` (`$l` is `32 - $r`): `$lo` masks the low `$l` bits of
/// every lane, `$hi` the others.
macro_rules! rotr {
    ($x:ident, $r:literal, $l:literal, $lo:literal, $hi:literal) => {
        $x = (($x >> $r) & $lo) | (($x << $l) & $hi)
    };
}

/// Four quarter-rounds at once: lane `i` of the rows `a`, `b`, `c`, `d` is one column (or,
/// after the rows are rotated, one diagonal) of the state; `mx`, `my` are the message words
/// of the four quarter-rounds.
macro_rules! g4 {
    ($a:ident, $b:ident, $c:ident, $d:ident, $mx:expr, $my:expr) => {
        let t = add!($a, $b);
        let m = $mx;
        $a = add!(t, m);
        $d ^= $a;
        rotr!(
            $d,
            16,
            16,
            0x0000_ffff_0000_ffff_0000_ffff_0000_ffff_u128,
            0xffff_0000_ffff_0000_ffff_0000_ffff_0000_u128
        );
        $c = add!($c, $d);
        $b ^= $c;
        rotr!(
            $b,
            12,
            20,
            0x000f_ffff_000f_ffff_000f_ffff_000f_ffff_u128,
            0xfff0_0000_fff0_0000_fff0_0000_fff0_0000_u128
        );
        let t = add!($a, $b);
        let m = $my;
        $a = add!(t, m);
        $d ^= $a;
        rotr!(
            $d,
            8,
            24,
            0x00ff_ffff_00ff_ffff_00ff_ffff_00ff_ffff_u128,
            0xff00_0000_ff00_0000_ff00_0000_ff00_0000_u128
        );
        $c = add!($c, $d);
        $b ^= $c;
        rotr!(
            $b,
            7,
            25,
            0x01ff_ffff_01ff_ffff_01ff_ffff_01ff_ffff_u128,
            0xfe00_0000_fe00_0000_fe00_0000_fe00_0000_u128
        );
    };
}

/// The BLAKE3 compression function; returns the first eight words of the output.
///
/// The rows are `a = v0..v3`, `b = v4..v7`, `c = v8..v11`, `d = v12..v15`, lane `i` at bits
/// `32 i`. The diagonal step rotates the lanes of `b`, `c`, `d` by one, two and three so that
/// lane `i` holds diagonal `i`, and back. The message words live in locals (an indexed place
/// costs a bounds check) and are permuted between rounds.
#[allow(clippy::too_many_arguments)]
const fn compress(
    cv: &[u32; 8],
    m: &[u32; 16],
    counter: u64,
    block_len: u32,
    flags: u32,
) -> [u32; 8] {
    let mut a =
        cv[0] as u128 | (cv[1] as u128) << 32 | (cv[2] as u128) << 64 | (cv[3] as u128) << 96;
    let mut b =
        cv[4] as u128 | (cv[5] as u128) << 32 | (cv[6] as u128) << 64 | (cv[7] as u128) << 96;
    // IV[0..4].
    let mut c = 0xa54f_f53a_3c6e_f372_bb67_ae85_6a09_e667_u128;
    let mut d = counter as u128 | (block_len as u128) << 64 | (flags as u128) << 96;
    let (mut m0, mut m1, mut m2, mut m3) = (m[0] as u128, m[1] as u128, m[2] as u128, m[3] as u128);
    let (mut m4, mut m5, mut m6, mut m7) = (m[4] as u128, m[5] as u128, m[6] as u128, m[7] as u128);
    let (mut m8, mut m9, mut m10, mut m11) =
        (m[8] as u128, m[9] as u128, m[10] as u128, m[11] as u128);
    let (mut m12, mut m13, mut m14, mut m15) =
        (m[12] as u128, m[13] as u128, m[14] as u128, m[15] as u128);
    let mut round = 0;
    loop {
        // Columns: G(v0, v4, v8, v12, m0, m1) .. G(v3, v7, v11, v15, m6, m7).
        g4!(
            a,
            b,
            c,
            d,
            m0 | m2 << 32 | m4 << 64 | m6 << 96,
            m1 | m3 << 32 | m5 << 64 | m7 << 96
        );
        // Diagonals: G(v0, v5, v10, v15, m8, m9) .. G(v3, v4, v9, v14, m14, m15).
        b = (b >> 32) | (b << 96);
        c = (c >> 64) | (c << 64);
        d = (d << 32) | (d >> 96);
        g4!(
            a,
            b,
            c,
            d,
            m8 | m10 << 32 | m12 << 64 | m14 << 96,
            m9 | m11 << 32 | m13 << 64 | m15 << 96
        );
        b = (b << 32) | (b >> 96);
        c = (c >> 64) | (c << 64);
        d = (d >> 32) | (d << 96);
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
    let lo = a ^ c;
    let hi = b ^ d;
    [
        lo as u32,
        (lo >> 32) as u32,
        (lo >> 64) as u32,
        (lo >> 96) as u32,
        hi as u32,
        (hi >> 32) as u32,
        (hi >> 64) as u32,
        (hi >> 96) as u32,
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

    /// A hasher that has compressed `blocks` whole blocks of the first chunk, none of them the
    /// last, ending at chaining value `cv` (little-endian words): the derive hashes the start
    /// of a version at native speed and const evaluation goes on from there. More input must
    /// follow (the last block is compressed by `finalize`, with the final flags), within the
    /// first chunk.
    pub(crate) const fn resumed(cv: &[u8; 32], blocks: usize) -> Self {
        let mut h = Hasher::new();
        let mut i = 0;
        while i < 8 {
            h.chunk_cv[i] = cv[4 * i] as u32
                | (cv[4 * i + 1] as u32) << 8
                | (cv[4 * i + 2] as u32) << 16
                | (cv[4 * i + 3] as u32) << 24;
            i += 1;
        }
        h.blocks_compressed = blocks;
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
    fn resuming_from_a_chaining_value_is_the_same_hash() {
        let data: Vec<u8> = (0..1024u32).map(|i| (i * 31 % 251) as u8).collect();
        for blocks in 1..16 {
            for tail in [1, 31, 32, 63, 64, 100, 1024 - 64 * blocks] {
                let len = 64 * blocks + tail;
                if len > 1024 {
                    continue;
                }
                // One byte past the blocks: they are compressed, the byte waits.
                let mut h = Hasher::new();
                h.update_in_place(&data[..64 * blocks + 1]);
                let cv = to_bytes(&h.chunk_cv);
                let resumed = Hasher::resumed(&cv, blocks)
                    .update(&data[64 * blocks..len])
                    .finalize();
                assert_eq!(
                    resumed,
                    hash(&data[..len]),
                    "{blocks} blocks, {tail} more bytes"
                );
            }
        }
    }

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
