//! Turning SIGINT, SIGTERM and SIGHUP to the launcher into "cancel every job" (the children
//! sit in their own process groups, so a terminal's Ctrl-C reaches only the launcher, which
//! then ends them properly and records them `killed`).

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Installs the handlers; [`interrupted`] then reports whether one fired.
pub fn install() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(sig, on_signal as *const () as libc::sighandler_t);
        }
    }
}

/// True once SIGINT, SIGTERM or SIGHUP reached this process after [`install`].
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
