<?php
/**
 * KeyManagerLicense: a small, dependency-free client of the KeyManager licensing API
 * (docs/licensing-api.md in the KeyManager project) for a WordPress theme or plugin, or any PHP product.
 *
 * - activate() when the buyer enters a license key (or an Envato purchase code);
 * - validate() once a day (call it from a scheduled event);
 * - isLicensed() wherever the product decides what to unlock.
 *
 * Every answer's Ed25519 signature is checked with the seller's public key (PHP's built-in
 * sodium), so a fake server cannot unlock the product. The offline certificate from the last
 * activation is kept and accepted until it expires, so the product keeps working when the
 * server cannot be reached (fail soft). Requires PHP 7.2+ with sodium and json (both built in).
 */
final class KeyManagerLicense
{
    /** @var string */ private $server;
    /** @var string */ private $publicKey;
    /** @var int|null */ private $itemId;
    /** @var callable */ private $load;
    /** @var callable */ private $save;
    /** @var callable */ private $transport;
    /** @var string|null */ private $siteUrl;
    /** @var string|null */ private $environment;

    /**
     * @param string        $serverUrl  The seller's licensing server, e.g. https://licenses.example.com
     * @param string        $publicKey  The seller's public key (`keymanager keys public`), base64.
     * @param int|null      $itemId     This product's Envato item ID: a key for another product is refused.
     * @param callable|null $load       fn(): array|null, the stored state (default: a JSON file in the system temp folder).
     * @param callable|null $save       fn(array $state): void.
     * @param callable|null $transport  fn(string $method, string $url, ?string $body): array [status, headers, body]; for tests.
     */
    public function __construct($serverUrl, $publicKey, $itemId = null, $load = null, $save = null, $transport = null)
    {
        $this->server = rtrim($serverUrl, '/');
        $this->publicKey = $publicKey;
        $this->itemId = $itemId;
        $file = sys_get_temp_dir() . '/keymanager-license-' . md5($this->server . $publicKey) . '.json';
        $this->load = $load ?: function () use ($file) {
            return is_file($file) ? json_decode((string) file_get_contents($file), true) : null;
        };
        $this->save = $save ?: function (array $state) use ($file) {
            file_put_contents($file, json_encode($state), LOCK_EX);
        };
        $this->transport = $transport ?: array($this, 'httpRequest');
        // In WordPress the site tells the server where it runs, so staging copies do not take a
        // production slot and a moved site is recognised (contract 1.1, site-aware activations).
        $this->siteUrl = function_exists('home_url') ? home_url() : null;
        $this->environment = function_exists('wp_get_environment_type') ? wp_get_environment_type() : null;
    }

    /**
     * The site this installation is (its home URL) and the environment it reports
     * (production, staging, development or local). WordPress sets both by itself.
     */
    public function forSite($siteUrl, $environment = null)
    {
        $this->siteUrl = $siteUrl;
        $this->environment = $environment;
        return $this;
    }

    /**
     * For a SITE_MISMATCH answer: the question to ask the site owner, e.g. "This license is
     * active on staging.example.com. Activate it on this site instead?"; null for other answers.
     */
    public static function siteMismatchQuestion(array $answer)
    {
        if (!isset($answer['code']) || $answer['code'] !== 'SITE_MISMATCH') {
            return null;
        }
        $where = isset($answer['activation']['site']) ? $answer['activation']['site'] : 'another site';
        return 'This license is active on ' . $where . '. Activate it on this site instead?';
    }

    /** A stable fingerprint of this installation: a hash of the site's address (or the host name). */
    public static function fingerprint($siteUrl = null)
    {
        $base = $siteUrl ?: (function_exists('home_url') ? home_url() : php_uname('n'));
        return substr(hash('sha256', strtolower(rtrim($base, '/'))), 0, 40);
    }

    /**
     * Activates this installation. Returns the server's answer (code, detail, license...), or
     * ['code' => 'UNREACHABLE'|'BAD_SIGNATURE', ...] when no genuine answer came back.
     */
    public function activate($keyOrCode, $fingerprint, $label = null)
    {
        $body = $this->named($keyOrCode) + array('fingerprint' => $fingerprint);
        if ($label !== null) {
            // The server takes at most 200 characters (shown to the seller); cut, never refused.
            $body['label'] = self::cut((string) $label, 200);
        }
        $answer = $this->call('/v1/activations', $body);
        if (in_array($answer['code'], array('ACTIVATED', 'ALREADY_ACTIVATED'), true)) {
            $claims = $this->verifyCertificate(isset($answer['certificate']) ? $answer['certificate'] : '');
            if ($claims === null || $claims['fingerprint'] !== $fingerprint) {
                return array('code' => 'BAD_SIGNATURE', 'detail' => 'The certificate is not genuine.');
            }
            $this->store(array(
                'key' => $answer['license']['key'],
                'fingerprint' => $fingerprint,
                'certificate' => $answer['certificate'],
                'status' => 'VALID',
                'checked_at' => time(),
            ));
        }
        return $answer;
    }

    /** Asks the server whether the stored license is still valid here (call it daily). */
    public function validate()
    {
        $state = $this->state();
        if (!$state) {
            return array('code' => 'NOT_ACTIVATED', 'detail' => 'No license has been activated here.');
        }
        $answer = $this->call('/v1/licenses/validate', $this->withItem(array('key' => $state['key'], 'fingerprint' => $state['fingerprint'])));
        if (!in_array($answer['code'], self::$undecided, true)) {
            // A genuine answer decides; an unreachable server leaves the certificate in charge.
            $state['status'] = $answer['code'];
            $state['checked_at'] = time();
            $this->store($state);
        }
        return $answer;
    }

    /** Frees this installation's activation (the buyer moves the license elsewhere). */
    public function deactivate()
    {
        $state = $this->state();
        if (!$state) {
            return array('code' => 'NOT_ACTIVATED', 'detail' => 'No license has been activated here.');
        }
        $answer = $this->call('/v1/activations/deactivate', $this->withItem(array('key' => $state['key'], 'fingerprint' => $state['fingerprint'])));
        if (in_array($answer['code'], array('DEACTIVATED', 'NOT_ACTIVATED'), true)) {
            call_user_func($this->save, array());
        }
        return $answer;
    }

    /**
     * The address plugin-update-checker asks for this product's updates (docs/updates.md):
     * pass it to PucFactory::buildUpdateChecker($license->updateUrl('my-plugin'), __FILE__, 'my-plugin').
     * It carries the activated license's key and this site; PUC adds installed_version and
     * php itself. Without an activated license it carries no key: WordPress is shown the
     * newest version, never a package. $channel 'beta' asks for beta releases too.
     */
    public function updateUrl($slug, $channel = null)
    {
        $query = array();
        $key = $this->licenseKey();
        if ($key !== '') {
            $query['license_key'] = $key;
        }
        if ($this->siteUrl !== null && $this->siteUrl !== '') {
            $query['site'] = $this->siteUrl;
        }
        if ($channel === 'beta') {
            $query['channel'] = 'beta';
        }
        $url = $this->server . '/updates/' . rawurlencode($slug) . '/info.json';
        return $query ? $url . '?' . http_build_query($query, '', '&', PHP_QUERY_RFC3986) : $url;
    }

    /**
     * The store URL for EDD's updater (EDD_SL_Plugin_Updater's first argument), with
     * licenseKey() as its 'license' and the Envato item ID or the product's ID as 'item_id'.
     */
    public function eddUrl()
    {
        return $this->server . '/edd';
    }

    /** The activated license's key ("" when none is activated here). */
    public function licenseKey()
    {
        $state = $this->state();
        return $state ? (string) $state['key'] : '';
    }

    /**
     * Whether the product may run licensed: the last genuine answer said VALID and the offline
     * certificate (signed by the seller) has not expired. Works with the server unreachable.
     */
    public function isLicensed()
    {
        $state = $this->state();
        if (!$state || $state['status'] !== 'VALID') {
            return false;
        }
        $claims = $this->verifyCertificate($state['certificate']);
        return $claims !== null
            && $claims['fingerprint'] === $state['fingerprint']
            && strtotime($claims['expires_at']) > time();
    }

    /** The claims of a KM1 certificate signed by this seller's key, or null. */
    public function verifyCertificate($certificate)
    {
        $parts = explode('.', (string) $certificate);
        if (count($parts) !== 3 || $parts[0] !== 'KM1') {
            return null;
        }
        $signature = self::base64url($parts[2]);
        $key = base64_decode($this->publicKey, true);
        if ($signature === false || strlen($signature) !== SODIUM_CRYPTO_SIGN_BYTES
            || $key === false || strlen($key) !== SODIUM_CRYPTO_SIGN_PUBLICKEYBYTES) {
            return null;
        }
        if (!sodium_crypto_sign_verify_detached($signature, 'KM1.' . $parts[1], $key)) {
            return null;
        }
        $claims = json_decode((string) self::base64url($parts[1]), true);
        if (!is_array($claims) || (isset($claims['v']) ? $claims['v'] : 0) !== 1) {
            return null;
        }
        if ($this->itemId !== null && isset($claims['item_id']) && $claims['item_id'] !== null && $claims['item_id'] !== $this->itemId) {
            return null;
        }
        return $claims;
    }

    /** Answers that decide nothing about the license: the stored state stays as it was. */
    private static $undecided = array('UNREACHABLE', 'BAD_SIGNATURE', 'RATE_LIMITED', 'INTERNAL_ERROR',
        'ENVATO_UNAVAILABLE', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'METHOD_NOT_ALLOWED', 'NOT_FOUND_PATH', 'BAD_REQUEST');

    /**
     * Signed answers the server gives before it has read the body, so without the nonce
     * (contract 1.1): accepted without one, and only these.
     */
    private static $beforeBody = array('PAYLOAD_TOO_LARGE', 'RATE_LIMITED', 'UNSUPPORTED_MEDIA_TYPE');

    private function named($keyOrCode)
    {
        $keyOrCode = self::plain((string) $keyOrCode);
        $named = preg_match('/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i', $keyOrCode)
            ? array('purchase_code' => $keyOrCode)
            : array('key' => $keyOrCode);
        return $this->withItem($named);
    }

    /** The product's Envato item ID on every request, so a key for another product is refused. */
    private function withItem(array $body)
    {
        if ($this->itemId !== null) {
            $body['item_id'] = $this->itemId;
        }
        return $body;
    }

    /**
     * A pasted key or code in plain ASCII: full-width letters, digits and dashes (an East Asian
     * keyboard, a copied PDF) become their ASCII forms, and surrounding spaces go, as the
     * server's NFKC does; PHP's intl extension is not needed.
     */
    public static function plain($text)
    {
        $text = preg_replace_callback('/[\x{FF01}-\x{FF5E}]/u', function ($m) {
            $cp = (ord($m[0][0]) & 0x0F) << 12 | (ord($m[0][1]) & 0x3F) << 6 | (ord($m[0][2]) & 0x3F);
            return chr($cp - 0xFEE0);
        }, $text);
        return (string) preg_replace('/^[\s\x{00A0}\x{3000}]+|[\s\x{00A0}\x{3000}]+$/u', '', (string) $text);
    }

    /** At most $max characters of UTF-8 text (without mbstring). */
    private static function cut($text, $max)
    {
        if (preg_match_all('/./us', $text, $chars) === false || count($chars[0]) <= $max) {
            return $text;
        }
        return implode('', array_slice($chars[0], 0, $max));
    }

    /** POSTs a request; returns the decoded answer only when its signature is genuine. */
    private function call($path, array $body)
    {
        $nonce = bin2hex(random_bytes(12));
        $body['nonce'] = $nonce;
        if ($this->siteUrl !== null && in_array($path, array('/v1/licenses/validate', '/v1/activations', '/v1/activations/deactivate'), true)) {
            $body['site_url'] = $this->siteUrl;
            if ($this->environment !== null) {
                $body['environment'] = $this->environment;
            }
        }
        try {
            list($status, $headers, $raw) = call_user_func($this->transport, 'POST', $this->server . $path, json_encode($body));
        } catch (\Throwable $e) {
            return array('code' => 'UNREACHABLE', 'detail' => 'The license server could not be reached.');
        }
        if ($status === 0 || $raw === null) {
            return array('code' => 'UNREACHABLE', 'detail' => 'The license server could not be reached.');
        }
        $signature = null;
        $headersLower = array();
        foreach ($headers as $name => $value) {
            $headersLower[strtolower($name)] = $value;
            if (strtolower($name) === 'keymanager-signature' && strpos($value, 'ed25519=') === 0) {
                $signature = base64_decode(substr($value, 8), true);
            }
        }
        $key = base64_decode($this->publicKey, true);
        if ($signature === null || $signature === false || strlen($signature) !== SODIUM_CRYPTO_SIGN_BYTES
            || $key === false || !sodium_crypto_sign_verify_detached($signature, $raw, $key)) {
            return array('code' => 'BAD_SIGNATURE', 'detail' => 'The answer is not signed by the seller: ignored.');
        }
        $answer = json_decode($raw, true);
        if (!is_array($answer) || !isset($answer['code'])) {
            return array('code' => 'BAD_SIGNATURE', 'detail' => 'The answer is not a licensing answer.');
        }
        $early = !isset($answer['nonce']) && in_array($answer['code'], self::$beforeBody, true);
        if (!$early && (!isset($answer['nonce']) || $answer['nonce'] !== $nonce)) {
            return array('code' => 'BAD_SIGNATURE', 'detail' => 'The answer is a replay of another request.');
        }
        // The answer must be about this question (contract 1.1's `request`): a proxy cannot
        // drop the fingerprint or the item and pass a genuine VALID for another question off.
        if (!$early && in_array($path, array('/v1/licenses/validate', '/v1/activations', '/v1/activations/deactivate'), true)
            && !in_array($answer['code'], array('BAD_REQUEST'), true)) {
            $asked = isset($answer['request']) && is_array($answer['request']) ? $answer['request'] : null;
            $same = $asked !== null
                && (isset($asked['fingerprint']) ? $asked['fingerprint'] : null) === (isset($body['fingerprint']) ? $body['fingerprint'] : null)
                && (isset($asked['item_id']) ? $asked['item_id'] : null) === (isset($body['item_id']) ? $body['item_id'] : null)
                && (isset($asked['product_id']) ? $asked['product_id'] : null) === (isset($body['product_id']) ? $body['product_id'] : null)
                // A site sent is a site understood (a proxy cannot drop it either).
                && (isset($asked['site']) && $asked['site'] !== null) === isset($body['site_url']);
            if (!$same) {
                return array('code' => 'BAD_SIGNATURE', 'detail' => 'The answer is about another question: ignored.');
            }
        }
        $answer['http_status'] = $status;
        if ($status === 429 || $status === 503) {
            $answer['retry_after'] = isset($headersLower['retry-after']) ? (int) $headersLower['retry-after'] : null;
        }
        return $answer;
    }

    /** The built-in HTTP stream wrapper: no cURL or other extension needed. */
    public function httpRequest($method, $url, $body)
    {
        $context = stream_context_create(array('http' => array(
            'method' => $method,
            'header' => "Content-Type: application/json\r\nAccept: application/json\r\n",
            'content' => $body,
            'timeout' => 10,
            'ignore_errors' => true,
            'follow_location' => 0,
        )));
        $raw = @file_get_contents($url, false, $context);
        if ($raw === false || !isset($http_response_header)) {
            return array(0, array(), null);
        }
        $status = 0;
        $headers = array();
        foreach ($http_response_header as $line) {
            if (preg_match('#^HTTP/\S+\s+(\d{3})#', $line, $m)) {
                $status = (int) $m[1];
            } elseif (strpos($line, ':') !== false) {
                list($name, $value) = explode(':', $line, 2);
                $headers[trim($name)] = trim($value);
            }
        }
        return array($status, $headers, $raw);
    }

    private function state()
    {
        $state = call_user_func($this->load);
        return is_array($state) && isset($state['key'], $state['certificate']) ? $state : null;
    }

    private function store(array $state)
    {
        call_user_func($this->save, $state);
    }

    private static function base64url($text)
    {
        return base64_decode(strtr($text, '-_', '+/') . str_repeat('=', (4 - strlen($text) % 4) % 4), true);
    }
}
