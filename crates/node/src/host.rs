//! Facts about the host itself: memory, CPUs, boot id.
//!
//! Read from `/proc` as Ganeti 3.0.2's `GetLinuxNodeInfo` does (same keys,
//! same arithmetic: free = MemFree + Buffers + Cached, node OS = Active),
//! so `gnt-node list` shows the same numbers. The `/proc` directory is a
//! parameter: tests point it at a directory with prepared files, which makes
//! memory accounting deterministic.

use std::fs;
use std::path::{Path, PathBuf};

use crate::info::HvNodeInfo;
use crate::NodeError;

/// Host memory, MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostMemory {
    pub total: u64,
    pub free: u64,
    /// Used by the node OS.
    pub dom0: u64,
}

/// Reads host facts from a `/proc`-like directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostProbe {
    proc_dir: PathBuf,
}

impl Default for HostProbe {
    fn default() -> Self {
        Self::system()
    }
}

impl HostProbe {
    /// The real `/proc`.
    pub fn system() -> Self {
        HostProbe {
            proc_dir: PathBuf::from("/proc"),
        }
    }

    /// A directory laid out like `/proc` (`meminfo`, `cpuinfo`,
    /// `sys/kernel/random/boot_id`).
    pub fn with_proc_dir(dir: impl Into<PathBuf>) -> Self {
        HostProbe {
            proc_dir: dir.into(),
        }
    }

    fn read(&self, rel: &str) -> Result<(PathBuf, String), NodeError> {
        let path = self.proc_dir.join(rel);
        match fs::read_to_string(&path) {
            Ok(s) => Ok((path, s)),
            Err(source) => Err(NodeError::HostInfoIo { path, source }),
        }
    }

    /// Memory from `meminfo`.
    pub fn memory(&self) -> Result<HostMemory, NodeError> {
        let (path, text) = self.read("meminfo")?;
        parse_meminfo(&path, &text)
    }

    /// Number of logical CPUs from `cpuinfo` (the available parallelism
    /// when `cpuinfo` has no `processor` lines, as on some architectures).
    pub fn cpu_count(&self) -> Result<u32, NodeError> {
        let (_, text) = self.read("cpuinfo")?;
        let n = count_processors(&text);
        if n > 0 {
            return Ok(n);
        }
        Ok(std::thread::available_parallelism()
            .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
            .unwrap_or(1))
    }

    /// The kernel's boot id.
    pub fn boot_id(&self) -> Result<String, NodeError> {
        let (path, text) = self.read("sys/kernel/random/boot_id")?;
        let id = text.trim_end_matches('\n').to_string();
        if id.is_empty() {
            return Err(NodeError::HostInfoParse {
                path,
                reason: "empty boot id".into(),
            });
        }
        Ok(id)
    }

    /// What a hypervisor that sees the whole host (fake, kvm) reports:
    /// Ganeti's `GetLinuxNodeInfo`. NUMA domains and sockets are reported
    /// as 1, as Ganeti does for these hypervisors.
    pub fn linux_node_info(&self, hypervisor: &str) -> Result<HvNodeInfo, NodeError> {
        let mem = self.memory()?;
        let cpus = self.cpu_count()?;
        Ok(HvNodeInfo {
            hypervisor: hypervisor.to_string(),
            memory_total: mem.total,
            memory_free: mem.free,
            memory_dom0: mem.dom0,
            cpu_total: cpus,
            cpu_dom0: cpus,
            cpu_nodes: 1,
            cpu_sockets: 1,
        })
    }
}

fn parse_meminfo(path: &Path, text: &str) -> Result<HostMemory, NodeError> {
    let mut total = None;
    let mut free = 0u64;
    let mut active = None;
    for line in text.lines() {
        let Some((key, val)) = line.split_once(':') else {
            continue;
        };
        let key = key.trim();
        if !matches!(
            key,
            "MemTotal" | "MemFree" | "Buffers" | "Cached" | "Active"
        ) {
            continue;
        }
        let kib: u64 = val
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| NodeError::HostInfoParse {
                path: path.to_path_buf(),
                reason: format!("bad value for {key}: '{}'", val.trim()),
            })?;
        let mib = kib / 1024;
        match key {
            "MemTotal" => total = Some(mib),
            "Active" => active = Some(mib),
            _ => free = free.saturating_add(mib),
        }
    }
    let total = total.ok_or_else(|| NodeError::HostInfoParse {
        path: path.to_path_buf(),
        reason: "no MemTotal line".into(),
    })?;
    Ok(HostMemory {
        total,
        free,
        dom0: active.unwrap_or(total.saturating_sub(free)),
    })
}

fn count_processors(text: &str) -> u32 {
    let n = text
        .lines()
        .filter(|line| {
            let Some(rest) = line.strip_prefix("processor") else {
                return false;
            };
            let Some((gap, num)) = rest.split_once(':') else {
                return false;
            };
            let num = num.trim();
            gap.trim().is_empty() && !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit())
        })
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMINFO: &str = "MemTotal:       24683520 kB\nMemFree:        20000000 kB\n\
        MemAvailable:   23000000 kB\nBuffers:          102400 kB\nCached:          3000000 kB\n\
        SwapCached:            0 kB\nActive:           261120 kB\n";

    #[test]
    fn meminfo_is_read_like_ganeti() {
        let m = parse_meminfo(Path::new("m"), MEMINFO).unwrap();
        assert_eq!(m.total, 24683520 / 1024);
        // each field is rounded down before summing; SwapCached is not Cached
        assert_eq!(m.free, 20000000 / 1024 + 100 + 3000000 / 1024);
        assert_eq!(m.dom0, 255);
    }

    #[test]
    fn meminfo_errors_name_the_file() {
        let e = parse_meminfo(Path::new("/p/meminfo"), "MemFree: 1 kB\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Failed to compute node info from /p/meminfo: no MemTotal line"
        );
        let e = parse_meminfo(Path::new("/p/meminfo"), "MemTotal: lots kB\n").unwrap_err();
        assert!(e.to_string().contains("bad value for MemTotal"), "{e}");
    }

    #[test]
    fn processors_are_counted_strictly() {
        let text =
            "processor\t: 0\nmodel name\t: x\n\nprocessor\t: 1\nprocessors: 7\nprocessor : x\n";
        assert_eq!(count_processors(text), 2);
        assert_eq!(count_processors(""), 0);
    }

    #[test]
    fn missing_proc_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let probe = HostProbe::with_proc_dir(dir.path());
        let e = probe.memory().unwrap_err();
        assert!(matches!(e, NodeError::HostInfoIo { .. }));
        assert!(
            e.to_string().starts_with("Failed to list node info: "),
            "{e}"
        );
        assert!(probe.boot_id().is_err());
    }

    #[test]
    fn real_proc_gives_sane_values() {
        let probe = HostProbe::system();
        if !Path::new("/proc/meminfo").exists() {
            eprintln!("SKIP: no /proc on this host");
            return;
        }
        let info = probe.linux_node_info("fake").unwrap();
        assert!(info.memory_total > 0);
        assert!(info.memory_free <= info.memory_total + info.memory_total / 2);
        assert!(info.cpu_total >= 1);
        let id = probe.boot_id().unwrap();
        assert_eq!(id.len(), 36, "{id}");
    }
}
