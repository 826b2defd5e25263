//! Text that leaves the app through the tray or a notification: cleaned and clipped.

/// The most characters (not bytes) any one string in a notification or the tray keeps.
pub const MAX_TEXT_CHARS: usize = 200;

/// The most characters a notification button label keeps (platforms cut long labels
/// unpredictably).
pub const MAX_LABEL_CHARS: usize = 40;

/// `text` made safe to show outside the app: control characters (newlines and tabs included)
/// become spaces, bidirectional overrides and other invisible formatting characters are
/// dropped (they can make a title read differently from what it is), runs of whitespace
/// collapse to one space, both ends are trimmed, and the result is clipped to `max_chars`
/// characters, the last being `…` when something was cut.
pub fn clean(text: &str, max_chars: usize) -> String {
    let mut chars: Vec<char> = Vec::with_capacity(text.len().min(max_chars.saturating_add(1)));
    let mut space_pending = false;
    for c in text.chars() {
        if is_invisible_format(c) {
            continue;
        }
        if c.is_control() || c.is_whitespace() {
            space_pending = !chars.is_empty();
            continue;
        }
        if space_pending {
            chars.push(' ');
            space_pending = false;
        }
        chars.push(c);
        // One character more than fits is enough to know that the text must be clipped.
        if chars.len() > max_chars {
            break;
        }
    }
    if chars.len() > max_chars {
        if max_chars == 0 {
            return String::new();
        }
        chars.truncate(max_chars - 1);
        while chars.last() == Some(&' ') {
            chars.pop();
        }
        chars.push('…');
    }
    chars.into_iter().collect()
}

/// Zero-width and bidirectional formatting characters: invisible, and able to reorder what
/// the user reads (the "Trojan Source" trick).
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// An age for people: `just now`, `12 min`, `3 h`, `2 d` (rounded down).
pub fn format_age(age_ms: u64) -> String {
    let minutes = age_ms / 60_000;
    if minutes == 0 {
        "just now".to_owned()
    } else if minutes < 60 {
        format!("{minutes} min")
    } else if minutes < 24 * 60 {
        format!("{} h", minutes / 60)
    } else {
        format!("{} d", minutes / (24 * 60))
    }
}

/// `text` with `&`, `<` and `>` escaped, for notification servers that read a markup subset in
/// bodies (most freedesktop servers do; macOS and Windows do not, so only the Linux path of
/// the shell should call this).
pub fn escape_body_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_cases() {
        let long = "x".repeat(250);
        let clipped = format!("{}…", "x".repeat(199));
        let cases: &[(&str, usize, &str)] = &[
            ("plain", 200, "plain"),
            ("  padded  ", 200, "padded"),
            ("line one\nline two\r\n\tend", 200, "line one line two end"),
            ("bell\u{7}and\u{1b}[31mred", 200, "bell and [31mred"),
            ("c1\u{85}next\u{9b}x", 200, "c1 next x"),
            ("del\u{7f}x", 200, "del x"),
            ("abc\u{202E}fed\u{202C}", 200, "abcfed"),
            ("zero\u{200B}width\u{FEFF}", 200, "zerowidth"),
            ("isolate\u{2066}x\u{2069}", 200, "isolatex"),
            (&long, 200, &clipped),
            ("exactly five", 12, "exactly five"),
            ("exactly five!", 12, "exactly fiv…"),
            ("ab cd", 4, "ab…"),
            ("anything", 0, ""),
            ("", 10, ""),
            ("\n\n", 10, ""),
            ("ünïcödé ✓ 日本語", 200, "ünïcödé ✓ 日本語"),
            ("日本語日本語", 4, "日本語…"),
        ];
        for (input, max, expected) in cases {
            assert_eq!(clean(input, *max), *expected, "clean({input:?}, {max})");
        }
    }

    #[test]
    fn clean_never_exceeds_the_limit() {
        for max in 0..12 {
            let out = clean("a b c d e f g h i j k l m n o p", max);
            assert!(out.chars().count() <= max, "{out:?} for {max}");
        }
    }

    #[test]
    fn ages() {
        let cases = [
            (0, "just now"),
            (59_999, "just now"),
            (60_000, "1 min"),
            (59 * 60_000 + 59_999, "59 min"),
            (60 * 60_000, "1 h"),
            (23 * 3_600_000 + 3_599_999, "23 h"),
            (24 * 3_600_000, "1 d"),
            (50 * 3_600_000, "2 d"),
        ];
        for (ms, expected) in cases {
            assert_eq!(format_age(ms), expected, "{ms} ms");
        }
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape_body_markup("<a href=\"x\">a & b</a>"),
            "&lt;a href=\"x\"&gt;a &amp; b&lt;/a&gt;"
        );
    }
}
