//! `create`: the image (local or downloaded, possibly compressed) streamed
//! onto disk 0. Compressed data is decoded on the fly and a download is
//! written to the disk while it arrives; the cache copy is committed only
//! once the decoder has reached a clean end of stream and every announced
//! byte has arrived.

use crate::cache::{Cache, Tee};
use crate::config::VariantConfig;
use crate::disk::DiskWriter;
use crate::error::{io, Error, Result};
use crate::params::{ImageType, Params, Source};
use crate::{http, qcow2};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// Wraps `r` in the decoder for `t` (multi-stream, like zcat/bzcat/xzcat).
/// The decoders read from one large buffer of their own (the crates'
/// `read` wrappers would add a small second one).
fn decoder<'a>(t: ImageType, r: Box<dyn Read + Send + 'a>) -> Box<dyn Read + Send + 'a> {
    let input = |r| BufReader::with_capacity(INPUT_BUFFER, r);
    match t {
        ImageType::Raw | ImageType::Qcow2 => r,
        ImageType::RawGz => Box::new(flate2::bufread::MultiGzDecoder::new(input(r))),
        ImageType::RawBzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(input(r))),
        ImageType::RawXz => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(input(r))),
    }
}

/// Size of the buffer compressed input is read into.
const INPUT_BUFFER: usize = 1 << 20;

/// Writes the image onto `disk`; returns the number of image bytes.
pub fn write_image(
    p: &Params,
    cfg: &VariantConfig,
    disk: &Path,
    min_cap: Option<u64>,
) -> Result<u64> {
    let shown = p.source.display();
    match &p.source {
        Source::Path(path) => write_local(p.image_type, path, &shown, disk, min_cap),
        Source::Url(url) => {
            let cache = Cache::new(&cfg.image_storage, cfg.cache_max_days);
            if let Some(hit) = cache.as_ref().and_then(|c| c.lookup(url)) {
                eprintln!("simpleimage: using cached download of {shown}");
                return write_local(p.image_type, &hit, &shown, disk, min_cap);
            }
            eprintln!("simpleimage: downloading {shown}");
            let mut dl = http::get(url, &cfg.http)?;
            // Without a cache the download still goes to a temporary file in
            // IMAGE_STORAGE for qcow2 (qemu-img needs a file); for the
            // other types a cache of 0 days means a plain stream.
            let cache = match (cache, p.image_type) {
                (Some(c), _) => c,
                (None, ImageType::Qcow2) => Cache::new(&cfg.image_storage, 1)
                    .ok_or_else(|| Error::Usage("internal: no cache".into()))?,
                (None, t) => {
                    let mut w = DiskWriter::open(disk, min_cap)?;
                    if let (ImageType::Raw, Some(n)) = (t, dl.length) {
                        w.check_fits(n)?;
                    }
                    let mut r = decoder(t, dl.body);
                    w.copy_from(&mut r, &shown)?;
                    return w.finish();
                }
            };
            let mut pending = cache.begin(url)?;
            if p.image_type == ImageType::Qcow2 {
                let n =
                    std::io::copy(&mut dl.body, &mut TeeSink(&mut pending)).map_err(|source| {
                        Error::Image {
                            image: shown.clone(),
                            source,
                        }
                    })?;
                check_length(&shown, n, dl.length)?;
                let size = write_qcow2(pending.path(), disk, min_cap)?;
                if cfg.cache_max_days > 0 {
                    pending.commit()?;
                }
                return Ok(size);
            }
            let mut w = DiskWriter::open(disk, min_cap)?;
            if let (ImageType::Raw, Some(n)) = (p.image_type, dl.length) {
                w.check_fits(n)?;
            }
            let mut tee = Tee {
                inner: dl.body,
                pending: &mut pending,
                count: 0,
            };
            {
                let mut r = decoder(p.image_type, Box::new(&mut tee));
                w.copy_from(&mut r, &shown)?;
            }
            // Whatever follows the end of the compressed stream still
            // belongs to the cached file.
            std::io::copy(&mut tee, &mut std::io::sink()).map_err(|source| Error::Image {
                image: shown.clone(),
                source,
            })?;
            check_length(&shown, tee.count, dl.length)?;
            let size = w.finish()?;
            pending.commit()?;
            Ok(size)
        }
    }
}

/// A writer into a pending cache entry.
struct TeeSink<'a>(&'a mut crate::cache::Pending);

impl std::io::Write for TeeSink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .append(buf)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn check_length(shown: &str, got: u64, announced: Option<u64>) -> Result<()> {
    match announced {
        Some(n) if n != got => Err(Error::Http {
            url: shown.to_string(),
            msg: format!("transfer ended after {got} of {n} bytes"),
        }),
        _ => Ok(()),
    }
}

fn write_local(
    t: ImageType,
    image: &Path,
    shown: &str,
    disk: &Path,
    min_cap: Option<u64>,
) -> Result<u64> {
    if t == ImageType::Qcow2 {
        return write_qcow2(image, disk, min_cap);
    }
    let f = File::open(image).map_err(io("opening image", image))?;
    let len = f.metadata().map_err(io("inspecting", image))?.len();
    let mut w = DiskWriter::open(disk, min_cap)?;
    if t == ImageType::Raw {
        w.check_fits(len)?;
    }
    if t == ImageType::Raw {
        w.copy_file(&f, shown)?;
    } else {
        let mut r = decoder(t, Box::new(f));
        w.copy_from(&mut r, shown)?;
    }
    w.finish()
}

fn write_qcow2(image: &Path, disk: &Path, min_cap: Option<u64>) -> Result<u64> {
    let info = qcow2::info(image)?;
    let w = DiskWriter::open(disk, min_cap)?;
    w.check_fits(info.virtual_size)?;
    drop(w);
    // qemu-img -n wants the target at least as large as the image.
    let meta = std::fs::metadata(disk).map_err(io("inspecting", disk))?;
    if meta.is_file() && meta.len() < info.virtual_size {
        File::options()
            .write(true)
            .open(disk)
            .and_then(|f| f.set_len(info.virtual_size))
            .map_err(io("growing", disk))?;
    }
    qcow2::convert(image, disk)?;
    Ok(info.virtual_size)
}
