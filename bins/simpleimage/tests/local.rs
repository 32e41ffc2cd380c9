//! `create`/`import`/`export`/`rename`/`verify` with images from local paths.

mod common;
use common::*;
use std::os::unix::fs::MetadataExt;

const TYPES: [&str; 4] = ["raw", "raw+gz", "raw+bzip2", "raw+xz"];

#[test]
fn every_type_from_a_path_is_written_sparsely() {
    let img = image(16 * MIB);
    for t in TYPES {
        let mut fx = Fixture::new(32 << 20);
        let p = fx.path("image.bin");
        std::fs::write(&p, encode(t, &img)).unwrap();
        let o = fx.create(p.to_str().unwrap(), Some(t));
        assert_ok(&o);
        let back = std::fs::read(fx.disk()).unwrap();
        assert_eq!(back.len(), 32 << 20, "{t}: disk file keeps its size");
        assert!(back[..img.len()] == img[..], "{t}: contents");
        assert!(back[img.len()..].iter().all(|b| *b == 0));
        let used = std::fs::metadata(fx.disk()).unwrap().blocks() * 512;
        assert!(
            used < 2 << 20,
            "{t}: {used} bytes allocated for a mostly-zero image"
        );
    }
}

#[test]
fn type_is_guessed_from_the_suffix() {
    let img = image(2 * MIB);
    let mut fx = Fixture::new(4 << 20);
    let p = fx.path("image.img.xz");
    std::fs::write(&p, encode("raw+xz", &img)).unwrap();
    assert_ok(&fx.create(p.to_str().unwrap(), None));
    assert!(std::fs::read(fx.disk()).unwrap()[..img.len()] == img[..]);
}

#[test]
fn qcow2_from_a_path() {
    if !have_qemu_img() {
        return;
    }
    let img = image(8 * MIB);
    let mut fx = Fixture::new(16 << 20);
    let raw = fx.path("src.raw");
    std::fs::write(&raw, &img).unwrap();
    let q = qcow2_of(&raw);
    assert_ok(&fx.create(q.to_str().unwrap(), Some("qcow2")));
    let back = std::fs::read(fx.disk()).unwrap();
    assert_eq!(back.len(), 16 << 20);
    assert!(back[..img.len()] == img[..]);

    // Too large, refused before writing.
    let mut small = Fixture::new(4 << 20);
    assert_fails(
        &small.create(q.to_str().unwrap(), Some("qcow2")),
        "larger than the disk",
    );

    // A qcow2 with a backing file could read any file of the node.
    let b = fx.path("backed.qcow2");
    let st = std::process::Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "-F", "raw", "-b"])
        .arg(&raw)
        .arg(&b)
        .status()
        .unwrap();
    assert!(st.success());
    assert_fails(
        &fx.create(b.to_str().unwrap(), Some("qcow2")),
        "backing file",
    );

    // So could one whose data lives in an external file.
    let ext = fx.path("external.qcow2");
    let data = fx.path("external.data");
    let st = std::process::Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "-o"])
        .arg(format!("data_file={}", data.display()))
        .arg(&ext)
        .arg("8M")
        .status()
        .unwrap();
    assert!(st.success());
    assert_fails(
        &fx.create(ext.to_str().unwrap(), Some("qcow2")),
        "external data file",
    );

    // Not a qcow2 at all, and a header cut short.
    assert_fails(
        &fx.create(raw.to_str().unwrap(), Some("qcow2")),
        "not a qcow2 file",
    );
    let cut = fx.path("cut.qcow2");
    std::fs::write(&cut, &std::fs::read(&q).unwrap()[..80]).unwrap();
    assert_fails(
        &fx.create(cut.to_str().unwrap(), Some("qcow2")),
        "truncated qcow2 header",
    );
}

#[test]
fn old_disk_contents_are_replaced_by_the_image_zeros() {
    let img = image(4 * MIB);
    let mut fx = Fixture::new(0);
    std::fs::write(fx.disk(), vec![0xEEu8; 8 << 20]).unwrap();
    let p = fx.path("i.gz");
    std::fs::write(&p, encode("raw+gz", &img)).unwrap();
    assert_ok(&fx.create(p.to_str().unwrap(), Some("raw+gz")));
    let back = std::fs::read(fx.disk()).unwrap();
    assert!(back[..img.len()] == img[..]);
    assert!(
        back[img.len()..].iter().all(|b| *b == 0xEE),
        "beyond the image untouched"
    );
}

#[test]
fn image_larger_than_the_disk() {
    let img = image(8 * MIB);
    for t in TYPES {
        let mut fx = Fixture::new(4 << 20);
        let p = fx.path("big");
        std::fs::write(&p, encode(t, &img)).unwrap();
        let o = fx.create(p.to_str().unwrap(), Some(t));
        assert_fails(&o, "larger than the disk");
    }
}

#[test]
fn truncated_and_corrupt_images_fail_cleanly() {
    let img = image(4 * MIB);
    for t in ["raw+gz", "raw+bzip2", "raw+xz"] {
        let enc = encode(t, &img);
        let mut fx = Fixture::new(8 << 20);
        let p = fx.path("trunc");
        std::fs::write(&p, &enc[..enc.len() / 2]).unwrap();
        assert_fails(&fx.create(p.to_str().unwrap(), Some(t)), "reading image");
        let mut bad = enc.clone();
        let mid = bad.len() / 2;
        for b in &mut bad[mid..mid + 64] {
            *b ^= 0x5A;
        }
        std::fs::write(&p, &bad).unwrap();
        assert_fails(&fx.create(p.to_str().unwrap(), Some(t)), "reading image");
        // Not compressed at all.
        std::fs::write(&p, &img).unwrap();
        assert_fails(&fx.create(p.to_str().unwrap(), Some(t)), "reading image");
    }
}

#[test]
fn bad_environment_is_refused() {
    let mut fx = Fixture::new(4 << 20);
    let p = fx.path("i");
    std::fs::write(&p, image(MIB)).unwrap();
    let img = p.to_str().unwrap().to_string();
    assert_fails(&fx.create("", None), "'image' is not set");
    assert_fails(&fx.create(&img, Some("zip")), "invalid image_type");
    assert_fails(&fx.create("/nonexistent/img", Some("raw")), "opening image");
    fx.set("DISK_COUNT", "0");
    assert_fails(&fx.create(&img, None), "disk 0 is needed");
    fx.set("DISK_COUNT", "1");
    fx.set("OS_VARIANT", "nope");
    assert_fails(&fx.create(&img, None), "unknown variant");
    fx.set("OS_VARIANT", "default");
    fx.config("default", "CUSTOM_CURL_OPTS='--compressed'\n");
    assert_fails(&fx.create(&img, None), "unsupported option");
}

#[test]
fn verify_parameters() {
    let mut fx = Fixture::new(4 << 20);
    let p = fx.path("i");
    std::fs::write(&p, image(MIB)).unwrap();
    let v = |fx: &Fixture| fx.run("verify", &["parameters"], None);
    assert_ok(&v(&fx));
    fx.set("OSP_IMAGE", p.to_str().unwrap());
    fx.set("OSP_IMAGE_TYPE", "raw+xz");
    assert_ok(&v(&fx));
    fx.set("OSP_IMAGE", "https://images.example.com/x.img");
    assert_ok(&v(&fx));
    fx.set("OSP_IMAGE_TYPE", "tar");
    assert_fails(&v(&fx), "invalid image_type \"tar\"");
    fx.set("OSP_IMAGE_TYPE", "raw");
    fx.set("OSP_IMAGE", "relative.img");
    assert_fails(&v(&fx), "absolute path");
    fx.set("OSP_IMAGE", "ftp://h/x");
    assert_fails(&v(&fx), "only http");
    fx.set("OSP_IMAGE", "/no/such/image");
    assert_fails(&v(&fx), "/no/such/image");
    fx.set("OSP_IMAGE", p.to_str().unwrap());
    fx.set("OS_VARIANT", "other");
    assert_ok(&v(&fx));
    fx.set("OS_VARIANT", "missing");
    assert_fails(&v(&fx), "unknown variant");
    fx.set("OS_VARIANT", "default");
    fx.config("default", "DOWNLOAD_CACHE_MAX_DAYS=soon\n");
    assert_fails(&v(&fx), "DOWNLOAD_CACHE_MAX_DAYS");
    let o = fx.run("verify", &["bogus"], None);
    assert!(!o.status.success());
}

#[test]
fn import_export_rename() {
    let img = image(4 * MIB);
    let mut fx = Fixture::new(8 << 20);
    fx.set("IMPORT_INDEX", "0");
    assert_ok(&fx.run("import", &[], Some(&img)));
    let used = std::fs::metadata(fx.disk()).unwrap().blocks() * 512;
    assert!(used < MIB as u64, "import is sparse: {used}");
    let back = std::fs::read(fx.disk()).unwrap();
    assert!(back[..img.len()] == img[..]);

    fx.set("EXPORT_INDEX", "0");
    let o = fx.run("export", &[], None);
    assert_ok(&o);
    assert_eq!(o.stdout.len(), 8 << 20);
    assert!(o.stdout[..img.len()] == img[..]);

    // Import of more than the disk holds fails.
    let o = fx.run("import", &[], Some(&vec![1u8; 9 << 20]));
    assert_fails(&o, "larger than the disk");

    fx.set("OLD_INSTANCE_NAME", "old.example.com");
    assert_ok(&fx.run("rename", &[], None));
    let o = fx.run("frobnicate", &[], None);
    assert_eq!(o.status.code(), Some(2));
}
