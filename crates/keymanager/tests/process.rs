//! Start-up hardening, in a process of its own (it changes process-wide limits).

#[cfg(unix)]
#[test]
fn harden_turns_core_dumps_off() {
    keymanager::process::harden();
    assert_eq!(keymanager::process::core_dump_limit(), Some((0, 0)), "no core file can hold a secret");
}
