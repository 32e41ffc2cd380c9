//! The `fake` hypervisor: instances that exist only as state files.
//!
//! Behaves like Ganeti's `hv_fake`: a running instance is one file named
//! after it in the fake hypervisor directory, holding its id, memory and
//! vcpus one per line (Ganeti's format, so state left by either
//! implementation reads the same). Because the state is on disk, a
//! restarted daemon sees the same running instances. Files are written
//! atomically, and "start" creates its file only if absent, so two starts
//! racing cannot both succeed. Unlike Ganeti's fake hypervisor, a start is
//! refused when the node cannot give the instance its minimum memory, so
//! memory accounting is testable without real VMs.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::fsutil;
use crate::host::HostProbe;
use crate::hypervisor::{self, Hypervisor};
use crate::info::{ConsoleHost, ConsoleInfo, HvInstanceState, HvNodeInfo, InstanceRuntime};
use crate::spec::{AttachedDisk, InstanceSpec};
use crate::NodeError;

/// Mode of the state directory and files.
const DIR_MODE: u32 = 0o750;
const FILE_MODE: u32 = 0o640;

/// The fake hypervisor, keeping its state in one directory.
#[derive(Debug)]
pub struct FakeHypervisor {
    dir: PathBuf,
    host: HostProbe,
    /// Serializes check-then-act sequences (memory check + mark up) in this process.
    lock: Mutex<()>,
}

/// Content of one state file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FakeState {
    id: String,
    memory: u64,
    vcpus: u32,
}

impl FakeState {
    fn render(&self) -> String {
        format!("{}\n{}\n{}\n", self.id, self.memory, self.vcpus)
    }

    fn parse(path: &Path, text: &str) -> Result<Self, NodeError> {
        let corrupt = |reason: String| NodeError::HvStateCorrupt {
            path: path.to_path_buf(),
            reason,
        };
        let mut lines = text.lines().map(str::trim);
        let id = lines.next().unwrap_or_default().to_string();
        let memory = lines.next().unwrap_or_default();
        let memory: u64 = memory
            .parse()
            .map_err(|_| corrupt(format!("memory '{memory}' is not a number")))?;
        let vcpus = lines.next().unwrap_or_default();
        let vcpus: u32 = vcpus
            .parse()
            .map_err(|_| corrupt(format!("vcpus '{vcpus}' is not a number")))?;
        Ok(FakeState { id, memory, vcpus })
    }

    fn runtime(&self) -> InstanceRuntime {
        InstanceRuntime {
            state: HvInstanceState::Running,
            memory: self.memory,
            vcpus: self.vcpus,
            time: 0.0,
        }
    }
}

impl FakeHypervisor {
    /// A fake hypervisor keeping state in `dir` (created on first start).
    pub fn new(dir: PathBuf, host: HostProbe) -> Self {
        FakeHypervisor {
            dir,
            host,
            lock: Mutex::new(()),
        }
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn guard(&self) -> MutexGuard<'_, ()> {
        // the guarded data is (); a panic elsewhere cannot leave it inconsistent
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn state_path(&self, name: &str) -> Result<PathBuf, NodeError> {
        hypervisor::check_file_name(name)?;
        Ok(self.dir.join(name))
    }

    /// The state of one instance; `None` if it does not run.
    fn read_state(&self, name: &str, path: &Path) -> Result<Option<FakeState>, NodeError> {
        match fs::read_to_string(path) {
            Ok(text) => FakeState::parse(path, &text).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(NodeError::HvStateIo {
                action: "list",
                instance: name.to_string(),
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    fn list_states(&self) -> Result<BTreeMap<String, FakeState>, NodeError> {
        let io_err = |source| NodeError::HostInfoIo {
            path: self.dir.clone(),
            source,
        };
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(io_err(e)),
        };
        let mut out = BTreeMap::new();
        for entry in entries {
            let entry = entry.map_err(io_err)?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                tracing::warn!(path = %entry.path().display(), "ignoring non-UTF-8 fake hypervisor state file");
                continue;
            };
            if fsutil::is_tmp_name(&name) {
                continue;
            }
            // an instance stopped between listing and reading is simply not running
            if let Some(state) = self.read_state(&name, &entry.path())? {
                out.insert(name, state);
            }
        }
        Ok(out)
    }

    fn io_error(action: &'static str, inst: &str, path: &Path, source: io::Error) -> NodeError {
        NodeError::HvStateIo {
            action,
            instance: inst.to_string(),
            path: path.to_path_buf(),
            source,
        }
    }
}

impl Hypervisor for FakeHypervisor {
    fn name(&self) -> &'static str {
        "fake"
    }

    fn node_info(&self) -> Result<HvNodeInfo, NodeError> {
        let mut info = self.host.linux_node_info(self.name())?;
        let used: u64 = self
            .list_states()?
            .values()
            .map(|s| s.memory)
            .fold(0, u64::saturating_add);
        info.memory_free -= info.memory_free.min(used);
        Ok(info)
    }

    fn instance_info(&self, name: &str) -> Result<Option<InstanceRuntime>, NodeError> {
        let path = self.state_path(name)?;
        Ok(self.read_state(name, &path)?.map(|s| s.runtime()))
    }

    fn all_instances_info(&self) -> Result<BTreeMap<String, InstanceRuntime>, NodeError> {
        Ok(self
            .list_states()?
            .into_iter()
            .map(|(n, s)| (n, s.runtime()))
            .collect())
    }

    fn start(
        &self,
        inst: &InstanceSpec,
        _disks: &[AttachedDisk],
        _startup_paused: bool,
    ) -> Result<(), NodeError> {
        let name = inst.name.as_str();
        let path = self.state_path(name)?;
        let _guard = self.guard();
        if self.read_state(name, &path)?.is_some() {
            return Err(NodeError::AlreadyRunning {
                instance: name.to_string(),
            });
        }
        // as Ganeti: as much as possible up to maxmem, but at least minmem
        let free = self.node_info()?.memory_free;
        let memory = inst.maxmem_mib.min(free).max(inst.minmem_mib);
        if memory > free {
            return Err(NodeError::NotEnoughMemory {
                instance: name.to_string(),
                needed: memory,
                available: free,
            });
        }
        fsutil::make_dirs(&self.dir, DIR_MODE)
            .map_err(|e| Self::io_error("start", name, &self.dir, e))?;
        let state = FakeState {
            id: "0".into(),
            memory,
            vcpus: inst.vcpus,
        };
        match fsutil::create_atomic(&path, state.render().as_bytes(), FILE_MODE) {
            Ok(()) => {
                tracing::info!(
                    instance = name,
                    memory,
                    vcpus = inst.vcpus,
                    "fake instance started"
                );
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(NodeError::AlreadyRunning {
                instance: name.to_string(),
            }),
            Err(e) => Err(Self::io_error("start", name, &path, e)),
        }
    }

    fn stop(&self, inst: &InstanceSpec, _force: bool, _timeout: Duration) -> Result<(), NodeError> {
        let name = inst.name.as_str();
        let path = self.state_path(name)?;
        let _guard = self.guard();
        match fs::remove_file(&path) {
            Ok(()) => {
                tracing::info!(instance = name, "fake instance stopped");
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(NodeError::NotRunning {
                instance: name.to_string(),
            }),
            Err(e) => Err(Self::io_error("stop", name, &path, e)),
        }
    }

    fn reboot(&self, inst: &InstanceSpec) -> Result<(), NodeError> {
        // nothing to reboot, but only a running instance can be rebooted
        match self.instance_info(&inst.name)? {
            Some(_) => Ok(()),
            None => Err(NodeError::RebootNotRunning {
                instance: inst.name.clone(),
            }),
        }
    }

    fn console(&self, inst: &InstanceSpec, _host: &ConsoleHost) -> ConsoleInfo {
        ConsoleInfo::Message {
            instance: inst.name.clone(),
            message: "Console not available for fake hypervisor".into(),
        }
    }

    fn verify(&self) -> Option<String> {
        if self.dir.is_dir() {
            None
        } else {
            Some(format!(
                "The required directory '{}' does not exist",
                self.dir.display()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(dir: &Path, total_mib: u64, free_mib: u64) -> HostProbe {
        let proc_dir = dir.join("proc");
        fs::create_dir_all(proc_dir.join("sys/kernel/random")).unwrap();
        fs::write(
            proc_dir.join("meminfo"),
            format!(
                "MemTotal: {} kB\nMemFree: {} kB\nBuffers: 0 kB\nCached: 0 kB\nActive: 1024 kB\n",
                total_mib * 1024,
                free_mib * 1024
            ),
        )
        .unwrap();
        fs::write(proc_dir.join("cpuinfo"), "processor\t: 0\nprocessor\t: 1\n").unwrap();
        HostProbe::with_proc_dir(proc_dir)
    }

    fn spec(name: &str, maxmem: u64, minmem: u64) -> InstanceSpec {
        InstanceSpec {
            name: name.into(),
            uuid: format!("{name}-uuid"),
            os: "noop".into(),
            hypervisor: "fake".into(),
            hvparams: Default::default(),
            beparams: Default::default(),
            maxmem_mib: maxmem,
            minmem_mib: minmem,
            vcpus: 2,
            disks: vec![],
            nics: vec![],
            network_port: None,
        }
    }

    #[test]
    fn state_file_has_ganetis_format() {
        let t = tempfile::tempdir().unwrap();
        let hv = FakeHypervisor::new(t.path().join("fake"), probe(t.path(), 4096, 2048));
        assert!(hv.verify().is_some());
        hv.start(&spec("inst1", 512, 256), &[], false).unwrap();
        assert_eq!(
            fs::read_to_string(t.path().join("fake/inst1")).unwrap(),
            "0\n512\n2\n"
        );
        assert_eq!(hv.verify(), None);
        // a file written by Ganeti's fake hypervisor reads the same
        fs::write(t.path().join("fake/inst2"), "0\n128\n1\n").unwrap();
        let all = hv.all_instances_info().unwrap();
        assert_eq!(all.keys().collect::<Vec<_>>(), ["inst1", "inst2"]);
        assert_eq!(all["inst2"].memory, 128);
        assert_eq!(all["inst2"].state.as_str(), "running");
    }

    #[test]
    fn startup_memory_is_clamped_between_min_and_max() {
        let t = tempfile::tempdir().unwrap();
        let hv = FakeHypervisor::new(t.path().join("fake"), probe(t.path(), 4096, 1000));
        hv.start(&spec("big", 4000, 600), &[], false).unwrap();
        assert_eq!(hv.instance_info("big").unwrap().unwrap().memory, 1000);
        assert_eq!(hv.node_info().unwrap().memory_free, 0);
        let e = hv.start(&spec("small", 128, 128), &[], false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Not enough memory to start instance small: needed 128 MiB, available 0 MiB"
        );
        assert!(hv.instance_info("small").unwrap().is_none());
    }

    #[test]
    fn corrupt_state_is_reported_with_its_path() {
        let t = tempfile::tempdir().unwrap();
        let hv = FakeHypervisor::new(t.path().join("fake"), probe(t.path(), 4096, 2048));
        fs::create_dir_all(hv.dir()).unwrap();
        fs::write(hv.dir().join("bad"), "0\nlots\n1\n").unwrap();
        let e = hv.all_instances_info().unwrap_err();
        assert!(matches!(e, NodeError::HvStateCorrupt { .. }));
        assert!(e.to_string().contains("fake/bad"), "{e}");
        // temporary files of an interrupted write are not instances
        fs::remove_file(hv.dir().join("bad")).unwrap();
        fs::write(hv.dir().join(".x.tmp.1.1"), "garbage").unwrap();
        assert!(hv.all_instances_info().unwrap().is_empty());
    }

    #[test]
    fn bad_names_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let hv = FakeHypervisor::new(t.path().join("fake"), probe(t.path(), 4096, 2048));
        for name in ["", "../x", "a/b", ".hidden"] {
            let e = hv.start(&spec(name, 128, 128), &[], false).unwrap_err();
            assert!(
                matches!(e, NodeError::InvalidInstanceName { .. }),
                "{name}: {e}"
            );
        }
        assert!(!t.path().join("x").exists());
    }

    #[test]
    fn concurrent_starts_only_one_wins() {
        let t = tempfile::tempdir().unwrap();
        let hv = FakeHypervisor::new(t.path().join("fake"), probe(t.path(), 4096, 2048));
        let results: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| s.spawn(|| hv.start(&spec("inst", 128, 128), &[], false)))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(matches!(r, NodeError::AlreadyRunning { .. }), "{r}");
        }
    }
}
