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

/// Hands the heap's free pages back to the system (glibc keeps them for reuse otherwise). The
/// desktop app calls it after its window is destroyed, so a day in the tray does not hold the
/// memory the window needed. Returns whether anything was released; a no-op elsewhere.
pub fn release_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only walks glibc's own arenas; it takes their locks itself.
        unsafe { libc::malloc_trim(0) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Asks the kernel to drop this process's resident pages of read-only file mappings (program
/// and library code, which stay in the page cache and come back on the next use), the way it
/// would under memory pressure and the way Android compacts apps in the background. The desktop
/// app does this after its window closed, so a day in the tray does not hold the code the window
/// needed. Returns the bytes advised; 0 where the kernel (before 5.4) or the platform cannot.
pub fn page_out_code() -> usize {
    #[cfg(target_os = "linux")]
    {
        let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else { return 0 };
        let mut advised = 0;
        for line in maps.lines() {
            // start-end perms offset dev inode path
            let mut f = line.split_whitespace();
            let (Some(range), Some(perms)) = (f.next(), f.next()) else { continue };
            let path = f.nth(3).unwrap_or("");
            // Private, not writable, backed by a regular file: code and read-only data. Never
            // anonymous memory (no swap here: it would stay), devices or shared memory.
            let file_backed = path.starts_with('/') && !path.starts_with("/dev/") && !path.starts_with("/SYSV");
            if !file_backed || perms.as_bytes().get(1) != Some(&b'-') || perms.as_bytes().get(3) != Some(&b'p') {
                continue;
            }
            let Some((a, b)) = range.split_once('-') else { continue };
            let (Ok(start), Ok(end)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16)) else { continue };
            // SAFETY: MADV_PAGEOUT is advice on our own read-only file mappings: their contents
            // cannot change, and a page dropped is read back from the file on its next use.
            if unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_PAGEOUT) } == 0 {
                advised += end - start;
            }
        }
        advised
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// Ends (SIGTERM) this process's child processes whose name starts with `name` (Linux names are
/// cut at 15 bytes). The desktop app ends WebKit's network process once no window is open; WebKit
/// starts a new one with the next window. Returns how many were signalled.
pub fn terminate_children_named(name: &str) -> usize {
    #[cfg(target_os = "linux")]
    {
        let me = std::process::id();
        let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
        let mut signalled = 0;
        for e in entries.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else { continue };
            // pid (comm) state ppid ...: comm may hold spaces, so split at the last ')'.
            let Some((head, tail)) = stat.rsplit_once(')') else { continue };
            let comm = head.split_once('(').map(|(_, c)| c).unwrap_or("");
            let ppid = tail.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(me) && comm.starts_with(&name[..name.len().min(15)]) {
                // SAFETY: kill only sends a signal to a child of ours.
                if unsafe { libc::kill(pid, libc::SIGTERM) } == 0 {
                    signalled += 1;
                }
            }
        }
        signalled
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = name;
        0
    }
}
