//! JSON text exactly as Ganeti's RAPI writes it.
//!
//! Ganeti serialises with Python's `simplejson.dumps` defaults and adds a
//! newline: `", "` and `": "` separators, every character outside printable
//! ASCII escaped as `\uXXXX`, floats in Python's `repr`. Clients parse JSON
//! and would not mind compact output, but producing the same bytes keeps
//! `Content-Length` and recorded fixtures comparable byte for byte.

use std::io;

use serde::Serialize;
use serde_json::ser::Formatter;
use serde_json::Value;

/// `value` as Ganeti's `serializer.DumpJson` writes it (newline included).
pub fn to_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    // Serialising a Value into memory cannot fail.
    if value.serialize(&mut ser).is_err() {
        out.clear();
        out.extend_from_slice(b"null");
    }
    out.push(b'\n');
    out
}

/// serde_json formatting hooks producing Python's default `json.dumps` text.
#[derive(Debug, Clone, Copy)]
struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // serde_json has already escaped quotes, backslashes and control
        // characters; Python (ensure_ascii) also escapes DEL and non-ASCII.
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if (' '..='~').contains(&c) {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(python_float_repr(value).as_bytes())
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(writer, f64::from(value))
    }
}

/// Python's `repr(float)` for a finite value: the shortest round-tripping
/// digits, in fixed notation when the decimal exponent is in `-4..16`,
/// otherwise as `d.ddde+XX`.
fn python_float_repr(value: f64) -> String {
    // Rust's `{:e}` gives the same shortest digits: "-1.2345e-5", "1e20".
    let sci = format!("{value:e}");
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let Ok(exp) = exp.parse::<i32>() else {
        return sci;
    };
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        if exp < 0 {
            let zeros = "0".repeat((-exp - 1) as usize);
            format!("{sign}0.{zeros}{digits}")
        } else {
            let int_len = exp as usize + 1;
            if digits.len() > int_len {
                format!("{sign}{}.{}", &digits[..int_len], &digits[int_len..])
            } else {
                let zeros = "0".repeat(int_len - digits.len());
                format!("{sign}{digits}{zeros}.0")
            }
        }
    } else {
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(v: &Value) -> String {
        String::from_utf8(to_vec(v)).unwrap()
    }

    #[test]
    fn matches_ganeti_error_body_bytes() {
        // fixtures/err_unauth_get.json, 98 bytes with the newline.
        let body = json!({"code": 401, "message": "Unauthorized",
            "explain": "No permission -- see authorization schemes"});
        let t = text(&body);
        assert_eq!(
            t,
            "{\"code\": 401, \"message\": \"Unauthorized\", \"explain\": \"No permission -- see authorization schemes\"}\n"
        );
        assert_eq!(t.len(), 98);
        assert_eq!(text(&Value::Null), "null\n");
    }

    #[test]
    fn nesting_and_separators() {
        assert_eq!(
            text(&json!([1, [2, 3], {"a": [], "b": {}}, true, "x"])),
            "[1, [2, 3], {\"a\": [], \"b\": {}}, true, \"x\"]\n"
        );
    }

    #[test]
    fn escapes_like_ensure_ascii() {
        assert_eq!(
            text(&json!("é\u{7f}\n\t\"\\/\u{1}😀")),
            "\"\\u00e9\\u007f\\n\\t\\\"\\\\/\\u0001\\ud83d\\ude00\"\n"
        );
    }

    #[test]
    fn floats_like_python_repr() {
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (123.456, "123.456"),
            (1e-4, "0.0001"),
            (1.5e-5, "1.5e-05"),
            (1e-5, "1e-05"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.234e20, "1.234e+20"),
            (-2.5e-300, "-2.5e-300"),
            (1234567.0, "1234567.0"),
            (1700000000.123456, "1700000000.123456"),
        ];
        for (v, want) in cases {
            assert_eq!(python_float_repr(v), want, "{v}");
        }
        assert_eq!(text(&json!([1.0, 2])), "[1.0, 2]\n");
    }
}
