//! The manager's key hash: a seeded folded-multiply hash over the bytes
//! of a container ID's two parts, read as (overlapping) words in place, with
//! no allocation and no copy. Each manager has its own random seed.

use crate::container_id::ContainerIdRef;

/// 128-bit multiply, folded: the mixing step of the key hash.
#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let r = (a as u128).wrapping_mul(b as u128);
    (r as u64) ^ ((r >> 64) as u64)
}

const K0: u64 = 0x243f_6a88_85a3_08d3;

#[inline(always)]
fn read8(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

#[inline(always)]
fn read4(b: &[u8], at: usize) -> u64 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes")) as u64
}

/// Hashes `bytes` into `h` with the secret `s`: 16 bytes per folded multiply,
/// tails read as overlapping words (no copy, no call).
#[inline(always)]
fn hash_bytes(mut h: u64, s: u64, bytes: &[u8]) -> u64 {
    let len = bytes.len();
    h ^= (len as u64).wrapping_mul(K0);
    let (a, b) = if len <= 16 {
        if len >= 8 {
            (read8(bytes, 0), read8(bytes, len - 8))
        } else if len >= 4 {
            (read4(bytes, 0), read4(bytes, len - 4))
        } else if len > 0 {
            let (x, y, z) = (
                bytes[0] as u64,
                bytes[len / 2] as u64,
                bytes[len - 1] as u64,
            );
            ((x << 16) | (y << 8) | z, 0)
        } else {
            (0, 0)
        }
    } else {
        let mut at = 0;
        while len - at > 16 {
            h = fold_mul(read8(bytes, at) ^ s, read8(bytes, at + 8) ^ h);
            at += 16;
        }
        (read8(bytes, len - 16), read8(bytes, len - 8))
    };
    fold_mul(a ^ s, b ^ h)
}

/// The hash of `id` under `seed`: what a manager with that seed stores at
/// the start of the key of `id`'s entry.
#[inline(always)]
pub(super) fn hash_id(seed: [u64; 2], id: ContainerIdRef<'_>) -> u64 {
    hash_bytes(hash_bytes(seed[0], seed[1], id.typ), seed[1], id.id)
}

/// [`hash_id`] for benchmarks that compare the manager with a bare table
/// keyed the same way (not part of the API).
#[doc(hidden)]
#[inline]
pub fn bench_hash(seed: [u64; 2], typ: &[u8], id: &[u8]) -> u64 {
    hash_id(seed, ContainerIdRef { typ, id })
}
