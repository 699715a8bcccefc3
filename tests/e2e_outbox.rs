//! Webhooks and e-mail in the real window: add an endpoint in Settings > Webhooks, copy its
//! secret into a local receiver that checks every signature, press Test and see the delivery;
//! set SMTP in Settings > Email (the password into the keychain), send a test e-mail, then
//! "E-mail key to buyer" from a license's detail, and read both at a real SMTP server.

use envato_sandbox::receivers::{decoded, Receiver, SmtpSink};
use keymanager::Store;
use keymanager_e2e::launch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_test_and_a_key_by_email_from_the_window() {
    keymanager_e2e::within(240, steps()).await;
}

async fn steps() {
    const PASSWORD: &str = "e2e-Smtp-Pa55";
    let receiver = Receiver::start().await;
    let mail = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(mail.path(), "seller", PASSWORD);
    let data = tempfile::tempdir().unwrap();
    let (license_id, key) = {
        let mut store = Store::open_in_dir(data.path()).unwrap();
        let now = keymanager::time::now();
        store.set_sync_paused(true, now).unwrap();
        let p = store
            .create_product(&keymanager::model::NewProduct { name: "Pixel Theme".into(), ..Default::default() }, now)
            .unwrap();
        let l = keymanager::licensing::issue(&mut store, p.id, Some("jane"), None, None, now).unwrap();
        (l.id, l.license_key)
    };
    let app = launch(data.path()).await;

    // Settings > Webhooks: add the receiver, copy the secret shown once, Test.
    app.click("[data-testid=nav-settings]").await;
    app.click("[data-testid=tab-webhooks]").await;
    app.type_into("[data-testid=webhook-url]", &receiver.url).await;
    app.click("[data-testid=webhook-add]").await;
    let secret = app.text_of("[data-testid=webhook-secret-value]").await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    receiver.set(|s| s.secret = Some(secret.clone()));
    app.screenshot("settings-webhooks-secret").await;
    app.click("[data-testid=webhook-endpoint] [data-testid=webhook-test]").await;
    app.wait_text("[data-testid=webhook-note]", "Test delivered (HTTP 200).").await;
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    assert!(got[0].verified, "signed with the secret the window showed");
    assert_eq!(got[0].body["type"], "webhook.test");
    app.wait_attr("[data-testid=delivery-row]", "data-status", "delivered").await;
    app.screenshot("settings-webhooks-delivered").await;

    // Settings > Email: the SMTP server on this machine, the password into the keychain.
    app.click("[data-testid=tab-email]").await;
    app.type_into("[data-testid=setting-smtp_host]", "127.0.0.1").await;
    app.type_into("[data-testid=setting-smtp_port]", &sink.port.to_string()).await;
    app.click("[data-testid=setting-smtp_security] option[value=none]").await;
    app.type_into("[data-testid=setting-smtp_username]", "seller").await;
    app.type_into("[data-testid=setting-smtp_from]", "E2E Themes <store@e2e.example>").await;
    app.click("[data-testid=save-settings]").await;
    app.wait_text("[data-testid=saved]", "Saved").await;
    app.type_into("[data-testid=smtp-password]", PASSWORD).await;
    app.click("[data-testid=smtp-password-save]").await;
    app.wait_text("[data-testid=smtp-password-saved]", "Password stored").await;
    app.type_into("[data-testid=email-test-to]", "seller@e2e.example").await;
    app.click("[data-testid=email-test-send]").await;
    app.wait_text("[data-testid=email-test-result]", "Sent to seller@e2e.example.").await;
    assert_eq!(sink.messages().len(), 1);
    app.screenshot("settings-email").await;

    // The license detail: the buyer's e-mail, then "E-mail key to buyer".
    app.click("[data-testid=nav-licenses]").await;
    app.type_into("[data-testid=license-search]", &key).await;
    app.wait_text("[data-testid=licenses-count]", "1 shown").await;
    app.click("[data-testid=license-row]").await;
    app.type_into("[data-testid=buyer-email]", "jane@buyer.example").await;
    app.click("[data-testid=contact-save]").await;
    app.wait_attr("[data-testid=buyer-email]", "value", "jane@buyer.example").await;
    app.wait_enabled("[data-testid=send-key]").await;
    app.click("[data-testid=send-key]").await;
    app.wait_text("[data-testid=send-key-result]", "Sent to jane@buyer.example.").await;
    app.screenshot("license-email-key").await;
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 2);
    assert!(msgs[1].contains("X-Rcpt: jane@buyer.example"));
    assert!(msgs[1].contains("Subject: Your license key for Pixel Theme"), "{}", msgs[1]);
    assert!(decoded(&msgs[1]).contains(&key));
    let store = Store::open_in_dir(data.path()).unwrap();
    assert_eq!(store.license(license_id).unwrap().unwrap().buyer_email.as_deref(), Some("jane@buyer.example"));
    let dump = store.dump_tables(&[]).unwrap();
    assert!(!dump.contains(PASSWORD) && !dump.contains(&secret[6..]), "no secret in the database");

    let log = app.close().await;
    assert!(!log.contains(PASSWORD) && !log.contains(&secret[6..]), "no secret in the logs");
    let secrets = keymanager::secrets::Secrets::for_data_dir(data.path());
    let _ = secrets.delete(keymanager::secrets::SMTP_PASSWORD);
    let _ = secrets.delete(&keymanager::secrets::webhook_secret_name(1));
}
