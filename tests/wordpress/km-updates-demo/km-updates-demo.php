<?php
/**
 * Plugin Name:       KM Updates Demo
 * Plugin URI:        https://keymanager.example/km-updates-demo
 * Description:       A plugin that receives its updates from a KeyManager licensing server, the way plugin-update-checker does.
 * Version:           1.0.0
 * Requires at least: 6.0
 * Requires PHP:      7.4
 * Author:            KeyManager Test Seller
 * Author URI:        https://keymanager.example
 * Update URI:        https://updates.keymanager.test/km-updates-demo
 *
 * The Update URI names the host whose `update_plugins_{host}` hook answers for this plugin, so
 * WordPress.org never offers an update for it. The licensing server's address is the
 * KM_UPDATES_SERVER constant (wp-config.php); the license key is the km_updates_demo_license
 * option, the channel km_updates_demo_channel.
 */

defined( 'ABSPATH' ) || exit;

const KM_UPDATES_DEMO_SLUG = 'km-updates-demo';

/** The metadata URL with the query PUC sends (installed_version, php, locale, checking_for_updates, license_key). */
function km_updates_demo_metadata_url( $installed ) {
	$server = defined( 'KM_UPDATES_SERVER' ) ? KM_UPDATES_SERVER : 'https://updates.keymanager.test';
	$args   = array(
		'installed_version'    => $installed,
		'php'                  => PHP_VERSION,
		'locale'               => get_locale(),
		'checking_for_updates' => '1',
		'license_key'          => (string) get_option( 'km_updates_demo_license', '' ),
	);
	$channel = get_option( 'km_updates_demo_channel', 'stable' );
	if ( 'beta' === $channel ) {
		$args['channel'] = 'beta';
	}
	return add_query_arg( array_map( 'rawurlencode', $args ), rtrim( $server, '/' ) . '/updates/' . KM_UPDATES_DEMO_SLUG . '/info.json' );
}

/** What PUC does: ask, and map the metadata to WordPress's update (download_url becomes package). */
function km_updates_demo_check( $update, $plugin_data, $plugin_file ) {
	if ( plugin_basename( __FILE__ ) !== $plugin_file ) {
		return $update;
	}
	$response = wp_remote_get(
		km_updates_demo_metadata_url( $plugin_data['Version'] ),
		array(
			'timeout' => 10,
			'headers' => array( 'Accept' => 'application/json' ),
		)
	);
	if ( is_wp_error( $response ) || 200 !== wp_remote_retrieve_response_code( $response ) ) {
		return $update;
	}
	$info = json_decode( wp_remote_retrieve_body( $response ), true );
	if ( ! is_array( $info ) || empty( $info['version'] ) ) {
		return $update;
	}
	update_option( 'km_updates_demo_license_status', isset( $info['license_status'] ) ? $info['license_status'] : '' );
	return array(
		'slug'         => KM_UPDATES_DEMO_SLUG,
		'version'      => $info['version'],
		'url'          => isset( $info['homepage'] ) ? $info['homepage'] : '',
		'package'      => isset( $info['download_url'] ) ? $info['download_url'] : '',
		'requires'     => isset( $info['requires'] ) ? $info['requires'] : '',
		'tested'       => isset( $info['tested'] ) ? $info['tested'] : '',
		'requires_php' => isset( $info['requires_php'] ) ? $info['requires_php'] : '',
	);
}

$km_updates_demo_host = wp_parse_url( 'https://updates.keymanager.test/km-updates-demo', PHP_URL_HOST );
add_filter( 'update_plugins_' . $km_updates_demo_host, 'km_updates_demo_check', 10, 3 );

/*
 * The seller's signing key, for WordPress's own signature check of downloaded packages: trust the
 * key, check signatures for the licensing server's host, and refuse (not only warn) on a bad one.
 */
if ( defined( 'KM_UPDATES_PUBLIC_KEY' ) && defined( 'KM_UPDATES_SERVER' ) ) {
	$km_updates_server_host = wp_parse_url( KM_UPDATES_SERVER, PHP_URL_HOST );
	add_filter(
		'wp_trusted_keys',
		function ( $keys ) {
			$keys[] = KM_UPDATES_PUBLIC_KEY;
			return $keys;
		}
	);
	add_filter(
		'wp_signature_hosts',
		function ( $hosts ) use ( $km_updates_server_host ) {
			$hosts[] = $km_updates_server_host;
			return $hosts;
		}
	);
	add_filter(
		'wp_signature_softfail',
		function ( $softfail, $url ) use ( $km_updates_server_host ) {
			return wp_parse_url( $url, PHP_URL_HOST ) === $km_updates_server_host ? false : $softfail;
		},
		10,
		2
	);
}
