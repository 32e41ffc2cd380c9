//! The Ganeti OS directory os/simpleimage: files Ganeti checks, and the
//! wrapper scripts finding the binary (next to them, or simpleimage.path).

mod common;
use common::*;
use std::path::Path;
use std::process::Command;

fn os_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../os/simpleimage"))
}

#[test]
fn os_directory_is_valid_for_ganeti() {
    let d = os_dir();
    let api = std::fs::read_to_string(d.join("ganeti_api_version")).unwrap();
    let versions: Vec<u32> = api.lines().map(|l| l.trim().parse().unwrap()).collect();
    assert_eq!(versions, [20, 15, 10]);
    let variants = std::fs::read_to_string(d.join("variants.list")).unwrap();
    assert!(variants.lines().any(|l| l.trim() == "default"));
    let params = std::fs::read_to_string(d.join("parameters.list")).unwrap();
    let names: Vec<&str> = params
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names, ["image", "image_type"]);
    for s in ["create", "import", "export", "rename", "verify"] {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(d.join(s)).unwrap();
        assert!(m.is_file() && m.permissions().mode() & 0o100 != 0, "{s}");
    }
}

#[test]
fn wrappers_exec_the_binary() {
    let fx = Fixture::new(4 << 20);
    let bin = env!("CARGO_BIN_EXE_simpleimage");
    for how in ["symlink", "pathfile"] {
        let os = fx.path(&format!("os-{how}"));
        std::fs::create_dir(&os).unwrap();
        for e in std::fs::read_dir(os_dir()).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), os.join(e.file_name())).unwrap();
        }
        if how == "symlink" {
            std::os::unix::fs::symlink(bin, os.join("simpleimage")).unwrap();
        } else {
            std::fs::write(os.join("simpleimage.path"), format!("{bin}\n")).unwrap();
        }
        // Ganeti's verify environment: core variables only, cwd = OS dir.
        let run = |ty: &str| {
            Command::new(os.join("verify"))
                .arg("parameters")
                .env_clear()
                .env("PATH", "/sbin:/bin:/usr/sbin:/usr/bin")
                .env("OS_API_VERSION", "20")
                .env("OS_NAME", "simpleimage")
                .env("OS_VARIANT", "default")
                .env("OSP_IMAGE", "http://h/x.img")
                .env("OSP_IMAGE_TYPE", ty)
                .current_dir(&os)
                .output()
                .unwrap()
        };
        assert_ok(&run("raw"));
        let o = run("squashfs");
        assert_fails(&o, "invalid image_type");
        let o = Command::new(os.join("rename"))
            .env_clear()
            .current_dir(&os)
            .output()
            .unwrap();
        assert_ok(&o);
    }
}
