//! Reading one OS directory and deciding whether it is a valid provider,
//! in the order and with the rules of Ganeti's `_TryOSFromDisk`.
//!
//! Why the order matters: only the first problem is reported, and
//! operators fix providers from that message, so the files are checked in
//! Ganeti's order (the API version file, then create, create_untrusted,
//! export, import, rename, verify, variants.list, parameters.list).

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ganeti_clifmt::pystr::py_int;

use ganeti_clifmt::pystr::{py_split_first, py_splitlines, py_strip};

use super::pytext::errno_or_str;
use super::{
    InvalidOs, OsDefinition, API_VERSION_FILE, PARAMETERS_FILE, SUPPORTED_API_VERSIONS,
    VARIANTS_FILE,
};

/// Whether a name may be an OS (Ganeti's external-script name mask
/// `^[a-zA-Z0-9_-]+$`; Python's `$` also accepts one final newline).
fn is_valid_os_name(name: &str) -> bool {
    let core = name.strip_suffix('\n').unwrap_or(name);
    !core.is_empty()
        && core
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Ganeti's `utils.FindFile(name, dirs, os.path.isdir)`: the first
/// `<dir>/<name>` that is a directory (symlinks followed).
pub(crate) fn find_os_dir(name: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    if !is_valid_os_name(name) {
        return None;
    }
    dirs.iter().map(|d| d.join(name)).find(|p| p.is_dir())
}

fn read_text(path: &Path) -> io::Result<String> {
    // Ganeti decodes as UTF-8 and would fail the whole node call on bad
    // bytes; replacing them reports this one OS instead.
    fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Ganeti's `_OSOndiskAPIVersion`: every line of `ganeti_api_version`
/// must be an integer.
fn read_api_versions(os_dir: &Path) -> Result<Vec<i64>, InvalidOs> {
    let dir = os_dir.display().to_string();
    let file = os_dir.join(API_VERSION_FILE);
    let meta = fs::metadata(&file).map_err(|e| InvalidOs::ApiFileMissing {
        os_dir: dir.clone(),
        errno: errno_or_str(&e),
    })?;
    if !meta.is_file() {
        return Err(InvalidOs::ApiFileNotRegular { os_dir: dir });
    }
    let text = read_text(&file).map_err(|e| InvalidOs::ApiFileUnreadable {
        file: file.display().to_string(),
        errno: errno_or_str(&e),
    })?;
    py_splitlines(&text)
        .into_iter()
        .map(|line| {
            let line = py_strip(line);
            py_int(line)
                .map(|v| i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX }))
                .ok_or_else(|| InvalidOs::ApiVersionNotInteger {
                    text: line.to_string(),
                })
        })
        .collect()
}

/// One file Ganeti looks at, and whether its absence makes the OS invalid.
struct Wanted {
    name: &'static str,
    required: bool,
    script: bool,
}

const fn script(name: &'static str, required: bool) -> Wanted {
    Wanted {
        name,
        required,
        script: true,
    }
}

/// The files to check for an OS whose highest declared version is `max_api`.
fn wanted_files(max_api: i64) -> Vec<Wanted> {
    let mut files = vec![
        script("create", false),
        script("create_untrusted", false),
        script("export", true),
        script("import", true),
        script("rename", true),
    ];
    if max_api >= 20 {
        files.push(script("verify", true));
    }
    if max_api >= 15 {
        files.push(Wanted {
            name: VARIANTS_FILE,
            required: false,
            script: false,
        });
    }
    if max_api >= 20 {
        files.push(Wanted {
            name: PARAMETERS_FILE,
            required: true,
            script: false,
        });
    }
    files
}

/// Check the files of the OS in `os_dir`; returns those present by name.
fn check_files(os_dir: &Path, max_api: i64) -> Result<Vec<(&'static str, PathBuf)>, InvalidOs> {
    let dir = os_dir.display().to_string();
    let mut present = Vec::new();
    for w in wanted_files(max_api) {
        let path = os_dir.join(w.name);
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound && !w.required => continue,
            Err(e) => {
                return Err(InvalidOs::FileMissing {
                    file: w.name.into(),
                    os_dir: dir,
                    errno: errno_or_str(&e),
                })
            }
        };
        if !meta.is_file() {
            return Err(InvalidOs::FileNotRegular {
                file: w.name.into(),
                os_dir: dir,
            });
        }
        if w.script && meta.permissions().mode() & 0o100 == 0 {
            return Err(InvalidOs::NotExecutable {
                file: w.name.into(),
                os_dir: dir,
            });
        }
        present.push((w.name, path));
    }
    Ok(present)
}

/// Ganeti's `_TryOSFromDisk`: the OS `name` from the first of `dirs` that
/// has it, fully checked.
pub(crate) fn load(name: &str, dirs: &[PathBuf]) -> Result<OsDefinition, InvalidOs> {
    let os_dir = find_os_dir(name, dirs).ok_or_else(|| InvalidOs::NotFound {
        name: name.to_string(),
    })?;
    let api_versions = read_api_versions(&os_dir)?;
    if !api_versions
        .iter()
        .any(|v| SUPPORTED_API_VERSIONS.contains(v))
    {
        return Err(InvalidOs::ApiVersionMismatch {
            os_dir: os_dir.display().to_string(),
            found: api_versions,
        });
    }
    // the highest *declared* version decides which files are needed
    let max_api = api_versions.iter().copied().max().unwrap_or(0);
    let files = check_files(&os_dir, max_api)?;
    let get = |n: &str| files.iter().find(|(f, _)| *f == n).map(|(_, p)| p.clone());
    let create_script = get("create");
    let create_untrusted_script = get("create_untrusted");
    if create_script.is_none() && create_untrusted_script.is_none() {
        return Err(InvalidOs::NoCreateScript {
            os_dir: os_dir.display().to_string(),
        });
    }
    let mut variants = Vec::new();
    if let Some(file) = get(VARIANTS_FILE) {
        match read_text(&file) {
            Ok(text) => {
                variants = py_splitlines(&text)
                    .into_iter()
                    .map(py_strip)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_string)
                    .collect();
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(InvalidOs::VariantsUnreadable {
                    file: file.display().to_string(),
                    errno: errno_or_str(&e),
                })
            }
        }
    }
    let mut parameters = Vec::new();
    if let Some(file) = get(PARAMETERS_FILE) {
        let text = read_text(&file).map_err(|e| InvalidOs::ParametersUnreadable {
            file: file.display().to_string(),
            errno: errno_or_str(&e),
        })?;
        parameters = py_splitlines(&text)
            .into_iter()
            .map(|l| py_split_first(l).into_iter().map(str::to_owned).collect())
            .collect();
    }
    let script_path = |n: &str| get(n).unwrap_or_else(|| os_dir.join(n));
    Ok(OsDefinition {
        name: name.to_string(),
        export_script: script_path("export"),
        import_script: script_path("import"),
        rename_script: script_path("rename"),
        verify_script: get("verify"),
        path: os_dir,
        api_versions,
        create_script,
        create_untrusted_script,
        variants,
        parameters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_name_mask() {
        assert!(is_valid_os_name("debian-image_2"));
        assert!(is_valid_os_name("noop\n"));
        assert!(!is_valid_os_name("a.b"));
        assert!(!is_valid_os_name("a+b"));
        assert!(!is_valid_os_name(""));
        assert!(!is_valid_os_name("\n"));
        assert!(!is_valid_os_name("../x"));
    }

    #[test]
    fn files_by_api_version() {
        let names = |v| -> Vec<&str> { wanted_files(v).iter().map(|w| w.name).collect() };
        assert_eq!(
            names(10),
            ["create", "create_untrusted", "export", "import", "rename"]
        );
        assert_eq!(names(15).last(), Some(&"variants.list"));
        assert_eq!(
            names(20)[5..],
            ["verify", "variants.list", "parameters.list"]
        );
    }
}
