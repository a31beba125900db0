//! Text from a log made safe to put in HTML and SVG, as text or in a quoted attribute.

/// `text` HTML-escaped (`& < > " '`), after the terminal-safe rewrite every command
/// applies to log text (controls and bidi overrides shown as escapes): agent names,
/// tool names and run ids can hold anything, and a report is opened in a browser.
pub(crate) fn esc(text: &str) -> String {
    let text = crate::render::printable(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` cut to `chars` characters (an ellipsis marking the cut), then escaped.
pub(crate) fn esc_short(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return esc(text);
    }
    let cut: String = text.chars().take(chars.saturating_sub(1)).collect();
    esc(&format!("{cut}…"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_name_is_text() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn controls_are_shown_not_kept() {
        let text = esc("a\u{0}b\u{1b}[31m");
        assert!(
            !text.contains('\u{0}') && !text.contains('\u{1b}'),
            "{text}"
        );
    }

    #[test]
    fn cut_names_are_escaped_after_the_cut() {
        assert_eq!(esc_short("<<<<<", 3), "&lt;&lt;…");
        assert_eq!(esc_short("<a>", 3), "&lt;a&gt;");
    }
}
