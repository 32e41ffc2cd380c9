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

/// Add `variant` to the variants.list of the simpleimage provider
/// installed by [`install_simpleimage`] (Ganeti takes the first line as
/// the default variant, so it is appended).
pub fn add_simpleimage_variant(c: &Cluster, variant: &str) {
    use std::io::Write;
    let list = c.root().join("srv/ganeti/os/simpleimage/variants.list");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&list)
        .unwrap();
    writeln!(f, "{variant}").unwrap();
}

/// Where Debian's `ganeti-os-noop` package installs its provider.
pub const DEBIAN_NOOP: &str = "/usr/share/ganeti/os/noop";

/// Make Debian's noop provider (package `ganeti-os-noop`) visible to the
/// cluster as `name`, unchanged: a symlink in the root's
/// `usr/share/ganeti/os` (the harness has its own `noop` in `srv/ganeti/os`,
/// which would shadow the Debian one under its own name). Returns the
/// link, or `None` after a loud SKIP line when the package is missing.
pub fn link_debian_noop(c: &Cluster, name: &str) -> Option<PathBuf> {
    let target = Path::new(DEBIAN_NOOP);
    if !target.join("create").is_file() {
        eprintln!(
            "SKIP: Debian's noop OS provider is not installed ({DEBIAN_NOOP}; \
             apt-get install ganeti-os-noop, scripts/test.sh does it as root)"
        );
        return None;
    }
    let dir = c.root().join("usr/share/ganeti/os");
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join(name);
    std::os::unix::fs::symlink(target, &link).unwrap();
    Some(link)
}

/// The repository's `scripts/install.sh`.
pub fn install_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/install.sh")
}

/// Run the project's install step, `scripts/install.sh --from <built
/// binaries> args...` (no build: the tests use what `cargo build --bins`
/// made).
pub fn run_install_script(args: &[&str]) -> crate::Run {
    let out = std::process::Command::new("bash")
        .arg(install_script())
        .arg("--from")
        .arg(bin_dir())
        .args(args)
        .output()
        .expect("run scripts/install.sh");
    crate::Run::from(out)
}
