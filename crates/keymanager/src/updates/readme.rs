//! What WordPress reads from a package's text: the file headers of a plugin's main file or a
//! theme's style.css (`get_file_data`: `Name: value` lines in the first 8 KiB), readme.txt's
//! header fields and `== Sections ==`, and readme markup turned into the HTML the update clients
//! show (escaped: a package's text is never trusted as HTML).

/// The value of header `field` in `text` (the first 8 KiB of a file), as `get_file_data` reads
/// it: a line `[ \t/*#@]*Field: value`, the value trimmed and a closing `*/` or `?>` dropped.
pub fn header(text: &str, field: &str) -> Option<String> {
    for line in text.lines() {
        let line = line.trim_start_matches(['<', '?']).trim_start_matches("php");
        let rest = line.trim_start_matches([' ', '\t', '/', '*', '#', '@']);
        if rest.len() <= field.len() || !rest.is_char_boundary(field.len()) {
            continue;
        }
        let (name, after) = rest.split_at(field.len());
        if name.eq_ignore_ascii_case(field) {
            if let Some(value) = after.strip_prefix(':') {
                let value = value.trim();
                let value = value.strip_suffix("*/").unwrap_or(value);
                let value = value.strip_suffix("?>").unwrap_or(value).trim();
                if !value.is_empty() {
                    return Some(value.to_string());
                }
            }
        }
    }
    None
}

/// readme.txt, as far as update answers need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readme {
    pub requires: Option<String>,
    pub tested: Option<String>,
    pub requires_php: Option<String>,
    /// `== Name ==` sections by lower-case name, in readme markup.
    pub sections: Vec<(String, String)>,
}

impl Readme {
    pub fn parse(text: &str) -> Readme {
        let mut r = Readme::default();
        let mut current: Option<(String, String)> = None;
        for line in text.lines() {
            let t = line.trim();
            if t.starts_with("==") && t.ends_with("==") && t.len() > 4 && !t.starts_with("===") {
                if let Some(done) = current.take() {
                    r.sections.push(done);
                }
                current = Some((t.trim_matches('=').trim().to_lowercase(), String::new()));
                continue;
            }
            match &mut current {
                Some((_, body)) => {
                    body.push_str(line);
                    body.push('\n');
                }
                None => {
                    if let Some((name, value)) = t.split_once(':') {
                        let value = value.trim().to_string();
                        match name.trim().to_lowercase().as_str() {
                            "requires at least" => r.requires = Some(value),
                            "tested up to" => r.tested = Some(value),
                            "requires php" => r.requires_php = Some(value),
                            _ => {}
                        }
                    }
                }
            }
        }
        if let Some(done) = current {
            r.sections.push(done);
        }
        for (_, body) in &mut r.sections {
            *body = body.trim().to_string();
        }
        r
    }

    pub fn section(&self, name: &str) -> Option<&str> {
        self.sections.iter().find(|(n, _)| n == name).map(|(_, b)| b.as_str())
    }

    /// The paragraph under `= version =` in a section (the changelog, the upgrade notice).
    pub fn for_version(&self, section: &str, version: &str) -> Option<String> {
        version_block(self.section(section)?, version)
    }
}

/// The text under `= version =` (or `= version - date =`) up to the next `= … =` line.
pub fn version_block(section: &str, version: &str) -> Option<String> {
    let mut out: Option<String> = None;
    for line in section.lines() {
        let t = line.trim();
        if t.starts_with('=') && t.ends_with('=') && t.len() > 2 {
            if out.is_some() {
                break;
            }
            let title = t.trim_matches('=').trim();
            let named = title.split([' ', '\t']).next().unwrap_or("").trim_start_matches(['v', 'V']);
            if named == version {
                out = Some(String::new());
            }
            continue;
        }
        if let Some(o) = &mut out {
            o.push_str(line);
            o.push('\n');
        }
    }
    out.map(|o| o.trim().to_string()).filter(|o| !o.is_empty())
}

/// Readme markup as HTML: `= Title =` headings, `*`/`-` lists, paragraphs; everything escaped.
pub fn to_html(text: &str) -> String {
    let esc = crate::text::escape_html;
    let mut html = String::new();
    let mut in_list = false;
    let mut para: Vec<&str> = Vec::new();
    let flush = |html: &mut String, para: &mut Vec<&str>| {
        if !para.is_empty() {
            html.push_str("<p>");
            html.push_str(&esc(&para.join(" ")));
            html.push_str("</p>\n");
            para.clear();
        }
    };
    for line in text.lines() {
        let t = line.trim();
        let item = t.strip_prefix("* ").or_else(|| t.strip_prefix("- "));
        if item.is_none() && in_list {
            html.push_str("</ul>\n");
            in_list = false;
        }
        if t.is_empty() {
            flush(&mut html, &mut para);
        } else if t.len() > 2 && t.starts_with('=') && t.ends_with('=') {
            flush(&mut html, &mut para);
            html.push_str("<h4>");
            html.push_str(&esc(t.trim_matches('=').trim()));
            html.push_str("</h4>\n");
        } else if let Some(item) = item {
            flush(&mut html, &mut para);
            if !in_list {
                html.push_str("<ul>\n");
                in_list = true;
            }
            html.push_str("<li>");
            html.push_str(&esc(item.trim()));
            html.push_str("</li>\n");
        } else {
            para.push(t);
        }
    }
    flush(&mut html, &mut para);
    if in_list {
        html.push_str("</ul>\n");
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_as_get_file_data_reads_them() {
        let plugin = "<?php\n/**\n * Plugin Name: KM Test Plugin\n * Version:     1.2.0\n * Requires PHP: 7.4\n * Update URI: https://licenses.example.com\n */\n";
        assert_eq!(header(plugin, "Plugin Name").as_deref(), Some("KM Test Plugin"));
        assert_eq!(header(plugin, "Version").as_deref(), Some("1.2.0"));
        assert_eq!(header(plugin, "Requires PHP").as_deref(), Some("7.4"));
        assert_eq!(header(plugin, "Author"), None);
        let css = "/*\nTheme Name: KM Theme\nVersion: 2.0 */";
        assert_eq!(header(css, "Version").as_deref(), Some("2.0"));
        assert_eq!(header("# Version: 3", "Version").as_deref(), Some("3"));
    }

    #[test]
    fn readme_sections_and_versions() {
        let text = "=== KM Test ===\nRequires at least: 6.0\nTested up to: 6.4\nRequires PHP: 7.4\nStable tag: 1.2.0\n\n== Description ==\nDoes things.\n\n== Changelog ==\n= 1.2.0 =\n* Faster.\n* <b>Safer</b>.\n\n= 1.1.0 - 2026-01-01 =\n* Older.\n\n== Upgrade Notice ==\n= 1.2.0 =\nPlease back up first.\n";
        let r = Readme::parse(text);
        assert_eq!(
            (r.requires.as_deref(), r.tested.as_deref(), r.requires_php.as_deref()),
            (Some("6.0"), Some("6.4"), Some("7.4"))
        );
        assert_eq!(r.section("description"), Some("Does things."));
        assert_eq!(r.for_version("changelog", "1.2.0").as_deref(), Some("* Faster.\n* <b>Safer</b>."));
        assert_eq!(r.for_version("changelog", "1.1.0").as_deref(), Some("* Older."));
        assert_eq!(r.for_version("upgrade notice", "1.2.0").as_deref(), Some("Please back up first."));
        assert_eq!(r.for_version("upgrade notice", "9.9"), None);
        let html = to_html(r.section("changelog").unwrap());
        assert_eq!(
            html,
            "<h4>1.2.0</h4>\n<ul>\n<li>Faster.</li>\n<li>&lt;b&gt;Safer&lt;/b&gt;.</li>\n</ul>\n<h4>1.1.0 - 2026-01-01</h4>\n<ul>\n<li>Older.</li>\n</ul>\n"
        );
    }
}
