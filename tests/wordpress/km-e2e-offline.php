<?php
/**
 * Must-use plugin of the update-delivery test only (copied into wp-content/mu-plugins). This
 * machine cannot reach wordpress.org, and WordPress's update check stops before third-party
 * update hooks when wordpress.org does not answer: its answers are given here, empty. The
 * licensing server runs on loopback on a test port, which WordPress refuses for downloads
 * unless told otherwise (the contract's note on ports). With the km_e2e_tamper option, a
 * downloaded package is altered on arrival and its Content-MD5 dropped, as a machine in the
 * middle would do it.
 */

add_filter(
	'pre_http_request',
	function ( $pre, $args, $url ) {
		$host = wp_parse_url( $url, PHP_URL_HOST );
		if ( ! in_array( $host, array( 'api.wordpress.org', 'downloads.wordpress.org', 's.w.org', 'wordpress.org' ), true ) ) {
			return $pre;
		}
		$body = '{}';
		if ( false !== strpos( $url, 'plugins/update-check' ) ) {
			$body = wp_json_encode( array( 'plugins' => array(), 'translations' => array(), 'no_update' => array() ) );
		} elseif ( false !== strpos( $url, 'themes/update-check' ) ) {
			$body = wp_json_encode( array( 'themes' => array(), 'translations' => array(), 'no_update' => array() ) );
		}
		return array(
			'headers'  => array(),
			'body'     => $body,
			'response' => array( 'code' => 200, 'message' => 'OK' ),
			'cookies'  => array(),
			'filename' => null,
		);
	},
	10,
	3
);

add_filter(
	'http_request_host_is_external',
	function ( $external, $host ) {
		return '127.0.0.1' === $host ? true : $external;
	},
	10,
	2
);

add_filter(
	'http_allowed_safe_ports',
	function ( $ports ) {
		$ports[] = (int) wp_parse_url( KM_UPDATES_SERVER, PHP_URL_PORT );
		return $ports;
	}
);

add_filter(
	'http_response',
	function ( $response, $args, $url ) {
		if ( ! get_option( 'km_e2e_tamper' ) || false === strpos( $url, '/updates/download/' ) || empty( $response['filename'] ) ) {
			return $response;
		}
		$zip = new ZipArchive();
		if ( true === $zip->open( $response['filename'] ) ) {
			$zip->addFromString( 'km-updates-demo/injected.php', "<?php // not the seller's code\n" );
			$zip->close();
		}
		if ( isset( $response['headers']['content-md5'] ) ) {
			unset( $response['headers']['content-md5'] );
		}
		return $response;
	},
	10,
	3
);
