//! Start-up hardening, in a process of its own (it changes process-wide limits).

#[cfg(unix)]
#[test]
fn harden_turns_core_dumps_off() {
    keymanager::process::harden();
    assert_eq!(keymanager::process::core_dump_limit(), Some((0, 0)), "no core file can hold a secret");
}

/// The resident size of this process in KiB.
#[cfg(target_os = "linux")]
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn freed_heap_goes_back_to_the_system() {
    // 64 MiB in small blocks (below glibc's mmap threshold, so they live in the heap), touched,
    // then freed except for the last one, which pins the top of the heap the way a long-lived
    // allocation does in the app: glibc alone keeps all of it.
    let mut blocks: Vec<Vec<u8>> = (0..8192).map(|i| vec![(i % 251) as u8; 8192]).collect();
    let pin = blocks.pop();
    let held = rss_kib();
    drop(blocks);
    assert!(keymanager::process::release_freed_memory(), "malloc_trim released nothing");
    let after = rss_kib();
    assert!(held - after > 32 * 1024, "held {held} KiB, after the release {after} KiB");
    drop(pin);
}

/// The resident KiB of the mapping of `path` in this process.
#[cfg(target_os = "linux")]
fn mapping_rss_kib(path: &std::path::Path) -> u64 {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let mut inside = false;
    let mut rss = 0;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if first.contains('-') && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            inside = line.ends_with(&*path.to_string_lossy());
        } else if inside && line.starts_with("Rss:") {
            rss += line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap();
        }
    }
    rss
}

#[cfg(target_os = "linux")]
#[test]
fn code_pages_are_handed_back_and_come_back_on_use() {
    use std::os::unix::io::AsRawFd;
    // A 16 MiB read-only private file mapping, every page read: what a library's code looks like.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("library.so");
    let len = 16 << 20;
    std::fs::write(&path, vec![7u8; len]).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    // SAFETY: a fresh read-only private mapping of a file we own, unmapped below.
    let base =
        unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_PRIVATE, file.as_raw_fd(), 0) };
    assert_ne!(base, libc::MAP_FAILED);
    // SAFETY: reads within the mapping.
    let sum = |base: *mut libc::c_void| {
        (0..len).step_by(4096).map(|i| unsafe { *(base as *const u8).add(i) } as u64).sum::<u64>()
    };
    assert_eq!(sum(base), 7 * (len as u64 / 4096));
    let before = mapping_rss_kib(&path);
    assert!(before >= 15 * 1024, "the mapping was not resident: {before} KiB");

    let advised = keymanager::process::page_out_code();
    let after = mapping_rss_kib(&path);
    assert!(advised >= len, "advised {advised} bytes");
    assert!(after < 1024, "still resident after the page-out: {after} KiB of {before}");
    // The pages come back, unchanged, when read again.
    assert_eq!(sum(base), 7 * (len as u64 / 4096));
    // SAFETY: unmaps the mapping made above.
    unsafe { libc::munmap(base, len) };
}

#[cfg(target_os = "linux")]
#[test]
fn children_are_ended_by_name_only() {
    use std::os::unix::process::ExitStatusExt;
    let mut sleeper = std::process::Command::new("sleep").arg("30").spawn().unwrap();
    let mut other = std::process::Command::new("tail").args(["-f", "/dev/null"]).spawn().unwrap();
    assert_eq!(keymanager::process::terminate_children_named("sleep"), 1);
    assert_eq!(sleeper.wait().unwrap().signal(), Some(libc::SIGTERM));
    assert!(other.try_wait().unwrap().is_none(), "another child was ended");
    other.kill().unwrap();
    other.wait().unwrap();
}
