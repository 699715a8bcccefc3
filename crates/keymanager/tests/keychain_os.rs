//! The real OS keychain (Secret Service on Linux). scripts/test.sh runs the tests inside a
//! private D-Bus session with an unlocked, throw-away GNOME Keyring.

use keymanager::envato::ApiBase;
use keymanager::keychain::Keychain;
use keymanager::token::Token;

#[test]
fn round_trip_on_the_real_keychain_scoped_per_data_folder() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let ka = Keychain::for_data_dir(a.path(), &ApiBase::official()).unwrap();
    let kb = Keychain::for_data_dir(b.path(), &ApiBase::official()).unwrap();
    assert!(ka.load().unwrap().is_none(), "a fresh profile has no token");

    ka.save(&Token::parse("AAAAbbbbCCCCdddd1111222233334444").unwrap()).unwrap();
    assert!(kb.load().unwrap().is_none(), "two data folders never share a token");
    kb.save(&Token::parse("ZZZZyyyyXXXXwwww9999888877776666").unwrap()).unwrap();

    // A new handle on the same folder (as after a restart) finds it.
    let again = Keychain::for_data_dir(a.path(), &ApiBase::official()).unwrap();
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

#[test]
fn a_token_is_bound_to_the_envato_address_it_was_saved_for() {
    let dir = tempfile::tempdir().unwrap();
    let official = ApiBase::official();
    let sandbox = ApiBase::parse_override("http://127.0.0.1:8099").unwrap();
    let real = Keychain::for_data_dir(dir.path(), &official).unwrap();
    let dev = Keychain::for_data_dir(dir.path(), &sandbox).unwrap();
    real.save(&Token::parse("AAAAbbbbCCCCdddd1111222233334444").unwrap()).unwrap();
    // The developer override sees no token: the seller's real one is never sent to the sandbox.
    assert!(dev.load().unwrap().is_none());
    let loaded = real.load().unwrap().unwrap();
    assert_eq!(loaded.bound_to(), Some("https://api.envato.com"));
    // Even handed over by mistake, a client for another address refuses it.
    let cfg = keymanager::envato::ClientConfig::new(sandbox.as_str());
    let err = keymanager::envato::EnvatoClient::new(cfg, loaded).err().expect("refused");
    assert_eq!(err.code, keymanager::ErrorCode::EnvatoTokenHostMismatch);
    dev.save(&Token::parse("ZZZZyyyyXXXXwwww9999888877776666").unwrap()).unwrap();
    assert_eq!(real.load().unwrap().unwrap().expose(), "AAAAbbbbCCCCdddd1111222233334444");
    assert_eq!(dev.load().unwrap().unwrap().bound_to(), Some("http://127.0.0.1:8099"));
    real.delete().unwrap();
    dev.delete().unwrap();
}
