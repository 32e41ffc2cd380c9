//! Sizes in Ganeti's unit syntax: parsing (`128M`, `1.5g`, `512` = MiB)
//! and formatting (`--units=h|m|g|t`).
//!
//! Why: every size a user types (`-s`, `--disk N:size=`, `-B memory=`) and
//! every size column of `gnt-* list` goes through Ganeti's `ParseUnit` and
//! `FormatUnit`; their rounding (up to a multiple of 4 MiB when parsing, one
//! decimal when formatting) and their error texts are visible to users, so
//! they are reproduced here exactly. Values are MiB throughout.

use thiserror::Error;

use crate::pystr;

/// A size that could not be parsed; the texts are Ganeti's
/// (`UnitParseError`) or Python's (`ValueError` from `float()`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UnitError {
    /// The text is not `NUMBER [SPACE] [UNIT]`.
    #[error("Invalid format")]
    InvalidFormat,
    /// A unit other than m/mb/mib, g/gb/gib, t/tb/tib (any case).
    #[error("Unknown unit: {unit}")]
    UnknownUnit {
        /// The unit as typed.
        unit: String,
    },
    /// Digits and dots that are no number (`1.2.3`, `.`): Python's
    /// `ValueError`, which Ganeti does not catch as a unit error.
    #[error("could not convert string to float: {}", pystr::str_repr(.text))]
    BadNumber {
        /// The number part as typed.
        text: String,
    },
    /// The value does not fit 64 bits of MiB (Python would not mind).
    #[error("Value too large: {text}")]
    TooLarge {
        /// The input.
        text: String,
    },
    /// An output unit other than h/m/g/t (Ganeti: a programmer error).
    #[error("Invalid unit specified '{unit}'")]
    InvalidOutputUnit {
        /// The unit given.
        unit: String,
    },
}

/// Parses a size as Ganeti's `utils.ParseUnit` does and returns MiB.
///
/// Accepted: digits and dots, optional whitespace, an optional unit (`m`,
/// `mb`, `mib`, `g`, `gb`, `gib`, `t`, `tb`, `tib`, any case; none = MiB),
/// optionally one trailing newline (Python's `$`). The value is rounded up
/// to a whole MiB and then up to a multiple of 4.
pub fn parse_unit(input: &str) -> Result<u64, UnitError> {
    let text = input.strip_suffix('\n').unwrap_or(input);
    let num_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    if num_end == 0 {
        return Err(UnitError::InvalidFormat);
    }
    let (num, rest) = text.split_at(num_end);
    let unit = rest.trim_start_matches(char::is_whitespace);
    if !unit.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(UnitError::InvalidFormat);
    }
    let mut value: f64 = pystr::py_float(num).ok_or_else(|| UnitError::BadNumber {
        text: num.to_string(),
    })?;
    let factor: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "m" | "mb" | "mib" => 1.0,
        "g" | "gb" | "gib" => 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0,
        _ => {
            return Err(UnitError::UnknownUnit {
                unit: unit.to_string(),
            })
        }
    };
    value *= factor;
    let whole = value.ceil();
    // 2^64 as f64; anything at or above does not fit.
    if !whole.is_finite() || whole >= 18_446_744_073_709_551_616.0 {
        return Err(UnitError::TooLarge {
            text: input.to_string(),
        });
    }
    // The cast is exact: `whole` is integral, non-negative and below 2^64.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let mib = whole as u64;
    let rem = mib % 4;
    if rem == 0 {
        Ok(mib)
    } else {
        mib.checked_add(4 - rem).ok_or_else(|| UnitError::TooLarge {
            text: input.to_string(),
        })
    }
}

/// The unit of `--units` and of `FormatUnit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Units {
    /// `h`: human readable, with an `M`/`G`/`T` suffix.
    Human,
    /// `m`: MiB, no suffix.
    Mebi,
    /// `g`: GiB with one decimal, no suffix.
    Gibi,
    /// `t`: TiB with one decimal, no suffix.
    Tebi,
}

impl Units {
    /// The unit for a one-letter code (`h`, `m`, `g`, `t`; lower case only,
    /// as optparse's `choices` for `--units`).
    pub fn from_code(code: &str) -> Result<Self, UnitError> {
        match code {
            "h" => Ok(Units::Human),
            "m" => Ok(Units::Mebi),
            "g" => Ok(Units::Gibi),
            "t" => Ok(Units::Tebi),
            other => Err(UnitError::InvalidOutputUnit {
                unit: other.to_string(),
            }),
        }
    }

    /// The one-letter code.
    pub fn code(self) -> char {
        match self {
            Units::Human => 'h',
            Units::Mebi => 'm',
            Units::Gibi => 'g',
            Units::Tebi => 't',
        }
    }

    /// Ganeti's default when `--units` is not given: MiB when a non-empty
    /// separator is used (machine-readable output), human readable otherwise.
    pub fn default_for(separator: Option<&str>) -> Self {
        match separator {
            Some(s) if !s.is_empty() => Units::Mebi,
            _ => Units::Human,
        }
    }

    /// `units` if given, else [`Units::default_for`] the separator.
    pub fn resolve(units: Option<Units>, separator: Option<&str>) -> Self {
        units.unwrap_or_else(|| Units::default_for(separator))
    }
}

/// Formats a number of MiB as Ganeti's `utils.FormatUnit` does.
///
/// `h` picks `M` below 1024 MiB (no decimals), `G` below 1 TiB and `T`
/// above (one decimal); `m`/`g`/`t` print the bare number. Rounding is
/// Python's `%.Nf` (exact value, ties to even). Ganeti's `roman` flag has
/// no effect on this function under Python 3 (the rounded float is never
/// converted), so there is none here.
pub fn format_unit(value_mib: f64, units: Units) -> String {
    let giga = 1024.0;
    let tera = 1024.0 * 1024.0;
    match units {
        Units::Mebi => format!("{value_mib:.0}"),
        Units::Human if value_mib < giga => format!("{value_mib:.0}M"),
        Units::Gibi => format!("{:.1}", value_mib / giga),
        Units::Human if value_mib < tera => format!("{:.1}G", value_mib / giga),
        Units::Tebi => format!("{:.1}", value_mib / tera),
        Units::Human => format!("{:.1}T", value_mib / tera),
    }
}

/// [`format_unit`] for an integral number of MiB.
pub fn format_unit_int(value_mib: i64, units: Units) -> String {
    // Sizes in MiB are far below 2^53; the conversion is exact for them.
    #[allow(clippy::cast_precision_loss)]
    let v = value_mib as f64;
    format_unit(v, units)
}

/// Python's `roman.toRoman` for 1..=4999 (`None` outside), for callers that
/// emulate `compat.TryToRoman`. The reference installation has no `roman`
/// module, so `--roman` changes nothing there; see the crate docs.
pub fn to_roman(n: u32) -> Option<String> {
    if n == 0 || n > 4999 {
        return None;
    }
    const TABLE: [(u32, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut rest = n;
    let mut out = String::new();
    for (value, numeral) in TABLE {
        while rest >= value {
            out.push_str(numeral);
            rest -= value;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_plain_and_suffixed() {
        let cases: &[(&str, u64)] = &[
            ("128", 128),
            ("128M", 128),
            ("128m", 128),
            ("128MB", 128),
            ("128MiB", 128),
            ("128mib", 128),
            ("1G", 1024),
            ("1g", 1024),
            ("1GB", 1024),
            ("1gib", 1024),
            ("1.5g", 1536),
            ("1T", 1_048_576),
            ("1tb", 1_048_576),
            ("0.5T", 524_288),
            ("512", 512),
            ("512 M", 512),
            ("512\t g", 524_288),
            ("0", 0),
            ("1", 4),
            ("5", 8),
            ("4.1", 8),
            ("0.0001", 4),
            ("1.", 4),
            (".5g", 512),
            ("0.001g", 4),
            ("256\n", 256),
        ];
        for (text, want) in cases {
            assert_eq!(parse_unit(text), Ok(*want), "{text:?}");
        }
    }

    #[test]
    fn parse_errors_are_worded_as_ganeti() {
        for bad in [
            "abc", "", " 12", "12X!", "-1", "1e3", "True", "None", "12M ", "1,5", "M",
        ] {
            assert_eq!(parse_unit(bad), Err(UnitError::InvalidFormat), "{bad:?}");
        }
        // err_bad_disk_size_s: `-s 12X` -> "option -s: Unknown unit: X"
        let err = parse_unit("12X").unwrap_err();
        assert_eq!(err.to_string(), "Unknown unit: X");
        assert_eq!(
            parse_unit("3 kb").unwrap_err().to_string(),
            "Unknown unit: kb"
        );
        // err_bad_disk_size: `--disk 0:size=abc` -> "Invalid format"
        assert_eq!(parse_unit("abc").unwrap_err().to_string(), "Invalid format");
        assert_eq!(
            parse_unit("1.2.3").unwrap_err().to_string(),
            "could not convert string to float: '1.2.3'"
        );
        assert_eq!(
            parse_unit(".").unwrap_err().to_string(),
            "could not convert string to float: '.'"
        );
        assert!(matches!(
            parse_unit("99999999999999999999T"),
            Err(UnitError::TooLarge { .. })
        ));
    }

    #[test]
    fn format_human_matches_fixtures() {
        // node_list_units_h / instance_list_units_h
        assert_eq!(format_unit_int(258_019, Units::Human), "252.0G");
        assert_eq!(format_unit_int(81_009, Units::Human), "79.1G");
        assert_eq!(format_unit_int(24_105, Units::Human), "23.5G");
        assert_eq!(format_unit_int(255, Units::Human), "255M");
        assert_eq!(format_unit_int(23_565, Units::Human), "23.0G");
        assert_eq!(format_unit_int(128, Units::Human), "128M");
        assert_eq!(format_unit_int(1023, Units::Human), "1023M");
        assert_eq!(format_unit_int(1024, Units::Human), "1.0G");
        assert_eq!(format_unit_int(1_048_576, Units::Human), "1.0T");
        assert_eq!(format_unit_int(0, Units::Human), "0M");
        assert_eq!(format_unit_int(-5, Units::Human), "-5M");
    }

    #[test]
    fn format_fixed_units_match_fixtures() {
        // node_list_units_m / _g / _t
        assert_eq!(format_unit_int(258_019, Units::Mebi), "258019");
        assert_eq!(format_unit_int(258_019, Units::Gibi), "252.0");
        assert_eq!(format_unit_int(255, Units::Gibi), "0.2");
        assert_eq!(format_unit_int(128, Units::Gibi), "0.1");
        assert_eq!(format_unit_int(256, Units::Gibi), "0.2");
        assert_eq!(format_unit_int(258_019, Units::Tebi), "0.2");
        assert_eq!(format_unit_int(81_009, Units::Tebi), "0.1");
        assert_eq!(format_unit_int(24_105, Units::Tebi), "0.0");
        // Python's %.1f rounds the exact binary value, ties to even.
        assert_eq!(format_unit(0.25 * 1024.0, Units::Gibi), "0.2");
        assert_eq!(format_unit(0.75 * 1024.0, Units::Gibi), "0.8");
        assert_eq!(format_unit(2.5, Units::Mebi), "2");
        assert_eq!(format_unit(3.5, Units::Mebi), "4");
    }

    #[test]
    fn unit_codes() {
        assert_eq!(Units::from_code("h"), Ok(Units::Human));
        assert_eq!(Units::from_code("t"), Ok(Units::Tebi));
        assert_eq!(
            Units::from_code("x").unwrap_err().to_string(),
            "Invalid unit specified 'x'"
        );
        assert!(Units::from_code("H").is_err());
        assert_eq!(Units::Gibi.code(), 'g');
        assert_eq!(Units::default_for(None), Units::Human);
        assert_eq!(Units::default_for(Some("|")), Units::Mebi);
        assert_eq!(Units::default_for(Some("")), Units::Human);
        assert_eq!(Units::resolve(Some(Units::Tebi), Some("|")), Units::Tebi);
    }

    #[test]
    fn roman_numerals() {
        assert_eq!(to_roman(1).as_deref(), Some("I"));
        assert_eq!(to_roman(1994).as_deref(), Some("MCMXCIV"));
        assert_eq!(to_roman(4999).as_deref(), Some("MMMMCMXCIX"));
        assert_eq!(to_roman(0), None);
        assert_eq!(to_roman(5000), None);
    }
}
