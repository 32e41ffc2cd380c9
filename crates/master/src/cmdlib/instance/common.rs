//! Shared pieces of the instance opcodes: locks, lookups, the instance
//! policy check, NIC and disk construction, the hypervisor spec, and
//! Ganeti's state checks (node online, instance state, disks active).

use ganeti_node::InstanceSpec;
use ganeti_types::params::{self, fill, upgrade_beparams};
use ganeti_types::{
    constants, AdminState, ConfigData, Dict, ErrorClass, GanetiError, Instance, Nic, NodeGroup,
};
use rand::Rng;
use serde_json::{json, Value};

use crate::cmdlib::util::str_param;
use crate::cmdlib::OpCtx;
use crate::jobs::locks::{Level, LockReq};
use crate::Master;

/// No submission-time checks beyond the schema.
pub fn no_check(_m: &Master, _op: &Dict) -> Result<(), GanetiError> {
    Ok(())
}

/// BGL shared, the instance exclusive, its primary node exclusive.
pub fn instance_and_node_locks(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    let name = str_param(op, "instance_name")
        .unwrap_or_default()
        .to_string();
    let (iname, pnode) = m.with_config(|c| {
        c.expand_instance(&name)
            .map(|i| (i.name.clone(), i.primary_node.clone()))
    })??;
    Ok(vec![
        LockReq::bgl_shared(),
        LockReq::exclusive(Level::Instance, iname),
        LockReq::exclusive(Level::Node, pnode),
    ])
}

/// The instance named by the opcode (short names expanded).
pub fn lookup_instance(cfg: &ConfigData, op: &Dict) -> Result<Instance, GanetiError> {
    let name = str_param(op, "instance_name").unwrap_or_default();
    if let Some(uuid) = str_param(op, "instance_uuid") {
        if let Some(i) = cfg.instances.get(uuid) {
            return Ok(i.clone());
        }
    }
    cfg.expand_instance(name).cloned()
}

/// The hypervisor's view of an instance.
pub fn spec(cfg: &ConfigData, inst: &Instance) -> Result<InstanceSpec, GanetiError> {
    let disks = cfg.instance_disks(inst);
    InstanceSpec::from_config(&cfg.cluster, inst, &disks)
        .map_err(|e| GanetiError::OpExec(e.to_string()))
}

/// Whether the instance runs on its primary node right now.
pub fn is_running(m: &Master, inst: &Instance) -> Result<bool, GanetiError> {
    let info = m.node.instances_info(&inst.hypervisor).map_err(|e| {
        GanetiError::OpExec(format!("Can't contact node to get instance info: {e}"))
    })?;
    Ok(info.contains_key(&inst.name))
}

/// Effective backend parameters of an instance.
pub fn effective_be(cfg: &ConfigData, inst_be: &Dict) -> Dict {
    let builtin = constants::be_defaults();
    let mut cl = cfg.cluster.be_defaults();
    upgrade_beparams(&mut cl);
    let mut ib = inst_be.clone();
    upgrade_beparams(&mut ib);
    fill(&[&builtin, &cl, &ib])
}

/// An optional text parameter: Ganeti treats `""` and `"none"` as "not set".
pub fn opt_text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("none"))
        .map(str::to_owned)
}

/// Generate a MAC with the cluster (or network) prefix, unique in the cluster.
pub fn generate_mac(
    cfg: &ConfigData,
    prefix: &str,
    taken: &[String],
) -> Result<String, GanetiError> {
    let mut rng = rand::thread_rng();
    for _ in 0..1000 {
        let mac = format!(
            "{prefix}:{:02x}:{:02x}:{:02x}",
            rng.gen::<u8>(),
            rng.gen::<u8>(),
            rng.gen::<u8>()
        );
        if !cfg.macs_in_use().any(|m| m == mac) && !taken.contains(&mac) {
            return Ok(mac);
        }
    }
    Err(GanetiError::prereq(
        "Cannot generate a unique MAC address",
        ErrorClass::NoRes,
    ))
}

/// Whether a string is a MAC address `xx:xx:xx:xx:xx:xx`.
pub fn valid_mac(mac: &str) -> bool {
    let parts: Vec<&str> = mac.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Build a NIC from an opcode NIC dict (`mac`, `ip`, `mode`, `link`,
/// `vlan`, `network`, `name`). Reserves a pool address in `pools` when
/// asked (the caller stores the changed pools with the instance).
pub fn build_nic(
    cfg: &ConfigData,
    group: &NodeGroup,
    d: &Dict,
    taken_macs: &[String],
    pools: &mut std::collections::BTreeMap<String, ganeti_types::AddressPool>,
) -> Result<Nic, GanetiError> {
    let s = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
    let network = match opt_text(d.get("network")) {
        Some(n) => Some(cfg.lookup_network(&n)?.clone()),
        _ => None,
    };
    let mut nicparams = Dict::new();
    for k in ["mode", "link", "vlan"] {
        if let Some(v) = s(k) {
            nicparams.insert(k.into(), json!(v));
        }
    }
    if let Some(net) = &network {
        if nicparams.contains_key("mode") || nicparams.contains_key("link") {
            return Err(GanetiError::wrong_input(
                "If network is given, no mode or link is allowed to be passed",
            ));
        }
        let conn = group
            .networks
            .get(&net.uuid)
            .and_then(Value::as_object)
            .ok_or_else(|| {
                GanetiError::prereq(
                    format!(
                        "Network '{}' is not connected to node group '{}'",
                        net.name, group.name
                    ),
                    ErrorClass::WrongState,
                )
            })?;
        for (k, v) in conn {
            nicparams.insert(k.clone(), v.clone());
        }
    }
    if let Some(mode) = nicparams.get("mode").and_then(Value::as_str) {
        if !["bridged", "routed", "openvswitch"].contains(&mode) {
            return Err(GanetiError::wrong_input(format!(
                "Invalid NIC mode '{mode}'"
            )));
        }
    }
    let checked = params::force_dict_types(&nicparams, params::NIC_TYPES, false)?;
    // IP address
    let ip = match s("ip").map(|x| x.to_ascii_lowercase()) {
        None => None,
        Some(x) if x.is_empty() || x == "none" => None,
        Some(x) if x == "pool" => {
            let net = network.as_ref().ok_or_else(|| {
                GanetiError::wrong_input("if ip=pool, parameter network must be passed too")
            })?;
            let pool = pool_for(pools, net)?;
            let addr = pool
                .first_free()
                .map_err(|e| GanetiError::prereq(e.to_string(), ErrorClass::NoRes))?;
            pool.reserve(&addr, false)
                .map_err(|e| GanetiError::prereq(e.to_string(), ErrorClass::NoRes))?;
            Some(addr)
        }
        Some(_) => {
            let addr = s("ip").unwrap_or_default();
            if addr.parse::<std::net::IpAddr>().is_err() {
                return Err(GanetiError::wrong_input(format!(
                    "Invalid IP address '{addr}'"
                )));
            }
            if let Some(net) = &network {
                let pool = pool_for(pools, net)?;
                pool.reserve(&addr, false).map_err(|e| {
                    GanetiError::prereq(
                        format!("IP address '{addr}' already in use or does not belong to network {}: {e}", net.name),
                        ErrorClass::NotUnique,
                    )
                })?;
            }
            Some(addr)
        }
    };
    // MAC
    let prefix = network
        .as_ref()
        .and_then(|n| n.mac_prefix.clone())
        .unwrap_or_else(|| cfg.cluster.mac_prefix.clone());
    let mac = match s("mac").map(|m| m.to_ascii_lowercase()) {
        None => generate_mac(cfg, &prefix, taken_macs)?,
        Some(m) if m == "auto" || m == "generate" || m.is_empty() => {
            generate_mac(cfg, &prefix, taken_macs)?
        }
        Some(m) => {
            if !valid_mac(&m) {
                return Err(GanetiError::wrong_input(format!(
                    "Invalid MAC address specified: {m}"
                )));
            }
            if cfg.macs_in_use().any(|x| x == m) || taken_macs.contains(&m) {
                return Err(GanetiError::prereq(
                    format!("MAC address {m} already in use in cluster"),
                    ErrorClass::NotUnique,
                ));
            }
            m
        }
    };
    Ok(Nic {
        uuid: ganeti_types::new_uuid(),
        name: opt_text(d.get("name")),
        mac,
        ip,
        network: network.map(|n| n.uuid),
        nicparams: checked,
    })
}

fn pool_for<'a>(
    pools: &'a mut std::collections::BTreeMap<String, ganeti_types::AddressPool>,
    net: &ganeti_types::Network,
) -> Result<&'a mut ganeti_types::AddressPool, GanetiError> {
    if !pools.contains_key(&net.uuid) {
        let p = ganeti_types::AddressPool::from_network(net)
            .map_err(|e| GanetiError::Config(e.to_string()))?;
        pools.insert(net.uuid.clone(), p);
    }
    pools
        .get_mut(&net.uuid)
        .ok_or_else(|| GanetiError::Config("address pool vanished".into()))
}

/// Release the pool addresses of NICs (on instance or NIC removal).
pub fn release_nic_ips(
    cfg: &ConfigData,
    nics: &[Nic],
) -> Result<Vec<ganeti_types::Network>, GanetiError> {
    let mut changed: std::collections::BTreeMap<String, ganeti_types::Network> = Default::default();
    for nic in nics {
        let (Some(net_uuid), Some(ip)) = (&nic.network, &nic.ip) else {
            continue;
        };
        let net = match changed.get(net_uuid) {
            Some(n) => n.clone(),
            None => match cfg.networks.get(net_uuid) {
                Some(n) => {
                    let mut n = n.clone();
                    n.serial_no += 1;
                    n.mtime = ganeti_types::now_f64();
                    n
                }
                None => continue,
            },
        };
        let mut pool = ganeti_types::AddressPool::from_network(&net)
            .map_err(|e| GanetiError::Config(e.to_string()))?;
        let mut net = net;
        if pool.release(ip, false).is_ok() {
            pool.store(&mut net);
        }
        changed.insert(net_uuid.clone(), net);
    }
    Ok(changed.into_values().collect())
}

/// Parse a disk size from an opcode disk dict (int MiB or a unit string).
pub fn disk_size(d: &Dict, idx: usize) -> Result<u64, GanetiError> {
    match d.get("size") {
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| GanetiError::wrong_input(format!("Invalid disk size for disk {idx}"))),
        Some(Value::String(s)) => params::parse_unit(s).map_err(|e| {
            GanetiError::wrong_input(format!("Invalid disk size '{s}' for disk {idx}: {e}"))
        }),
        _ => Err(GanetiError::wrong_input(format!(
            "Missing disk size for disk {idx}"
        ))),
    }
}

/// Format MiB the way Ganeti's log messages do (`128M`, `1.0G`).
pub fn fmt_mib(v: u64) -> String {
    if v < 1024 {
        format!("{v}M")
    } else if v < 1024 * 1024 {
        format!("{:.1}G", v as f64 / 1024.0)
    } else {
        format!("{:.1}T", v as f64 / 1024.0 / 1024.0)
    }
}

/// The file storage directory of an instance.
pub fn instance_file_dir(cfg: &ConfigData, name: &str, template: &str) -> std::path::PathBuf {
    let base = if template == "sharedfile" {
        &cfg.cluster.shared_file_storage_dir
    } else {
        &cfg.cluster.file_storage_dir
    };
    std::path::Path::new(base).join(name)
}

/// Resolve a name through the system resolver (Ganeti's name check).
pub fn resolve_name(name: &str) -> Result<(String, std::net::IpAddr), GanetiError> {
    use std::net::ToSocketAddrs;
    match (name, 0u16).to_socket_addrs() {
        Ok(mut addrs) => match addrs.next() {
            Some(a) => Ok((name.to_string(), a.ip())),
            None => Err(GanetiError::prereq(
                format!("The given name ({name}) does not resolve: no address"),
                ErrorClass::ResolverError,
            )),
        },
        Err(e) => Err(GanetiError::prereq(
            format!("The given name ({name}) does not resolve: {e}"),
            ErrorClass::ResolverError,
        )),
    }
}

/// Ganeti's ip check: refuse if something answers at the address.
pub fn ip_in_use(ip: std::net::IpAddr) -> bool {
    let addr = std::net::SocketAddr::new(ip, 22);
    std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(500)).is_ok()
}

/// Check that an OS exists in the search path (`name` or `name+variant`).
pub fn check_os_exists(m: &Master, os: &str) -> Result<(), GanetiError> {
    let base = os.split('+').next().unwrap_or(os);
    if base.is_empty() || base.contains('/') || base.starts_with('.') {
        return Err(GanetiError::wrong_input(format!("Invalid OS name '{os}'")));
    }
    let found = m
        .paths
        .os_search_path()
        .iter()
        .any(|d| d.join(base).is_dir());
    if found {
        Ok(())
    } else {
        let node = m
            .with_config(|c| c.master_node().map(|n| n.name.clone()).unwrap_or_default())
            .unwrap_or_default();
        Err(GanetiError::OpExec(format!(
            "OS Parameters validation failed on node {node}: Directory for OS {base} not found in search path"
        )))
    }
}

/// Ganeti's `CheckNodeOnline`: refuse an offline node (`msg` replaces the
/// default "Can't use offline node").
pub fn check_node_online(
    cfg: &ConfigData,
    node_uuid: &str,
    msg: Option<&str>,
) -> Result<(), GanetiError> {
    if cfg.nodes.get(node_uuid).is_some_and(|n| n.offline) {
        return Err(GanetiError::wrong_state(format!(
            "{}: {}",
            msg.unwrap_or("Can't use offline node"),
            cfg.node_name(node_uuid)
        )));
    }
    Ok(())
}

/// Ganeti's `CheckInstanceState`: the instance's administrative state must
/// be one of `allowed`, and unless `up` is allowed it must not actually
/// run (not checked, with a warning, when its primary node is offline).
/// `what` completes the message, e.g. "cannot reinstall".
pub fn check_instance_state(
    ctx: &mut OpCtx<'_>,
    cfg: &ConfigData,
    inst: &Instance,
    allowed: &[AdminState],
    what: &str,
) -> Result<(), GanetiError> {
    if !allowed.contains(&inst.admin_state) {
        return Err(GanetiError::wrong_state(format!(
            "Instance '{}' is marked to be {}, {what}",
            inst.name,
            inst.admin_state.as_str()
        )));
    }
    if allowed.contains(&AdminState::Up) {
        return Ok(());
    }
    if cfg.nodes.get(&inst.primary_node).is_some_and(|n| n.offline) {
        ctx.log_warning("Primary node offline, ignoring check that instance is down");
        return Ok(());
    }
    if is_running(ctx.master, inst)? {
        return Err(GanetiError::wrong_state(format!(
            "Instance {} is running, {what}",
            inst.name
        )));
    }
    Ok(())
}

/// Ganeti's `INSTANCE_DOWN`: only administratively down instances.
pub const INSTANCE_DOWN: &[AdminState] = &[AdminState::Down];
/// Ganeti's `INSTANCE_NOT_RUNNING`: down or offline.
pub const INSTANCE_NOT_RUNNING: &[AdminState] = &[AdminState::Down, AdminState::Offline];

/// Record whether an instance's disks are active (Ganeti's
/// `MarkInstanceDisksActive`/`Inactive`); no write when nothing changes.
pub fn set_disks_active(ctx: &OpCtx<'_>, inst_uuid: &str, active: bool) -> Result<(), GanetiError> {
    let cfg = ctx.config()?;
    let Some(cur) = cfg.instances.get(inst_uuid) else {
        return Err(GanetiError::noent(format!(
            "Instance '{inst_uuid}' not known"
        )));
    };
    if cur.disks_active == active {
        return Ok(());
    }
    let mut inst = cur.clone();
    inst.disks_active = active;
    inst.serial_no += 1;
    inst.mtime = ganeti_types::now_f64();
    ctx.commit(vec![crate::state::ConfigOp::PutInstance(Box::new(inst))])
}

/// Ganeti's "no allocator" failure: instance allocators are not part of
/// this release, so any opcode that would run one fails the way Ganeti
/// fails when the named allocator cannot be run.
pub fn iallocator_unavailable(name: &str) -> GanetiError {
    GanetiError::OpExec(format!(
        "Failure while running the iallocator script: iallocator module '{name}' not found in the search path"
    ))
}
