//! The code a seller pastes into a plugin or theme so it asks this server for updates: the
//! plugin-update-checker flavour and the EDD flavour, with this server's public address, the
//! product's slug, and the three filters that make WordPress check the seller's signature on
//! every package from this host (updates-api.md: without `wp_signature_softfail` returning
//! false, a bad signature only warns).

use super::{ProductUpdates, UpdateKind};
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct Snippet {
    /// plugin-update-checker (v5).
    pub puc: String,
    /// EDD Software Licensing's `EDD_SL_Plugin_Updater` (plugins; themes use PUC).
    pub edd: Option<String>,
    /// The metadata URL PUC is given.
    pub metadata_url: String,
    /// Why the snippet cannot work yet (no public address, no slug), for the window to say.
    pub problem: Option<String>,
}

/// A PHP single-quoted string literal's contents.
fn php(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}

/// The snippet for `product` on a server reachable at `public_url`, signing with `public_key`.
pub fn snippet(product: &ProductUpdates, public_url: &str, public_key: &str) -> Snippet {
    let base = public_url.trim_end_matches('/');
    let slug = product.slug.clone().unwrap_or_else(|| "your-plugin".into());
    let option = format!("{}_license_key", slug.replace(['-', '.'], "_"));
    let metadata_url =
        format!("{}/updates/{slug}/info.json", if base.is_empty() { "https://licenses.example.com" } else { base });
    let host = url::Url::parse(&metadata_url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
    let problem = if base.is_empty() {
        Some("Set the licensing server's public address (Settings › Licensing server): the code and the download links point there.".to_string())
    } else if product.slug.is_none() {
        Some("This product has no update slug yet: add its first release, or set the slug above.".to_string())
    } else if !matches!(url::Url::parse(base).ok().and_then(|u| u.port_or_known_default()), Some(80 | 443 | 8080)) {
        Some("WordPress downloads packages only from ports 80, 443 and 8080: give the server a public address on one of them.".to_string())
    } else {
        None
    };
    let trust = format!(
        r#"// Check the seller's signature on every package from this server, and refuse a bad one.
add_filter( 'wp_trusted_keys', function ( $keys ) {{ $keys[] = '{key}'; return $keys; }} );
add_filter( 'wp_signature_hosts', function ( $hosts ) {{ $hosts[] = '{host}'; return $hosts; }} );
add_filter( 'wp_signature_softfail', function ( $softfail, $url ) {{
	return wp_parse_url( $url, PHP_URL_HOST ) === '{host}' ? false : $softfail;
}}, 10, 2 );"#,
        key = php(public_key),
        host = php(&host),
    );
    let file = if product.kind == Some(UpdateKind::WpTheme) {
        "get_stylesheet_directory() . '/functions.php'"
    } else {
        "__FILE__"
    };
    let puc = format!(
        r#"// Updates from KeyManager ({name}), with plugin-update-checker 5:
// https://github.com/YahnisElsts/plugin-update-checker
require_once __DIR__ . '/plugin-update-checker/plugin-update-checker.php';
use YahnisElsts\PluginUpdateChecker\v5\PucFactory;

$km_update_checker = PucFactory::buildUpdateChecker(
	'{url}',
	{file},
	'{slug}'
);
// The buyer's license key (or Envato purchase code), from your settings page.
$km_update_checker->addQueryArgFilter( function ( $args ) {{
	$args['license_key'] = get_option( '{option}', '' );
	return $args;
}} );

{trust}
"#,
        name = php(&product.product_name),
        url = php(&metadata_url),
        slug = php(&slug),
        option = php(&option),
    );
    let edd = (product.kind != Some(UpdateKind::WpTheme)).then(|| {
        format!(
            r#"// Updates from KeyManager ({name}), with EDD Software Licensing's EDD_SL_Plugin_Updater.
if ( ! class_exists( 'EDD_SL_Plugin_Updater' ) ) {{
	require_once __DIR__ . '/EDD_SL_Plugin_Updater.php';
}}
add_action( 'init', function () {{
	$plugin = get_file_data( __FILE__, array( 'Version' => 'Version' ) );
	new EDD_SL_Plugin_Updater( '{edd}', __FILE__, array(
		'version' => $plugin['Version'],
		'license' => get_option( '{option}', '' ),
		'item_id' => {id},
		'author'  => '',
		'beta'    => false,
	) );
}} );

{trust}
"#,
            name = php(&product.product_name),
            edd = php(&format!("{}/edd", if base.is_empty() { "https://licenses.example.com" } else { base })),
            option = php(&option),
            id = product.product_id,
        )
    });
    Snippet { puc, edd, metadata_url, problem }
}

/// The snippet of product `product_id` with the seller's settings.
pub fn for_product(store: &crate::Store, product_id: i64, public_key: &str) -> crate::Result<Snippet> {
    let product = store.product_updates(product_id)?.ok_or_else(|| {
        crate::Error::new(crate::ErrorCode::ProductNotFound, format!("There is no product with ID {product_id}."))
    })?;
    Ok(snippet(&product, &store.settings()?.public_url, public_key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(kind: UpdateKind) -> ProductUpdates {
        ProductUpdates {
            product_id: 7,
            product_name: "Seller's Plugin".into(),
            slug: Some("km-demo".into()),
            kind: Some(kind),
            require_activation: false,
        }
    }

    #[test]
    fn the_snippets_name_this_server_the_slug_and_the_key() {
        let s = snippet(&product(UpdateKind::WpPlugin), "https://licenses.example.com/", "PUBKEY=");
        assert_eq!(s.metadata_url, "https://licenses.example.com/updates/km-demo/info.json");
        assert!(s.puc.contains("'https://licenses.example.com/updates/km-demo/info.json'"));
        assert!(s.puc.contains("$args['license_key'] = get_option( 'km_demo_license_key', '' );"));
        assert!(s.puc.contains("$keys[] = 'PUBKEY=';") && s.puc.contains("$hosts[] = 'licenses.example.com';"));
        assert!(s.puc.contains("wp_signature_softfail"));
        assert!(s.puc.contains("(Seller\\'s Plugin)"), "quotes are escaped for PHP");
        let edd = s.edd.unwrap();
        assert!(edd.contains("'https://licenses.example.com/edd'") && edd.contains("'item_id' => 7,"));
        assert_eq!(s.problem, None);
        let theme = snippet(&product(UpdateKind::WpTheme), "https://licenses.example.com", "K");
        assert!(theme.edd.is_none() && theme.puc.contains("get_stylesheet_directory()"));
        assert!(snippet(&product(UpdateKind::WpPlugin), "", "K").problem.unwrap().contains("public address"));
        assert!(snippet(&product(UpdateKind::WpPlugin), "http://127.0.0.1:8787", "K")
            .problem
            .unwrap()
            .contains("ports 80, 443"));
    }
}
