//! The manager's key hash: a seeded folded-multiply hash over the bytes
//! of a container ID's two parts, read as (overlapping) words in place, with
//! no allocation and no copy. Each manager has its own random seed. Every
//! lookup, set and clear hashes once, so the hash is built for latency: the
//! two parts and the 16-byte blocks of a long part are mixed in independent
//! lanes, folded together at the end.

use crate::container_id::ContainerIdRef;

/// 128-bit multiply, folded: the mixing step of the key hash.
#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let r = (a as u128).wrapping_mul(b as u128);
    (r as u64) ^ ((r >> 64) as u64)
}

const K0: u64 = 0x243f_6a88_85a3_08d3;
const K1: u64 = 0x1319_8a2e_0370_7344;
const K2: u64 = 0xa409_3822_299f_31d0;
const K3: u64 = 0x082e_fa98_ec4e_6c89;
const K4: u64 = 0x4528_21e6_38d0_1377;

#[inline(always)]
fn read8(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

#[inline(always)]
fn read4(b: &[u8], at: usize) -> u64 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes")) as u64
}

/// Up to 16 bytes as two words (the first and the last 8, 4 or fewer,
/// overlapping): no copy, no call.
#[inline(always)]
fn short_words(bytes: &[u8]) -> (u64, u64) {
    let len = bytes.len();
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
}

/// Hashes `bytes` with the seed `h` and the secrets `s` into two words
/// that [`hash_id`] folds together: 16 bytes per folded multiply, in
/// independent lanes, so that the multiplies of one input run side by side
/// instead of one after another. Up to 16 bytes take no multiply here (the
/// words themselves); up to 32 two lanes; longer inputs four, over 64-byte
/// blocks, the last 64 (or, for 33 to 64 bytes, the first and the last 32)
/// read as overlapping words, lanes combined by `xor`. A 64-byte container
/// ID is one multiply deep here.
#[inline(always)]
fn hash_bytes(h: u64, s: [u64; 2], bytes: &[u8]) -> (u64, u64) {
    let len = bytes.len();
    let h = h ^ (len as u64).wrapping_mul(K0);
    if len <= 16 {
        let (a, b) = short_words(bytes);
        return (a ^ s[0], b ^ h);
    }
    let lane = |l: u64, at: usize, k: u64| fold_mul(read8(bytes, at) ^ k, read8(bytes, at + 8) ^ l);
    if len <= 32 {
        return (lane(h, 0, s[0]), lane(h ^ K1, len - 16, s[1]));
    }
    let mut lanes = [h, h ^ K1, h ^ K3, h ^ K4];
    let mut at = 0;
    while len - at > 64 {
        lanes = [
            lane(lanes[0], at, s[0]),
            lane(lanes[1], at + 16, s[1]),
            lane(lanes[2], at + 32, s[0]),
            lane(lanes[3], at + 48, s[1]),
        ];
        at += 64;
    }
    let (p, q) = (len.saturating_sub(64), len - 32);
    (
        lane(lanes[0], p, s[0]) ^ lane(lanes[2], q, s[0]),
        lane(lanes[1], p + 16, s[1]) ^ lane(lanes[3], q + 16, s[1]),
    )
}

/// The hash of `id` under `seed`: what a manager with that seed stores at
/// the start of the key of `id`'s entry. The runtime name and the ID are
/// hashed independently (each with its own length, so where one ends and
/// the other begins is part of the hash), then folded together.
#[inline(always)]
pub(super) fn hash_id(seed: [u64; 2], id: ContainerIdRef<'_>) -> u64 {
    let (ta, tb) = hash_bytes(seed[0], seed, id.typ);
    let (ia, ib) = hash_bytes(seed[1], seed, id.id);
    let t = fold_mul(ta, tb);
    fold_mul(ia ^ t, ib ^ K2)
}

/// [`hash_id`] for benchmarks that compare the manager with a bare table
/// keyed the same way (not part of the API).
#[doc(hidden)]
#[inline]
pub fn bench_hash(seed: [u64; 2], typ: &[u8], id: &[u8]) -> u64 {
    hash_id(seed, ContainerIdRef { typ, id })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: [u64; 2] = [0x9e37_79b9_7f4a_7c15 | 1, 0xd1b5_4a32_d192_ed03];

    fn h(typ: &[u8], id: &[u8]) -> u64 {
        hash_id(SEED, ContainerIdRef { typ, id })
    }

    fn bytes(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(97).wrapping_add(13))
            .collect()
    }

    #[test]
    fn every_bit_of_either_part_moves_the_hash() {
        for n in 0..=80 {
            let id = bytes(n);
            let base = h(b"containerd", &id);
            for at in 0..n {
                for bit in 0..8 {
                    let mut flipped = id.clone();
                    flipped[at] ^= 1 << bit;
                    assert_ne!(
                        h(b"containerd", &flipped),
                        base,
                        "id of {n} bytes, byte {at} bit {bit}"
                    );
                }
            }
            for at in 0..10 {
                let mut typ = b"containerd".to_vec();
                typ[at] ^= 0x20;
                assert_ne!(
                    h(&typ, &id),
                    base,
                    "runtime name byte {at}, id of {n} bytes"
                );
            }
        }
    }

    #[test]
    fn where_the_runtime_name_ends_is_hashed() {
        let all = bytes(90);
        let mut seen = std::collections::HashSet::new();
        for split in 0..=all.len() {
            let (typ, id) = all.split_at(split);
            assert!(seen.insert(h(typ, id)), "split at {split} collides");
        }
        // Zero bytes differ from no bytes, at every length.
        let zeros = [0u8; 80];
        let mut by_len = std::collections::HashSet::new();
        for n in 0..=zeros.len() {
            assert!(by_len.insert(h(b"", &zeros[..n])), "{n} zero bytes collide");
        }
    }

    #[test]
    fn the_seed_changes_every_hash() {
        let other = [SEED[0] ^ 2, SEED[1]];
        let third = [SEED[0], SEED[1] ^ 1];
        for n in [0, 1, 5, 12, 16, 17, 31, 32, 33, 64, 65, 200] {
            let id = bytes(n);
            let k = ContainerIdRef {
                typ: b"containerd",
                id: &id,
            };
            assert_ne!(hash_id(SEED, k), hash_id(other, k), "{n} bytes");
            assert_ne!(hash_id(SEED, k), hash_id(third, k), "{n} bytes");
            assert_eq!(hash_id(SEED, k), h(b"containerd", &id), "not deterministic");
        }
    }

    #[test]
    fn runtime_ids_spread_over_the_shards_and_tags() {
        // 64-hex-digit IDs as runtimes make them, and short sequential
        // ones as a test runtime might: every shard (bits 32..37), every
        // 4-bit slot tag (bits 60..63) and every value of the low 8 bits
        // (where slot indexes start) is used, none more than twice its
        // share.
        let n = 32 * 1024;
        let ids: [fn(u64) -> String; 3] = [
            |i| format!("{:064x}", i.wrapping_mul(0x2545_f491_4f6c_dd1d)),
            |i| format!("ctr-{i}"),
            |i| format!("container-{i:08}"),
        ];
        let seeds = [SEED, [3, 5], [u64::MAX, 0x8000_0000_0000_0001]];
        for (make, seed) in ids.into_iter().flat_map(|m| seeds.map(|s| (m, s))) {
            let (mut shards, mut tags, mut low) = ([0u32; 32], [0u32; 16], [0u32; 256]);
            for i in 0..n as u64 {
                let id = make(i);
                let x = hash_id(
                    seed,
                    ContainerIdRef {
                        typ: b"containerd",
                        id: id.as_bytes(),
                    },
                );
                shards[((x >> 32) & 31) as usize] += 1;
                tags[(x >> 60) as usize] += 1;
                low[(x & 255) as usize] += 1;
            }
            let id = make(1);
            assert!(
                shards.iter().all(|&c| c > 0 && c < 2 * n / 32),
                "{id:?}: {shards:?}"
            );
            assert!(
                tags.iter().all(|&c| c > 0 && c < 2 * n / 16),
                "{id:?}: {tags:?}"
            );
            assert!(
                low.iter().all(|&c| c > 0 && c < 2 * n / 256),
                "{id:?}: {low:?}"
            );
        }
    }
}
