//! The text format of an export's `config.ini`.
//!
//! Why our own small reader/writer: the file is what Ganeti's
//! `SerializableConfigParser` (Python's `ConfigParser`) writes and reads,
//! and exports move between clusters, so the exact layout matters more
//! than generality: `[section]` headers, `key = value` lines, a blank line
//! after each section, keys lower-cased, continuation lines for values with
//! newlines. Reading accepts what Python's parser accepts for files written
//! that way (also `key: value`, comments, indented continuations).

use std::fmt::Write as _;

/// An ordered INI document: sections in order, options in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ini {
    sections: Vec<(String, Vec<(String, String)>)>,
}

/// Why a text is not an INI document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IniError {
    /// An option line before the first section header.
    #[error("File contains no section headers (line {0})")]
    NoSection(usize),
    /// A line that is neither a header, an option nor a continuation.
    #[error("File contains parsing errors: line {line}: {text}")]
    Parse { line: usize, text: String },
}

impl Ini {
    /// An empty document.
    pub fn new() -> Self {
        Ini::default()
    }

    /// Add a section (an existing one is kept, as `add_section` would refuse).
    pub fn add_section(&mut self, name: &str) {
        if !self.has_section(name) {
            self.sections.push((name.to_string(), Vec::new()));
        }
    }

    /// Whether the section exists.
    pub fn has_section(&self, name: &str) -> bool {
        self.sections.iter().any(|(n, _)| n == name)
    }

    /// Set an option (key lower-cased, as `optionxform` does); adds the
    /// section when missing.
    pub fn set(&mut self, section: &str, key: &str, value: impl Into<String>) {
        self.add_section(section);
        let key = key.to_lowercase();
        let value = value.into();
        if let Some((_, opts)) = self.sections.iter_mut().find(|(n, _)| n == section) {
            match opts.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => opts.push((key, value)),
            }
        }
    }

    /// An option's value.
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        let key = key.to_lowercase();
        self.items(section)
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the option exists.
    pub fn has_option(&self, section: &str, key: &str) -> bool {
        self.get(section, key).is_some()
    }

    /// The options of a section in order (empty when missing).
    pub fn items(&self, section: &str) -> &[(String, String)] {
        self.sections
            .iter()
            .find(|(n, _)| n == section)
            .map(|(_, o)| o.as_slice())
            .unwrap_or(&[])
    }

    /// The text Python's `ConfigParser.write` produces.
    pub fn dumps(&self) -> String {
        let mut out = String::new();
        for (name, opts) in &self.sections {
            let _ = writeln!(out, "[{name}]");
            for (k, v) in opts {
                let _ = writeln!(out, "{k} = {}", v.replace('\n', "\n\t"));
            }
            out.push('\n');
        }
        out
    }

    /// Parse a document.
    pub fn parse(text: &str) -> Result<Ini, IniError> {
        let mut ini = Ini::new();
        let mut current: Option<String> = None;
        let mut last_key: Option<String> = None;
        for (no, raw) in text.lines().enumerate() {
            let line_no = no + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let indented = raw.starts_with(' ') || raw.starts_with('\t');
            if indented {
                if let (Some(sec), Some(key)) = (&current, &last_key) {
                    let prev = ini.get(sec, key).unwrap_or_default().to_string();
                    ini.set(sec, key, format!("{prev}\n{trimmed}"));
                    continue;
                }
            }
            if let Some(name) = trimmed.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                ini.add_section(name);
                current = Some(name.to_string());
                last_key = None;
                continue;
            }
            let Some(sec) = &current else {
                return Err(IniError::NoSection(line_no));
            };
            let split = trimmed
                .find(['=', ':'])
                .map(|i| (&trimmed[..i], &trimmed[i + 1..]));
            match split {
                Some((k, v)) if !k.trim().is_empty() => {
                    let key = k.trim().to_lowercase();
                    ini.set(sec, &key, v.trim());
                    last_key = Some(key);
                }
                _ => {
                    return Err(IniError::Parse {
                        line: line_no,
                        text: raw.to_string(),
                    })
                }
            }
        }
        Ok(ini)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_like_configparser() {
        let mut ini = Ini::new();
        ini.add_section("export");
        ini.set("export", "Version", "0");
        ini.set("export", "empty", "");
        ini.set("instance", "multi", "a\nb");
        assert_eq!(
            ini.dumps(),
            "[export]\nversion = 0\nempty = \n\n[instance]\nmulti = a\n\tb\n\n"
        );
    }

    #[test]
    fn round_trips_and_reads_python_forms() {
        let mut ini = Ini::new();
        ini.set("export", "version", "0");
        ini.set("instance", "name", "inst1.example.com");
        ini.set("instance", "tags", "a b");
        ini.set("instance", "multi", "x\ny");
        assert_eq!(Ini::parse(&ini.dumps()).unwrap(), ini);
        let other = Ini::parse("# c\n[s]\nKey: v\n; note\nk2=  w  \n").unwrap();
        assert_eq!(other.get("s", "key"), Some("v"));
        assert_eq!(other.get("s", "K2"), Some("w"));
        assert!(other.has_option("s", "key"));
        assert!(!other.has_section("t"));
        assert!(other.items("t").is_empty());
    }

    #[test]
    fn refuses_broken_text() {
        assert_eq!(Ini::parse("k = v\n"), Err(IniError::NoSection(1)));
        assert!(matches!(
            Ini::parse("[s]\nno delimiter here\n"),
            Err(IniError::Parse { line: 2, .. })
        ));
    }
}
