//! The first run in the real window on a desktop whose login keyring is locked (as after an
//! automatic login): the guided setup opens on the keychain check and says how to fix it, and
//! once the keyring is unlocked the setup goes on by itself, without a restart. Its own test
//! binary: it locks the session's keyring, which the other tests share.

use keymanager_e2e::{launch, workspace_root};
use std::process::Command;

/// The password `scripts/in-session.sh` gives the throw-away keyring.
const KEYRING_PASSWORD: &str = "ci-keyring-pass";

fn keyring(args: &[&str]) -> String {
    let script = workspace_root().join("crates/keymanager-cli/tests/keyring.py");
    let out = Command::new("/usr/bin/python3").arg(script).args(args).output().expect("python3 with python3-dbus");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Unlocks the keyring when dropped, so a failure leaves the session usable for the next tests.
struct Unlock;
impl Drop for Unlock {
    fn drop(&mut self) {
        let _ = keyring(&["unlock", KEYRING_PASSWORD]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_run_waits_for_a_locked_keyring_and_goes_on_once_it_is_unlocked() {
    keymanager_e2e::within(180, steps()).await;
}

async fn steps() {
    let data = tempfile::tempdir().unwrap();
    let _guard = Unlock;
    assert_eq!(keyring(&["lock"]), "locked");
    let app = launch(data.path()).await;
    let step = app.wait_for("[data-testid=keychain-step]").await;
    let text = step.text().await.unwrap();
    assert!(text.contains("The system keychain is not available"), "{text}");
    assert!(text.contains("Unlock your login keyring"), "{text}");
    assert!(text.contains("login keyring is locked"), "the cause in plain words: {text}");
    assert!(app.client.find(keymanager_e2e::fantoccini::Locator::Css("[data-testid=first-run-next]")).await.is_err());
    app.screenshot("first-run-keychain-locked").await;
    // The seller unlocks the keyring (as the desktop's Passwords and Keys would); the window
    // notices within seconds and the setup starts, no restart.
    assert_eq!(keyring(&["unlock", KEYRING_PASSWORD]), "unlocked");
    app.wait_for("[data-testid=first-run-next]").await;
    assert!(app.client.find(keymanager_e2e::fantoccini::Locator::Css("[data-testid=keychain-step]")).await.is_err());
    app.screenshot("first-run-keychain-unlocked").await;
    app.close().await;
}
