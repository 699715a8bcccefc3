//! The real OS keychain (Secret Service on Linux). scripts/test.sh runs the tests inside a
//! private D-Bus session with an unlocked, throw-away GNOME Keyring.

use keymanager::keychain::Keychain;
use keymanager::secret::Token;

#[test]
fn round_trip_on_the_real_keychain_scoped_per_data_folder() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let ka = Keychain::for_data_dir(a.path()).unwrap();
    let kb = Keychain::for_data_dir(b.path()).unwrap();
    assert!(ka.load().unwrap().is_none(), "a fresh profile has no token");

    ka.save(&Token::parse("AAAAbbbbCCCCdddd1111222233334444").unwrap()).unwrap();
    assert!(kb.load().unwrap().is_none(), "two data folders never share a token");
    kb.save(&Token::parse("ZZZZyyyyXXXXwwww9999888877776666").unwrap()).unwrap();

    // A new handle on the same folder (as after a restart) finds it.
    let again = Keychain::for_data_dir(a.path()).unwrap();
    assert_eq!(again.load().unwrap().unwrap().expose(), "AAAAbbbbCCCCdddd1111222233334444");
    assert_eq!(kb.load().unwrap().unwrap().expose(), "ZZZZyyyyXXXXwwww9999888877776666");

    // Replace, then remove (twice: removing nothing is fine).
    ka.save(&Token::parse("AAAAbbbbCCCCdddd1111222233335555").unwrap()).unwrap();
    assert_eq!(again.load().unwrap().unwrap().expose(), "AAAAbbbbCCCCdddd1111222233335555");
    ka.delete().unwrap();
    ka.delete().unwrap();
    assert!(again.load().unwrap().is_none());
    kb.delete().unwrap();
}
