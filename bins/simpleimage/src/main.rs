//! `simpleimage`: ganeti-rs's own OS provider. The Ganeti OS directory
//! (`os/simpleimage`) holds tiny wrapper scripts that exec this binary
//! with the action name: `simpleimage create|import|export|rename|verify`.
//! Everything else comes from Ganeti's OS environment (see
//! /work/shared/spec/os-interface.md): `OSP_IMAGE`, `OSP_IMAGE_TYPE`,
//! `OS_VARIANT`, `DISK_*`, ...
//!
//! Errors go to stderr (Ganeti shows the tail of the OS log) and give
//! exit status 1; usage errors give 2.

mod cache;
mod config;
mod disk;
mod error;
mod hooks;
mod http;
mod image;
mod osenv;
mod params;
mod qcow2;
mod source;

use error::{io, Error, Result};
use params::{ImageType, Params, Source};
use std::io::Write;

const USAGE: &str = "usage: simpleimage create|import|export|rename|verify [parameters]\n\
  run by the Ganeti OS scripts of os/simpleimage with Ganeti's OS environment";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(action) = args.first().cloned() else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    let rest = &args[1..];
    let result = match action.as_str() {
        "-h" | "--help" => {
            println!("{USAGE}");
            return;
        }
        "create" => create(),
        "import" => import(),
        "export" => export(),
        "rename" => Ok(()),
        "verify" => verify(rest),
        other => {
            eprintln!("simpleimage: unknown action {other:?}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("simpleimage {action}: error: {e}");
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            eprintln!("  caused by: {s}");
            src = s.source();
        }
        std::process::exit(1);
    }
}

fn params_from_env() -> Result<Params> {
    Params::from_values(
        osenv::var("OSP_IMAGE").as_deref(),
        osenv::var("OSP_IMAGE_TYPE").as_deref(),
    )
}

fn create() -> Result<()> {
    let p = params_from_env()?;
    let variant = osenv::variant()?;
    let cfg = config::VariantConfig::load(&config::config_dir(), &variant)?;
    let disk = osenv::disk_path(0)?;
    let n = image::write_image(&p, &cfg, &disk, osenv::disk_size(0))?;
    eprintln!(
        "simpleimage: wrote {n} bytes of {} onto {}",
        p.source.display(),
        disk.display()
    );
    hooks::run(&cfg.dir.join("hooks.d"), &disk)
}

fn import() -> Result<()> {
    let (_, disk) = osenv::transfer_disk("IMPORT")?;
    let mut w = disk::DiskWriter::open(&disk, None)?;
    w.copy_from(&mut std::io::stdin(), "stdin")?;
    w.finish()?;
    Ok(())
}

fn export() -> Result<()> {
    let (_, disk) = osenv::transfer_disk("EXPORT")?;
    if let Some(fd) = osenv::var("EXP_SIZE_FD") {
        let mut f = std::fs::File::open(&disk).map_err(io("opening disk", &disk))?;
        let size = disk::device_size(&mut f, &disk)?;
        // The fd is inherited from Ganeti's import-export helper.
        let fd_path = format!("/proc/self/fd/{fd}");
        std::fs::OpenOptions::new()
            .write(true)
            .open(&fd_path)
            .and_then(|mut f| writeln!(f, "{size}"))
            .map_err(io("writing the size to", fd_path))?;
    }
    disk::copy_disk_to(&disk, &mut std::io::stdout().lock())?;
    Ok(())
}

/// `verify parameters`: the values that are set must be valid; a local
/// image must exist here; the variant and its config must be usable.
fn verify(checks: &[String]) -> Result<()> {
    if checks.is_empty() {
        return Err(Error::Usage(format!(
            "verify needs the checks to run\n{USAGE}"
        )));
    }
    for c in checks {
        if c != "parameters" {
            return Err(Error::Usage(format!("verify: unknown check {c:?}")));
        }
    }
    if let Some(t) = osenv::var("OSP_IMAGE_TYPE") {
        ImageType::parse(&t)?;
    }
    if osenv::var("OSP_IMAGE").is_some() {
        let p = params_from_env()?;
        if let Source::Path(path) = &p.source {
            let meta = std::fs::metadata(path).map_err(io("image", path))?;
            if meta.is_dir() {
                return Err(Error::Usage(format!(
                    "image {} is a directory",
                    path.display()
                )));
            }
        }
    }
    let variant = osenv::variant()?;
    config::VariantConfig::load(&config::config_dir(), &variant)?;
    Ok(())
}
