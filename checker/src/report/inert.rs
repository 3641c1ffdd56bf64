//! Text that came from a submission, made safe to show and to store. A server's lines, its
//! panic message, the compiler's errors about its source and its file's name are written
//! by whoever wrote the submission: an escape sequence among them would clear a grader's
//! screen, retitle the terminal or hide a line of the report, and a carriage return would
//! overwrite a verdict with text of the student's choosing. Here every such character is
//! written out visibly instead (`\x1b`, `\r`), and a quoted line is cut to a length a
//! report can hold.
//!
//! The checker's own colours are added by the renderers after this, so they still work.
//! Escaping is idempotent (its output has nothing left to escape), so text that passed
//! through here once may pass again, at another boundary, unchanged.

use std::borrow::Cow;

/// The most characters of one quoted line a report shows: enough for any line of the
/// lab's formats or a panic message, short of a flood.
pub const LINE_CAP: usize = 300;

/// The most characters of one reason a report shows. A reason is the checker's own
/// sentences around a few quoted lines; past this it holds a flood from the server.
pub const REASON_CAP: usize = 4_000;

/// `text` with every control character except line breaks and tabs escaped: the form for
/// text of many lines (the compiler's errors, a message on stderr).
pub fn inert(text: &str) -> Cow<'_, str> {
    escape(text, |c| c == '\n' || c == '\t')
}

/// One line from a submission (a line its server printed, its name) to quote on one line:
/// cut to [`LINE_CAP`] of its characters, and every control character but a tab escaped,
/// line breaks too.
pub fn quote(line: &str) -> Cow<'_, str> {
    match cut(line, LINE_CAP) {
        Cow::Borrowed(line) => escape(line, |c| c == '\t'),
        Cow::Owned(cut) => Cow::Owned(escape(&cut, |c| c == '\t').into_owned()),
    }
}

/// A reason to show: cut to [`REASON_CAP`] characters, and inert, line breaks included.
/// A reason is one line of the report; a break in it (a descriptor's path or a process's
/// name can hold one) would let the server begin a line of its own, a `Total:` say.
pub fn reason(text: &str) -> Cow<'_, str> {
    match cut(text, REASON_CAP) {
        Cow::Borrowed(text) => escape(text, |c| c == '\t'),
        Cow::Owned(cut) => Cow::Owned(escape(&cut, |c| c == '\t').into_owned()),
    }
}

/// Whether `c` can change what a terminal or a viewer shows beyond itself: the C0 and C1
/// controls, DEL, and the Unicode marks that reorder the text around them (which can make
/// a line read other than it is written).
fn is_active(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape(text: &str, kept: impl Fn(char) -> bool) -> Cow<'_, str> {
    let escaped = |c: char| is_active(c) && !kept(c);
    if !text.chars().any(escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !escaped(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x80 => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        }
    }
    Cow::Owned(out)
}

/// `text` cut to `cap` characters, the cut marked with how many were left out. Cut before
/// escaping, so that the count is of the submission's own characters and no escape is
/// cut in two.
fn cut(text: &str, cap: usize) -> Cow<'_, str> {
    let Some((end, _)) = text.char_indices().nth(cap) else {
        return Cow::Borrowed(text);
    };
    let left_out = text[end..].chars().count();
    Cow::Owned(format!("{}… ({left_out} more characters)", &text[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_carriage_returns_are_written_out() {
        assert_eq!(
            inert("\x1b[2Jcleared\r\x1b]0;title\x07 ok"),
            "\\x1b[2Jcleared\\r\\x1b]0;title\\x07 ok"
        );
        assert_eq!(
            inert("back\x08space, del\x7f, nul\0"),
            "back\\x08space, del\\x7f, nul\\x00"
        );
        assert_eq!(inert("c1: \u{9b}31m"), "c1: \\u{9b}31m");
        assert_eq!(inert("evil\u{202e}txt.rs"), "evil\\u{202e}txt.rs");
    }

    #[test]
    fn line_breaks_and_tabs_stay_in_text_but_not_in_a_quoted_line() {
        let errors = "error[E0308]: mismatched types\n\t--> server.rs:3:1";
        assert!(matches!(inert(errors), Cow::Borrowed(_)));
        assert_eq!(
            quote("one\nline\r\n\tand a tab"),
            "one\\nline\\r\\n\tand a tab"
        );
    }

    #[test]
    fn plain_text_is_left_as_it_is_and_escaping_twice_changes_nothing() {
        let line = "Received 104857600 bytes from [Client 5] — ünïcode";
        assert!(matches!(quote(line), Cow::Borrowed(_)));
        let once = inert("\x1b[31mred\r").into_owned();
        assert_eq!(inert(&once), once);
    }

    #[test]
    fn a_long_line_is_cut_and_says_how_much_is_left_out() {
        let line = "é".repeat(LINE_CAP + 25);
        assert_eq!(
            quote(&line),
            format!("{}… (25 more characters)", "é".repeat(LINE_CAP))
        );
        assert!(matches!(quote(&"x".repeat(LINE_CAP)), Cow::Borrowed(_)));
        let flood = format!("the server stopped: it panicked at {}", "A".repeat(1 << 20));
        assert_eq!(
            reason("blocked reading /tmp/x\nTotal: 100/100"),
            "blocked reading /tmp/x\\nTotal: 100/100"
        );
        assert!(reason(&flood).chars().count() < REASON_CAP + 40);
    }

    #[test]
    fn a_line_is_cut_in_its_own_characters_before_they_are_escaped() {
        let line = "\x1b".repeat(LINE_CAP + 7);
        assert_eq!(
            quote(&line),
            format!("{}… (7 more characters)", "\\x1b".repeat(LINE_CAP))
        );
    }
}
