//! Network opcodes.

use std::collections::BTreeMap;

use ganeti_types::{ConfigData, Dict, GanetiError, Network};
use serde_json::Value;

use super::{master_only, op_str};
use crate::hooks::{HookDef, HookInput, HookPhase, HookPlan, ObjectType};

/// Ganeti's `_BuildNetworkHookEnv`: each key only when its value is set.
fn network_env(values: [(&str, Option<String>); 7]) -> BTreeMap<String, String> {
    values
        .into_iter()
        .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k.to_string(), v)))
        .collect()
}

fn text(op: &Dict, key: &str) -> Option<String> {
    op.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn tags(op: &Dict) -> Option<String> {
    let t = crate::cmdlib::util::str_list(op, "tags");
    Some(t.join(" "))
}

fn with_nodes(env: BTreeMap<String, String>, nodes: (Vec<String>, Vec<String>)) -> HookPlan {
    HookPlan {
        env,
        pre_nodes: nodes.0,
        post_nodes: nodes.1,
    }
}

fn add(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    let op = i.op;
    let env = network_env([
        ("NETWORK_NAME", text(op, "network_name")),
        ("NETWORK_SUBNET", text(op, "network")),
        ("NETWORK_GATEWAY", text(op, "gateway")),
        ("NETWORK_SUBNET6", text(op, "network6")),
        ("NETWORK_GATEWAY6", text(op, "gateway6")),
        ("NETWORK_MAC_PREFIX", text(op, "mac_prefix")),
        ("NETWORK_TAGS", tags(op)),
    ]);
    Ok(with_nodes(env, master_only(i.cfg)))
}

/// A modify's resulting value: the requested one (`none` clears it), or
/// the network's.
fn resulting(op: &Dict, key: &str, current: Option<&String>) -> Option<String> {
    match text(op, key) {
        Some(v) if v.eq_ignore_ascii_case("none") => None,
        Some(v) if !v.is_empty() => Some(v),
        _ => current.cloned(),
    }
}

fn modify(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    let name = op_str(i.op, "network_name");
    let net: Network = i.cfg.lookup_network(&name)?.clone();
    let (gateway, network6, gateway6, mac_prefix) = match i.phase {
        HookPhase::Pre => (
            resulting(i.op, "gateway", net.gateway.as_ref()),
            resulting(i.op, "network6", net.network6.as_ref()),
            resulting(i.op, "gateway6", net.gateway6.as_ref()),
            resulting(i.op, "mac_prefix", net.mac_prefix.as_ref()),
        ),
        HookPhase::Post => (
            net.gateway.clone(),
            net.network6.clone(),
            net.gateway6.clone(),
            net.mac_prefix.clone(),
        ),
    };
    let env = network_env([
        ("NETWORK_NAME", Some(name)),
        ("NETWORK_SUBNET", Some(net.network.clone())),
        ("NETWORK_GATEWAY", gateway),
        ("NETWORK_SUBNET6", network6),
        ("NETWORK_GATEWAY6", gateway6),
        ("NETWORK_MAC_PREFIX", mac_prefix),
        ("NETWORK_TAGS", Some(net.tags.join(" "))),
    ]);
    Ok(with_nodes(env, master_only(i.cfg)))
}

fn remove(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    let env = BTreeMap::from([("NETWORK_NAME".to_string(), op_str(i.op, "network_name"))]);
    Ok(with_nodes(env, master_only(i.cfg)))
}

fn group_members(cfg: &ConfigData, group_uuid: &str) -> Vec<String> {
    cfg.nodes
        .values()
        .filter(|n| n.group == group_uuid)
        .map(|n| n.uuid.clone())
        .collect()
}

fn connect(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    let group = i.pre_cfg.lookup_group(&op_str(i.op, "group_name"))?;
    let env = BTreeMap::from([
        ("GROUP_NAME".to_string(), op_str(i.op, "group_name")),
        (
            "GROUP_NETWORK_MODE".to_string(),
            op_str(i.op, "network_mode"),
        ),
        (
            "GROUP_NETWORK_LINK".to_string(),
            op_str(i.op, "network_link"),
        ),
        (
            "GROUP_NETWORK_VLAN".to_string(),
            op_str(i.op, "network_vlan"),
        ),
    ]);
    let nodes = group_members(i.pre_cfg, &group.uuid);
    Ok(with_nodes(env, (nodes.clone(), nodes)))
}

/// The group's connection as it was before the disconnect.
fn disconnect(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    let group = i.pre_cfg.lookup_group(&op_str(i.op, "group_name"))?;
    let mut env = BTreeMap::from([("GROUP_NAME".to_string(), op_str(i.op, "group_name"))]);
    let connected = i
        .pre_cfg
        .lookup_network(&op_str(i.op, "network_name"))
        .ok()
        .and_then(|net| group.networks.get(&net.uuid))
        .and_then(Value::as_object);
    if let Some(params) = connected {
        for (key, param) in [
            ("GROUP_NETWORK_MODE", "mode"),
            ("GROUP_NETWORK_LINK", "link"),
            ("GROUP_NETWORK_VLAN", "vlan"),
        ] {
            env.insert(
                key.to_string(),
                crate::hooks::env::py(params.get(param).unwrap_or(&Value::Null)),
            );
        }
    }
    let nodes = group_members(i.pre_cfg, &group.uuid);
    Ok(with_nodes(env, (nodes.clone(), nodes)))
}

pub(crate) static NETWORK_ADD: HookDef = HookDef {
    path: "network-add",
    object: Some(ObjectType::Network),
    build: add,
    post_callback: None,
};
pub(crate) static NETWORK_MODIFY: HookDef = HookDef {
    path: "network-modify",
    object: Some(ObjectType::Network),
    build: modify,
    post_callback: None,
};
pub(crate) static NETWORK_REMOVE: HookDef = HookDef {
    path: "network-remove",
    object: Some(ObjectType::Network),
    build: remove,
    post_callback: None,
};
pub(crate) static NETWORK_CONNECT: HookDef = HookDef {
    path: "network-connect",
    object: Some(ObjectType::Network),
    build: connect,
    post_callback: None,
};
pub(crate) static NETWORK_DISCONNECT: HookDef = HookDef {
    path: "network-disconnect",
    object: Some(ObjectType::Network),
    build: disconnect,
    post_callback: None,
};
