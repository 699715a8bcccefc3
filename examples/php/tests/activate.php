<?php
// One activation, as a product does when the buyer enters a key or purchase code:
//   php activate.php SERVER_URL PUBLIC_KEY KEY_OR_CODE FINGERPRINT_SOURCE LABEL
// Prints the answer's code (and the HTTP status); exits 0 for ACTIVATED or ALREADY_ACTIVATED.
require __DIR__ . '/../KeyManagerLicense.php';

list(, $server, $publicKey, $keyOrCode, $site, $label) = $argv;
$state = null;
$license = new KeyManagerLicense(
    $server,
    $publicKey,
    null,
    function () use (&$state) { return $state; },
    function (array $s) use (&$state) { $state = $s; }
);
$answer = $license->activate($keyOrCode, KeyManagerLicense::fingerprint($site), $label);
echo $answer['code'], ' ', isset($answer['http_status']) ? $answer['http_status'] : '-', ' ', KeyManagerLicense::fingerprint($site), "\n";
exit(in_array($answer['code'], array('ACTIVATED', 'ALREADY_ACTIVATED'), true) && $license->isLicensed() ? 0 : 1);
