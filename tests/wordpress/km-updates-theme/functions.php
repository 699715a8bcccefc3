<?php
/**
 * Updates from a KeyManager licensing server, the way plugin-update-checker does it for themes:
 * the `update_themes_{host}` hook of the theme's Update URI, the metadata's download_url as the
 * package.
 */

defined( 'ABSPATH' ) || exit;

add_filter(
	'update_themes_updates.keymanager.test',
	function ( $update, $theme_data, $theme_stylesheet ) {
		if ( 'km-updates-theme' !== $theme_stylesheet ) {
			return $update;
		}
		$server = defined( 'KM_UPDATES_SERVER' ) ? KM_UPDATES_SERVER : 'https://updates.keymanager.test';
		$url    = add_query_arg(
			array(
				'installed_version' => rawurlencode( $theme_data['Version'] ),
				'php'               => rawurlencode( PHP_VERSION ),
				'locale'            => rawurlencode( get_locale() ),
				'license_key'       => rawurlencode( (string) get_option( 'km_updates_theme_license', '' ) ),
			),
			rtrim( $server, '/' ) . '/updates/km-updates-theme/info.json'
		);
		$response = wp_remote_get( $url, array( 'timeout' => 10, 'headers' => array( 'Accept' => 'application/json' ) ) );
		if ( is_wp_error( $response ) || 200 !== wp_remote_retrieve_response_code( $response ) ) {
			return $update;
		}
		$info = json_decode( wp_remote_retrieve_body( $response ), true );
		if ( ! is_array( $info ) || empty( $info['version'] ) ) {
			return $update;
		}
		return array(
			'theme'   => 'km-updates-theme',
			'version' => $info['version'],
			'url'     => isset( $info['details_url'] ) ? $info['details_url'] : '',
			'package' => isset( $info['download_url'] ) ? $info['download_url'] : '',
		);
	},
	10,
	3
);
