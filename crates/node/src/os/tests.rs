//! OS discovery against real directories in a temp dir: each of Ganeti's
//! validity rules, with the exact message it produces.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::*;

const SCRIPTS: [&str; 5] = ["create", "export", "import", "rename", "verify"];

/// A search path of two directories in a temp dir.
struct Fixture {
    _dir: tempfile::TempDir,
    dirs: Vec<PathBuf>,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let dirs = vec![dir.path().join("srv/os"), dir.path().join("usr/os")];
        for d in &dirs {
            fs::create_dir_all(d).unwrap();
        }
        Fixture { _dir: dir, dirs }
    }

    /// An OS `name` in search dir `idx` declaring `api`, with `scripts`
    /// (executable) and nothing else.
    fn os(&self, idx: usize, name: &str, api: &str, scripts: &[&str]) -> PathBuf {
        let d = self.dirs[idx].join(name);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join(API_VERSION_FILE), api).unwrap();
        for s in scripts {
            script(&d.join(s), 0o755);
        }
        d
    }

    /// A complete API 20 OS.
    fn full_os(&self, idx: usize, name: &str) -> PathBuf {
        let d = self.os(idx, name, "20\n", &SCRIPTS);
        fs::write(d.join(PARAMETERS_FILE), "").unwrap();
        d
    }

    fn load(&self, name: &str) -> Result<OsDefinition, InvalidOs> {
        find_os(name, &self.dirs)
    }

    fn message(&self, name: &str) -> String {
        self.load(name).unwrap_err().to_string()
    }
}

fn script(path: &Path, mode: u32) {
    fs::write(path, "#!/bin/sh\nexit 0\n").unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn disp(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn valid_api20_os_with_variants_and_parameters() {
    let f = Fixture::new();
    let d = f.full_os(0, "image");
    fs::write(
        d.join(VARIANTS_FILE),
        "# the variants\n\n  default \nminimal\n#commented\n",
    )
    .unwrap();
    fs::write(
        d.join(PARAMETERS_FILE),
        "image  The image to write\nimage_type\tkind of image  \n\nbare\n",
    )
    .unwrap();
    let os = f.load("image").unwrap();
    assert_eq!(os.name, "image");
    assert_eq!(os.path, d);
    assert_eq!(os.api_versions, vec![20]);
    assert_eq!(os.api_version(), 20);
    assert_eq!(os.variants, vec!["default", "minimal"]);
    assert_eq!(
        os.parameters,
        vec![
            vec!["image".to_string(), "The image to write".into()],
            vec!["image_type".into(), "kind of image  ".into()],
            vec![],
            vec!["bare".into()],
        ]
    );
    assert_eq!(os.create_script, Some(d.join("create")));
    assert_eq!(os.create_untrusted_script, None);
    assert_eq!(os.export_script, d.join("export"));
    assert_eq!(os.import_script, d.join("import"));
    assert_eq!(os.rename_script, d.join("rename"));
    assert_eq!(os.verify_script, Some(d.join("verify")));
    assert!(os.trusted());
    // the same through the full name with a variant
    assert_eq!(os_from_disk("image+minimal", &f.dirs).unwrap(), os);
}

#[test]
fn api10_needs_no_verify_and_ignores_the_list_files() {
    let f = Fixture::new();
    let d = f.os(
        0,
        "old",
        "5\n10\n",
        &["create", "export", "import", "rename"],
    );
    fs::write(d.join(VARIANTS_FILE), "a\nb\n").unwrap();
    fs::write(d.join(PARAMETERS_FILE), "p desc\n").unwrap();
    let os = f.load("old").unwrap();
    assert_eq!(os.api_versions, vec![5, 10]);
    assert_eq!(os.api_version(), 10);
    assert!(os.variants.is_empty() && os.parameters.is_empty());
    assert_eq!(os.verify_script, None);
}

#[test]
fn api15_reads_variants_only() {
    let f = Fixture::new();
    let d = f.os(0, "mid", "15", &["create", "export", "import", "rename"]);
    fs::write(d.join(VARIANTS_FILE), "v1\n").unwrap();
    fs::write(d.join(PARAMETERS_FILE), "p desc\n").unwrap();
    let os = f.load("mid").unwrap();
    assert_eq!(os.variants, vec!["v1"]);
    assert!(os.parameters.is_empty());
    // without variants.list: no variants, still valid
    fs::remove_file(d.join(VARIANTS_FILE)).unwrap();
    assert!(f.load("mid").unwrap().variants.is_empty());
}

#[test]
fn highest_declared_version_decides_required_files() {
    let f = Fixture::new();
    // 25 is not implemented, but it still makes verify and
    // parameters.list required (Ganeti uses the declared maximum)
    let d = f.os(
        0,
        "future",
        "10\n25\n",
        &["create", "export", "import", "rename"],
    );
    assert_eq!(
        f.message("future"),
        format!(
            "File 'verify' under path '{}' is missing (ENOENT)",
            disp(&d)
        )
    );
    script(&d.join("verify"), 0o700);
    assert_eq!(
        f.message("future"),
        format!(
            "File 'parameters.list' under path '{}' is missing (ENOENT)",
            disp(&d)
        )
    );
    fs::write(d.join(PARAMETERS_FILE), "").unwrap();
    assert_eq!(f.load("future").unwrap().api_version(), 10);
}

#[test]
fn missing_required_script() {
    let f = Fixture::new();
    let d = f.os(
        0,
        "broken",
        "20\n",
        &["create", "import", "rename", "verify"],
    );
    fs::write(d.join(PARAMETERS_FILE), "").unwrap();
    assert_eq!(
        f.message("broken"),
        format!(
            "File 'export' under path '{}' is missing (ENOENT)",
            disp(&d)
        )
    );
}

#[test]
fn non_executable_script() {
    let f = Fixture::new();
    let d = f.full_os(0, "noexec");
    // group/other execute bits do not count, only the owner's
    script(&d.join("rename"), 0o655);
    assert_eq!(
        f.message("noexec"),
        format!("File 'rename' under path '{}' is not executable", disp(&d))
    );
}

#[test]
fn script_that_is_a_directory() {
    let f = Fixture::new();
    let d = f.full_os(0, "dirscript");
    fs::remove_file(d.join("import")).unwrap();
    fs::create_dir(d.join("import")).unwrap();
    assert_eq!(
        f.message("dirscript"),
        format!(
            "File 'import' under path '{}' is not a regular file",
            disp(&d)
        )
    );
}

#[test]
fn create_or_create_untrusted_is_needed() {
    let f = Fixture::new();
    let d = f.full_os(0, "nocreate");
    fs::remove_file(d.join("create")).unwrap();
    assert_eq!(
        f.message("nocreate"),
        format!(
            "A create script (trusted or untrusted) under path '{}' must exist",
            disp(&d)
        )
    );
    script(&d.join("create_untrusted"), 0o755);
    let os = f.load("nocreate").unwrap();
    assert!(!os.trusted());
    assert_eq!(os.create_script, None);
    assert_eq!(os.create_untrusted_script, Some(d.join("create_untrusted")));
    // both scripts: still untrusted
    script(&d.join("create"), 0o755);
    assert!(!f.load("nocreate").unwrap().trusted());
    // a create_untrusted that is not executable makes the OS invalid
    script(&d.join("create_untrusted"), 0o644);
    assert_eq!(
        f.message("nocreate"),
        format!(
            "File 'create_untrusted' under path '{}' is not executable",
            disp(&d)
        )
    );
}

#[test]
fn bad_api_version_files() {
    let f = Fixture::new();
    let d = f.full_os(0, "api");
    let api = d.join(API_VERSION_FILE);
    let msg = |content: &str| {
        fs::write(&api, content).unwrap();
        f.message("api")
    };
    assert_eq!(
        msg("twenty\n"),
        "API version(s) can't be converted to integer: invalid literal for int() with base 10: 'twenty'"
    );
    // a blank line is an empty version, not ignored
    assert_eq!(
        msg("20\n\n"),
        "API version(s) can't be converted to integer: invalid literal for int() with base 10: ''"
    );
    assert_eq!(
        msg("20\n it's \n"),
        "API version(s) can't be converted to integer: invalid literal for int() with base 10: \"it's\""
    );
    assert_eq!(
        msg("5\n"),
        format!(
            "API version mismatch for path '{}': found [5], want frozenset({{10, 20, 15}}).",
            disp(&d)
        )
    );
    assert_eq!(
        msg(""),
        format!(
            "API version mismatch for path '{}': found [], want frozenset({{10, 20, 15}}).",
            disp(&d)
        )
    );
    // whitespace around a version and Python's int syntax are accepted
    fs::write(&api, " 2_0 \r\n+15\n").unwrap();
    assert_eq!(f.load("api").unwrap().api_versions, vec![20, 15]);

    fs::remove_file(&api).unwrap();
    assert_eq!(
        f.message("api"),
        format!(
            "Required file 'ganeti_api_version' not found under path {}: ENOENT",
            disp(&d)
        )
    );
    fs::create_dir(&api).unwrap();
    assert_eq!(
        f.message("api"),
        format!(
            "File 'ganeti_api_version' in {} is not a regular file",
            disp(&d)
        )
    );
}

#[test]
fn names_that_are_not_os_directories() {
    let f = Fixture::new();
    assert_eq!(
        f.message("nosuch"),
        "Directory for OS nosuch not found in search path"
    );
    // a directory whose name an OS may not have is never found
    f.full_os(0, "a.b");
    assert_eq!(
        f.message("a.b"),
        "Directory for OS a.b not found in search path"
    );
    // a plain file is not an OS directory
    fs::write(f.dirs[0].join("README"), "hi").unwrap();
    assert_eq!(
        f.message("README"),
        "Directory for OS README not found in search path"
    );
}

#[test]
fn first_search_directory_wins_even_when_invalid() {
    let f = Fixture::new();
    let bad = f.os(0, "dup", "20\n", &[]);
    f.full_os(1, "dup");
    assert_eq!(
        f.message("dup"),
        format!(
            "File 'export' under path '{}' is missing (ENOENT)",
            disp(&bad)
        )
    );
    fs::remove_dir_all(&bad).unwrap();
    assert_eq!(f.load("dup").unwrap().path, f.dirs[1].join("dup"));
}

#[test]
fn symlinked_os_directory_is_followed() {
    let f = Fixture::new();
    let real = f.full_os(1, "real");
    std::os::unix::fs::symlink(&real, f.dirs[0].join("alias")).unwrap();
    let os = f.load("alias").unwrap();
    assert_eq!(os.name, "alias");
    assert_eq!(os.path, f.dirs[0].join("alias"));
}

#[test]
fn diagnose_reports_every_entry_in_search_path_order() {
    let f = Fixture::new();
    f.full_os(0, "zeta");
    f.os(0, "broken", "20\n", &["create"]);
    fs::write(f.dirs[0].join("README"), "not an OS").unwrap();
    fs::create_dir(f.dirs[0].join(".hidden")).unwrap();
    let shadowed = f.os(1, "zeta", "10\n", &["create", "export", "import", "rename"]);
    let untrusted = f.os(
        1,
        "alpha",
        "15\n",
        &["create_untrusted", "export", "import", "rename"],
    );
    fs::write(untrusted.join(VARIANTS_FILE), "x\ny\n").unwrap();
    let mut search = f.dirs.clone();
    search.push(f.dirs[0].join("missing-dir"));

    let report = diagnose(&search);
    let summary: Vec<(&str, bool)> = report.iter().map(|d| (d.name.as_str(), d.valid)).collect();
    assert_eq!(
        summary,
        vec![
            ("README", false),
            ("broken", false),
            ("zeta", true),
            ("alpha", true),
            ("zeta", true),
        ]
    );
    assert_eq!(
        report[0].message,
        "Directory for OS README not found in search path"
    );
    let broken = &report[1];
    assert_eq!(broken.path, disp(&f.dirs[0].join("broken")));
    assert_eq!(
        broken.message,
        format!(
            "File 'export' under path '{}' is missing (ENOENT)",
            broken.path
        )
    );
    // invalid entries carry no details and count as trusted
    assert!(broken.variants.is_empty() && broken.api_versions.is_empty());
    assert!(broken.trusted);
    assert_eq!(
        report[2],
        OsDiagnosis {
            name: "zeta".into(),
            path: disp(&f.dirs[0].join("zeta")),
            valid: true,
            message: String::new(),
            variants: vec![],
            parameters: vec![],
            api_versions: vec![20],
            trusted: true,
        }
    );
    assert_eq!(report[3].variants, vec!["x", "y"]);
    assert!(!report[3].trusted);
    assert_eq!(report[4].path, disp(&shadowed));
    assert_eq!(report[4].api_versions, vec![10]);
}

#[test]
fn diagnose_of_an_empty_search_path() {
    let f = Fixture::new();
    assert!(diagnose(&f.dirs).is_empty());
    assert!(diagnose(&[]).is_empty());
}

#[test]
fn diagnosis_round_trips_through_serde() {
    let f = Fixture::new();
    f.full_os(0, "noop");
    let report = diagnose(&f.dirs);
    let text = serde_json::to_string(&report).unwrap();
    let back: Vec<OsDiagnosis> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, report);
}
