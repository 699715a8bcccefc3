//! Envato token permissions ("scopes"), in the words of Envato's create-token page.

/// What KeyManager needs: listing sales, verifying a purchase code (either scope works:
/// sources disagree), and showing whose account the token belongs to.
pub const NEEDED_FOR_SYNC: &str = "sale:history";
pub const NEEDED_FOR_VERIFY: [&str; 2] = ["sale:history", "sale:verify"];
pub const NEEDED_FOR_USERNAME: &str = "user:username";

/// The create-token page with KeyManager's permissions already ticked.
pub const CREATE_TOKEN_URL: &str =
    "https://build.envato.com/create-token/?sale:history=t&sale:verify=t&user:username=t";

/// The label Envato's token page shows for a scope.
pub fn label(scope: &str) -> &'static str {
    match scope {
        "default" => "View and search Envato sites",
        "user:username" => "View your Envato Account username",
        "user:email" => "View your email address",
        "user:account" => "View your account profile details",
        "user:financial" => "View your account financial history",
        "sale:history" => "View your items' sales history",
        "sale:verify" => "Verify purchases of your items",
        "purchase:download" => "Download your purchased items",
        "purchase:list" => "List purchases you've made",
        "purchase:verify" => "Verify purchases you've made",
        "purchase:history" => "View your purchase history",
        _ => "an Envato permission",
    }
}

/// The scopes KeyManager needs that `granted` lacks, each once.
pub fn missing(granted: &[String]) -> Vec<&'static str> {
    let has = |s: &str| granted.iter().any(|g| g == s);
    let mut out = Vec::new();
    if !has(NEEDED_FOR_SYNC) {
        out.push(NEEDED_FOR_SYNC);
    }
    if !has(NEEDED_FOR_USERNAME) {
        out.push(NEEDED_FOR_USERNAME);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_each_missing_scope() {
        let all: Vec<String> = ["default", "sale:history", "user:username"].iter().map(|s| s.to_string()).collect();
        assert!(missing(&all).is_empty());
        assert_eq!(missing(&["default".to_string()]), vec!["sale:history", "user:username"]);
        assert_eq!(label("sale:history"), "View your items' sales history");
    }
}
