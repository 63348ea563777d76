//! Panic injection, for tests only: with the `panic-injection` feature, a
//! test names a point (an export, or one of the points below inside the
//! manager's writer lock) and the next pass through it panics. Without the
//! feature every point compiles to nothing and this module is private.

/// Inside `RefManager::set`, with the writer lock held.
pub const SET_LOCKED: &str = "RefManager::set (writer lock held)";
/// Inside `RefManager::clear`, with the writer lock held.
pub const CLEAR_LOCKED: &str = "RefManager::clear (writer lock held)";
/// Inside a bulk removal (`clear_pod`, `retain`, a replacing load), right
/// after a removal, with the writer lock held: the removal is part done.
pub const BULK_REMOVED: &str = "bulk removal (after a removal, writer lock held)";

/// Panics if `name` is the point chosen with [`inject_panic`] (only with the
/// `panic-injection` feature).
#[inline(always)]
pub fn point(name: &'static str) {
    #[cfg(feature = "panic-injection")]
    if TARGET
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_deref()
        == Some(name)
    {
        panic!("kuberef: injected panic in {name}");
    }
    #[cfg(not(feature = "panic-injection"))]
    let _ = name;
}

#[cfg(feature = "panic-injection")]
static TARGET: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Chooses the point that panics on its next passes (`None`: none does).
#[cfg(feature = "panic-injection")]
pub fn inject_panic(name: Option<&str>) {
    *TARGET
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = name.map(str::to_owned);
}
