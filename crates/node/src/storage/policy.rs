//! Which paths file-based storage may touch.
//!
//! The master sends paths (a disk's `logical_id`, a directory to create);
//! the node must not trust them, or a bad configuration or a compromised
//! master could make noded create, truncate or delete any file. Like
//! Ganeti's `CheckFileStoragePathAcceptance`, a path is accepted only if
//! it is absolute, not below a system directory, and below one of the
//! allowed directories listed in `file-storage-paths`. We are stricter in
//! two ways: `..` components are refused outright instead of being
//! normalized away, and symlinks are resolved so a link inside the storage
//! directory cannot lead outside it.
//!
//! System directories are taken relative to the node's root, so a node
//! living below `/home/me/cluster` is not refused for being under `/home`.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use ganeti_types::Paths;

use crate::error::PathRefusal;
use crate::NodeError;

/// System directories file storage must never be in (Ganeti's list).
fn forbidden_dirs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = ["/boot", "/dev", "/etc", "/home", "/proc", "/root", "/sys"]
        .iter()
        .map(PathBuf::from)
        .collect();
    for prefix in ["", "/usr", "/usr/local"] {
        for d in ["bin", "lib", "lib32", "lib64", "sbin"] {
            v.push(PathBuf::from(format!("{prefix}/{d}")));
        }
    }
    v
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Allowed {
    /// Read the list from Ganeti's `file-storage-paths` file at each check
    /// (so operators' edits apply at once); `defaults` when it is absent.
    File {
        file: PathBuf,
        defaults: Vec<PathBuf>,
    },
    /// A fixed list.
    Fixed(Vec<PathBuf>),
}

/// The file storage path policy of one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStoragePolicy {
    root: PathBuf,
    allowed: Allowed,
}

impl FileStoragePolicy {
    /// Allowed directories from `paths.file_storage_paths()`; if that file
    /// does not exist, the default file and shared-file storage directories.
    pub fn from_paths(paths: &Paths) -> Self {
        FileStoragePolicy {
            root: paths.root().to_path_buf(),
            allowed: Allowed::File {
                file: paths.file_storage_paths(),
                defaults: vec![
                    paths.default_file_storage_dir(),
                    paths.default_shared_file_storage_dir(),
                ],
            },
        }
    }

    /// Exactly these allowed directories, for a node rooted at `root`.
    pub fn fixed(root: impl Into<PathBuf>, dirs: Vec<PathBuf>) -> Self {
        FileStoragePolicy {
            root: root.into(),
            allowed: Allowed::Fixed(dirs),
        }
    }

    /// The allowed directories now in force (absolute ones only).
    pub fn allowed_dirs(&self) -> Result<Vec<PathBuf>, NodeError> {
        let (list, source) = match &self.allowed {
            Allowed::Fixed(v) => (v.clone(), None),
            Allowed::File { file, defaults } => match fs::read_to_string(file) {
                Ok(text) => (
                    text.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(PathBuf::from)
                        .collect(),
                    Some(file),
                ),
                Err(e) if e.kind() == io::ErrorKind::NotFound => (defaults.clone(), None),
                Err(e) => {
                    tracing::warn!(file = %file.display(), error = %e, "cannot read file storage paths");
                    (Vec::new(), Some(file))
                }
            },
        };
        let list: Vec<PathBuf> = list
            .into_iter()
            .filter(|p| {
                let ok = p.is_absolute();
                if !ok {
                    tracing::info!(path = %p.display(), "ignoring relative path for file storage");
                }
                ok
            })
            .map(|p| normalize(&p))
            .collect();
        if list.is_empty() {
            let file = source
                .cloned()
                .unwrap_or_else(|| PathBuf::from("(built-in list)"));
            return Err(NodeError::refused(
                Path::new(""),
                PathRefusal::NoAllowedPaths { file },
            ));
        }
        Ok(list)
    }

    /// Accept `path` for file storage: strictly below an allowed directory
    /// (or equal to one if `exact_ok`, for directory operations).
    pub fn check(&self, path: &Path, exact_ok: bool) -> Result<(), NodeError> {
        let refuse = |reason| Err(NodeError::refused(path, reason));
        if !path.is_absolute() {
            return refuse(PathRefusal::NotAbsolute);
        }
        if path.components().any(|c| c == Component::ParentDir) {
            return refuse(PathRefusal::ParentComponent);
        }
        let norm = normalize(path);
        let rel_to_root = match norm.strip_prefix(&self.root) {
            Ok(rel) => Path::new("/").join(rel),
            Err(_) => norm.clone(),
        };
        if forbidden_dirs().iter().any(|f| rel_to_root.starts_with(f)) {
            return refuse(PathRefusal::ForbiddenPrefix);
        }
        let allowed = self.allowed_dirs()?;
        let inside = |p: &Path, dir: &Path| p.starts_with(dir) && (exact_ok || p != dir);
        if !allowed.iter().any(|a| inside(&norm, a)) {
            return refuse(PathRefusal::NotAllowed);
        }
        let resolved = resolve(&norm);
        if !allowed.iter().any(|a| inside(&resolved, &resolve(a))) {
            return refuse(PathRefusal::ResolvesOutside { resolved });
        }
        Ok(())
    }
}

/// Lexical normalization of an absolute path without `..`: drops `.`,
/// repeated and trailing slashes.
fn normalize(p: &Path) -> PathBuf {
    p.components().filter(|c| *c != Component::CurDir).collect()
}

/// Resolve symlinks in the longest existing prefix of `p` and append the
/// rest unchanged.
fn resolve(p: &Path) -> PathBuf {
    for ancestor in p.ancestors() {
        if let Ok(real) = ancestor.canonicalize() {
            return match p.strip_prefix(ancestor) {
                Ok(rest) if !rest.as_os_str().is_empty() => real.join(rest),
                _ => real,
            };
        }
    }
    p.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(root: &Path) -> FileStoragePolicy {
        FileStoragePolicy::from_paths(&Paths::new(root))
    }

    #[test]
    fn defaults_apply_without_the_paths_file() {
        let t = tempfile::tempdir().unwrap();
        let p = policy(t.path());
        let base = t.path().join("srv/ganeti/file-storage");
        p.check(&base.join("inst1/x.file.disk0"), false).unwrap();
        p.check(&base, true).unwrap();
        let e = p.check(&base, false).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("is not acceptable for file storage"),
            "{e}"
        );
        p.check(&t.path().join("srv/ganeti/shared-file-storage/i"), false)
            .unwrap();
        // a sibling with the same prefix is not below the directory
        assert!(p
            .check(&t.path().join("srv/ganeti/file-storage2/x"), false)
            .is_err());
    }

    #[test]
    fn paths_file_replaces_defaults() {
        let t = tempfile::tempdir().unwrap();
        let paths = Paths::new(t.path());
        fs::create_dir_all(paths.conf_dir()).unwrap();
        let custom = t.path().join("data/files");
        fs::write(
            paths.file_storage_paths(),
            format!("# comment\n\n  {}  \nrelative/ignored\n", custom.display()),
        )
        .unwrap();
        let p = FileStoragePolicy::from_paths(&paths);
        assert_eq!(p.allowed_dirs().unwrap(), vec![custom.clone()]);
        p.check(&custom.join("i/d"), false).unwrap();
        assert!(p
            .check(&paths.default_file_storage_dir().join("i/d"), false)
            .is_err());
        fs::write(paths.file_storage_paths(), "# nothing\n").unwrap();
        let e = p.check(&custom.join("i/d"), false).unwrap_err();
        assert!(
            e.to_string().starts_with("No paths are valid or path file"),
            "{e}"
        );
    }

    #[test]
    fn traversal_relative_and_forbidden_paths_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let p = policy(t.path());
        let base = t.path().join("srv/ganeti/file-storage");
        let dotdot = base.join("inst/../../../../etc/passwd");
        let e = p.check(&dotdot, false).unwrap_err();
        assert!(matches!(
            &e,
            NodeError::PathRefused {
                reason: PathRefusal::ParentComponent,
                ..
            }
        ));
        assert!(e.to_string().contains("etc/passwd"), "{e}");
        let e = p
            .check(Path::new("srv/ganeti/file-storage/x"), false)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "File storage path must be absolute, got 'srv/ganeti/file-storage/x'"
        );
        assert!(p.check(Path::new("/etc/x"), false).is_err());
        // forbidden prefixes are relative to the node's root, even if allowed
        let fp = FileStoragePolicy::fixed(t.path(), vec![t.path().join("etc")]);
        let e = fp.check(&t.path().join("etc/x"), false).unwrap_err();
        assert!(e.to_string().ends_with("uses a forbidden prefix"), "{e}");
    }

    #[test]
    fn symlinks_leading_outside_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let p = policy(t.path());
        let base = t.path().join("srv/ganeti/file-storage");
        let outside = t.path().join("outside");
        fs::create_dir_all(&base).unwrap();
        fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, base.join("evil")).unwrap();
        let e = p.check(&base.join("evil/disk0"), false).unwrap_err();
        assert!(
            matches!(
                &e,
                NodeError::PathRefused {
                    reason: PathRefusal::ResolvesOutside { .. },
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("outside"), "{e}");
        // a link to a file outside is refused too
        fs::write(outside.join("f"), b"x").unwrap();
        std::os::unix::fs::symlink(outside.join("f"), base.join("f.disk0")).unwrap();
        assert!(p.check(&base.join("f.disk0"), false).is_err());
        // links that stay inside are fine
        fs::create_dir_all(base.join("real")).unwrap();
        std::os::unix::fs::symlink(base.join("real"), base.join("alias")).unwrap();
        p.check(&base.join("alias/disk0"), false).unwrap();
    }
}
