//! The RAPI users file (`/var/lib/ganeti/rapi/users`), read the way Ganeti
//! reads it and reloaded when it changes.
//!
//! Operators keep their existing users files, so the parser follows
//! Ganeti's rules to the letter: `user password [options]`, at most three
//! whitespace-separated fields, options split on `,` and stripped, `#`
//! comments and blank lines skipped, later duplicates winning. Where
//! Ganeti silently drops a malformed line we also report it, by line
//! number only (the line may hold a password), so that a typo never locks
//! everyone out without a trace.
//!
//! Ganeti reloads on inotify events; we compare the file's identity
//! (inode, size, mtime, ctime) on every use instead. That costs one `stat`
//! per authenticated request, needs no watcher task, and cannot miss an
//! editor's rename-over-the-old-file.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use ganeti_clifmt::pystr::{py_split_first, py_splitlines, py_strip};
use parking_lot::Mutex;

/// A stored password, as written in the users file.
#[derive(Clone, PartialEq, Eq)]
pub enum StoredPassword {
    /// A cleartext password (no scheme, or `{CLEARTEXT}`).
    Cleartext(String),
    /// `{HA1}`: hex MD5 of `user:Ganeti Remote API:password`.
    Ha1(String),
    /// A scheme we do not know (`{SSHA}`, `{}`, `{x` ...): never matches.
    Unusable,
}

impl StoredPassword {
    /// Interpret the password field of a users file line.
    pub fn parse(field: &str) -> Self {
        let Some(rest) = field.strip_prefix('{') else {
            return StoredPassword::Cleartext(field.to_owned());
        };
        // Ganeti looks for the closing brace from the second character on
        // and wants a scheme of at least one character.
        let Some(close) = rest.find('}').filter(|&i| i > 0) else {
            return StoredPassword::Unusable;
        };
        let (scheme, secret) = (&rest[..close], &rest[close + 1..]);
        if scheme.eq_ignore_ascii_case("CLEARTEXT") {
            StoredPassword::Cleartext(secret.to_owned())
        } else if scheme.eq_ignore_ascii_case("HA1") {
            StoredPassword::Ha1(secret.to_owned())
        } else {
            StoredPassword::Unusable
        }
    }
}

impl fmt::Debug for StoredPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret, not even in debug output.
        f.write_str(match self {
            StoredPassword::Cleartext(_) => "Cleartext(<redacted>)",
            StoredPassword::Ha1(_) => "Ha1(<redacted>)",
            StoredPassword::Unusable => "Unusable",
        })
    }
}

/// One user of the users file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user name.
    pub name: String,
    /// The stored password.
    pub password: StoredPassword,
    /// Options (`read`, `write`; others are kept but mean nothing).
    pub options: Vec<String>,
}

impl User {
    /// Whether the user has option `name` (exact, as in Ganeti).
    pub fn has_option(&self, name: &str) -> bool {
        self.options.iter().any(|o| o == name)
    }
}

/// Something in the users file worth an operator's attention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A non-comment line with fewer than two fields was ignored.
    TooFewFields {
        /// 1-based line number.
        line: usize,
    },
    /// A user's password uses a scheme other than cleartext or HA1, so it
    /// can never match.
    UnusablePassword {
        /// 1-based line number.
        line: usize,
        /// The user concerned.
        user: String,
    },
    /// A user defined again; the later line wins.
    Duplicate {
        /// 1-based line number of the winning definition.
        line: usize,
        /// The user concerned.
        user: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::TooFewFields { line } => write!(
                f,
                "line {line}: fewer than two fields (user and password), line ignored"
            ),
            Problem::UnusablePassword { line, user } => write!(
                f,
                "line {line}: unknown password scheme for user '{user}', \
                 this user can never log in (use cleartext, {{cleartext}} or {{HA1}})"
            ),
            Problem::Duplicate { line, user } => write!(
                f,
                "line {line}: user '{user}' defined again, the earlier definition is ignored"
            ),
        }
    }
}

/// The parsed users file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserTable {
    users: HashMap<String, User>,
}

impl UserTable {
    /// Parse the contents of a users file; problems are returned alongside.
    pub fn parse(contents: &str) -> (Self, Vec<Problem>) {
        let mut users = HashMap::new();
        let mut problems = Vec::new();
        // Python's line and whitespace rules, as Ganeti reads the file, so
        // line numbers agree with what an operator's editor shows.
        for (index, raw) in py_splitlines(contents).into_iter().enumerate() {
            let line_no = index + 1;
            let line = py_strip(raw);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, rest) = split_field(line);
            let (password, rest) = split_field(rest);
            if password.is_empty() {
                problems.push(Problem::TooFewFields { line: line_no });
                continue;
            }
            let options = if rest.is_empty() {
                Vec::new()
            } else {
                rest.split(',').map(|o| o.trim().to_owned()).collect()
            };
            let password = StoredPassword::parse(password);
            if password == StoredPassword::Unusable {
                problems.push(Problem::UnusablePassword {
                    line: line_no,
                    user: name.to_owned(),
                });
            }
            let user = User {
                name: name.to_owned(),
                password,
                options,
            };
            if users.insert(name.to_owned(), user).is_some() {
                problems.push(Problem::Duplicate {
                    line: line_no,
                    user: name.to_owned(),
                });
            }
        }
        (UserTable { users }, problems)
    }

    /// The user called `name`.
    pub fn get(&self, name: &str) -> Option<&User> {
        self.users.get(name)
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether there is no user at all.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

/// The first whitespace-separated field and the rest (Python's
/// `str.split(None, 1)`; the rest is empty when there is none).
fn split_field(s: &str) -> (&str, &str) {
    let parts = py_split_first(s);
    (
        parts.first().copied().unwrap_or(""),
        parts.get(1).copied().unwrap_or(""),
    )
}

/// What identifies one version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStamp {
    ino: u64,
    dev: u64,
    len: u64,
    mtime: Option<SystemTime>,
    ctime: (i64, i64),
}

impl FileStamp {
    /// Stat `path`; `Ok(None)` when it does not exist.
    pub(crate) fn of(path: &Path) -> io::Result<Option<FileStamp>> {
        use std::os::unix::fs::MetadataExt;
        match std::fs::metadata(path) {
            Ok(m) => Ok(Some(FileStamp {
                ino: m.ino(),
                dev: m.dev(),
                len: m.len(),
                mtime: m.modified().ok(),
                ctime: (m.ctime(), m.ctime_nsec()),
            })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// What a stat of the users file said last time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// Nothing looked at yet.
    Never,
    /// The file did not exist.
    Missing,
    /// This version of the file.
    File(FileStamp),
    /// The stat itself failed.
    StatFailed,
}

#[derive(Debug)]
struct Loaded {
    seen: Seen,
    table: Arc<UserTable>,
}

/// The users file, reloaded when it changes on disk.
///
/// * missing file: empty table (every authenticated request fails), logged;
/// * unreadable or not UTF-8: the previous table stays, logged as an error;
/// * malformed lines: skipped and reported by line number.
#[derive(Debug)]
pub struct UsersFile {
    path: PathBuf,
    loaded: Mutex<Loaded>,
}

impl UsersFile {
    /// Watch `path`; it is read on first use.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        UsersFile {
            path: path.into(),
            loaded: Mutex::new(Loaded {
                seen: Seen::Never,
                table: Arc::new(UserTable::default()),
            }),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current table, re-read first if the file changed since the
    /// last call.
    pub fn current(&self) -> Arc<UserTable> {
        let seen = match FileStamp::of(&self.path) {
            Ok(Some(stamp)) => Seen::File(stamp),
            Ok(None) => Seen::Missing,
            Err(_) => Seen::StatFailed,
        };
        let mut loaded = self.loaded.lock();
        if loaded.seen != seen {
            self.reload(&mut loaded, seen);
        }
        loaded.table.clone()
    }

    fn reload(&self, loaded: &mut Loaded, seen: Seen) {
        let path = self.path.display();
        loaded.seen = seen;
        match std::fs::read(&self.path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                tracing::warn!("RAPI users file {path} does not exist: no user can authenticate");
                loaded.table = Arc::new(UserTable::default());
            }
            Err(e) => {
                tracing::error!(
                    "cannot read RAPI users file {path}: {e}; keeping the {} users read before",
                    loaded.table.len()
                );
            }
            Ok(bytes) => match String::from_utf8(bytes) {
                Err(e) => tracing::error!(
                    "RAPI users file {path} is not valid UTF-8 (at byte {}); \
                     keeping the {} users read before",
                    e.utf8_error().valid_up_to(),
                    loaded.table.len()
                ),
                Ok(text) => {
                    let (table, problems) = UserTable::parse(&text);
                    for p in &problems {
                        tracing::warn!("RAPI users file {path}, {p}");
                    }
                    tracing::info!("read RAPI users file {path}: {} users", table.len());
                    loaded.table = Arc::new(table);
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> (UserTable, Vec<Problem>) {
        UserTable::parse(s)
    }

    #[test]
    fn fields_options_comments_and_blank_lines() {
        let (t, problems) = parse(
            "# a comment\n\n   \nalice secret write\n  bob  pw   read, write ,x  \n\
             carol pw\n   # indented comment\ndave pw read,,write\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(t.len(), 4);
        let alice = t.get("alice").unwrap();
        assert_eq!(alice.password, StoredPassword::Cleartext("secret".into()));
        assert_eq!(alice.options, vec!["write"]);
        assert_eq!(t.get("bob").unwrap().options, vec!["read", "write", "x"]);
        assert!(t.get("carol").unwrap().options.is_empty());
        assert_eq!(t.get("dave").unwrap().options, vec!["read", "", "write"]);
        assert!(t.get("bob").unwrap().has_option("write"));
        assert!(!t.get("carol").unwrap().has_option("read"));
    }

    #[test]
    fn options_keep_inner_spaces_after_third_split() {
        // Only three fields: everything after the password is options text.
        let (t, _) = parse("u p read write\n");
        assert_eq!(t.get("u").unwrap().options, vec!["read write"]);
        let (t, _) = parse("u\tp\t\twrite\n");
        assert_eq!(t.get("u").unwrap().options, vec!["write"]);
    }

    #[test]
    fn password_forms() {
        use StoredPassword::*;
        assert_eq!(StoredPassword::parse("plain"), Cleartext("plain".into()));
        assert_eq!(StoredPassword::parse("{CLEARTEXT}x"), Cleartext("x".into()));
        assert_eq!(StoredPassword::parse("{cleartext}x"), Cleartext("x".into()));
        assert_eq!(
            StoredPassword::parse("{ClearText}{x}"),
            Cleartext("{x}".into())
        );
        assert_eq!(StoredPassword::parse("{HA1}abc"), Ha1("abc".into()));
        assert_eq!(StoredPassword::parse("{ha1}ABC"), Ha1("ABC".into()));
        assert_eq!(StoredPassword::parse("{SSHA}abc"), Unusable);
        assert_eq!(StoredPassword::parse("{}abc"), Unusable);
        assert_eq!(StoredPassword::parse("{abc"), Unusable);
        assert_eq!(StoredPassword::parse("{"), Unusable);
        assert_eq!(StoredPassword::parse("a{HA1}"), Cleartext("a{HA1}".into()));
    }

    #[test]
    fn bad_lines_are_reported_by_number_without_content() {
        let (t, problems) = parse("ok pw write\nlonelytoken\n\n#c\nweird {SSHA}zz read\n");
        assert_eq!(t.len(), 2);
        assert!(t.get("lonelytoken").is_none());
        assert_eq!(
            problems,
            vec![
                Problem::TooFewFields { line: 2 },
                Problem::UnusablePassword {
                    line: 5,
                    user: "weird".into()
                },
            ]
        );
        for p in &problems {
            let text = p.to_string();
            assert!(
                !text.contains("lonelytoken") && !text.contains("zz"),
                "{text}"
            );
        }
    }

    #[test]
    fn later_duplicates_win() {
        let (t, problems) = parse("u first read\nu second write\n");
        assert_eq!(t.len(), 1);
        let u = t.get("u").unwrap();
        assert_eq!(u.password, StoredPassword::Cleartext("second".into()));
        assert_eq!(u.options, vec!["write"]);
        assert_eq!(
            problems,
            vec![Problem::Duplicate {
                line: 2,
                user: "u".into()
            }]
        );
    }

    #[test]
    fn line_numbers_follow_python_splitlines() {
        let (_, problems) = parse("a b\r\nbad\rc d\x0cbad2\n");
        assert_eq!(
            problems,
            vec![
                Problem::TooFewFields { line: 2 },
                Problem::TooFewFields { line: 4 }
            ]
        );
    }

    #[test]
    fn debug_output_hides_passwords() {
        let (t, _) = parse("u topsecret write\nv {HA1}deadbeef\n");
        let dbg = format!("{t:?}");
        assert!(
            !dbg.contains("topsecret") && !dbg.contains("deadbeef"),
            "{dbg}"
        );
    }

    #[test]
    fn missing_file_is_an_empty_table() {
        let dir = tempfile::tempdir().unwrap();
        let f = UsersFile::new(dir.path().join("users"));
        assert!(f.current().is_empty());
    }

    #[test]
    fn reloads_when_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        std::fs::write(&path, "a pw read\n").unwrap();
        let f = UsersFile::new(&path);
        assert!(f.current().get("a").is_some());
        assert!(f.current().get("b").is_none());

        // Replaced by rename (what editors and `install` do).
        let tmp = dir.path().join("users.new");
        std::fs::write(&tmp, "b pw write\n").unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        let t = f.current();
        assert!(t.get("a").is_none());
        assert!(t.get("b").is_some());

        // Rewritten in place with a different size.
        std::fs::write(&path, "b pw write\nc pw\n").unwrap();
        assert!(f.current().get("c").is_some());

        // Removed: nobody can log in any more.
        std::fs::remove_file(&path).unwrap();
        assert!(f.current().is_empty());

        // Back again.
        std::fs::write(&path, "d pw\n").unwrap();
        assert!(f.current().get("d").is_some());
    }

    #[test]
    fn unreadable_or_garbled_file_keeps_the_old_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        std::fs::write(&path, "a pw read\n").unwrap();
        let f = UsersFile::new(&path);
        assert!(f.current().get("a").is_some());

        std::fs::write(&path, b"b pw \xff\xfe read\n").unwrap();
        assert!(
            f.current().get("a").is_some(),
            "non-UTF-8 keeps the old table"
        );

        // A directory in place of the file cannot be read.
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        assert!(
            f.current().get("a").is_some(),
            "unreadable keeps the old table"
        );
    }
}
