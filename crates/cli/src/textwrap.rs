//! Python's `textwrap.wrap`/`fill` with its default settings.
//!
//! Why: the help texts of the gnt-* tools are laid out by optparse, which
//! wraps with `textwrap`; scripts and the golden files compare those texts
//! byte for byte, so the line breaking must be Python's (greedy, breaking
//! long words, breaking after hyphens inside words, dropping whitespace at
//! line boundaries) rather than any "nicer" algorithm.

/// Split `text` into the chunks Python's `TextWrapper._split` produces:
/// runs of whitespace, and words (broken after an inner hyphen when it sits
/// between letters, as `wordsep_re` does).
fn chunks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' {
            let start = i;
            while i < chars.len() && chars[i] == ' ' {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i] != ' ' {
            i += 1;
        }
        let word = &chars[start..i];
        let mut piece_start = 0;
        for j in 0..word.len() {
            if word[j] == '-' && hyphen_breaks(word, j) {
                out.push(word[piece_start..=j].iter().collect());
                piece_start = j + 1;
            }
        }
        if piece_start < word.len() {
            out.push(word[piece_start..].iter().collect());
        }
    }
    out
}

fn is_letter(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphabetic())
}

/// Whether Python would break after the hyphen at `j`: preceded by two
/// letters (or letter-hyphen-letter) and followed by a letter, optionally a
/// hyphen, and a letter.
fn hyphen_breaks(w: &[char], j: usize) -> bool {
    let before_ok = (j >= 2 && is_letter(w.get(j - 1)) && is_letter(w.get(j - 2)))
        || (j >= 3 && is_letter(w.get(j - 1)) && w[j - 2] == '-' && is_letter(w.get(j - 3)));
    let after_ok = is_letter(w.get(j + 1))
        && (is_letter(w.get(j + 2)) || (w.get(j + 2) == Some(&'-') && is_letter(w.get(j + 3))));
    before_ok && after_ok
}

/// `textwrap.wrap(text, width)`: the lines, without line ends.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut chunks: Vec<String> = chunks(text);
    chunks.reverse();
    let mut lines = Vec::new();
    while !chunks.is_empty() {
        let mut cur: Vec<String> = Vec::new();
        let mut cur_len = 0usize;
        // Drop leading whitespace of every line but the first.
        if !lines.is_empty() && chunks.last().is_some_and(|c| c.trim().is_empty()) {
            chunks.pop();
        }
        while let Some(chunk) = chunks.last() {
            let l = chunk.chars().count();
            if cur_len + l <= width {
                cur_len += l;
                if let Some(c) = chunks.pop() {
                    cur.push(c);
                }
            } else {
                break;
            }
        }
        if let Some(chunk) = chunks.last() {
            if chunk.chars().count() > width {
                // Break a long word to fill the line (at least one char).
                let space_left = width.saturating_sub(cur_len);
                if space_left == 0 {
                    // The line is full; the word goes on the next one.
                } else if let Some(c) = chunks.pop() {
                    let head: String = c.chars().take(space_left).collect();
                    let tail: String = c.chars().skip(space_left).collect();
                    cur.push(head);
                    cur_len += space_left;
                    if !tail.is_empty() {
                        chunks.push(tail);
                    }
                }
            }
        }
        // Drop trailing whitespace.
        if cur.last().is_some_and(|c| c.trim().is_empty()) {
            if let Some(c) = cur.pop() {
                cur_len -= c.chars().count();
            }
        }
        let _ = cur_len;
        if !cur.is_empty() {
            lines.push(cur.concat());
        }
    }
    lines
}

/// `textwrap.fill(text, width)`.
pub fn fill(text: &str, width: usize) -> String {
    wrap(text, width).join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_wrapping_like_python() {
        let t = "Lists the instances and their status. The available fields can be shown using the \"list-fields\" command (see the man page for details). The default field list is (in order): name, hypervisor, os, pnode, status, oper_ram.";
        assert_eq!(
            wrap(t, 78),
            [
                "Lists the instances and their status. The available fields can be shown using",
                "the \"list-fields\" command (see the man page for details). The default field",
                "list is (in order): name, hypervisor, os, pnode, status, oper_ram."
            ]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
        );
    }

    #[test]
    fn hyphenated_words_break_after_hyphen() {
        // Python: textwrap.wrap("aaa cluster-wide", 12) == ['aaa cluster-', 'wide']
        assert_eq!(wrap("aaa cluster-wide", 12), vec!["aaa cluster-", "wide"]);
        // but not before digits or after a single letter
        assert_eq!(wrap("aaa x-wide", 6), vec!["aaa", "x-wide"]);
        assert_eq!(wrap("--no-headers", 5), vec!["--no-", "heade", "rs"]);
    }

    #[test]
    fn long_words_are_broken_and_spaces_dropped() {
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("  a   b  ", 3), vec!["  a", "b"]);
        assert!(wrap("", 10).is_empty());
        assert_eq!(fill("a b c", 3), "a b\nc");
    }
}
