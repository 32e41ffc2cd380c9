//! The few Python text and error rules an OS provider's files are read by.
//!
//! Why: Ganeti reads `ganeti_api_version`, `variants.list` and
//! `parameters.list` with Python's `str.splitlines`, `str.strip`,
//! `str.split(None, 1)` and `int()`, and words I/O failures with the errno
//! *name* (`ENOENT`). Providers written for Ganeti depend on exactly these
//! rules (an extra blank line makes an OS invalid), and the diagnose
//! messages operators see quote them, so they are reproduced here rather
//! than approximated with Rust's `lines()`/`trim()`.

use std::io;

use rustix::io::Errno;

/// Python's `str.isspace` for one character (Rust's `char::is_whitespace`
/// plus the four ASCII separators `\x1c`..`\x1f`).
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.strip()`.
pub(crate) fn strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Python's `str.splitlines()`: every line boundary Python knows, `\r\n`
/// counting once, and no empty last line after a final line break.
pub(crate) fn splitlines(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let boundary = matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if !boundary {
            continue;
        }
        out.push(&s[start..i]);
        let mut end = i + c.len_utf8();
        if c == '\r' {
            if let Some(&(j, '\n')) = chars.peek() {
                chars.next();
                end = j + 1;
            }
        }
        start = end;
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// Python's `line.split(None, 1)`: leading whitespace dropped, then the
/// first word and (if anything follows the whitespace after it) the rest,
/// whose trailing whitespace is kept. An empty or blank line gives `[]`.
pub(crate) fn split_first_word(line: &str) -> Vec<String> {
    let line = line.trim_start_matches(is_py_space);
    if line.is_empty() {
        return Vec::new();
    }
    match line.find(is_py_space) {
        None => vec![line.to_string()],
        Some(i) => {
            let rest = line[i..].trim_start_matches(is_py_space);
            if rest.is_empty() {
                vec![line[..i].to_string()]
            } else {
                vec![line[..i].to_string(), rest.to_string()]
            }
        }
    }
}

/// Errno names of the failures a `stat`, `open` or `read` can have.
const ERRNO_NAMES: &[(Errno, &str)] = &[
    (Errno::NOENT, "ENOENT"),
    (Errno::ACCESS, "EACCES"),
    (Errno::PERM, "EPERM"),
    (Errno::NOTDIR, "ENOTDIR"),
    (Errno::ISDIR, "EISDIR"),
    (Errno::LOOP, "ELOOP"),
    (Errno::NAMETOOLONG, "ENAMETOOLONG"),
    (Errno::IO, "EIO"),
    (Errno::NOMEM, "ENOMEM"),
    (Errno::OVERFLOW, "EOVERFLOW"),
    (Errno::BADF, "EBADF"),
    (Errno::FAULT, "EFAULT"),
    (Errno::INVAL, "EINVAL"),
    (Errno::NXIO, "ENXIO"),
    (Errno::NODEV, "ENODEV"),
    (Errno::TXTBSY, "ETXTBSY"),
    (Errno::AGAIN, "EAGAIN"),
    (Errno::INTR, "EINTR"),
    (Errno::ROFS, "EROFS"),
    (Errno::MFILE, "EMFILE"),
    (Errno::NFILE, "ENFILE"),
    (Errno::STALE, "ESTALE"),
    (Errno::NOTCONN, "ENOTCONN"),
    (Errno::NOSPC, "ENOSPC"),
];

/// Ganeti's `utils.ErrnoOrStr`: the errno's symbolic name (`ENOENT`), or
/// the error's text when it carries no errno (or one not listed here).
pub(crate) fn errno_or_str(err: &io::Error) -> String {
    Errno::from_io_error(err)
        .and_then(|e| ERRNO_NAMES.iter().find(|(n, _)| *n == e))
        .map(|(_, name)| (*name).to_string())
        .unwrap_or_else(|| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitlines_like_python() {
        assert_eq!(splitlines("20\n"), vec!["20"]);
        assert_eq!(splitlines("20\n\n"), vec!["20", ""]);
        assert_eq!(splitlines("a\r\nb\rc\x0bd"), vec!["a", "b", "c", "d"]);
        assert_eq!(splitlines("a\u{2028}b"), vec!["a", "b"]);
        assert_eq!(splitlines(""), Vec::<&str>::new());
        assert_eq!(splitlines("\n"), vec![""]);
        assert_eq!(splitlines("x"), vec!["x"]);
    }

    #[test]
    fn strip_like_python() {
        assert_eq!(strip(" \t20\x1c\n"), "20");
        assert_eq!(strip("\u{feff}20"), "\u{feff}20");
    }

    #[test]
    fn split_first_word_like_python() {
        assert_eq!(
            split_first_word("  foo  bar baz  "),
            vec!["foo", "bar baz  "]
        );
        assert_eq!(split_first_word("foo   "), vec!["foo"]);
        assert_eq!(split_first_word("foo"), vec!["foo"]);
        assert_eq!(split_first_word("   "), Vec::<String>::new());
        assert_eq!(split_first_word("a\tb"), vec!["a", "b"]);
    }

    #[test]
    fn errno_names() {
        let e = io::Error::from_raw_os_error(Errno::NOENT.raw_os_error());
        assert_eq!(errno_or_str(&e), "ENOENT");
        let e = io::Error::from_raw_os_error(Errno::ACCESS.raw_os_error());
        assert_eq!(errno_or_str(&e), "EACCES");
        let e = io::Error::other("no errno here");
        assert_eq!(errno_or_str(&e), "no errno here");
    }
}
