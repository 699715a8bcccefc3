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

/// Raises the soft limit of open files to the hard one, so a server holding many connections
/// runs out of descriptors only at the limit the administrator set (systemd's `LimitNOFILE=`),
/// not at the soft default of 1024. Returns the soft limit now in force (None: unknown).
pub fn raise_open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit and setrlimit read and write the struct we own.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
                return None;
            }
            if r.rlim_cur < r.rlim_max {
                let raised = libc::rlimit { rlim_cur: r.rlim_max, rlim_max: r.rlim_max };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    r.rlim_cur = r.rlim_max;
                }
            }
        }
        Some(r.rlim_cur)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The soft limit of open files in force; None where it cannot be read.
pub fn open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes into the struct we own.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } == 0 {
            return Some(r.rlim_cur);
        }
    }
    None
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

/// The live child processes of `parent` whose name starts with `name` (Linux cuts names at 15
/// bytes, so WebKit's network process is "WebKitNetworkPr"). Empty where /proc cannot be read.
pub fn children_named(parent: u32, name: &str) -> Vec<u32> {
    #[cfg(target_os = "linux")]
    {
        let prefix = &name[..name.len().min(15)];
        let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
        entries
            .flatten()
            .filter_map(|e| {
                let child: u32 = e.file_name().to_str()?.parse().ok()?;
                let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
                // pid (comm) state ppid ...: comm may hold spaces, so read from the last ')'.
                let (head, tail) = stat.rsplit_once(')')?;
                let comm = head.split_once('(')?.1;
                let mut fields = tail.split_whitespace();
                let state = fields.next()?;
                let ppid: u32 = fields.next()?.parse().ok()?;
                (ppid == parent && state != "Z" && comm.starts_with(prefix)).then_some(child)
            })
            .collect()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (parent, name);
        Vec::new()
    }
}

/// Ends (SIGTERM) this process's live child processes whose name starts with `name`. The desktop
/// app ends WebKit's network process once no window is open; WebKit starts a new one with the
/// next window. Returns how many were signalled.
pub fn terminate_children_named(name: &str) -> usize {
    #[cfg(unix)]
    {
        children_named(std::process::id(), name)
            .into_iter()
            // SAFETY: kill only sends a signal to a child of ours.
            .filter(|&pid| unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) } == 0)
            .count()
    }
    #[cfg(not(unix))]
    {
        let _ = name;
        0
    }
}
