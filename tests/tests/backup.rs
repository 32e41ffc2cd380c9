//! `gnt-backup` on a real single-node cluster: an instance exported
//! through its OS export script, listed, removed, imported back under a
//! new name through the import script with its disk's bytes intact (also
//! with gzip transport compression), exports removed, and the refusals
//! an operator meets (unknown instance or export, a compression tool the
//! cluster does not allow, a missing export directory, a diskless export
//! imported as a file instance).

use std::os::unix::fs::PermissionsExt;

use ganeti_e2e::{Cluster, Run};

const NODE: &str = "node1.example.com";

/// An OS whose export script writes the disk to stdout and whose import
/// script writes stdin onto the disk.
fn install_dump_os(c: &Cluster) {
    let d = c.root().join("srv/ganeti/os/dump");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("ganeti_api_version"), "20\n").unwrap();
    std::fs::write(d.join("parameters.list"), "").unwrap();
    for (script, body) in [
        ("create", "exit 0"),
        ("export", "cat \"$EXPORT_DEVICE\""),
        ("import", "cat > \"$IMPORT_DEVICE\""),
        ("rename", "exit 0"),
        ("verify", "exit 0"),
    ] {
        let p = d.join(script);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

fn add(c: &Cluster, name: &str, extra: &[&str]) {
    let mut argv = vec![
        "gnt-instance",
        "add",
        "-o",
        "dump",
        "--no-name-check",
        "--no-ip-check",
        "--ignore-ipolicy",
        "--no-start",
    ];
    argv.extend_from_slice(extra);
    argv.push(name);
    c.gnt(&argv).ok();
}

fn import(c: &Cluster, name: &str, src_dir: &str, extra: &[&str]) -> Run {
    let mut argv = vec![
        "gnt-backup",
        "import",
        "-n",
        NODE,
        "--src-node",
        NODE,
        "--src-dir",
        src_dir,
        "--no-name-check",
        "--no-ip-check",
        "--ignore-ipolicy",
    ];
    argv.extend_from_slice(extra);
    argv.push(name);
    c.gnt(&argv)
}

#[track_caller]
fn refused(r: &Run, needle: &str) {
    assert_eq!(r.rc, 1, "expected a failure: {r:?}");
    assert!(r.stderr.contains(needle), "{needle:?} not in {r:?}");
}

fn export_dir(c: &Cluster, name: &str) -> String {
    c.root()
        .join("srv/ganeti/export")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn export_list_import_and_remove() {
    let c = Cluster::init();
    install_dump_os(&c);
    add(
        &c,
        "inst1.example.com",
        &["-t", "file", "--disk", "0:size=4M"],
    );
    let data: Vec<u8> = (0..4 * 1024 * 1024).map(|i| (i % 253) as u8).collect();
    std::fs::write(c.file_disk("inst1.example.com", 0), &data).unwrap();

    c.gnt(&["gnt-backup", "export", "-n", NODE, "inst1.example.com"])
        .ok();
    assert_eq!(
        c.gnt(&["gnt-backup", "list"]).ok(),
        format!("Node              Export\n{NODE} inst1.example.com\n")
    );
    assert_eq!(
        c.gnt(&["gnt-backup", "list", "--no-headers", "-n", NODE])
            .ok(),
        format!("{NODE} inst1.example.com\n")
    );
    let dir = export_dir(&c, "inst1.example.com");
    let ini = std::fs::read_to_string(format!("{dir}/config.ini")).unwrap();
    assert!(ini.starts_with("[export]\nversion = 0\n"), "{ini}");
    assert!(ini.contains("\nos = dump\n"), "{ini}");

    c.gnt(&["gnt-instance", "remove", "-f", "inst1.example.com"])
        .ok();
    import(&c, "inst2.example.com", &dir, &["-t", "file"]).ok();
    assert_eq!(
        std::fs::read(c.file_disk("inst2.example.com", 0)).unwrap(),
        data
    );
    // gnt-backup import never starts the instance
    let status = c
        .gnt(&[
            "gnt-instance",
            "list",
            "--no-headers",
            "-o",
            "status,os",
            "inst2.example.com",
        ])
        .ok()
        .to_string();
    assert_eq!(
        status.split_whitespace().collect::<Vec<_>>(),
        ["ADMIN_down", "dump"]
    );

    // gzip as transport compression, both ways
    c.gnt(&[
        "gnt-backup",
        "export",
        "-n",
        NODE,
        "--transport-compression",
        "gzip",
        "inst2.example.com",
    ])
    .ok();
    let dir2 = export_dir(&c, "inst2.example.com");
    // the export carries inst2's MAC, which inst2 still uses (as in Ganeti)
    refused(
        &import(
            &c,
            "inst3.example.com",
            &dir2,
            &["-t", "file", "--compress", "gzip"],
        ),
        "already in use in cluster",
    );
    import(
        &c,
        "inst3.example.com",
        &dir2,
        &[
            "-t",
            "file",
            "--compress",
            "gzip",
            "--net",
            "0:mac=generate",
        ],
    )
    .ok();
    assert_eq!(
        std::fs::read(c.file_disk("inst3.example.com", 0)).unwrap(),
        data
    );

    // exports removed by instance name, also of a removed instance
    c.gnt(&["gnt-backup", "remove", "inst2.example.com"]).ok();
    c.gnt(&["gnt-backup", "remove", "inst1.example.com"]).ok();
    let left = c
        .gnt(&["gnt-backup", "list", "--no-headers"])
        .ok()
        .to_string();
    assert!(!left.contains("example.com"), "{left}");
    // an unknown short name: Ganeti's hint, and success
    let r = c.gnt(&["gnt-backup", "remove", "gone"]);
    assert!(
        r.ok()
            .contains("please use its Fully Qualified Domain Name"),
        "{r:?}"
    );
}

#[test]
fn refusals() {
    let c = Cluster::init();
    install_dump_os(&c);
    add(
        &c,
        "inst1.example.com",
        &["-t", "file", "--disk", "0:size=1M"],
    );
    refused(
        &c.gnt(&["gnt-backup", "export", "-n", NODE, "nosuch.example.com"]),
        "Instance 'nosuch.example.com' not known",
    );
    refused(
        &c.gnt(&["gnt-backup", "export", "inst1.example.com"]),
        "Target node must be specified",
    );
    refused(
        &c.gnt(&[
            "gnt-backup",
            "export",
            "-n",
            NODE,
            "--transport-compression",
            "lzma",
            "inst1.example.com",
        ]),
        "Compression tool not allowed, tools allowed are [",
    );
    refused(
        &import(
            &c,
            "inst9.example.com",
            "/nonexistent/export",
            &["-t", "file"],
        ),
        "No export or invalid export found in dir /nonexistent/export",
    );
    refused(
        &c.gnt(&[
            "gnt-backup",
            "import",
            "-t",
            "file",
            "-n",
            NODE,
            "--no-name-check",
            "--no-ip-check",
            "--src-dir",
            "nosuch",
            "inst9.example.com",
        ]),
        "No export found for relative path nosuch",
    );
    // a diskless instance exports; its export has no disk to import
    add(&c, "dl.example.com", &["-t", "diskless", "--no-nics"]);
    c.gnt(&["gnt-backup", "export", "-n", NODE, "dl.example.com"])
        .ok();
    refused(
        &import(
            &c,
            "dl2.example.com",
            &export_dir(&c, "dl.example.com"),
            &["-t", "file"],
        ),
        "No disk info specified and the export is missing the disk information",
    );
    // nothing half-made is left behind
    let list = c
        .gnt(&["gnt-instance", "list", "--no-headers", "-o", "name"])
        .ok()
        .to_string();
    assert_eq!(list, "dl.example.com\ninst1.example.com\n");
}

/// simpleimage's own export and import scripts through gnt-backup: the
/// image written at create survives export and import byte for byte, the
/// imported disk stays sparse, and each script run has its log.
#[test]
fn simpleimage_export_and_import_round_trip() {
    use std::os::unix::fs::MetadataExt;
    let c = Cluster::init();
    ganeti_e2e::os::install_simpleimage(&c);
    // a 16 MiB image: data at the start and the end, zeros between
    let image = c.root().join("image.raw");
    let mut bytes = vec![0u8; 16 << 20];
    bytes[..1 << 20].fill(0x5A);
    bytes[(15 << 20)..].fill(0xA5);
    std::fs::write(&image, &bytes).unwrap();
    let param = format!("image={},image_type=raw", image.display());
    c.gnt(&[
        "gnt-instance",
        "add",
        "-t",
        "file",
        "--disk",
        "0:size=16M",
        "-o",
        "simpleimage+default",
        "-O",
        &param,
        "--no-name-check",
        "--no-ip-check",
        "--ignore-ipolicy",
        "--no-start",
        "si1.example.com",
    ])
    .ok();
    c.gnt(&["gnt-backup", "export", "-n", NODE, "si1.example.com"])
        .ok();
    c.gnt(&["gnt-instance", "remove", "-f", "si1.example.com"])
        .ok();
    let dir = export_dir(&c, "si1.example.com");
    import(&c, "si2.example.com", &dir, &["-t", "file"]).ok();
    let disk = c.file_disk("si2.example.com", 0);
    assert!(
        std::fs::read(&disk).unwrap() == bytes,
        "imported bytes differ"
    );
    let allocated = std::fs::metadata(&disk).unwrap().blocks() * 512;
    assert!(
        allocated < 4 << 20,
        "import wrote the zeros: {allocated} bytes"
    );
    let logs: Vec<String> = std::fs::read_dir(c.root().join("var/log/ganeti/os"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for prefix in [
        "export-simpleimage+default-si1.example.com-disk0-",
        "import-simpleimage+default-si2.example.com-disk0-",
    ] {
        assert!(
            logs.iter().any(|l| l.starts_with(prefix)),
            "no {prefix}* log in {logs:?}"
        );
    }
}
