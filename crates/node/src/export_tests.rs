//! The export directory: finalize, list, info and remove, bad input
//! included.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use super::*;

const INI: &str = "[export]\nversion = 0\nos = debootstrap\n\n[instance]\nname = inst1\n";

struct Fx {
    _dir: tempfile::TempDir,
    dir: PathBuf,
}

fn fx() -> Fx {
    let t = tempfile::tempdir().unwrap();
    let dir = export_dir(&Paths::new(t.path()));
    fs::create_dir_all(&dir).unwrap();
    Fx { _dir: t, dir }
}

impl Fx {
    fn staging(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let s = self.dir.join(format!("{name}.new"));
        fs::create_dir_all(&s).unwrap();
        for (f, text) in files {
            fs::write(s.join(f), text).unwrap();
        }
        s
    }
}

#[test]
fn the_export_dir_is_ganetis() {
    assert_eq!(
        export_dir(&Paths::new("/")),
        PathBuf::from("/srv/ganeti/export")
    );
}

#[test]
fn finalize_writes_config_and_replaces_an_older_export() {
    let f = fx();
    // an older export of the same instance, with a disk the new one lacks
    let old = f.dir.join("inst1");
    fs::create_dir_all(&old).unwrap();
    fs::write(old.join("old-disk"), "old").unwrap();
    fs::write(old.join("config.ini"), "[export]\n").unwrap();

    let staging = f.staging("inst1", &[("disk-uuid", "dump")]);
    finalize(&f.dir, "inst1", &staging, INI).unwrap();
    assert!(!staging.exists());
    assert_eq!(fs::read_to_string(old.join("config.ini")).unwrap(), INI);
    assert_eq!(fs::read_to_string(old.join("disk-uuid")).unwrap(), "dump");
    assert!(!old.join("old-disk").exists());
    let mode = fs::metadata(old.join("config.ini"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(list(&f.dir).unwrap(), vec!["inst1"]);

    // without an older export
    let s2 = f.staging("inst2", &[]);
    finalize(&f.dir, "inst2", &s2, INI).unwrap();
    assert_eq!(info(&f.dir.join("inst2")).unwrap(), INI);
}

#[test]
fn finalize_refuses_bad_input() {
    let f = fx();
    let staging = f.staging("inst1", &[]);
    for bad in ["", ".", "..", "a/b", "../inst1", "x\0y"] {
        let e = finalize(&f.dir, bad, &staging, INI).unwrap_err();
        assert!(
            matches!(e, NodeError::InvalidExportName { .. }),
            "{bad:?}: {e}"
        );
    }
    // the staging dir must be exactly <export dir>/<instance>.new
    let elsewhere = f.dir.join("other.new");
    fs::create_dir_all(&elsewhere).unwrap();
    for s in [elsewhere.clone(), f.dir.join("inst1.new/../inst1.new")] {
        let e = finalize(&f.dir, "inst1", &s, INI).unwrap_err();
        assert!(matches!(e, NodeError::NotInExportDir { .. }), "{e}");
    }
    // a missing staging dir (a diskless instance) is made
    finalize(&f.dir, "inst9", &f.dir.join("inst9.new"), INI).unwrap();
    assert_eq!(info(&f.dir.join("inst9")).unwrap(), INI);
    // a file where the staging dir should be
    fs::write(f.dir.join("inst8.new"), "x").unwrap();
    let e = finalize(&f.dir, "inst8", &f.dir.join("inst8.new"), INI).unwrap_err();
    assert!(matches!(e, NodeError::ExportIo { .. }), "{e}");
    assert!(!f.dir.join("inst1").exists());
    assert!(!f.dir.join("inst8").exists());
}

#[test]
fn list_is_sorted_visible_entries() {
    let f = fx();
    for n in ["b.example.com", "a.example.com", ".hidden", "c.new"] {
        fs::create_dir_all(f.dir.join(n)).unwrap();
    }
    assert_eq!(
        list(&f.dir).unwrap(),
        vec!["a.example.com", "b.example.com", "c.new"]
    );
    let e = list(&f.dir.join("missing")).unwrap_err();
    assert_eq!(e.to_string(), "No exports directory");
}

#[test]
fn info_needs_both_sections() {
    let f = fx();
    let d = f.dir.join("inst1");
    fs::create_dir_all(&d).unwrap();
    // missing file: Ganeti's message
    let e = info(&d).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Export info file doesn't have the required fields"
    );
    fs::write(d.join("config.ini"), "[export]\nversion = 0\n").unwrap();
    assert!(matches!(
        info(&d).unwrap_err(),
        NodeError::ExportInfoIncomplete { .. }
    ));
    fs::write(d.join("config.ini"), " [ instance ]\n[export]\n").unwrap();
    assert!(info(&d).is_ok());
    assert!(info(&f.dir.join("nope")).is_err());
    // a file instead of a directory
    fs::write(f.dir.join("flat"), INI).unwrap();
    assert!(info(&f.dir.join("flat")).is_err());
}

#[test]
fn remove_exports() {
    let f = fx();
    let d = f.dir.join("inst1");
    fs::create_dir_all(d.join("sub")).unwrap();
    fs::write(d.join("sub/x"), "x").unwrap();
    remove(&f.dir, "inst1").unwrap();
    assert!(!d.exists());
    let e = remove(&f.dir, "inst1").unwrap_err();
    assert!(matches!(e, NodeError::ExportMissing { .. }), "{e}");
    // names, never paths
    let victim = f.dir.parent().unwrap().join("victim");
    fs::create_dir_all(&victim).unwrap();
    for bad in ["", ".", "..", "../victim", "/tmp", "a/b"] {
        let e = remove(&f.dir, bad).unwrap_err();
        assert!(
            matches!(e, NodeError::InvalidExportName { .. }),
            "{bad:?}: {e}"
        );
    }
    assert!(victim.exists());
    // a symlink is removed as a link, its target kept
    std::os::unix::fs::symlink(&victim, f.dir.join("link")).unwrap();
    remove(&f.dir, "link").unwrap();
    assert!(victim.exists());
}
