//! OS providers for black-box clusters: install the repository's
//! `simpleimage` provider (os/simpleimage plus the built binary) into a
//! cluster root the way the install step does, with its config directory
//! inside the root.

use std::path::{Path, PathBuf};

use crate::{bin_dir, Cluster};

/// The repository's `os/` directory.
pub fn repo_os_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../os")
}

/// Where simpleimage keeps its per-variant config in a test cluster.
pub fn simpleimage_config_dir(c: &Cluster) -> PathBuf {
    c.root().join("etc/ganeti/instance-simpleimage")
}

/// Install simpleimage as `<root>/srv/ganeti/os/simpleimage`: the scripts
/// of os/simpleimage, `simpleimage.path` naming the built binary and
/// `simpleimage.configdir` naming [`simpleimage_config_dir`], whose
/// `default` variant config puts the download cache under the root too.
/// Returns the OS directory.
pub fn install_simpleimage(c: &Cluster) -> PathBuf {
    let src = repo_os_dir().join("simpleimage");
    let dst = c.root().join("srv/ganeti/os/simpleimage");
    std::fs::create_dir_all(&dst).unwrap();
    for entry in std::fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dst.join(entry.file_name())).unwrap();
    }
    let binary = bin_dir().join("simpleimage");
    assert!(
        binary.is_file(),
        "simpleimage must be built first (cargo build --bins); looked for {}",
        binary.display()
    );
    std::fs::write(
        dst.join("simpleimage.path"),
        format!("{}\n", binary.display()),
    )
    .unwrap();
    let conf = simpleimage_config_dir(c);
    std::fs::write(
        dst.join("simpleimage.configdir"),
        format!("{}\n", conf.display()),
    )
    .unwrap();
    set_simpleimage_config(c, "default", "");
    dst
}

/// Write the config of `variant` (its `IMAGE_STORAGE` points at
/// `<root>/var/cache/ganeti/instance-simpleimage`), followed by `extra`
/// lines.
pub fn set_simpleimage_config(c: &Cluster, variant: &str, extra: &str) {
    let dir = simpleimage_config_dir(c).join(variant);
    std::fs::create_dir_all(&dir).unwrap();
    let cache = c.root().join("var/cache/ganeti/instance-simpleimage");
    std::fs::write(
        dir.join("config"),
        format!("IMAGE_STORAGE={}\n{extra}", cache.display()),
    )
    .unwrap();
}
