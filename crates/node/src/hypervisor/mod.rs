//! Hypervisors: one implementation per kind behind the [`Hypervisor`] trait.
//!
//! The trait has the shape of Ganeti's `BaseHypervisor` reduced to what the
//! node layer calls: primitive, hypervisor-level operations that fail when
//! asked to do something impossible (start a running instance, stop a
//! stopped one). Policy that is the same for every hypervisor, such as the
//! "clean shutdown, wait, then destroy" sequence, lives here in
//! [`shutdown`] and in `LocalNode`, not in each implementation. A new
//! hypervisor (kvm next) is one more module plus one line in
//! [`Hypervisors::new`].

pub mod fake;
pub mod kvm;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::thread;
use std::time::{Duration, Instant};

use ganeti_types::{constants, Paths};

use crate::host::HostProbe;
use crate::info::{ConsoleHost, ConsoleInfo, HvNodeInfo, InstanceRuntime};
use crate::spec::{AttachedDisk, HotplugAction, InstanceSpec};
use crate::NodeError;

pub use fake::FakeHypervisor;

/// One kind of hypervisor on this node.
pub trait Hypervisor: Send + Sync + Debug {
    /// Ganeti's name of the hypervisor (`fake`, `kvm`, ...).
    fn name(&self) -> &'static str;

    /// Node resources as this hypervisor sees them; `memory_free` already
    /// accounts for the instances it runs.
    fn node_info(&self) -> Result<HvNodeInfo, NodeError>;

    /// Runtime facts of one instance, `None` if the hypervisor does not know it.
    fn instance_info(&self, name: &str) -> Result<Option<InstanceRuntime>, NodeError>;

    /// Runtime facts of every instance the hypervisor knows.
    fn all_instances_info(&self) -> Result<BTreeMap<String, InstanceRuntime>, NodeError>;

    /// Start an instance on its (already assembled) disks. Fails with
    /// [`NodeError::AlreadyRunning`] if it runs.
    fn start(
        &self,
        inst: &InstanceSpec,
        disks: &[AttachedDisk],
        startup_paused: bool,
    ) -> Result<(), NodeError>;

    /// Stop an instance. With `force` unset this asks for a clean shutdown
    /// that may still be under way when it returns; with `force` set the
    /// instance is destroyed. Fails with [`NodeError::NotRunning`] if the
    /// instance does not run.
    fn stop(&self, inst: &InstanceSpec, force: bool, timeout: Duration) -> Result<(), NodeError>;

    /// Reboot the guest without recreating the VM (a "soft" reboot).
    fn reboot(&self, inst: &InstanceSpec) -> Result<(), NodeError>;

    /// How to reach the instance's console from `host` (its primary node).
    fn console(&self, inst: &InstanceSpec, host: &ConsoleHost) -> ConsoleInfo;

    /// Change a running instance's devices without restarting it; `disks`
    /// are the instance's attached disks, in `inst.disks` order. The
    /// default refuses, for hypervisors that cannot hotplug.
    fn hotplug(
        &self,
        inst: &InstanceSpec,
        _disks: &[AttachedDisk],
        _action: &HotplugAction,
    ) -> Result<(), NodeError> {
        Err(NodeError::HotplugUnsupported {
            instance: inst.name.clone(),
            hypervisor: self.name(),
        })
    }

    /// A problem description if the hypervisor cannot work on this node.
    fn verify(&self) -> Option<String>;

    /// Clean up after an instance stopped (sockets, runtime files).
    fn cleanup(&self, _name: &str) -> Result<(), NodeError> {
        Ok(())
    }
}

/// The hypervisors this node can run, looked up by name.
#[derive(Debug)]
pub struct Hypervisors {
    hvs: Vec<Box<dyn Hypervisor>>,
}

impl Hypervisors {
    /// Every hypervisor this release implements, with state below `paths`.
    pub fn new(paths: &Paths, host: &HostProbe) -> Self {
        Hypervisors {
            hvs: vec![
                Box::new(FakeHypervisor::new(paths.fake_hv_dir(), host.clone())),
                Box::new(kvm::KvmHypervisor::new(paths, host.clone())),
            ],
        }
    }

    /// Use exactly these hypervisors (tests, embedding).
    pub fn from_list(hvs: Vec<Box<dyn Hypervisor>>) -> Self {
        Hypervisors { hvs }
    }

    /// The hypervisor called `name`; errors tell "unknown" from "not in this
    /// release".
    pub fn get(&self, name: &str) -> Result<&dyn Hypervisor, NodeError> {
        if let Some(hv) = self.hvs.iter().find(|h| h.name() == name) {
            return Ok(hv.as_ref());
        }
        if constants::KNOWN_HYPERVISORS.contains(&name) {
            Err(NodeError::UnsupportedHypervisor {
                name: name.to_string(),
            })
        } else {
            Err(NodeError::UnknownHypervisor {
                name: name.to_string(),
            })
        }
    }
}

/// Refuse instance names that cannot name a file in a hypervisor's state
/// directory (every hypervisor keeps per-instance files named after it).
pub(crate) fn check_file_name(name: &str) -> Result<(), NodeError> {
    let reason = if name.is_empty() {
        "empty"
    } else if name.len() > 255 {
        "longer than 255 bytes"
    } else if name.contains('/') || name.contains('\0') {
        "contains '/' or NUL"
    } else if crate::fsutil::is_tmp_name(name) {
        "starts with '.'"
    } else {
        return Ok(());
    };
    Err(NodeError::InvalidInstanceName {
        name: name.to_string(),
        reason,
    })
}

/// Poll interval bounds while waiting for a clean shutdown.
const POLL_MIN: Duration = Duration::from_millis(50);
const POLL_MAX: Duration = Duration::from_secs(1);

/// Shut an instance down as Ganeti's backend does: ask for a clean
/// shutdown (repeatedly) until `timeout`, then destroy it. An error of the
/// hypervisor only counts if the instance is still there afterwards.
pub fn shutdown(
    hv: &dyn Hypervisor,
    inst: &InstanceSpec,
    timeout: Duration,
) -> Result<(), NodeError> {
    let name = inst.name.as_str();
    let deadline = Instant::now() + timeout;
    let mut poll = POLL_MIN;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if let Err(e) = hv.stop(inst, false, remaining) {
            if hv.instance_info(name)?.is_some() {
                return Err(e);
            }
            return Ok(());
        }
        if hv.instance_info(name)?.is_none() {
            return Ok(());
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            break;
        }
        thread::sleep(poll.min(remaining));
        poll = (poll * 2).min(POLL_MAX);
    }
    tracing::error!(
        instance = name,
        "Shutdown of '{name}' unsuccessful, forcing"
    );
    if let Err(e) = hv.stop(inst, true, Duration::ZERO) {
        if hv.instance_info(name)?.is_some() {
            return Err(e);
        }
    }
    if hv.instance_info(name)?.is_some() {
        return Err(NodeError::ShutdownFailed {
            instance: name.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    use crate::info::HvInstanceState;

    /// A hypervisor whose guests ignore clean shutdown requests for a while.
    #[derive(Debug, Default)]
    struct Stubborn {
        /// clean stop requests needed before the guest goes down; None: never
        soft_needed: Option<u32>,
        destroy_works: bool,
        state: Mutex<(bool, u32, u32)>, // (running, soft requests, forced requests)
    }

    impl Hypervisor for Stubborn {
        fn name(&self) -> &'static str {
            "stubborn"
        }
        fn node_info(&self) -> Result<HvNodeInfo, NodeError> {
            HostProbe::system().linux_node_info("stubborn")
        }
        fn instance_info(&self, _name: &str) -> Result<Option<InstanceRuntime>, NodeError> {
            let running = self.state.lock().unwrap().0;
            Ok(running.then_some(InstanceRuntime {
                state: HvInstanceState::Running,
                memory: 1,
                vcpus: 1,
                time: 0.0,
            }))
        }
        fn all_instances_info(&self) -> Result<BTreeMap<String, InstanceRuntime>, NodeError> {
            Ok(BTreeMap::new())
        }
        fn start(&self, _: &InstanceSpec, _: &[AttachedDisk], _: bool) -> Result<(), NodeError> {
            Ok(())
        }
        fn stop(&self, inst: &InstanceSpec, force: bool, _: Duration) -> Result<(), NodeError> {
            let mut s = self.state.lock().unwrap();
            if force {
                s.2 += 1;
                if self.destroy_works {
                    s.0 = false;
                    return Ok(());
                }
                return Err(NodeError::NotRunning {
                    instance: inst.name.clone(),
                });
            }
            s.1 += 1;
            if self.soft_needed.is_some_and(|n| s.1 >= n) {
                s.0 = false;
            }
            Ok(())
        }
        fn reboot(&self, _: &InstanceSpec) -> Result<(), NodeError> {
            Ok(())
        }
        fn console(&self, inst: &InstanceSpec, _: &ConsoleHost) -> ConsoleInfo {
            ConsoleInfo::Message {
                instance: inst.name.clone(),
                message: String::new(),
            }
        }
        fn verify(&self) -> Option<String> {
            None
        }
    }

    fn spec() -> InstanceSpec {
        InstanceSpec {
            name: "i1".into(),
            uuid: "u".into(),
            os: "noop".into(),
            hypervisor: "stubborn".into(),
            hvparams: Default::default(),
            beparams: Default::default(),
            maxmem_mib: 1,
            minmem_mib: 1,
            vcpus: 1,
            disks: vec![],
            nics: vec![],
            network_port: None,
        }
    }

    fn stubborn(soft_needed: Option<u32>, destroy_works: bool) -> Stubborn {
        Stubborn {
            soft_needed,
            destroy_works,
            state: Mutex::new((true, 0, 0)),
        }
    }

    #[test]
    fn clean_shutdown_is_retried_before_forcing() {
        let hv = stubborn(Some(3), true);
        shutdown(&hv, &spec(), Duration::from_secs(10)).unwrap();
        assert_eq!(*hv.state.lock().unwrap(), (false, 3, 0));
    }

    #[test]
    fn timeout_leads_to_destroy() {
        let hv = stubborn(None, true);
        shutdown(&hv, &spec(), Duration::from_millis(200)).unwrap();
        let s = *hv.state.lock().unwrap();
        assert!(!s.0 && s.1 >= 1 && s.2 == 1, "{s:?}");
        // a zero timeout asks once, then destroys
        let hv = stubborn(None, true);
        shutdown(&hv, &spec(), Duration::ZERO).unwrap();
        assert_eq!(*hv.state.lock().unwrap(), (false, 1, 1));
    }

    #[test]
    fn failed_destroy_is_reported() {
        let hv = stubborn(None, false);
        let e = shutdown(&hv, &spec(), Duration::ZERO).unwrap_err();
        assert!(matches!(e, NodeError::NotRunning { .. }), "{e}");
    }

    #[test]
    fn lookup_tells_unknown_from_unsupported() {
        let dir = tempfile::tempdir().unwrap();
        let hvs = Hypervisors::new(&Paths::new(dir.path()), &HostProbe::system());
        assert_eq!(hvs.get("fake").unwrap().name(), "fake");
        assert_eq!(hvs.get("kvm").unwrap().name(), "kvm");
        assert_eq!(
            hvs.get("xen-pvm").unwrap_err().to_string(),
            "Hypervisor 'xen-pvm' is not supported by this release"
        );
        assert_eq!(
            hvs.get("vmware").unwrap_err().to_string(),
            "Unknown hypervisor type 'vmware'"
        );
    }
}
