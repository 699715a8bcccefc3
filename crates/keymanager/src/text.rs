//! Small text helpers shared by the buyer page, e-mail, the planner and the desktop's notifications.

/// Cuts to at most `max` characters (never inside a character), marking the cut with "…".
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Bytes as lowercase hex (digests, nonces in file names).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Text safe inside HTML elements and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A desktop notification's body: the freedesktop notification servers read a subset of HTML
/// markup there (`<b>`, `<a href>`, `<img>`), so text that came from elsewhere (a product name,
/// a webhook receiver's error) is escaped with the three entities every server decodes, and cut
/// to a length a notification can show.
pub fn notification_body(s: &str) -> String {
    let cut: String = s.chars().filter(|c| !c.is_control() || *c == '\n').take(300).collect();
    let mut out = String::with_capacity(cut.len());
    for c in cut.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// Characters that reorder how text is displayed (bidirectional overrides and isolates, and the
/// invisible marks): in a label shown to the seller they can make `evil.example` read as
/// `elpmaxe.live`, so labels refuse them.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_markup_is_shown_as_text() {
        assert_eq!(
            notification_body("<a href=\"https://evil.example\">Click</a> & <img src=x>"),
            "&lt;a href=\"https://evil.example\"&gt;Click&lt;/a&gt; &amp; &lt;img src=x&gt;"
        );
        assert_eq!(notification_body("plain text"), "plain text");
        assert_eq!(notification_body(&"x".repeat(1000)).len(), 300);
    }

    #[test]
    fn bidi_controls_are_recognised() {
        assert!("evil\u{202E}elpmaxe".chars().any(is_bidi_control));
        assert!("a\u{2066}b".chars().any(is_bidi_control));
        assert!(!"Café Ünïcode 日本".chars().any(is_bidi_control));
    }
}
