//! A network namespace with a bridge, for guests that talk to each other.
//!
//! Guest networking must not touch the build machine's own network, so a
//! test gets a fresh namespace with its loopback up (the cluster's master
//! IP is 127.0.0.1) and a bridge with an address; the cluster's daemon runs
//! inside it ([`crate::Cluster::empty_in_netns`]) and opens the instances'
//! taps there. Dropping the namespace deletes it (the bridge and any
//! leftover taps go with it once their QEMUs are gone).

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A network namespace made by this test, deleted on drop.
#[derive(Debug)]
pub struct NetNs {
    /// Its name (`ip netns` name).
    pub name: String,
    /// The bridge inside it.
    pub bridge: String,
    /// The bridge's address, with prefix length.
    pub bridge_addr: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl NetNs {
    /// A new namespace with `lo` up and a bridge `gntbr0` holding
    /// `bridge_addr` (e.g. `10.0.0.254/24`). An error is a reason to skip:
    /// the machine cannot make namespaces, bridges or taps.
    pub fn create(bridge_addr: &str) -> Result<NetNs, String> {
        static N: AtomicU32 = AtomicU32::new(0);
        if !std::path::Path::new("/dev/net/tun").exists() {
            return Err("/dev/net/tun is missing: no tap devices on this machine".into());
        }
        let name = format!(
            "gnte2e-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        ip(&["netns", "add", &name])?;
        let ns = NetNs {
            name,
            bridge: "gntbr0".into(),
            bridge_addr: bridge_addr.into(),
        };
        let n = ns.name.as_str();
        ip(&["-n", n, "link", "set", "lo", "up"])?;
        ip(&["-n", n, "link", "add", &ns.bridge, "type", "bridge"])?;
        ip(&["-n", n, "addr", "add", bridge_addr, "dev", &ns.bridge])?;
        ip(&["-n", n, "link", "set", &ns.bridge, "up"])?;
        ip(&["netns", "exec", n, "true"])?;
        Ok(ns)
    }

    /// Run a command inside the namespace; its success and combined output.
    pub fn exec(&self, argv: &[&str]) -> (bool, String) {
        match Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(argv)
            .output()
        {
            Ok(o) => (
                o.status.success(),
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                ),
            ),
            Err(e) => (false, e.to_string()),
        }
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.name]);
    }
}
