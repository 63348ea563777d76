//! Seeds: 128 bits from the operating system's generator (`getrandom(2)`),
//! or, where it gives none (a sandbox that denies the call), a mix of the
//! time, the process and thread IDs, an address and a counter. Without the
//! operating system's bytes a seed can be guessed by someone who knows when
//! and where it was drawn, which weakens the key hash's defence against
//! chosen keys, but never the library's correctness: a manager, the global
//! one included, is created whatever the system allows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Two random words (see the module docs).
pub(crate) fn seed() -> [u64; 2] {
    let mut b = [0u8; 16];
    let mut got = 0;
    while got < b.len() {
        // SAFETY: `b[got..]` is writable for its length.
        let n = unsafe { libc::getrandom(b[got..].as_mut_ptr().cast(), b.len() - got, 0) };
        if n > 0 {
            got += n as usize;
        } else if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        } else {
            return fallback();
        }
    }
    let w = |k: usize| u64::from_ne_bytes(b[8 * k..8 * k + 8].try_into().expect("8 bytes"));
    [w(0), w(1)]
}

/// The seed drawn without the operating system's generator.
fn fallback() -> [u64; 2] {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let local = 0u8;
    let parts = [
        nanos,
        u64::from(std::process::id()),
        // SAFETY: gettid has no preconditions.
        unsafe { libc::gettid() } as u64,
        std::ptr::addr_of!(local) as u64,
        seed as *const () as u64,
        COUNTER.fetch_add(1, Ordering::Relaxed),
    ];
    let mut h = [0x9e37_79b9_7f4a_7c15u64, 0xd1b5_4a32_d192_ed03];
    for p in parts {
        h[0] = mix(h[0] ^ p);
        h[1] = mix(h[1].wrapping_add(p));
    }
    h
}

/// splitmix64's finalizer: every input bit reaches every output bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_differ() {
        assert_ne!(seed(), seed());
        assert_ne!(
            fallback(),
            fallback(),
            "the counter alone makes them differ"
        );
        let [a, b] = fallback();
        assert_ne!(a, b);
    }
}
