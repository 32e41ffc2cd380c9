//! Network opcodes: add, remove, modify, and connect to / disconnect from
//! node groups.
//!
//! The address pool arithmetic is `ganeti_types::AddressPool`; this module
//! adds Ganeti's rules on top: pool size limits (/16 to /30), which
//! addresses are reserved when a network is created (network, broadcast,
//! gateway, and — with `conflicts_check` — node and master IPs inside it),
//! and Ganeti's messages, which distinguish external (operator)
//! reservations from addresses used by instances. A group's connection is
//! its `networks` map: `{network uuid: {"mode", "link", "vlan"}}`.

use std::net::Ipv6Addr;

use ganeti_types::{new_uuid, now_f64, AddressPool, ConfigData, Dict, GanetiError, Network};
use serde_json::{json, Value};

use super::cluster::checks::{
    check_nic_syntax, comma_join, group_instances, nice_sorted, normalize_mac_prefix, run_planned,
    touch, Outcome,
};
use super::tags::new_object_tags;
use super::util::{bool_param, req_str, str_list, str_param};
use super::{OpCtx, OpImpl};
use crate::jobs::locks::{Level, LockReq};
use crate::state::ConfigOp;
use crate::Master;

pub(super) const OPS: &[OpImpl] = &[
    OpImpl {
        op_id: "OP_NETWORK_ADD",
        locks: locks_add,
        check: check_add,
        exec: exec_add,
        hooks: Some(&crate::hooks::defs::NETWORK_ADD),
    },
    OpImpl {
        op_id: "OP_NETWORK_REMOVE",
        locks: locks_remove,
        check: check_none,
        exec: exec_remove,
        hooks: Some(&crate::hooks::defs::NETWORK_REMOVE),
    },
    OpImpl {
        op_id: "OP_NETWORK_SET_PARAMS",
        locks: locks_set_params,
        check: check_set_params,
        exec: exec_set_params,
        hooks: Some(&crate::hooks::defs::NETWORK_MODIFY),
    },
    OpImpl {
        op_id: "OP_NETWORK_CONNECT",
        locks: locks_connect,
        check: check_connect,
        exec: exec_connect,
        hooks: Some(&crate::hooks::defs::NETWORK_CONNECT),
    },
    OpImpl {
        op_id: "OP_NETWORK_DISCONNECT",
        locks: locks_disconnect,
        check: check_none,
        exec: exec_disconnect,
        hooks: Some(&crate::hooks::defs::NETWORK_DISCONNECT),
    },
];

/// Ganeti's value meaning "unset this attribute" in network modifications.
const VALUE_NONE: &str = "none";
/// Largest and smallest IPv4 networks Ganeti manages pools for.
const IPV4_NETWORK_MAX_SIZE: u8 = 16;
const IPV4_NETWORK_MIN_SIZE: u8 = 30;

fn check_none(_m: &Master, _op: &Dict) -> Result<(), GanetiError> {
    Ok(())
}

fn network_uuid(m: &Master, name: &str) -> Result<String, GanetiError> {
    m.with_config(|c| c.lookup_network(name).map(|n| n.uuid.clone()))?
}

fn group_uuid(m: &Master, name: &str) -> Result<String, GanetiError> {
    m.with_config(|c| c.lookup_group(name).map(|g| g.uuid.clone()))?
}

/// Ganeti's pool size rules, worded as its `AddressPoolError`s.
fn check_pool_size(net: &str) -> Result<(), String> {
    let (_, prefix) = AddressPool::parse_network(net).map_err(|e| e.to_string())?;
    let hosts = 1u64 << (32 - u32::from(prefix));
    if prefix < IPV4_NETWORK_MAX_SIZE {
        return Err(format!(
            "A big network with {hosts} host(s) is currently not supported. please specify at most \
             a /{IPV4_NETWORK_MAX_SIZE} network"
        ));
    }
    if prefix > IPV4_NETWORK_MIN_SIZE {
        return Err(format!(
            "A network with only {hosts} host(s) is too small, please specify at least a \
             /{IPV4_NETWORK_MIN_SIZE} network"
        ));
    }
    Ok(())
}

/// Reserve an address externally, with Ganeti's error texts.
fn reserve_external(pool: &mut AddressPool, net: &str, ip: &str) -> Result<(), String> {
    if !pool.contains(ip) {
        return Err(format!("{net} does not contain {ip}"));
    }
    if pool.external_list().iter().any(|x| x == ip) {
        return Err(format!("IP {ip} is already externally reserved"));
    }
    pool.reserve(ip, true).map_err(|e| e.to_string())
}

/// Release an external reservation, with Ganeti's error texts.
fn release_external(pool: &mut AddressPool, net: &str, ip: &str) -> Result<(), String> {
    if !pool.contains(ip) {
        return Err(format!("{net} does not contain {ip}"));
    }
    if !pool.external_list().iter().any(|x| x == ip) {
        return Err(format!("IP {ip} is not externally reserved"));
    }
    pool.release(ip, true).map_err(|e| e.to_string())
}

/// Whether an address is used by an instance (Ganeti's `IsReserved` without `external`).
fn used_by_instance(pool: &AddressPool, ip: &str) -> bool {
    pool.reserved_list().iter().any(|x| x == ip)
}

fn is_link_local6(a: &Ipv6Addr) -> bool {
    (a.segments()[0] & 0xffc0) == 0xfe80
}

/// The IPv6 gateway must lie in the IPv6 network (or be link-local).
fn check_v6(network6: Option<&str>, gateway6: Option<&str>) -> Result<(), GanetiError> {
    let (Some(net), Some(gw)) = (network6, gateway6) else {
        return Ok(());
    };
    let bad = || GanetiError::wrong_input(format!("IPv6 gateway {gw} is not in network {net}"));
    let (addr, len) = net.split_once('/').ok_or_else(bad)?;
    let addr: Ipv6Addr = addr.parse().map_err(|_| bad())?;
    let len: u32 = len.parse().map_err(|_| bad())?;
    let gw_addr: Ipv6Addr = gw.parse().map_err(|_| bad())?;
    if len > 128 {
        return Err(bad());
    }
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    if u128::from(addr) & mask == u128::from(gw_addr) & mask || is_link_local6(&gw_addr) {
        Ok(())
    } else {
        Err(bad())
    }
}

// --- OP_NETWORK_ADD ---------------------------------------------------------------

fn check_add(_m: &Master, op: &Dict) -> Result<(), GanetiError> {
    req_str(op, "network_name")?;
    if let Some(mp) = str_param(op, "mac_prefix") {
        normalize_mac_prefix(mp)?;
    }
    new_object_tags(op)?;
    check_v6(str_param(op, "network6"), str_param(op, "gateway6"))
}

fn locks_add(_m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    Ok(vec![
        LockReq::bgl_shared(),
        LockReq::exclusive(
            Level::Network,
            format!("name:{}", req_str(op, "network_name")?),
        ),
    ])
}

/// Plan creating a network (Ganeti's `LUNetworkAdd`); `uuid` is the new network's.
fn plan_add(cfg: &ConfigData, op: &Dict, uuid: &str) -> Result<Outcome, GanetiError> {
    let name = req_str(op, "network_name")?;
    let subnet = str_param(op, "network")
        .ok_or_else(|| GanetiError::wrong_input("Network must be given"))?;
    if let Ok(existing) = cfg.lookup_network(name) {
        return Err(GanetiError::exists(format!(
            "Desired network name '{name}' already exists as a network (UUID: {})",
            existing.uuid
        )));
    }
    let tags = new_object_tags(op)?;
    let mac_prefix = str_param(op, "mac_prefix")
        .map(normalize_mac_prefix)
        .transpose()?;
    let gateway = str_param(op, "gateway");
    check_v6(str_param(op, "network6"), str_param(op, "gateway6"))?;

    let pool_err = |e: String| {
        GanetiError::exec(format!(
            "Cannot create IP address pool for network '{name}': {e}"
        ))
    };
    check_pool_size(subnet).map_err(pool_err)?;
    let mut pool = AddressPool::new(subnet, None).map_err(|e| pool_err(e.to_string()))?;
    if let Some(gw) = gateway {
        reserve_external(&mut pool, subnet, gw).map_err(pool_err)?;
    }

    let mut out = Outcome::default();
    if op
        .get("conflicts_check")
        .and_then(Value::as_bool)
        .unwrap_or(true)
    {
        let mut nodes: Vec<_> = cfg.nodes.values().collect();
        nodes.sort_by(|a, b| ganeti_query::nice_cmp(&a.name, &b.name));
        for node in nodes {
            for ip in [&node.primary_ip, &node.secondary_ip] {
                if pool.contains(ip) {
                    match reserve_external(&mut pool, subnet, ip) {
                        Ok(()) => out.exec_info(format!(
                            "Reserved IP address of node '{}' ({ip})",
                            node.name
                        )),
                        Err(e) => out.exec_warn(format!(
                            "Cannot reserve IP address '{ip}' of node '{}': {e}",
                            node.name
                        )),
                    }
                }
            }
        }
        let master_ip = &cfg.cluster.master_ip;
        if pool.contains(master_ip) {
            match reserve_external(&mut pool, subnet, master_ip) {
                Ok(()) => {
                    out.exec_info(format!("Reserved cluster master IP address ({master_ip})"))
                }
                Err(e) => out.exec_warn(format!(
                    "Cannot reserve cluster master IP address ({master_ip}): {e}"
                )),
            }
        }
    }
    for ip in str_list(op, "add_reserved_ips") {
        reserve_external(&mut pool, subnet, &ip)
            .map_err(|e| GanetiError::exec(format!("Cannot reserve IP address '{ip}': {e}")))?;
    }
    let now = now_f64();
    let mut net = Network {
        uuid: uuid.to_string(),
        name: name.to_string(),
        network: subnet.to_string(),
        gateway: gateway.map(str::to_owned),
        network6: str_param(op, "network6").map(str::to_owned),
        gateway6: str_param(op, "gateway6").map(str::to_owned),
        mac_prefix,
        reservations: String::new(),
        ext_reservations: String::new(),
        tags,
        serial_no: 1,
        ctime: now,
        mtime: now,
    };
    pool.store(&mut net);
    out.ops.push(ConfigOp::PutNetwork(Box::new(net)));
    Ok(out)
}

fn exec_add(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let uuid = new_uuid();
    run_planned(ctx, |cfg| plan_add(cfg, &op, &uuid))
}

// --- OP_NETWORK_REMOVE ------------------------------------------------------------

fn locks_remove(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    let uuid = network_uuid(m, req_str(op, "network_name")?)?;
    Ok(vec![
        LockReq::bgl_shared(),
        LockReq::exclusive(Level::Network, uuid),
        LockReq::all(Level::NodeGroup, false),
    ])
}

fn plan_remove(cfg: &ConfigData, op: &Dict) -> Result<Outcome, GanetiError> {
    let name = req_str(op, "network_name")?;
    let net = cfg.lookup_network(name)?;
    let groups: Vec<String> = cfg
        .nodegroups
        .values()
        .filter(|g| g.networks.contains_key(&net.uuid))
        .map(|g| g.name.clone())
        .collect();
    let mut out = Outcome::default();
    if !groups.is_empty() {
        out.warn(format!(
            "Network '{name}' is connected to the following node groups: {}",
            comma_join(nice_sorted(groups))
        ));
        out.fail = Some(GanetiError::wrong_state("Network still connected"));
        return Ok(out);
    }
    let users: Vec<String> = cfg
        .instances
        .values()
        .filter(|i| {
            i.nics
                .iter()
                .any(|n| n.network.as_deref() == Some(net.uuid.as_str()))
        })
        .map(|i| i.name.clone())
        .collect();
    if !users.is_empty() {
        return Err(GanetiError::wrong_state(format!(
            "Network '{name}' is still used by the following instances: {}",
            comma_join(nice_sorted(users))
        )));
    }
    out.ops.push(ConfigOp::DelNetwork(net.uuid.clone()));
    Ok(out)
}

fn exec_remove(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    run_planned(ctx, |cfg| plan_remove(cfg, &op))
}

// --- OP_NETWORK_SET_PARAMS --------------------------------------------------------

fn check_set_params(_m: &Master, op: &Dict) -> Result<(), GanetiError> {
    let has_list = |k: &str| {
        op.get(k)
            .and_then(Value::as_array)
            .map(|a| !a.is_empty())
            .unwrap_or(false)
    };
    if str_param(op, "gateway").is_some_and(|g| !g.is_empty())
        && (has_list("add_reserved_ips") || has_list("remove_reserved_ips"))
    {
        return Err(GanetiError::wrong_input(
            "Cannot modify gateway and reserved ips at once",
        ));
    }
    if let Some(mp) = str_param(op, "mac_prefix").filter(|m| *m != VALUE_NONE) {
        normalize_mac_prefix(mp)?;
    }
    Ok(())
}

fn locks_set_params(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    let uuid = network_uuid(m, req_str(op, "network_name")?)?;
    Ok(vec![
        LockReq::bgl_shared(),
        LockReq::exclusive(Level::Network, uuid),
    ])
}

/// `Some(None)`: unset; `Some(Some(v))`: set; `None`: not given.
fn maybe_unset(op: &Dict, key: &str) -> Option<Option<String>> {
    match str_param(op, key) {
        None | Some("") => None,
        Some(VALUE_NONE) => Some(None),
        Some(v) => Some(Some(v.to_string())),
    }
}

fn plan_set_params(cfg: &ConfigData, op: &Dict) -> Result<Outcome, GanetiError> {
    check_set_params_static(op)?;
    let mut net = cfg.lookup_network(req_str(op, "network_name")?)?.clone();
    let subnet = net.network.clone();
    let mut pool = AddressPool::from_network(&net).map_err(|e| GanetiError::exec(e.to_string()))?;
    let mut out = Outcome::default();

    let new_gateway = maybe_unset(op, "gateway");
    if let Some(Some(gw)) = &new_gateway {
        if pool.contains(gw) && used_by_instance(&pool, gw) {
            return Err(GanetiError::wrong_state(format!(
                "Gateway IP address '{gw}' is already reserved"
            )));
        }
    }
    let mac_prefix = match maybe_unset(op, "mac_prefix") {
        Some(Some(m)) => Some(Some(normalize_mac_prefix(&m)?)),
        other => other,
    };
    let gateway6 = maybe_unset(op, "gateway6");
    let network6 = maybe_unset(op, "network6");
    let eff_net6 = network6.clone().unwrap_or_else(|| net.network6.clone());
    let eff_gw6 = gateway6.clone().unwrap_or_else(|| net.gateway6.clone());
    check_v6(eff_net6.as_deref(), eff_gw6.as_deref())?;

    if let Some(gw) = new_gateway {
        if gw == net.gateway {
            out.exec_warn(format!(
                "Gateway is already {}",
                gw.as_deref().unwrap_or("None")
            ));
        } else {
            if let Some(g) = &gw {
                reserve_external(&mut pool, &subnet, g).map_err(GanetiError::exec)?;
            }
            if let Some(old) = &net.gateway {
                release_external(&mut pool, &subnet, old).map_err(GanetiError::exec)?;
            }
            net.gateway = gw;
        }
    }
    for ip in str_list(op, "add_reserved_ips") {
        if let Err(e) = reserve_external(&mut pool, &subnet, &ip) {
            out.exec_warn(format!("Cannot reserve IP address {ip}: {e}"));
        }
    }
    for ip in str_list(op, "remove_reserved_ips") {
        if net.gateway.as_deref() == Some(ip.as_str()) {
            out.exec_warn("Cannot unreserve Gateway's IP");
            continue;
        }
        if let Err(e) = release_external(&mut pool, &subnet, &ip) {
            out.exec_warn(format!("Cannot release IP address {ip}: {e}"));
        }
    }
    if let Some(m) = mac_prefix {
        net.mac_prefix = m;
    }
    if let Some(n6) = network6 {
        net.network6 = n6;
    }
    if let Some(g6) = gateway6 {
        net.gateway6 = g6;
    }
    pool.store(&mut net);
    touch!(net);
    out.ops.push(ConfigOp::PutNetwork(Box::new(net)));
    Ok(out)
}

fn check_set_params_static(op: &Dict) -> Result<(), GanetiError> {
    let has_list = |k: &str| {
        op.get(k)
            .and_then(Value::as_array)
            .map(|a| !a.is_empty())
            .unwrap_or(false)
    };
    if str_param(op, "gateway").is_some_and(|g| !g.is_empty())
        && (has_list("add_reserved_ips") || has_list("remove_reserved_ips"))
    {
        return Err(GanetiError::wrong_input(
            "Cannot modify gateway and reserved ips at once",
        ));
    }
    Ok(())
}

fn exec_set_params(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    run_planned(ctx, |cfg| plan_set_params(cfg, &op))
}

// --- OP_NETWORK_CONNECT / OP_NETWORK_DISCONNECT ------------------------------------

fn netparams(op: &Dict) -> Dict {
    let mut p = Dict::new();
    p.insert(
        "mode".into(),
        json!(str_param(op, "network_mode").unwrap_or("")),
    );
    p.insert(
        "link".into(),
        json!(str_param(op, "network_link").unwrap_or("")),
    );
    p.insert(
        "vlan".into(),
        json!(str_param(op, "network_vlan").unwrap_or("")),
    );
    p
}

fn check_connect(_m: &Master, op: &Dict) -> Result<(), GanetiError> {
    check_nic_syntax(&netparams(op)).map_err(GanetiError::Config)
}

fn locks_connect(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    let net = network_uuid(m, req_str(op, "network_name")?)?;
    let group = group_uuid(m, req_str(op, "group_name")?)?;
    let mut reqs = vec![
        LockReq::bgl_shared(),
        LockReq::exclusive(Level::NodeGroup, group.clone()),
    ];
    if bool_param(op, "conflicts_check") {
        reqs.push(LockReq::shared(Level::Network, net));
        let insts = m.with_config(|c| super::cluster::checks::group_instance_names(c, &group))?;
        reqs.extend(
            insts
                .into_iter()
                .map(|i| LockReq::shared(Level::Instance, i)),
        );
    }
    Ok(reqs)
}

fn locks_disconnect(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    network_uuid(m, req_str(op, "network_name")?)?;
    let group = group_uuid(m, req_str(op, "group_name")?)?;
    let mut reqs = vec![
        LockReq::bgl_shared(),
        LockReq::exclusive(Level::NodeGroup, group.clone()),
    ];
    let insts = m.with_config(|c| super::cluster::checks::group_instance_names(c, &group))?;
    reqs.extend(
        insts
            .into_iter()
            .map(|i| LockReq::shared(Level::Instance, i)),
    );
    Ok(reqs)
}

/// Ganeti's `_NetworkConflictCheck`: NICs of the group's instances that
/// `conflicts` selects make the operation fail, after a warning naming them.
fn conflict_check(
    cfg: &ConfigData,
    out: &mut Outcome,
    network_name: &str,
    group_uuid: &str,
    group_name: &str,
    action: &str,
    conflicts: &dyn Fn(&ganeti_types::Nic) -> bool,
) {
    let mut insts = group_instances(cfg, group_uuid);
    insts.sort_by(|a, b| ganeti_query::nice_cmp(&a.name, &b.name));
    let mut found = Vec::new();
    for inst in insts {
        let details: Vec<String> = inst
            .nics
            .iter()
            .enumerate()
            .filter(|(_, n)| conflicts(n))
            .map(|(idx, n)| format!("nic{idx}/{}", n.ip.as_deref().unwrap_or("None")))
            .collect();
        if !details.is_empty() {
            found.push(format!("{}: {}", inst.name, comma_join(details)));
        }
    }
    if !found.is_empty() {
        out.warn(format!(
            "IP addresses from network '{network_name}', which is about to {action} node group \
             '{group_name}', are in use: {}",
            comma_join(found)
        ));
        out.fail = Some(GanetiError::wrong_state(
            "Conflicting IP addresses found;  remove/modify the corresponding network interfaces",
        ));
    }
}

fn plan_connect(cfg: &ConfigData, op: &Dict) -> Result<Outcome, GanetiError> {
    let network_name = req_str(op, "network_name")?;
    let net = cfg.lookup_network(network_name)?;
    let group = cfg.lookup_group(req_str(op, "group_name")?)?;
    let params = netparams(op);
    check_nic_syntax(&params).map_err(GanetiError::Config)?;
    let mut out = Outcome::default();
    if group.networks.contains_key(&net.uuid) {
        out.warn(format!(
            "Network '{network_name}' is already mapped to group '{}'",
            group.name
        ));
        return Ok(out);
    }
    if op
        .get("conflicts_check")
        .and_then(Value::as_bool)
        .unwrap_or(true)
    {
        let pool = AddressPool::from_network(net).map_err(|e| GanetiError::exec(e.to_string()))?;
        conflict_check(
            cfg,
            &mut out,
            network_name,
            &group.uuid,
            &group.name,
            "connect to",
            &|nic| {
                nic.ip
                    .as_deref()
                    .map(|ip| pool.contains(ip))
                    .unwrap_or(false)
            },
        );
        if out.fail.is_some() {
            return Ok(out);
        }
    }
    let mut g = group.clone();
    g.networks.insert(net.uuid.clone(), Value::Object(params));
    touch!(g);
    out.ops.push(ConfigOp::PutGroup(Box::new(g)));
    Ok(out)
}

fn plan_disconnect(cfg: &ConfigData, op: &Dict) -> Result<Outcome, GanetiError> {
    let network_name = req_str(op, "network_name")?;
    let net = cfg.lookup_network(network_name)?;
    let group = cfg.lookup_group(req_str(op, "group_name")?)?;
    let mut out = Outcome::default();
    if !group.networks.contains_key(&net.uuid) {
        out.warn(format!(
            "Network '{network_name}' is not mapped to group '{}'",
            group.name
        ));
        return Ok(out);
    }
    let uuid = net.uuid.clone();
    conflict_check(
        cfg,
        &mut out,
        network_name,
        &group.uuid,
        &group.name,
        "disconnect from",
        &|nic| nic.network.as_deref() == Some(uuid.as_str()),
    );
    if out.fail.is_some() {
        return Ok(out);
    }
    let mut g = group.clone();
    g.networks.remove(&net.uuid);
    touch!(g);
    out.ops.push(ConfigOp::PutGroup(Box::new(g)));
    Ok(out)
}

fn exec_connect(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    run_planned(ctx, |cfg| plan_connect(cfg, &op))
}

fn exec_disconnect(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    run_planned(ctx, |cfg| plan_disconnect(cfg, &op))
}

/// Ganeti's `AddInstanceCommunicationNetworkOp`: the opcode creating the
/// instance communication network.
pub(crate) fn add_comm_network_op(name: &str) -> Value {
    json!({
        "OP_ID": "OP_NETWORK_ADD",
        "network_name": name,
        "network": "169.254.0.0/16",
        "gateway": null,
        "network6": "fe80::/64",
        "gateway6": null,
        "mac_prefix": "52:54:00",
        "add_reserved_ips": null,
        "conflicts_check": true,
        "tags": [],
    })
}

#[cfg(test)]
mod tests {
    use super::super::cluster::checks::{testcfg, Fb};
    use super::*;
    use ganeti_types::ErrorClass;

    fn op(v: Value) -> Dict {
        v.as_object().cloned().unwrap()
    }

    fn apply(cfg: &mut ConfigData, out: &Outcome) {
        testcfg::apply(cfg, &out.ops);
    }

    fn with_net1() -> ConfigData {
        let mut cfg = testcfg::config();
        let out = plan_add(
            &cfg,
            &op(json!({"network_name": "net1", "network": "10.1.0.0/24", "gateway": "10.1.0.1",
                        "mac_prefix": "AA:00:00", "add_reserved_ips": ["10.1.0.5"], "conflicts_check": true,
                        "tags": []})),
            "net-1",
        )
        .unwrap();
        apply(&mut cfg, &out);
        cfg
    }

    #[test]
    fn add_like_the_fixture() {
        let cfg = with_net1();
        let n = &cfg.networks["net-1"];
        let pool = AddressPool::from_network(n).unwrap();
        assert_eq!(
            pool.external_list(),
            vec!["10.1.0.0", "10.1.0.1", "10.1.0.5", "10.1.0.255"]
        );
        assert_eq!(pool.free_count(), 252);
        assert_eq!(n.mac_prefix.as_deref(), Some("aa:00:00"));
        assert_eq!(n.serial_no, 1);

        let e = plan_add(
            &cfg,
            &op(json!({"network_name": "net1", "network": "10.9.0.0/24"})),
            "x",
        )
        .unwrap_err();
        assert_eq!(e.error_class(), Some(ErrorClass::Exists));
        assert_eq!(
            e.message(),
            "Desired network name 'net1' already exists as a network (UUID: net-1)"
        );
    }

    #[test]
    fn add_v6_with_tag_and_size_limits() {
        let cfg = testcfg::config();
        let out = plan_add(
            &cfg,
            &op(json!({"network_name": "net2", "network": "10.2.0.0/28", "network6": "2001:db8::/64",
                        "gateway6": "2001:db8::1", "tags": ["ntag"]})),
            "net-2",
        )
        .unwrap();
        let ConfigOp::PutNetwork(n) = &out.ops[0] else {
            panic!()
        };
        assert_eq!(n.tags, vec!["ntag"]);
        assert_eq!(
            AddressPool::from_network(n).unwrap().map_string(),
            "X..............X"
        );
        let e = plan_add(
            &cfg,
            &op(json!({"network_name": "big", "network": "10.0.0.0/15"})),
            "b",
        )
        .unwrap_err();
        assert_eq!(
            e.message(),
            "Cannot create IP address pool for network 'big': A big network with 131072 host(s) is currently \
             not supported. please specify at most a /16 network"
        );
        let e = plan_add(
            &cfg,
            &op(json!({"network_name": "small", "network": "10.0.0.0/31"})),
            "s",
        )
        .unwrap_err();
        assert!(e.message().ends_with(
            "A network with only 2 host(s) is too small, please specify at least a /30 network"
        ));
        let e = plan_add(
            &cfg,
            &op(json!({"network_name": "g", "network": "10.0.0.0/24", "gateway": "10.9.9.9"})),
            "g",
        )
        .unwrap_err();
        assert_eq!(
            e.message(),
            "Cannot create IP address pool for network 'g': 10.0.0.0/24 does not contain 10.9.9.9"
        );
        let e = plan_add(
            &cfg,
            &op(json!({"network_name": "g", "network": "10.0.0.0/24", "gateway": "10.0.0.1", "add_reserved_ips": ["10.0.0.1"]})),
            "g",
        )
        .unwrap_err();
        assert_eq!(
            e.message(),
            "Cannot reserve IP address '10.0.0.1': IP 10.0.0.1 is already externally reserved"
        );
        let e = plan_add(
            &cfg,
            &op(json!({"network_name": "v6", "network": "10.0.0.0/24", "network6": "2001:db8::/64", "gateway6": "2001:db9::1"})),
            "v",
        )
        .unwrap_err();
        assert_eq!(
            e.message(),
            "IPv6 gateway 2001:db9::1 is not in network 2001:db8::/64"
        );
    }

    #[test]
    fn add_reserves_node_and_master_ips() {
        let cfg = testcfg::config();
        let out = plan_add(
            &cfg,
            &op(
                json!({"network_name": "n", "network": "198.51.100.0/24", "conflicts_check": true}),
            ),
            "n",
        )
        .unwrap();
        assert_eq!(
            out.post,
            vec![
                Fb::Info("Reserved IP address of node 'node1.example.com' (198.51.100.10)".into()),
                Fb::Warning(
                    "Cannot reserve IP address '198.51.100.10' of node 'node1.example.com': IP 198.51.100.10 is \
                     already externally reserved"
                        .into()
                ),
                Fb::Info("Reserved cluster master IP address (198.51.100.1)".into()),
            ]
        );
        let out = plan_add(&cfg, &op(json!({"network_name": "n", "network": "198.51.100.0/24", "conflicts_check": false})), "n")
            .unwrap();
        assert!(out.post.is_empty());
    }

    #[test]
    fn connect_twice_warns_then_disconnect() {
        let mut cfg = with_net1();
        let c = op(
            json!({"network_name": "net1", "group_name": "default", "network_mode": "bridged",
                           "network_link": "gntbr0", "network_vlan": "", "conflicts_check": true}),
        );
        let out = plan_connect(&cfg, &c).unwrap();
        apply(&mut cfg, &out);
        assert_eq!(
            cfg.nodegroups[testcfg::GROUP].networks["net-1"],
            json!({"mode": "bridged", "link": "gntbr0", "vlan": ""})
        );
        let out = plan_connect(&cfg, &c).unwrap();
        assert!(out.ops.is_empty() && out.fail.is_none());
        assert_eq!(
            out.pre,
            vec![Fb::Warning(
                "Network 'net1' is already mapped to group 'default'".into()
            )]
        );

        // removing a connected network fails after a warning
        let out = plan_remove(&cfg, &op(json!({"network_name": "net1"}))).unwrap();
        assert_eq!(
            out.fail,
            Some(GanetiError::wrong_state("Network still connected"))
        );
        assert_eq!(
            out.pre,
            vec![Fb::Warning(
                "Network 'net1' is connected to the following node groups: default".into()
            )]
        );

        let d = op(json!({"network_name": "net1", "group_name": "default"}));
        let out = plan_disconnect(&cfg, &d).unwrap();
        apply(&mut cfg, &out);
        assert!(cfg.nodegroups[testcfg::GROUP].networks.is_empty());
        let out = plan_disconnect(&cfg, &d).unwrap();
        assert_eq!(
            out.pre,
            vec![Fb::Warning(
                "Network 'net1' is not mapped to group 'default'".into()
            )]
        );
        let out = plan_remove(&cfg, &op(json!({"network_name": "net1"}))).unwrap();
        apply(&mut cfg, &out);
        assert!(cfg.networks.is_empty());
    }

    #[test]
    fn connect_and_disconnect_conflicts() {
        let mut cfg = with_net1();
        testcfg::add_instance(&mut cfg, "inst1.example.com", None, Some("10.1.0.7"), false);
        let c = op(
            json!({"network_name": "net1", "group_name": "default", "network_mode": "routed",
                           "network_link": "rt", "conflicts_check": true}),
        );
        let out = plan_connect(&cfg, &c).unwrap();
        assert_eq!(
            out.pre,
            vec![Fb::Warning(
                "IP addresses from network 'net1', which is about to connect to node group 'default', are in use: \
                 inst1.example.com: nic0/10.1.0.7"
                    .into()
            )]
        );
        assert!(out.fail.is_some() && out.ops.is_empty());
        let mut c2 = c.clone();
        c2.insert("conflicts_check".into(), json!(false));
        let out = plan_connect(&cfg, &c2).unwrap();
        apply(&mut cfg, &out);
        // an instance NIC on the network blocks the disconnect
        cfg.instances
            .values_mut()
            .for_each(|i| i.nics[0].network = Some("net-1".into()));
        let out = plan_disconnect(
            &cfg,
            &op(json!({"network_name": "net1", "group_name": "default"})),
        )
        .unwrap();
        assert_eq!(
            out.fail.map(|e| e.message().to_string()).as_deref(),
            Some("Conflicting IP addresses found;  remove/modify the corresponding network interfaces")
        );
        let bad = op(
            json!({"network_name": "net1", "group_name": "default", "network_mode": "pool", "network_link": "x"}),
        );
        assert_eq!(
            plan_connect(&cfg, &bad).unwrap_err().message(),
            "Invalid NIC mode 'pool'"
        );
    }

    #[test]
    fn set_params() {
        let mut cfg = with_net1();
        let e = check_set_params_static(&op(
            json!({"gateway": "10.1.0.2", "add_reserved_ips": ["10.1.0.3"]}),
        ))
        .unwrap_err();
        assert_eq!(
            e.message(),
            "Cannot modify gateway and reserved ips at once"
        );
        let out = plan_set_params(
            &cfg,
            &op(json!({"network_name": "net1", "gateway": "10.1.0.2", "mac_prefix": "none"})),
        )
        .unwrap();
        apply(&mut cfg, &out);
        let n = &cfg.networks["net-1"];
        assert_eq!(n.gateway.as_deref(), Some("10.1.0.2"));
        assert_eq!(n.mac_prefix, None);
        assert_eq!(n.serial_no, 2);
        let pool = AddressPool::from_network(n).unwrap();
        assert_eq!(
            pool.external_list(),
            vec!["10.1.0.0", "10.1.0.2", "10.1.0.5", "10.1.0.255"]
        );

        let out = plan_set_params(
            &cfg,
            &op(json!({"network_name": "net1", "add_reserved_ips": ["10.1.0.9", "10.1.0.5", "10.2.0.1"],
                        "remove_reserved_ips": ["10.1.0.2", "10.1.0.77"]})),
        )
        .unwrap();
        assert_eq!(
            out.post,
            vec![
                Fb::Warning("Cannot reserve IP address 10.1.0.5: IP 10.1.0.5 is already externally reserved".into()),
                Fb::Warning("Cannot reserve IP address 10.2.0.1: 10.1.0.0/24 does not contain 10.2.0.1".into()),
                Fb::Warning("Cannot unreserve Gateway's IP".into()),
                Fb::Warning("Cannot release IP address 10.1.0.77: IP 10.1.0.77 is not externally reserved".into()),
            ]
        );
        apply(&mut cfg, &out);
        assert!(AddressPool::from_network(&cfg.networks["net-1"])
            .unwrap()
            .external_list()
            .contains(&"10.1.0.9".to_string()));
        let out = plan_set_params(
            &cfg,
            &op(json!({"network_name": "net1", "gateway": "10.1.0.2"})),
        )
        .unwrap();
        assert_eq!(
            out.post,
            vec![Fb::Warning("Gateway is already 10.1.0.2".into())]
        );
        let e = plan_set_params(
            &cfg,
            &op(json!({"network_name": "net1", "mac_prefix": "xx"})),
        )
        .unwrap_err();
        assert_eq!(e.message(), "Invalid MAC address prefix 'xx'");
    }
}
