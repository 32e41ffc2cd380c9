//! Python's `str()`/`repr()` of JSON-shaped values, and Python's number
//! parsing (`int()`, `float()`).
//!
//! Why: the gnt-* tools of Ganeti are Python programs and much of what they
//! print is simply `str(value)` of a value decoded from JSON: a list prints
//! as `['a', 'b']`, `None` as `None`, `True` as `True`, a float as `0.001`
//! or `1e-05`. To reproduce their output byte for byte every renderer in this
//! crate goes through the functions here instead of Rust's own `Display`.
//! Likewise options that Python converts with `int()`/`float()` accept what
//! Python accepts (surrounding whitespace, `_` between digits, a sign).

use serde_json::Value;

/// `str(value)`: strings unquoted, everything else as [`py_repr`].
pub fn py_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

/// `repr(value)` of the Python object `json.loads` would produce.
pub fn py_repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, value);
    out
}

fn write_repr(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => out.push_str(&number_repr(n)),
        Value::String(s) => out.push_str(&str_repr(s)),
        Value::Array(items) => {
            out.push('[');
            for (idx, item) in items.iter().enumerate() {
                if idx > 0 {
                    out.push_str(", ");
                }
                write_repr(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (idx, (key, item)) in map.iter().enumerate() {
                if idx > 0 {
                    out.push_str(", ");
                }
                out.push_str(&str_repr(key));
                out.push_str(": ");
                write_repr(out, item);
            }
            out.push('}');
        }
    }
}

/// Python's text of a JSON number: integers as such, floats as `repr(float)`.
pub fn number_repr(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        float_repr(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// `repr(x)` of a Python float: the shortest digits that round-trip, in
/// positional notation when the decimal exponent is in `-4..16`, otherwise
/// scientific (`1e-05`, `1.5e+16`); integral values keep a `.0`.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "-1.2345e-7".
    let sci = format!("{x:e}");
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let int_len = usize::try_from(exp).unwrap_or(0) + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                for _ in digits.len()..int_len {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    }
    out
}

/// Whether Python's `str.isprintable()` holds for one character (an
/// approximation outside ASCII: control, separator, format and private-use
/// characters are treated as non-printable).
fn is_printable(c: char) -> bool {
    let cp = u32::from(c);
    if cp < 0x20 || (0x7f..0xa1).contains(&cp) {
        return false;
    }
    if cp < 0x7f {
        return true;
    }
    !matches!(cp,
        0xad
        | 0x600..=0x605
        | 0x61c
        | 0x6dd
        | 0x70f
        | 0x1680
        | 0x180e
        | 0x2000..=0x200f
        | 0x2028..=0x202f
        | 0x205f..=0x2064
        | 0x2066..=0x206f
        | 0x3000
        | 0xd800..=0xf8ff
        | 0xfeff
        | 0xfff9..=0xfffb
        | 0xf0000..=0x10ffff)
}

/// `repr(s)` of a Python string: single quotes unless the text holds a
/// single quote and no double quote; backslash escapes for the quote, the
/// backslash and non-printable characters.
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => {
                let cp = u32::from(c);
                if cp < 0x100 {
                    out.push_str(&format!("\\x{cp:02x}"));
                } else if cp < 0x10000 {
                    out.push_str(&format!("\\u{cp:04x}"));
                } else {
                    out.push_str(&format!("\\U{cp:08x}"));
                }
            }
        }
    }
    out.push(quote);
    out
}

/// Python's truth value of a JSON-decoded object (`None`, `False`, `0`,
/// `0.0`, `""`, `[]` and `{}` are false).
pub fn py_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Ganeti's `utils.CommaJoin`: items joined by `", "`.
pub fn comma_join<I, S>(items: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    for (idx, item) in items.into_iter().enumerate() {
        if idx > 0 {
            out.push_str(", ");
        }
        out.push_str(item.as_ref());
    }
    out
}

/// Removes `_` that Python allows between two digits; `None` when an
/// underscore is anywhere else.
fn strip_digit_underscores(s: &str) -> Option<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (idx, c) in chars.iter().enumerate() {
        if *c == '_' {
            let before = idx > 0 && chars[idx - 1].is_ascii_digit();
            let after = chars.get(idx + 1).is_some_and(char::is_ascii_digit);
            if !(before && after) {
                return None;
            }
        } else {
            out.push(*c);
        }
    }
    Some(out)
}

/// Python's `int(text)` for base 10 (ASCII digits only); `None` where Python
/// raises `ValueError` or the value does not fit an `i128`.
pub fn py_int(text: &str) -> Option<i128> {
    let t = text.trim();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let clean = strip_digit_underscores(digits)?;
    if !clean.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let v: i128 = clean.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// Python's `str.isspace()` for one character (Rust's
/// `char::is_whitespace` plus the ASCII separators `\x1c`..`\x1f`).
pub fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.strip()`.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

/// Python's `str.splitlines()`: every line boundary Python knows, `\r\n`
/// counting once, and no empty last line after a final line break.
pub fn py_splitlines(s: &str) -> Vec<&str> {
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

/// Python's `s.split(None, 1)`: leading whitespace dropped, then the first
/// word and (if anything follows the whitespace after it) the rest, whose
/// trailing whitespace is kept. An empty or blank string gives `[]`.
pub fn py_split_first(s: &str) -> Vec<&str> {
    let s = s.trim_start_matches(py_isspace);
    if s.is_empty() {
        return Vec::new();
    }
    match s.find(py_isspace) {
        None => vec![s],
        Some(i) => {
            let rest = s[i..].trim_start_matches(py_isspace);
            if rest.is_empty() {
                vec![&s[..i]]
            } else {
                vec![&s[..i], rest]
            }
        }
    }
}

/// Python's `float(text)` (ASCII only): surrounding whitespace, a sign,
/// `_` between digits, exponents, `inf`/`infinity`/`nan` in any case.
pub fn py_float(text: &str) -> Option<f64> {
    let t = text.trim();
    let clean = strip_digit_underscores(t)?;
    let body = clean.trim_start_matches(['+', '-']);
    if clean.len() - body.len() > 1 {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        return clean.to_ascii_lowercase().parse().ok();
    }
    // Rust's parser is stricter than needed in no case Python accepts, but
    // accepts nothing Python rejects for these characters.
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
    {
        return None;
    }
    clean.parse().ok()
}

/// The message of Python's `ValueError` from `float(text)`.
pub fn float_error_message(text: &str) -> String {
    format!("could not convert string to float: {}", str_repr(text))
}

/// Ganeti's `utils.SafeEncode`: non-ASCII as `\xNN`/`\uNNNN`/`\UNNNNNNNN`
/// (Python's `backslashreplace`), tab and newline as `\t`/`\n`, other
/// control characters as `\xNN`; a carriage return becomes `\'r` (sic).
pub fn safe_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let cp = u32::from(c);
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\'r"),
            _ if cp < 32 || cp == 127 => out.push_str(&format!("\\x{cp:02x}")),
            _ if cp < 127 => out.push(c),
            _ if cp < 0x100 => out.push_str(&format!("\\x{cp:02x}")),
            _ if cp < 0x10000 => out.push_str(&format!("\\u{cp:04x}")),
            _ => out.push_str(&format!("\\U{cp:08x}")),
        }
    }
    out
}

/// Ganeti's `cli.FormatLogMessage`: messages of type `message` are shown as
/// they are, any other type as `str(value)`; both through [`safe_encode`].
pub fn format_log_message(log_type: &str, log_msg: &Value) -> String {
    let text = if log_type == "message" {
        match log_msg {
            Value::String(s) => s.clone(),
            other => py_str(other),
        }
    } else {
        py_str(log_msg)
    };
    safe_encode(&text)
}

/// Python's `textwrap.wrap(text, width)` with its defaults: tabs expanded
/// to 8 columns, whitespace characters made spaces, lines filled greedily,
/// blanks dropped at line ends and at the start of all but the first line,
/// words longer than `width` cut (after a hyphen when there is one).
/// Unlike Python, words are not split at hyphens when they fit.
pub fn wrap_text(text: &str, width: usize) -> Vec<String> {
    let mut expanded: Vec<char> = Vec::with_capacity(text.len());
    let mut column = 0usize;
    for c in text.chars() {
        match c {
            '\t' => {
                let n = 8 - column % 8;
                expanded.extend(std::iter::repeat_n(' ', n));
                column += n;
            }
            '\n' | '\r' => {
                expanded.push(' ');
                column = 0;
            }
            c if c.is_whitespace() => {
                expanded.push(' ');
                column += 1;
            }
            c => {
                expanded.push(c);
                column += 1;
            }
        }
    }
    // Alternating runs of blanks and non-blanks, last chunk first.
    let mut chunks: Vec<Vec<char>> = Vec::new();
    for c in expanded {
        match chunks.last_mut() {
            Some(last) if (last[0] == ' ') == (c == ' ') => last.push(c),
            _ => chunks.push(vec![c]),
        }
    }
    chunks.reverse();
    let is_blank = |chunk: &[char]| chunk.iter().all(|c| *c == ' ');
    let mut lines: Vec<String> = Vec::new();
    while !chunks.is_empty() {
        let mut line: Vec<Vec<char>> = Vec::new();
        let mut len = 0usize;
        if !lines.is_empty() && chunks.last().is_some_and(|c| is_blank(c)) {
            chunks.pop();
        }
        while let Some(chunk) = chunks.last() {
            if len + chunk.len() <= width {
                len += chunk.len();
                line.extend(chunks.pop());
            } else {
                break;
            }
        }
        if let Some(chunk) = chunks.last_mut() {
            if chunk.len() > width {
                let space_left = if width < 1 { 1 } else { width - len };
                let mut end = space_left;
                if let Some(hyphen) = chunk[..space_left.min(chunk.len())]
                    .iter()
                    .rposition(|c| *c == '-')
                {
                    if hyphen > 0 && chunk[..hyphen].iter().any(|c| *c != '-') {
                        end = hyphen + 1;
                    }
                }
                let tail = chunk.split_off(end.min(chunk.len()));
                line.push(std::mem::replace(chunk, tail));
            }
        }
        if line.last().is_some_and(|c| is_blank(c)) {
            line.pop();
        }
        if !line.is_empty() {
            lines.push(line.concat().into_iter().collect());
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splitlines_like_python() {
        assert_eq!(py_splitlines("20\n"), vec!["20"]);
        assert_eq!(py_splitlines("20\n\n"), vec!["20", ""]);
        assert_eq!(py_splitlines("a\r\nb\rc\x0bd"), vec!["a", "b", "c", "d"]);
        assert_eq!(py_splitlines("a\u{2028}b"), vec!["a", "b"]);
        assert_eq!(py_splitlines(""), Vec::<&str>::new());
        assert_eq!(py_splitlines("\n"), vec![""]);
        assert_eq!(py_splitlines("x"), vec!["x"]);
    }

    #[test]
    fn strip_like_python() {
        assert_eq!(py_strip(" \t20\x1c\n"), "20");
        assert_eq!(py_strip("\u{feff}20"), "\u{feff}20");
    }

    #[test]
    fn split_first_like_python() {
        assert_eq!(py_split_first("  foo  bar baz  "), vec!["foo", "bar baz  "]);
        assert_eq!(py_split_first("foo   "), vec!["foo"]);
        assert_eq!(py_split_first("foo"), vec!["foo"]);
        assert_eq!(py_split_first("   "), Vec::<&str>::new());
        assert_eq!(py_split_first("a\tb"), vec!["a", "b"]);
        assert_eq!(py_split_first("a\x1cb"), vec!["a", "b"]);
    }

    #[test]
    fn float_repr_matches_python() {
        let cases: &[(f64, &str)] = &[
            (0.001, "0.001"),
            (8.0, "8.0"),
            (1.0e-3, "0.001"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (123.456, "123.456"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e20, "1.2345e+20"),
            (-2.5, "-2.5"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (5.0, "5.0"),
            (1e100, "1e+100"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ];
        for (x, want) in cases {
            assert_eq!(float_repr(*x), *want, "float {x}");
        }
    }

    #[test]
    fn str_repr_quotes_like_python() {
        assert_eq!(str_repr("abc"), "'abc'");
        assert_eq!(str_repr("it's"), "\"it's\"");
        assert_eq!(str_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(str_repr("say \"hi\""), "'say \"hi\"'");
        assert_eq!(str_repr("a\\b"), "'a\\\\b'");
        assert_eq!(str_repr("l1\nl2\tx\r"), "'l1\\nl2\\tx\\r'");
        assert_eq!(str_repr("\u{1}\u{7f}"), "'\\x01\\x7f'");
        assert_eq!(str_repr("é€"), "'é€'");
        assert_eq!(str_repr("\u{a0}\u{2028}"), "'\\xa0\\u2028'");
        assert_eq!(str_repr(""), "''");
    }

    #[test]
    fn repr_of_containers() {
        let v = json!([{"debug_level": 0, "depends": null, "ok": true,
                        "reason": [["gnt:client", "x", 17]], "d": 0.001}]);
        assert_eq!(
            py_repr(&v),
            "[{'debug_level': 0, 'depends': None, 'ok': True, \
             'reason': [['gnt:client', 'x', 17]], 'd': 0.001}]"
        );
        assert_eq!(py_str(&json!("plain")), "plain");
        assert_eq!(py_repr(&json!("plain")), "'plain'");
        assert_eq!(py_str(&json!(null)), "None");
        assert_eq!(py_str(&json!(false)), "False");
        assert_eq!(py_str(&json!({})), "{}");
        assert_eq!(py_str(&json!([])), "[]");
        assert_eq!(
            py_str(&json!(18446744073709551615u64)),
            "18446744073709551615"
        );
        assert_eq!(py_str(&json!(-3)), "-3");
        assert_eq!(py_str(&json!(8.0)), "8.0");
    }

    #[test]
    fn truthiness() {
        for v in [
            json!(null),
            json!(false),
            json!(0),
            json!(0.0),
            json!(""),
            json!([]),
            json!({}),
        ] {
            assert!(!py_truthy(&v), "{v}");
        }
        for v in [
            json!(true),
            json!(1),
            json!(-0.5),
            json!("x"),
            json!([0]),
            json!({"a": 0}),
        ] {
            assert!(py_truthy(&v), "{v}");
        }
    }

    #[test]
    fn int_parsing_like_python() {
        assert_eq!(py_int("128"), Some(128));
        assert_eq!(py_int(" 12 \n"), Some(12));
        assert_eq!(py_int("+5"), Some(5));
        assert_eq!(py_int("-5"), Some(-5));
        assert_eq!(py_int("010"), Some(10));
        assert_eq!(py_int("1_000"), Some(1000));
        for bad in [
            "", " ", "1.5", "abc", "1__0", "_1", "1_", "--1", "+-1", "0x10", "1e3", "- 1",
        ] {
            assert_eq!(py_int(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn float_parsing_like_python() {
        assert_eq!(py_float("1.5"), Some(1.5));
        assert_eq!(py_float(" .5 "), Some(0.5));
        assert_eq!(py_float("5."), Some(5.0));
        assert_eq!(py_float("1e3"), Some(1000.0));
        assert_eq!(py_float("-2E-2"), Some(-0.02));
        assert_eq!(py_float("1_0.5"), Some(10.5));
        assert_eq!(py_float("INF"), Some(f64::INFINITY));
        assert_eq!(py_float("-infinity"), Some(f64::NEG_INFINITY));
        assert!(py_float("nan").is_some_and(f64::is_nan));
        for bad in [
            "", ".", "1.2.3", "abc", "1e", "e5", "--1", "0x1p3", "1_", "in f",
        ] {
            assert_eq!(py_float(bad), None, "{bad:?}");
        }
        assert_eq!(
            float_error_message("1.2.3"),
            "could not convert string to float: '1.2.3'"
        );
    }

    #[test]
    fn safe_encode_like_ganeti() {
        assert_eq!(safe_encode("plain text"), "plain text");
        assert_eq!(safe_encode("a\tb\nc\rd"), "a\\tb\\nc\\'rd");
        assert_eq!(safe_encode("\u{1}\u{7f}"), "\\x01\\x7f");
        assert_eq!(safe_encode("é€😀"), "\\xe9\\u20ac\\U0001f600");
        assert_eq!(format_log_message("message", &json!("x\ny")), "x\\ny");
        assert_eq!(
            format_log_message("remote-import", &json!({"a": 1})),
            "{'a': 1}"
        );
    }

    #[test]
    fn wrap_like_textwrap() {
        // network_info: the externally reserved IPs fit one line
        let ips = "10.1.0.0, 10.1.0.1, 10.1.0.5, 10.1.0.255";
        assert_eq!(wrap_text(ips, 64), [ips]);
        let long: Vec<String> = (0..20).map(|i| format!("10.1.0.{i}")).collect();
        let text = comma_join(&long);
        let lines = wrap_text(&text, 64);
        assert_eq!(
            lines,
            [
                "10.1.0.0, 10.1.0.1, 10.1.0.2, 10.1.0.3, 10.1.0.4, 10.1.0.5,",
                "10.1.0.6, 10.1.0.7, 10.1.0.8, 10.1.0.9, 10.1.0.10, 10.1.0.11,",
                "10.1.0.12, 10.1.0.13, 10.1.0.14, 10.1.0.15, 10.1.0.16,",
                "10.1.0.17, 10.1.0.18, 10.1.0.19",
            ]
        );
        assert_eq!(wrap_text("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap_text("ab abcdefgh", 4), ["ab a", "bcde", "fgh"]);
        assert_eq!(wrap_text("  lead  and\ttab  ", 20), ["  lead  and     tab"]);
        assert_eq!(wrap_text("a b\nc", 80), ["a b c"]);
        assert_eq!(wrap_text("xx foo-barbaz", 8), ["xx foo-", "barbaz"]);
        assert!(wrap_text("", 10).is_empty());
        assert!(wrap_text("   ", 10).is_empty());
    }

    #[test]
    fn comma_join_items() {
        assert_eq!(comma_join(["a", "b", "c"]), "a, b, c");
        assert_eq!(comma_join(Vec::<String>::new()), "");
    }
}
