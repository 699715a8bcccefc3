//! Process-wide protections that the shells (app, CLI) apply first thing at start-up.

/// No core dumps: a crash must not write the token, the signing key or buyers' data to disk.
/// (Release builds also abort on panic, and secrets are zeroised on drop.) Best effort: a
/// platform without `setrlimit` keeps its defaults.
pub fn harden() {
    #[cfg(unix)]
    {
        let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: setrlimit reads the struct we pass; no memory is shared.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &none);
        }
    }
}

/// The core-dump size limit in force (soft, hard); None where it cannot be read.
pub fn core_dump_limit() -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes into the struct we own.
        if unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut r) } == 0 {
            return Some((r.rlim_cur, r.rlim_max));
        }
    }
    None
}
