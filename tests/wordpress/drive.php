<?php
/**
 * Drives a real WordPress from the command line for the update-delivery test
 * (crates/keymanager-cli/tests/wordpress.rs): `php drive.php WP_DIR COMMAND [ARGS]`, one JSON
 * object on standard output.
 *
 *   install                      wp_install(), activate the test plugin, switch to the test theme
 *   option NAME VALUE            update_option()
 *   check                        WordPress's own update check (wp_update_plugins/themes), fresh
 *   upgrade-plugin               Plugin_Upgrader::upgrade() of the test plugin
 *   upgrade-theme                Theme_Upgrader::upgrade() of the test theme
 */

$wp_dir  = $argv[1];
$command = $argv[2];

if ( 'install' === $command ) {
	define( 'WP_INSTALLING', true );
}
$_SERVER['HTTP_HOST']   = 'site.example';
$_SERVER['REQUEST_URI'] = '/';
require $wp_dir . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/admin.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/class-wp-upgrader.php';

const PLUGIN = 'km-updates-demo/km-updates-demo.php';
const THEME  = 'km-updates-theme';

function out( $value ) {
	echo json_encode( $value, JSON_UNESCAPED_SLASHES ), "\n";
	exit( 0 );
}

/** Upgrader skin that keeps what WordPress would have shown. */
class KM_Capturing_Skin extends Automatic_Upgrader_Skin {
	public $errors = array();
	public function error( $errors ) {
		if ( is_wp_error( $errors ) ) {
			foreach ( $errors->get_error_codes() as $code ) {
				$data           = $errors->get_error_data( $code );
				$this->errors[] = array(
					'code'    => $code,
					'message' => $errors->get_error_message( $code ),
					'data'    => is_scalar( $data ) ? (string) $data : '',
				);
			}
		} elseif ( is_string( $errors ) ) {
			$this->errors[] = array( 'code' => 'string', 'message' => $errors );
		}
		parent::error( $errors );
	}
}

function upgrade_result( $result, $skin ) {
	$messages = array_map( 'wp_strip_all_tags', (array) $skin->get_upgrade_messages() );
	if ( is_wp_error( $result ) ) {
		$skin->error( $result );
	}
	$warnings = array_values(
		array_filter(
			$messages,
			function ( $m ) {
				return false !== stripos( $m, 'signature' ) || false !== stripos( $m, 'verif' );
			}
		)
	);
	return array(
		'ok'       => true === $result || ( ! is_wp_error( $result ) && ! empty( $result ) && empty( $skin->errors ) ),
		'errors'   => $skin->errors,
		'messages' => $messages,
		'warnings' => $warnings,
	);
}

switch ( $command ) {
	case 'install':
		wp_install( 'KM E2E', 'admin', 'admin@site.example', true, '', 'password-not-used' );
		update_option( 'permalink_structure', '' );
		$activated = activate_plugin( PLUGIN );
		switch_theme( THEME );
		out(
			array(
				'installed' => is_blog_installed(),
				'plugin'    => is_wp_error( $activated ) ? $activated->get_error_message() : 'active',
				'theme'     => get_stylesheet(),
			)
		);
		break;

	case 'option':
		update_option( $argv[3], $argv[4] );
		out( array( $argv[3] => get_option( $argv[3] ) ) );
		break;

	case 'check':
		delete_site_transient( 'update_plugins' );
		delete_site_transient( 'update_themes' );
		wp_clean_plugins_cache( false );
		wp_clean_themes_cache( false );
		wp_update_plugins();
		wp_update_themes();
		$plugins = get_site_transient( 'update_plugins' );
		$themes  = get_site_transient( 'update_themes' );
		out(
			array(
				'plugin'                => isset( $plugins->response[ PLUGIN ] ) ? $plugins->response[ PLUGIN ] : null,
				'plugin_no_update'      => isset( $plugins->no_update[ PLUGIN ] ) ? $plugins->no_update[ PLUGIN ] : null,
				'plugin_license_status' => get_option( 'km_updates_demo_license_status' ),
				'theme'                 => isset( $themes->response[ THEME ] ) ? $themes->response[ THEME ] : null,
				'theme_no_update'       => isset( $themes->no_update[ THEME ] ) ? $themes->no_update[ THEME ] : null,
				'user_agent'            => 'WordPress/' . get_bloginfo( 'version' ) . '; ' . get_bloginfo( 'url' ),
			)
		);
		break;

	case 'upgrade-plugin':
		$skin     = new KM_Capturing_Skin();
		$upgrader = new Plugin_Upgrader( $skin );
		$was      = is_plugin_active( PLUGIN );
		$result   = $upgrader->upgrade( PLUGIN );
		// What the admin's update screen does next: the plugin is active again.
		if ( $was && ! is_plugin_active( PLUGIN ) ) {
			activate_plugin( PLUGIN );
		}
		out( upgrade_result( $result, $skin ) );
		break;

	case 'upgrade-theme':
		$skin     = new KM_Capturing_Skin();
		$upgrader = new Theme_Upgrader( $skin );
		$result   = $upgrader->upgrade( THEME );
		out( upgrade_result( $result, $skin ) );
		break;

	default:
		fwrite( STDERR, "unknown command $command\n" );
		exit( 2 );
}
