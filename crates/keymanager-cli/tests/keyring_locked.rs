//! A locked login keyring (a Linux desktop after an automatic login) with no token stored yet:
//! the status says the keychain is not available rather than "no token", and answers normally
//! once the keyring is unlocked, without a restart. Its own test binary: it locks the session's
//! keyring, which the other tests share.

mod common;
use common::Env;
use std::process::Command;

/// The password `scripts/in-session.sh` gives the throw-away keyring.
const KEYRING_PASSWORD: &str = "ci-keyring-pass";

fn keyring(args: &[&str]) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keyring.py");
    let out = Command::new("/usr/bin/python3").arg(script).args(args).output().expect("python3 with python3-dbus");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Unlocks the keyring when dropped, so a failure leaves the session usable.
struct Unlock;
impl Drop for Unlock {
    fn drop(&mut self) {
        let _ = keyring(&["unlock", KEYRING_PASSWORD]);
    }
}

#[test]
fn a_locked_keyring_is_not_taken_for_no_token_and_recovers_when_unlocked() {
    let env = Env::new();
    // Positive control: the unlocked keyring answers, with no token.
    let v = env.json(&["token", "status", "--json"]);
    assert!(v["keychain_problem"].is_null() && v["configured"] == false, "{v}");
    let _guard = Unlock;
    assert_eq!(keyring(&["lock"]), "locked");
    let v = env.json(&["token", "status", "--json"]);
    assert_eq!(v["keychain_problem"]["error"]["code"], "keychain.unavailable", "{v}");
    assert!(v["keychain_problem"]["error"]["message"].as_str().unwrap().contains("locked"), "{v}");
    // The same process-free check after the user unlocks it: no restart of anything.
    assert_eq!(keyring(&["unlock", KEYRING_PASSWORD]), "unlocked");
    let v = env.json(&["token", "status", "--json"]);
    assert!(v["keychain_problem"].is_null(), "{v}");
}
