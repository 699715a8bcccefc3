<?php
// Drives KeyManagerLicense against a live `keymanager serve`:
//   php client_test.php SERVER_URL PUBLIC_KEY LICENSE_KEY ITEM_ID
// The license must allow 2 activations. Prints "ok ..." per check; exits 1 at the first failure.
require __DIR__ . '/../KeyManagerLicense.php';

list(, $server, $publicKey, $key, $itemId) = $argv;
$itemId = $itemId === '' ? null : (int) $itemId;
$failures = 0;
function check($what, $cond, $detail = null)
{
    global $failures;
    echo ($cond ? 'ok ' : 'FAILED ') . $what . ($cond || $detail === null ? '' : ': ' . json_encode($detail)) . "\n";
    if (!$cond) {
        $failures++;
    }
}
function memory()
{
    $state = array('v' => null);
    return array(
        function () use (&$state) { return $state['v']; },
        function (array $s) use (&$state) { $state['v'] = $s; },
    );
}

list($load, $save) = memory();
$site = new KeyManagerLicense($server, $publicKey, $itemId, $load, $save);
$fp = KeyManagerLicense::fingerprint('https://shop-one.example');

$a = $site->activate($key, $fp, 'Shop one');
check('activate', $a['code'] === 'ACTIVATED' && $a['http_status'] === 201, $a);
check('licensed after activating', $site->isLicensed());
$v = $site->validate();
check('validate', $v['code'] === 'VALID' && $v['valid'] === true, $v);
$again = $site->activate($key, $fp, 'Shop one');
check('activating again is idempotent', $again['code'] === 'ALREADY_ACTIVATED', $again);

// Updates (updates-api.md): the product's slug is km-updates-demo with a published 1.0.0.
$site->forSite('https://shop-one.example');
$url = $site->updateUrl('km-updates-demo');
check('updateUrl carries the key and the site', strpos($url, $server . '/updates/km-updates-demo/info.json?license_key=') === 0
    && strpos($url, 'site=https%3A%2F%2Fshop-one.example') !== false, $url);
$meta = json_decode((string) file_get_contents($url . '&installed_version=0.9.0&php=' . PHP_VERSION), true);
check('plugin-update-checker is offered the update with a package', is_array($meta) && $meta['license_status'] === 'UPDATE_AVAILABLE'
    && $meta['version'] === '1.0.0' && strpos($meta['download_url'], $server . '/updates/download/KMD1.') === 0, $meta);
list($loadU, $saveU) = memory();
$unlicensed = new KeyManagerLicense($server, $publicKey, $itemId, $loadU, $saveU);
$meta = json_decode((string) file_get_contents($unlicensed->updateUrl('km-updates-demo') . '?installed_version=0.9.0'), true);
check('without a license: the version, no package', $meta['license_status'] === 'NO_LICENSE' && !isset($meta['download_url'])
    && $unlicensed->licenseKey() === '' && $site->licenseKey() !== '' && $site->eddUrl() === $server . '/edd', $meta);
$site->forSite(null);

list($load2, $save2) = memory();
$second = new KeyManagerLicense($server, $publicKey, $itemId, $load2, $save2);
$b = $second->activate($key, KeyManagerLicense::fingerprint('https://shop-two.example'));
check('a second site activates', $b['code'] === 'ACTIVATED', $b);
list($load3, $save3) = memory();
$third = new KeyManagerLicense($server, $publicKey, $itemId, $load3, $save3);
$c = $third->activate($key, KeyManagerLicense::fingerprint('https://shop-three.example'));
check('a third is over the limit', $c['code'] === 'ACTIVATION_LIMIT_EXCEEDED' && $c['license']['activations_used'] === 2, $c);
check('not licensed over the limit', !$third->isLicensed());

// A tampered answer (a man in the middle turning a "no" into a "yes") is rejected.
$real = array($third, 'httpRequest');
$tampering = function ($method, $url, $body) use ($real) {
    list($status, $headers, $raw) = call_user_func($real, $method, $url, $body);
    return array($status, $headers, str_replace('ACTIVATION_LIMIT_EXCEEDED', 'ACTIVATED', $raw));
};
list($load4, $save4) = memory();
$fooled = new KeyManagerLicense($server, $publicKey, $itemId, $load4, $save4, $tampering);
$t = $fooled->activate($key, KeyManagerLicense::fingerprint('https://shop-four.example'));
check('a tampered answer is rejected', $t['code'] === 'BAD_SIGNATURE', $t);
check('and unlocks nothing', !$fooled->isLicensed());
// A server with another key (a fake server) is not believed either.
list($load5, $save5) = memory();
$fake = new KeyManagerLicense($server, base64_encode(str_repeat("\x01", 32)), $itemId, $load5, $save5);
check('another key is not the seller', $fake->validate()['code'] === 'NOT_ACTIVATED' && $fake->activate($key, 'x')['code'] === 'BAD_SIGNATURE');

// The server unreachable: the stored certificate keeps the site licensed until it expires.
$offline = new KeyManagerLicense('http://127.0.0.1:9', $publicKey, $itemId, $load, $save);
$o = $offline->validate();
check('unreachable is said as such', $o['code'] === 'UNREACHABLE', $o);
check('licensed offline by the certificate', $offline->isLicensed());

// A proxy that drops the fingerprint from the question cannot pass the genuine answer to
// another question off as this one's (contract 1.1's `request`).
$dropping = function ($method, $url, $body) use ($real) {
    $b = json_decode($body, true);
    unset($b['fingerprint'], $b['item_id']);
    return call_user_func($real, $method, $url, json_encode($b));
};
$proxied = new KeyManagerLicense($server, $publicKey, $itemId, $load, $save, $dropping);
$p = $proxied->validate();
check('an answer to another question is rejected', $p['code'] === 'BAD_SIGNATURE', $p);
check('and the stored state stays', $site->isLicensed());

// validate sends the item: a client for another product is told so.
list($load6, $save6) = memory();
$otherProduct = new KeyManagerLicense($server, $publicKey, 999, $load6, $save6);
$save6(array('key' => $key, 'fingerprint' => $fp, 'certificate' => 'x', 'status' => 'VALID', 'checked_at' => 0));
$m = $otherProduct->validate();
check('validate sends the item id', $m['code'] === 'PRODUCT_MISMATCH', $m);

// Full-width input (an East Asian keyboard) is sent in ASCII; long labels are cut, not refused.
check('full-width codes become ASCII', KeyManagerLicense::plain("\u{3000}ａ６７ｆ４５８２－95d6-4019-81f3-75d1ebe3a071 ") === 'a67f4582-95d6-4019-81f3-75d1ebe3a071');
list($load7, $save7) = memory();
$labelled = new KeyManagerLicense($server, $publicKey, $itemId, $load7, $save7);
$l = $labelled->activate($key, KeyManagerLicense::fingerprint('https://shop-five.example'), str_repeat('é', 300));
check('a 300-character label is cut to 200', $l['code'] === 'ACTIVATION_LIMIT_EXCEEDED', $l);

$d = $site->deactivate();
check('deactivate', $d['code'] === 'DEACTIVATED', $d);
check('not licensed after deactivating', !$site->isLicensed());
check('validating after deactivating says so', $site->validate()['code'] === 'NOT_ACTIVATED');

// Site-aware (contract 1.1): the site and its environment travel with every call; a copy of
// the site elsewhere is asked about instead of taking another slot.
list($load8, $save8) = memory();
$shop = new KeyManagerLicense($server, $publicKey, $itemId, $load8, $save8);
$shop->forSite('https://www.shop-six.example.com/', 'production');
$s1 = $shop->activate($key, KeyManagerLicense::fingerprint('https://shop-six.example.com'));
check('a site activates with its URL', $s1['code'] === 'ACTIVATED' && $s1['activation']['site'] === 'shop-six.example.com', $s1);
check('the answer names the site asked about', $s1['request']['site'] === 'shop-six.example.com', $s1);
$shop->forSite('https://copy-of-shop-six.example.com', 'production');
$s2 = $shop->validate();
check('a copied site is asked about', $s2['code'] === 'SITE_MISMATCH'
    && KeyManagerLicense::siteMismatchQuestion($s2) === 'This license is active on shop-six.example.com. Activate it on this site instead?', $s2);
check('and is not licensed', !$shop->isLicensed());
list($load9, $save9) = memory();
$staging = new KeyManagerLicense($server, $publicKey, $itemId, $load9, $save9);
$staging->forSite('https://staging.shop-six.example.com', 'staging');
$s3 = $staging->activate($key, KeyManagerLicense::fingerprint('https://staging.shop-six.example.com'));
check('a staging site does not take a production slot', $s3['code'] === 'ACTIVATED' && $s3['activation']['environment'] === 'staging'
    && $s3['license']['dev_activations_used'] === 1, $s3);

// Over the server's rate limit: a signed RATE_LIMITED without a nonce (given before the body
// was read) is believed as such, not taken for a forgery, and decides nothing.
$limited = null;
for ($i = 0; $i < 300 && $limited === null; $i++) {
    $r = $second->validate();
    if ($r['code'] === 'RATE_LIMITED') {
        $limited = $r;
    } elseif ($r['code'] !== 'VALID') {
        check('validate before the limit', false, $r);
        break;
    }
}
check('RATE_LIMITED is read as such', $limited !== null && $limited['http_status'] === 429 && $limited['retry_after'] >= 1, $limited);
check('and the license stays as it was', $second->isLicensed());

exit($failures === 0 ? 0 : 1);
