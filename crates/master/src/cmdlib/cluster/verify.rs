//! Cluster verification: `OP_CLUSTER_VERIFY` fans out into one
//! `OP_CLUSTER_VERIFY_CONFIG` job and one `OP_CLUSTER_VERIFY_GROUP` job per
//! node group (the group jobs depend on the config job), exactly as Ganeti
//! does, so `gnt-cluster verify` shows the same steps; each job's result
//! is a bool (`false` when an error, not a warning, was found) and the CLI
//! exits 1 when any is false. `OP_CLUSTER_VERIFY_DISKS` fans out into
//! `OP_GROUP_VERIFY_DISKS` jobs.
//!
//! What is checked is what makes sense on the single-node clusters of this
//! release: the configuration's internal consistency (Ganeti's
//! `VerifyConfig`), the certificate and secret files (validity, presence,
//! owner-only modes), hypervisor parameters, dangling references, the
//! master candidate certificate map, the file storage directories, and per
//! instance: policy, running state versus the hypervisor, disk presence.
//! Findings are collected by [`Report`] in Ganeti's line format (with or
//! without `--error-codes`) and written to the job log.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ganeti_crypto::CertLevel;
use ganeti_node::DiskSpec;
use ganeti_types::params::{fill, force_dict_types, BE_TYPES, ND_TYPES, NIC_TYPES};
use ganeti_types::{constants, AdminState, ConfigData, Dict, GanetiError, Instance, Paths};
use serde_json::{json, Value};

use super::checks::{
    check_hvparams, check_ipolicy_syntax, check_nic_syntax, comma_join, fill_ipolicy,
    group_instance_names, group_ipolicy, group_members, instance_ipolicy_violations, is_uuid_like,
    submit_jobs, NDC_GLOBALS,
};
use crate::cmdlib::util::{bool_param, req_str, str_list, str_param};
use crate::cmdlib::OpCtx;
use crate::jobs::locks::{Level, LockReq};
use crate::Master;

/// A verify error descriptor: (object type, code).
type Ecode = (&'static str, &'static str);

const ECLUSTERCFG: Ecode = ("cluster", "ECLUSTERCFG");
const ECLUSTERCERT: Ecode = ("cluster", "ECLUSTERCERT");
const ECLUSTERCLIENTCERT: Ecode = ("cluster", "ECLUSTERCLIENTCERT");
const ECLUSTERDANGLINGNODES: Ecode = ("node", "ECLUSTERDANGLINGNODES");
const ECLUSTERDANGLINGINST: Ecode = ("node", "ECLUSTERDANGLINGINST");
const ECLUSTERFILECHECK: Ecode = ("cluster", "ECLUSTERFILECHECK");
const EINSTANCEBADNODE: Ecode = ("instance", "EINSTANCEBADNODE");
const EINSTANCEDOWN: Ecode = ("instance", "EINSTANCEDOWN");
const EINSTANCEFAULTYDISK: Ecode = ("instance", "EINSTANCEFAULTYDISK");
const EINSTANCEMISSINGDISK: Ecode = ("instance", "EINSTANCEMISSINGDISK");
const EINSTANCEPOLICY: Ecode = ("instance", "EINSTANCEPOLICY");
const EINSTANCEWRONGNODE: Ecode = ("instance", "EINSTANCEWRONGNODE");
const ENODEFILESTORAGEPATHUNUSABLE: Ecode = ("node", "ENODEFILESTORAGEPATHUNUSABLE");
const ENODESHAREDFILESTORAGEPATHUNUSABLE: Ecode = ("node", "ENODESHAREDFILESTORAGEPATHUNUSABLE");
const ENODEORPHANINSTANCE: Ecode = ("node", "ENODEORPHANINSTANCE");
const ENODERPC: Ecode = ("node", "ENODERPC");
const ENODEHV: Ecode = ("node", "ENODEHV");

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sev {
    Error,
    Warning,
}

/// Verification findings and steps, in Ganeti's feedback format.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub lines: Vec<String>,
    pub bad: bool,
    error_codes: bool,
    simulate: bool,
    ignore: Vec<String>,
}

impl Report {
    fn from_op(op: &Dict) -> Self {
        Report {
            lines: vec![],
            bad: false,
            error_codes: bool_param(op, "error_codes"),
            simulate: bool_param(op, "debug_simulate_errors"),
            ignore: str_list(op, "ignore_errors"),
        }
    }

    fn step(&mut self, msg: impl AsRef<str>) {
        self.lines.push(format!("* {}", msg.as_ref()));
    }

    fn note(&mut self, msg: impl Into<String>) {
        self.lines.push(msg.into());
    }

    fn report(&mut self, ecode: Ecode, item: Option<&str>, msgs: &[String], sev: Sev) {
        if msgs.is_empty() {
            return;
        }
        let (otype, code) = ecode;
        let sev = if self.ignore.iter().any(|c| c == code) {
            Sev::Warning
        } else {
            sev
        };
        let ltype = match sev {
            Sev::Error => "ERROR",
            Sev::Warning => "WARNING",
        };
        for m in msgs {
            if self.error_codes {
                self.lines.push(format!(
                    "  - {ltype}:{code}:{otype}:{}:{m}",
                    item.unwrap_or("None")
                ));
            } else {
                self.lines
                    .push(format!("  - {ltype}: {otype} {}: {m}", item.unwrap_or("")));
            }
        }
        if sev == Sev::Error {
            self.bad = true;
        }
    }

    fn error_if(&mut self, cond: bool, ecode: Ecode, item: Option<&str>, msg: impl Into<String>) {
        if cond || self.simulate {
            self.report(ecode, item, &[msg.into()], Sev::Error);
        }
    }

    fn warn_if(&mut self, cond: bool, ecode: Ecode, item: Option<&str>, msg: impl Into<String>) {
        if cond || self.simulate {
            self.report(ecode, item, &[msg.into()], Sev::Warning);
        }
    }

    fn flush(self, ctx: &mut OpCtx<'_>) -> bool {
        for l in self.lines {
            ctx.log(l);
        }
        !self.bad
    }
}

// --- OP_CLUSTER_VERIFY -------------------------------------------------------------

/// The jobs `OP_CLUSTER_VERIFY` submits (Ganeti's `LUClusterVerify`).
pub(crate) fn verify_jobs(cfg: &ConfigData, op: &Dict) -> Vec<Vec<Value>> {
    let common = |mut o: Dict| {
        for key in [
            "debug_simulate_errors",
            "verbose",
            "error_codes",
            "ignore_errors",
        ] {
            if let Some(v) = op.get(key) {
                o.insert(key.into(), v.clone());
            }
        }
        o
    };
    let mut jobs = Vec::new();
    let groups: Vec<String> = match str_param(op, "group_name") {
        Some(g) => vec![g.to_string()],
        None => {
            let mut cfg_op = Dict::new();
            cfg_op.insert("OP_ID".into(), json!("OP_CLUSTER_VERIFY_CONFIG"));
            jobs.push(vec![Value::Object(common(cfg_op))]);
            cfg.nodegroups.keys().cloned().collect()
        }
    };
    let with_config = jobs.len() == 1;
    for g in groups {
        let mut o = Dict::new();
        o.insert("OP_ID".into(), json!("OP_CLUSTER_VERIFY_GROUP"));
        o.insert("group_name".into(), json!(g));
        o.insert(
            "verify_clutter".into(),
            json!(bool_param(op, "verify_clutter")),
        );
        if let Some(s) = op.get("skip_checks") {
            o.insert("skip_checks".into(), s.clone());
        }
        if with_config {
            o.insert("depends".into(), json!([[-(jobs.len() as i64), []]]));
        }
        jobs.push(vec![Value::Object(common(o))]);
    }
    jobs
}

pub(super) fn exec_verify(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    if ctx.dry_run() {
        return Ok(Value::Null);
    }
    submit_jobs(ctx, verify_jobs(&cfg, &op))
}

// --- OP_CLUSTER_VERIFY_CONFIG ------------------------------------------------------

pub(super) fn locks_verify_config(_m: &Master, _op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    Ok(vec![
        LockReq::bgl_shared(),
        LockReq::all(Level::Instance, false),
        LockReq::all(Level::NodeGroup, false),
        LockReq::all(Level::Node, false),
        LockReq::all(Level::Network, false),
    ])
}

fn verify_type(
    owner: &str,
    attr: &str,
    value: &Dict,
    types: &[(&str, ganeti_types::params::VType)],
    out: &mut Vec<String>,
) {
    if let Err(e) = force_dict_types(value, types, false) {
        out.push(format!("{owner} has invalid {attr}: {}", e.message()));
    }
}

fn verify_ipolicy(owner: &str, ip: &Dict, is_cluster: bool, out: &mut Vec<String>) {
    if let Err(e) = check_ipolicy_syntax(ip, is_cluster) {
        out.push(format!("{owner} has invalid instance policy: {e}"));
    }
}

/// Ganeti's `ConfigWriter.VerifyConfig`: internal consistency of the
/// configuration, one message per problem.
pub(crate) fn config_problems(cfg: &ConfigData) -> Vec<String> {
    let mut r = Vec::new();
    let c = &cfg.cluster;
    let be = fill(&[&constants::be_defaults(), &c.be_defaults()]);
    verify_type("cluster", "beparams", &be, BE_TYPES, &mut r);
    let nic = c.nic_defaults();
    verify_type("cluster", "nicparams", &nic, NIC_TYPES, &mut r);
    if let Err(e) = check_nic_syntax(&fill(&[&constants::nic_defaults(), &nic])) {
        r.push(format!("cluster has invalid nicparams: {e}"));
    }
    verify_type("cluster", "ndparams", &c.ndparams, ND_TYPES, &mut r);
    verify_ipolicy("cluster", &c.ipolicy, true, &mut r);
    for (templ, params) in &c.diskparams {
        if !["blockdev", "ext", "gluster", "rbd"].contains(&templ.as_str()) {
            continue;
        }
        let access = params
            .get("access")
            .and_then(Value::as_str)
            .unwrap_or("kernelspace");
        if access != "kernelspace" && access != "userspace" {
            r.push(format!(
                "Invalid value of '{templ}:access': '{access}' (expected one of kernelspace, userspace)"
            ));
        }
    }
    for (uuid, d) in &cfg.disks {
        if d.mode != "rw" && d.mode != "ro" {
            r.push(format!(
                "disk {} error: Disk access mode '{}' is invalid",
                d.uuid, d.mode
            ));
        }
        if &d.uuid != uuid {
            r.push(format!(
                "disk '{}' is indexed by wrong UUID '{uuid}'",
                d.name.as_deref().unwrap_or("None")
            ));
        }
    }
    let mut seen_macs: Vec<&str> = Vec::new();
    let mut ports: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
    for (uuid, inst) in &cfg.instances {
        if &inst.uuid != uuid {
            r.push(format!(
                "instance '{}' is indexed by wrong UUID '{uuid}'",
                inst.name
            ));
        }
        if !cfg.nodes.contains_key(&inst.primary_node) {
            r.push(format!(
                "instance '{}' has invalid primary node '{}'",
                inst.name, inst.primary_node
            ));
        }
        for s in cfg.instance_secondaries(inst) {
            if !cfg.nodes.contains_key(&s) {
                r.push(format!(
                    "instance '{}' has invalid secondary node '{s}'",
                    inst.name
                ));
            }
        }
        for (idx, n) in inst.nics.iter().enumerate() {
            if seen_macs.contains(&n.mac.as_str()) {
                r.push(format!(
                    "instance '{}' has NIC {idx} mac {} duplicate",
                    inst.name, n.mac
                ));
            } else {
                seen_macs.push(&n.mac);
            }
            if !n.nicparams.is_empty() {
                let owner = format!("instance {} nic {idx}", inst.name);
                let filled = fill(&[&constants::nic_defaults(), &nic, &n.nicparams]);
                verify_type(&owner, "nicparams", &filled, NIC_TYPES, &mut r);
                if let Err(e) = check_nic_syntax(&filled) {
                    r.push(format!("{owner} has invalid nicparams: {e}"));
                }
            }
            if let Some(net) = &n.network {
                if !cfg.networks.contains_key(net) {
                    r.push(format!(
                        "instance '{}' NIC {idx} is connected to unknown network '{net}'",
                        inst.name
                    ));
                }
            }
        }
        if !inst.beparams.is_empty() {
            let filled = fill(&[&be, &inst.beparams]);
            verify_type(
                &format!("instance {}", inst.name),
                "beparams",
                &filled,
                BE_TYPES,
                &mut r,
            );
        }
        for d in &inst.disks {
            if !cfg.disks.contains_key(d) {
                r.push(format!("Instance '{}' has invalid disk '{d}'", inst.name));
            }
        }
        let wrong: Vec<String> = cfg
            .instance_disks(inst)
            .iter()
            .enumerate()
            .filter(|(idx, d)| d.iv_name != format!("disk/{idx}"))
            .map(|(idx, d)| {
                format!(
                    "name of disk {idx} should be 'disk/{idx}', but is '{}'",
                    d.iv_name
                )
            })
            .collect();
        if !wrong.is_empty() {
            r.push(format!(
                "Instance '{}' has wrongly named disks: {}",
                inst.name,
                wrong.join("; ")
            ));
        }
        if let Some(p) = inst.network_port {
            ports
                .entry(p)
                .or_default()
                .push(format!("{}/network port", inst.name));
        }
    }
    for p in &c.tcpudp_port_pool {
        ports
            .entry(*p)
            .or_default()
            .push("cluster/port marked as free".into());
    }
    for (p, users) in &ports {
        if users.len() > 1 {
            r.push(format!(
                "tcp/udp port {p} has duplicates: {}",
                comma_join(users)
            ));
        }
    }
    if let Some((&highest, _)) = ports.iter().next_back() {
        if highest > c.highest_used_port {
            r.push(format!(
                "Highest used port mismatch, saved {}, computed {highest}",
                c.highest_used_port
            ));
        }
    }
    match cfg.nodes.get(&c.master_node) {
        Some(m) if !m.master_candidate => r.push("Master node is not a master candidate".into()),
        None => r.push(format!(
            "Master node '{}' is not in the configuration",
            c.master_node
        )),
        _ => {}
    }
    let (mc_now, mc_max, _) = super::checks::master_candidate_stats(cfg, &[]);
    if mc_now < mc_max {
        r.push(format!(
            "Not enough master candidates: actual {mc_now}, target {mc_max}"
        ));
    }
    for (uuid, n) in &cfg.nodes {
        if &n.uuid != uuid {
            r.push(format!(
                "Node '{}' is indexed by wrong UUID '{uuid}'",
                n.name
            ));
        }
        if [n.master_candidate, n.drained, n.offline]
            .iter()
            .filter(|b| **b)
            .count()
            > 1
        {
            let py = |b: bool| if b { "True" } else { "False" };
            r.push(format!(
                "Node {} state is invalid: master_candidate={}, drain={}, offline={}",
                n.name,
                py(n.master_candidate),
                py(n.drained),
                py(n.offline)
            ));
        }
        match cfg.nodegroups.get(&n.group) {
            None => r.push(format!("Node '{}' has invalid group '{}'", n.name, n.group)),
            Some(g) => {
                let filled = fill(&[&c.ndparams, &g.ndparams, &n.ndparams]);
                verify_type(
                    &format!("node {}", n.name),
                    "ndparams",
                    &filled,
                    ND_TYPES,
                    &mut r,
                );
            }
        }
        let mut globals: Vec<&str> = NDC_GLOBALS
            .iter()
            .copied()
            .filter(|g| n.ndparams.contains_key(*g))
            .collect();
        globals.sort_unstable();
        if !globals.is_empty() {
            r.push(format!(
                "Node '{}' has some global parameters set: {}",
                n.name,
                comma_join(globals)
            ));
        }
    }
    let mut names: Vec<&str> = Vec::new();
    for (uuid, g) in &cfg.nodegroups {
        if &g.uuid != uuid {
            r.push(format!(
                "node group '{}' (uuid: '{}') indexed by wrong uuid '{uuid}'",
                g.name, g.uuid
            ));
        }
        if is_uuid_like(&g.name.to_ascii_lowercase()) {
            r.push(format!(
                "node group '{}' (uuid: '{}') has uuid-like name",
                g.name, g.uuid
            ));
        }
        if names.contains(&g.name.as_str()) {
            r.push(format!("duplicate node group name '{}'", g.name));
        } else {
            names.push(&g.name);
        }
        let owner = format!("group {}", g.name);
        verify_ipolicy(&owner, &fill_ipolicy(&c.ipolicy, &g.ipolicy), false, &mut r);
        if !g.ndparams.is_empty() {
            verify_type(
                &owner,
                "ndparams",
                &fill(&[&c.ndparams, &g.ndparams]),
                ND_TYPES,
                &mut r,
            );
        }
        for net in g.networks.keys() {
            if !cfg.networks.contains_key(net) {
                r.push(format!(
                    "node group '{}' is connected to unknown network '{net}'",
                    g.name
                ));
            }
        }
    }
    // IP addresses used more than once.
    let mut ips: Vec<(String, Vec<String>)> = Vec::new();
    let mut add_ip = |ip: String, owner: String| match ips.iter_mut().find(|(i, _)| *i == ip) {
        Some((_, o)) => o.push(owner),
        None => ips.push((ip, vec![owner])),
    };
    add_ip(c.master_ip.clone(), "cluster_ip".into());
    for n in cfg.nodes.values() {
        add_ip(n.primary_ip.clone(), format!("node:{}/primary", n.name));
        if n.secondary_ip != n.primary_ip {
            add_ip(n.secondary_ip.clone(), format!("node:{}/secondary", n.name));
        }
    }
    for inst in cfg.instances.values() {
        for (idx, n) in inst.nics.iter().enumerate() {
            let Some(ip) = &n.ip else { continue };
            let p = fill(&[&nic, &n.nicparams]);
            let mode = p.get("mode").and_then(Value::as_str).unwrap_or("");
            let link = p.get("link").and_then(Value::as_str).unwrap_or("");
            let prefix = match mode {
                "routed" => "route",
                "openvswitch" => "ovs",
                _ => "bridge",
            };
            let net = n.network.as_deref().unwrap_or("None");
            add_ip(
                format!("{prefix}:{link}/{ip}/{net}"),
                format!("instance:{}/nic:{idx}", inst.name),
            );
        }
    }
    for (ip, owners) in ips {
        if owners.len() > 1 {
            r.push(format!(
                "IP address {ip} is used by multiple owners: {}",
                comma_join(owners)
            ));
        }
    }
    r
}

/// The certificate files Ganeti verifies (`ALL_CERT_FILES`).
fn cert_files(p: &Paths) -> Vec<PathBuf> {
    vec![
        p.server_pem(),
        p.rapi_pem(),
        p.spice_pem(),
        p.spice_ca_pem(),
    ]
}

/// Files holding secrets, which must be readable by their owner only.
fn secret_files(p: &Paths) -> Vec<PathBuf> {
    vec![
        p.server_pem(),
        p.client_pem(),
        p.rapi_pem(),
        p.spice_pem(),
        p.hmac_key(),
        p.cluster_domain_secret(),
    ]
}

/// Certificate validity and secret file modes.
fn verify_crypto_files(rep: &mut Report, paths: &Paths) {
    let now = time::OffsetDateTime::now_utc();
    for f in cert_files(paths) {
        let v = ganeti_crypto::verify_cert_file(&f, now);
        match v.level {
            Some(CertLevel::Error) => rep.report(ECLUSTERCERT, None, &[v.message], Sev::Error),
            Some(CertLevel::Warning) => rep.report(ECLUSTERCERT, None, &[v.message], Sev::Warning),
            None => {}
        }
    }
    for f in secret_files(paths) {
        if let Ok(meta) = std::fs::metadata(&f) {
            let mode = meta.permissions().mode() & 0o7777;
            rep.error_if(
                mode & 0o077 != 0,
                ECLUSTERCERT,
                None,
                format!(
                    "{} must be accessible only by its owner (mode is {mode:04o}, expected 0600)",
                    f.display()
                ),
            );
        }
    }
}

/// Every hypervisor parameter set in use: `(origin, hypervisor, params)`.
fn all_hv_params(cfg: &ConfigData) -> Vec<(String, String, Dict)> {
    let c = &cfg.cluster;
    let mut out = Vec::new();
    for hv in &c.enabled_hypervisors {
        out.push(("cluster".to_string(), hv.clone(), c.hv_defaults(hv)));
    }
    for (os, per_hv) in &c.os_hvp {
        for (hv, p) in per_hv.as_object().cloned().unwrap_or_default() {
            let p = p.as_object().cloned().unwrap_or_default();
            if !p.is_empty() {
                out.push((
                    format!("os {os}"),
                    hv.clone(),
                    fill(&[&c.hv_defaults(&hv), &p]),
                ));
            }
        }
    }
    let mut insts: Vec<&Instance> = cfg.instances.values().collect();
    insts.sort_by(|a, b| ganeti_query::nice_cmp(&a.name, &b.name));
    for inst in insts {
        if inst.hvparams.is_empty() {
            continue;
        }
        let os_hv = c
            .os_hvp
            .get(&inst.os)
            .and_then(|m| m.get(&inst.hypervisor))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        out.push((
            format!("instance {}", inst.name),
            inst.hypervisor.clone(),
            fill(&[&c.hv_defaults(&inst.hypervisor), &os_hv, &inst.hvparams]),
        ));
    }
    out
}

/// The whole of `OP_CLUSTER_VERIFY_CONFIG`.
pub(crate) fn run_verify_config(cfg: &ConfigData, paths: &Paths, op: &Dict) -> Report {
    let mut rep = Report::from_op(op);
    rep.step("Verifying cluster config");
    let problems = config_problems(cfg);
    rep.report(ECLUSTERCFG, None, &problems, Sev::Error);
    rep.step("Verifying cluster certificate files");
    verify_crypto_files(&mut rep, paths);
    rep.step("Verifying hypervisor parameters");
    for (item, hv, params) in all_hv_params(cfg) {
        // types, then Ganeti's CheckParameterSyntax of the filled dict
        let checked = check_hvparams(&hv, &params).and_then(|p| {
            let full = fill(&[&ganeti_types::hvparams::defaults(&hv), &p]);
            ganeti_types::hvparams::check_syntax(&hv, &full)
        });
        if let Err(e) = checked {
            rep.error_if(
                true,
                ECLUSTERCFG,
                None,
                format!(
                    "hypervisor {item} parameters syntax check (source {hv}): {}",
                    e.message()
                ),
            );
        }
    }
    rep.step("Verifying all nodes belong to an existing group");
    let dangling: Vec<_> = cfg
        .nodes
        .values()
        .filter(|n| !cfg.nodegroups.contains_key(&n.group))
        .collect();
    let pretty: Vec<String> = dangling
        .iter()
        .map(|n| {
            let insts: Vec<&str> = cfg
                .instances
                .values()
                .filter(|i| i.primary_node == n.uuid)
                .map(|i| i.name.as_str())
                .collect();
            format!("{} ({})", n.name, comma_join(insts))
        })
        .collect();
    rep.error_if(
        !dangling.is_empty(),
        ECLUSTERDANGLINGNODES,
        None,
        format!(
            "the following nodes (and their instances) belong to a non existing group: {}",
            comma_join(pretty)
        ),
    );
    let no_node: Vec<&str> = cfg
        .instances
        .values()
        .filter(|i| !cfg.nodes.contains_key(&i.primary_node))
        .map(|i| i.name.as_str())
        .collect();
    rep.error_if(
        !no_node.is_empty(),
        ECLUSTERDANGLINGINST,
        None,
        format!(
            "the following instances have a non-existing primary-node: {}",
            comma_join(no_node)
        ),
    );
    rep
}

pub(super) fn exec_verify_config(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    if ctx.dry_run() {
        return Ok(Value::Null);
    }
    let rep = run_verify_config(&cfg, &ctx.master.paths, &op);
    Ok(Value::Bool(rep.flush(ctx)))
}

// --- OP_CLUSTER_VERIFY_GROUP -------------------------------------------------------

pub(super) fn locks_verify_group(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    m.with_config(|cfg| -> Result<Vec<LockReq>, GanetiError> {
        let g = cfg.lookup_group(req_str(op, "group_name")?)?;
        let mut reqs = vec![
            LockReq::bgl_shared(),
            LockReq::shared(Level::NodeGroup, g.uuid.clone()),
        ];
        reqs.extend(
            group_members(cfg, &g.uuid)
                .into_iter()
                .map(|n| LockReq::shared(Level::Node, n)),
        );
        reqs.extend(
            group_instance_names(cfg, &g.uuid)
                .into_iter()
                .map(|i| LockReq::shared(Level::Instance, i)),
        );
        Ok(reqs)
    })?
}

/// What the node layer reported about one node.
#[derive(Debug, Default)]
pub(crate) struct NodeFacts {
    /// The node could not be asked (message), as Ganeti's RPC failure.
    pub rpc_error: Option<String>,
    /// Hypervisor errors, per hypervisor.
    pub hv_errors: Vec<(String, String)>,
    /// Names of the instances the hypervisors run.
    pub running: Vec<String>,
    /// Problems of the configured file storage directories: (template, message).
    pub storage_paths: Vec<(String, String)>,
    /// Client certificate: `Err(message)` when it fails validation, else its digest.
    pub client_cert: Option<Result<String, String>>,
    /// Required files missing on the node.
    pub missing_files: Vec<String>,
}

/// Disk facts of one instance disk on its primary node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DiskFact {
    /// Present and healthy.
    Ok,
    /// The backing file is gone (file-based disks).
    Missing(String),
    /// The status could not be read.
    Faulty(String),
    /// Present but degraded.
    Degraded,
}

/// Node-layer facts needed by a group verification.
pub(crate) trait GroupProbe {
    fn node(&self, cfg: &ConfigData, node_uuid: &str) -> NodeFacts;
    fn disk(&self, cfg: &ConfigData, inst: &Instance, disk_index: usize) -> DiskFact;
}

/// The probe of a running master: the local node layer and file system.
struct LocalProbe<'a> {
    node: &'a dyn ganeti_node::NodeApi,
    paths: &'a Paths,
}

fn check_storage_dir(paths: &Paths, dir: &str) -> Option<String> {
    let policy = ganeti_node::FileStoragePolicy::from_paths(paths);
    if let Err(e) = policy.check(Path::new(dir), true) {
        return Some(e.to_string());
    }
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {
            if m.permissions().readonly() {
                Some(format!("Path '{dir}' is not writable"))
            } else {
                None
            }
        }
        _ => Some(format!("Path '{dir}' is not existing or not a directory.")),
    }
}

impl GroupProbe for LocalProbe<'_> {
    fn node(&self, cfg: &ConfigData, node_uuid: &str) -> NodeFacts {
        let mut f = NodeFacts::default();
        if node_uuid != cfg.cluster.master_node {
            f.rpc_error = Some("only the master node is reachable in this release".into());
            return f;
        }
        for hv in &cfg.cluster.enabled_hypervisors {
            match self.node.instances_info(hv) {
                Ok(m) => f.running.extend(m.into_keys()),
                Err(e) => f.hv_errors.push((hv.clone(), e.to_string())),
            }
        }
        let c = &cfg.cluster;
        if c.disk_template_enabled("file") {
            if let Some(e) = check_storage_dir(self.paths, &c.file_storage_dir) {
                f.storage_paths.push(("file".into(), e));
            }
        }
        if c.disk_template_enabled("sharedfile") {
            if let Some(e) = check_storage_dir(self.paths, &c.shared_file_storage_dir) {
                f.storage_paths.push(("sharedfile".into(), e));
            }
        }
        let client = self.paths.client_pem();
        let v = ganeti_crypto::verify_cert_file(&client, time::OffsetDateTime::now_utc());
        f.client_cert = Some(match v.level {
            Some(_) => Err(v.message),
            None => ganeti_crypto::cert_info(&client)
                .map(|i| i.sha1_digest)
                .map_err(|e| e.to_string()),
        });
        let required = [
            self.paths.hmac_key(),
            self.paths.cluster_domain_secret(),
            self.paths.server_pem(),
            self.paths.rapi_pem(),
            self.paths.spice_pem(),
            self.paths.spice_ca_pem(),
        ];
        f.missing_files = required
            .iter()
            .filter(|p| !p.exists())
            .map(|p| p.display().to_string())
            .collect();
        f
    }

    fn disk(&self, cfg: &ConfigData, inst: &Instance, idx: usize) -> DiskFact {
        let disks = cfg.instance_disks(inst);
        let Some(d) = disks.get(idx) else {
            return DiskFact::Faulty("disk not in the configuration".into());
        };
        if d.dev_type == "file" || d.dev_type == "sharedfile" {
            if let Some(p) = d.file_path() {
                if !Path::new(p).exists() {
                    return DiskFact::Missing(p.to_string());
                }
            }
        }
        if !inst.disks_active {
            return DiskFact::Ok;
        }
        let spec = match DiskSpec::from_disk(d) {
            Ok(s) => s,
            Err(e) => return DiskFact::Faulty(e.to_string()),
        };
        match self.node.blockdev_find(&spec) {
            Ok(Some(st)) if st.is_degraded => DiskFact::Degraded,
            Ok(Some(_)) => DiskFact::Ok,
            Ok(None) => DiskFact::Faulty("disk not found".into()),
            Err(e) => DiskFact::Faulty(e.to_string()),
        }
    }
}

/// Ganeti's `_VerifyClientCertificates`, for the nodes that answered.
fn verify_client_certs(rep: &mut Report, cfg: &ConfigData, facts: &[(String, NodeFacts)]) {
    let rebuild = "To rebuild node certificates, please run 'gnt-cluster renew-crypto --new-node-certificates'.";
    let certs = &cfg.cluster.candidate_certs;
    if certs.is_empty() {
        rep.error_if(
            true,
            ECLUSTERCLIENTCERT,
            None,
            format!(
                "The cluster's list of master candidate certificates is empty. This may be because you \
                 just updated the cluster. {rebuild}"
            ),
        );
        return;
    }
    let mut found = false;
    let values: Vec<&Value> = certs.values().collect();
    let mut uniq = values.clone();
    uniq.sort_by_key(|v| v.to_string());
    uniq.dedup();
    if uniq.len() != values.len() {
        rep.error_if(
            true,
            ECLUSTERCLIENTCERT,
            None,
            "There are at least two master candidates configured to use the same certificate.",
        );
        found = true;
    }
    for (uuid, f) in facts {
        let Some(node) = cfg.nodes.get(uuid) else {
            continue;
        };
        if node.offline || f.rpc_error.is_some() {
            continue;
        }
        let Some(cert) = &f.client_cert else { continue };
        let digest = match cert {
            Err(msg) => {
                rep.error_if(
                    true,
                    ECLUSTERCLIENTCERT,
                    None,
                    format!("Client certificate of node '{uuid}' failed validation: {msg} (code 'ERROR')"),
                );
                found = true;
                continue;
            }
            Ok(d) => d,
        };
        let in_map = certs.get(uuid).and_then(Value::as_str);
        let used_elsewhere = certs
            .iter()
            .any(|(k, v)| k != uuid && v.as_str() == Some(digest));
        if node.master_candidate {
            match in_map {
                Some(stored) if stored != digest => {
                    rep.error_if(
                        true,
                        ECLUSTERCLIENTCERT,
                        None,
                        format!(
                            "Client certificate digest of master candidate '{uuid}' does not match its entry in \
                             the cluster's map of master candidate certificates. Expected: {digest} Got: {stored}"
                        ),
                    );
                    found = true;
                }
                Some(_) => {}
                None => {
                    rep.error_if(
                        true,
                        ECLUSTERCLIENTCERT,
                        None,
                        format!("The master candidate '{uuid}' does not have an entry in the map of candidate certificates."),
                    );
                    found = true;
                    if used_elsewhere {
                        rep.error_if(
                            true,
                            ECLUSTERCLIENTCERT,
                            None,
                            format!(
                                "Master candidate '{uuid}' is using a certificate of another node."
                            ),
                        );
                    }
                }
            }
        } else {
            if in_map.is_some() {
                rep.error_if(
                    true,
                    ECLUSTERCLIENTCERT,
                    None,
                    format!("Node '{uuid}' is not a master candidate, but still listed in the map of master candidate certificates."),
                );
                found = true;
            }
            if in_map.is_none() && used_elsewhere {
                rep.error_if(
                    true,
                    ECLUSTERCLIENTCERT,
                    None,
                    format!(
                        "Node '{uuid}' is not a master candidate and is incorrectly using a certificate of \
                         another node which is master candidate."
                    ),
                );
                found = true;
            }
        }
    }
    if found {
        rep.error_if(true, ECLUSTERCLIENTCERT, None, rebuild);
    }
}

/// The whole of `OP_CLUSTER_VERIFY_GROUP` against a probe of the nodes.
pub(crate) fn run_verify_group(
    cfg: &ConfigData,
    op: &Dict,
    probe: &dyn GroupProbe,
) -> Result<Report, GanetiError> {
    let g = cfg.lookup_group(req_str(op, "group_name")?)?;
    let verbose = bool_param(op, "verbose");
    let mut rep = Report::from_op(op);
    rep.step(format!("Verifying group '{}'", g.name));
    let mut members: Vec<&ganeti_types::Node> =
        cfg.nodes.values().filter(|n| n.group == g.uuid).collect();
    members.sort_by(|a, b| ganeti_query::nice_cmp(&a.name, &b.name));
    if members.is_empty() {
        rep.step("Empty node group, skipping verification");
        return Ok(rep);
    }
    let mut insts: Vec<&Instance> = cfg
        .instances
        .values()
        .filter(|i| {
            cfg.nodes
                .get(&i.primary_node)
                .map(|n| n.group == g.uuid)
                .unwrap_or(false)
        })
        .collect();
    insts.sort_by(|a, b| ganeti_query::nice_cmp(&a.name, &b.name));

    rep.step(format!("Gathering data ({} nodes)", members.len()));
    rep.step(format!(
        "Gathering information about nodes ({} nodes)",
        members.len()
    ));
    let facts: Vec<(String, NodeFacts)> = members
        .iter()
        .map(|n| {
            let f = if n.offline {
                NodeFacts::default()
            } else {
                probe.node(cfg, &n.uuid)
            };
            (n.uuid.clone(), f)
        })
        .collect();
    rep.step(format!(
        "Gathering disk information ({} nodes)",
        members.len()
    ));
    let disk_facts: Vec<(String, Vec<DiskFact>)> = insts
        .iter()
        .map(|i| {
            (
                i.uuid.clone(),
                (0..i.disks.len())
                    .map(|idx| probe.disk(cfg, i, idx))
                    .collect(),
            )
        })
        .collect();

    rep.step("Verifying configuration file consistency");
    verify_client_certs(&mut rep, cfg, &facts);
    for (uuid, f) in &facts {
        let name = cfg.node_name(uuid);
        for file in &f.missing_files {
            rep.error_if(
                true,
                ECLUSTERFILECHECK,
                None,
                format!("File {file} is missing from node(s) {name}"),
            );
        }
    }

    rep.step("Verifying node status");
    let (mut n_offline, mut n_drained) = (0, 0);
    for n in &members {
        if n.offline {
            if verbose {
                rep.step(format!("Skipping offline node {}", n.name));
            }
            n_offline += 1;
            continue;
        }
        let ntype = if n.uuid == cfg.cluster.master_node {
            "master"
        } else if n.master_candidate {
            "master candidate"
        } else if n.drained {
            n_drained += 1;
            "drained"
        } else {
            "regular"
        };
        if verbose {
            rep.step(format!("Verifying node {} ({ntype})", n.name));
        }
        let Some((_, f)) = facts.iter().find(|(u, _)| *u == n.uuid) else {
            continue;
        };
        if let Some(e) = &f.rpc_error {
            rep.error_if(
                true,
                ENODERPC,
                Some(&n.name),
                format!("while contacting node: {e}"),
            );
            continue;
        }
        for (hv, e) in &f.hv_errors {
            rep.error_if(
                true,
                ENODEHV,
                Some(&n.name),
                format!("hypervisor {hv} verify failure: '{e}'"),
            );
        }
        for (templ, e) in &f.storage_paths {
            let code = if templ == "sharedfile" {
                ENODESHAREDFILESTORAGEPATHUNUSABLE
            } else {
                ENODEFILESTORAGEPATHUNUSABLE
            };
            rep.error_if(
                true,
                code,
                Some(&n.name),
                format!("The configured {templ} storage path is unusable: {e}"),
            );
        }
        if n.vm_capable {
            for running in &f.running {
                match cfg.instance_by_name(running) {
                    Some(i) if i.primary_node != n.uuid => {
                        rep.error_if(
                            true,
                            EINSTANCEWRONGNODE,
                            Some(&i.name),
                            format!("instance should not run on node {}", n.name),
                        );
                    }
                    Some(_) => {}
                    None => {
                        rep.error_if(
                            true,
                            ENODEORPHANINSTANCE,
                            Some(&n.name),
                            format!("node is running unknown instance {running}"),
                        );
                    }
                }
            }
        }
    }

    rep.step("Verifying instance status");
    let ipolicy = group_ipolicy(cfg, &g.uuid);
    let mut non_redundant = 0;
    let mut non_balanced = 0;
    let mut i_offline = 0;
    for inst in &insts {
        if verbose {
            rep.step(format!("Verifying instance {}", inst.name));
        }
        if inst.admin_state == AdminState::Offline {
            i_offline += 1;
        }
        let pnode = cfg.nodes.get(&inst.primary_node);
        let pname = cfg.node_name(&inst.primary_node);
        let violations = instance_ipolicy_violations(cfg, &ipolicy, inst);
        rep.warn_if(
            !violations.is_empty(),
            EINSTANCEPOLICY,
            Some(&inst.name),
            comma_join(&violations),
        );
        let pfacts = facts
            .iter()
            .find(|(u, _)| *u == inst.primary_node)
            .map(|(_, f)| f);
        let p_offline = pnode.map(|n| n.offline).unwrap_or(false);
        let rpc_fail = pfacts.map(|f| f.rpc_error.is_some()).unwrap_or(true);
        if let Some((_, dfs)) = disk_facts.iter().find(|(u, _)| *u == inst.uuid) {
            for (idx, df) in dfs.iter().enumerate() {
                match df {
                    DiskFact::Ok => {}
                    DiskFact::Missing(path) => rep.error_if(
                        !p_offline && !rpc_fail,
                        EINSTANCEMISSINGDISK,
                        Some(&inst.name),
                        format!("volume {path} missing on node {pname}"),
                    ),
                    DiskFact::Faulty(m) => rep.error_if(
                        inst.disks_active && !p_offline && !rpc_fail,
                        EINSTANCEFAULTYDISK,
                        Some(&inst.name),
                        format!("couldn't retrieve status for disk/{idx} on {pname}: {m}"),
                    ),
                    DiskFact::Degraded => rep.error_if(
                        inst.disks_active,
                        EINSTANCEFAULTYDISK,
                        Some(&inst.name),
                        format!("disk/{idx} on {pname} is degraded"),
                    ),
                }
            }
        }
        if inst.admin_state == AdminState::Up {
            let running = pfacts
                .map(|f| f.running.contains(&inst.name))
                .unwrap_or(false);
            rep.error_if(
                !running && !p_offline && !rpc_fail,
                EINSTANCEDOWN,
                Some(&inst.name),
                format!("instance not running on its primary node {pname}"),
            );
            rep.error_if(
                p_offline,
                EINSTANCEBADNODE,
                Some(&inst.name),
                format!("instance is marked as running and lives on offline node {pname}"),
            );
        }
        match pnode {
            None => rep.error_if(
                true,
                EINSTANCEBADNODE,
                Some(&inst.name),
                format!("instance lives on ghost node {pname}"),
            ),
            Some(n) => rep.error_if(
                !n.vm_capable,
                EINSTANCEBADNODE,
                Some(&inst.name),
                format!("instance lives on non-vm_capable node {pname}"),
            ),
        }
        let mirrored = cfg.instance_disks(inst).iter().all(|d| {
            ["drbd", "sharedfile", "rbd", "ext", "gluster", "blockdev"]
                .contains(&d.dev_type.as_str())
        });
        if inst.disks.is_empty() || !mirrored {
            non_redundant += 1;
        }
        let mut be = fill(&[
            &constants::be_defaults(),
            &cfg.cluster.be_defaults(),
            &inst.beparams,
        ]);
        ganeti_types::params::upgrade_beparams(&mut be);
        if be.get("auto_balance").and_then(Value::as_bool) == Some(false) {
            non_balanced += 1;
        }
    }
    rep.step("Verifying orphan volumes");
    let skip: Vec<String> = str_list(op, "skip_checks");
    if !skip.iter().any(|s| s == "nplusone_mem") {
        rep.step("Verifying N+1 Memory redundancy");
    }
    rep.step("Other Notes");
    if non_redundant > 0 {
        rep.note(format!(
            "  - NOTICE: {non_redundant} non-redundant instance(s) found."
        ));
    }
    if non_balanced > 0 {
        rep.note(format!(
            "  - NOTICE: {non_balanced} non-auto-balanced instance(s) found."
        ));
    }
    if i_offline > 0 {
        rep.note(format!(
            "  - NOTICE: {i_offline} offline instance(s) found."
        ));
    }
    if n_offline > 0 {
        rep.note(format!("  - NOTICE: {n_offline} offline node(s) found."));
    }
    if n_drained > 0 {
        rep.note(format!("  - NOTICE: {n_drained} drained node(s) found."));
    }
    rep.step("Hooks Results");
    Ok(rep)
}

pub(super) fn exec_verify_group(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    cfg.lookup_group(req_str(&op, "group_name")?)?;
    ctx.run_pre_hooks()?;
    if ctx.dry_run() {
        return Ok(Value::Null);
    }
    let probe = LocalProbe {
        node: ctx.master.node.as_ref(),
        paths: &ctx.master.paths,
    };
    let rep = run_verify_group(&cfg, &op, &probe)?;
    Ok(Value::Bool(rep.flush(ctx)))
}

/// Ganeti's `LUClusterVerifyGroup.HooksCallBack`: a post hook that failed
/// (or a node that could not run them) is an `ENODEHOOKS` error of the
/// verification, with the script's output indented below it.
pub(crate) fn hooks_callback(
    ctx: &mut OpCtx<'_>,
    results: &[crate::hooks::NodeHookResults],
    result: Value,
) -> Value {
    const ENODEHOOKS: Ecode = ("node", "ENODEHOOKS");
    let mut rep = Report::from_op(ctx.op());
    let mut ok = result.as_bool().unwrap_or(false);
    for r in results {
        match &r.outcome {
            Err(e) => {
                rep.error_if(
                    true,
                    ENODEHOOKS,
                    Some(&r.node_uuid),
                    format!("Communication failure in hooks execution: {e}"),
                );
                ok = false;
            }
            Ok(scripts) => {
                for s in scripts
                    .iter()
                    .filter(|s| s.status == ganeti_node::hooks::HookStatus::Fail)
                {
                    rep.error_if(
                        true,
                        ENODEHOOKS,
                        Some(&r.node_uuid),
                        format!("Script {} failed, output:", s.script),
                    );
                    // the output is one line (newlines escaped), indented
                    rep.note(format!("      {}", s.output));
                    ok = false;
                }
            }
        }
    }
    rep.flush(ctx);
    Value::Bool(ok)
}

// --- OP_CLUSTER_VERIFY_DISKS -------------------------------------------------------

pub(super) fn locks_verify_disks(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    let mut reqs = vec![LockReq::bgl_shared()];
    match str_param(op, "group_name") {
        Some(g) => {
            let uuid = m.with_config(|c| c.lookup_group(g).map(|x| x.uuid.clone()))??;
            reqs.push(LockReq::shared(Level::NodeGroup, uuid));
        }
        None => reqs.push(LockReq::all(Level::NodeGroup, false)),
    }
    Ok(reqs)
}

/// The jobs `OP_CLUSTER_VERIFY_DISKS` submits: one `OP_GROUP_VERIFY_DISKS`
/// per group, none when every instance uses external storage (which
/// includes having no instances at all, as in Ganeti).
pub(crate) fn verify_disks_jobs(
    cfg: &ConfigData,
    op: &Dict,
) -> Result<Vec<Vec<Value>>, GanetiError> {
    let groups: Vec<String> = match str_param(op, "group_name") {
        Some(g) => vec![cfg.lookup_group(g)?.uuid.clone()],
        None => cfg.nodegroups.keys().cloned().collect(),
    };
    let only_ext = cfg.instances.values().all(|i| i.disk_template == "ext");
    if only_ext {
        return Ok(vec![]);
    }
    Ok(groups
        .into_iter()
        .map(|g| vec![json!({"OP_ID": "OP_GROUP_VERIFY_DISKS", "group_name": g})])
        .collect())
}

pub(super) fn exec_verify_disks(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    let jobs = verify_disks_jobs(&cfg, &op)?;
    if ctx.dry_run() {
        return Ok(Value::Null);
    }
    if jobs.is_empty() {
        return Ok(json!({"jobs": []}));
    }
    submit_jobs(ctx, jobs)
}

#[cfg(test)]
mod tests {
    use super::super::checks::testcfg;
    use super::*;

    fn op(v: Value) -> Dict {
        v.as_object().cloned().unwrap()
    }

    struct FakeProbe {
        running: Vec<String>,
        cert: Result<String, String>,
        disk: DiskFact,
    }

    impl GroupProbe for FakeProbe {
        fn node(&self, _cfg: &ConfigData, _node: &str) -> NodeFacts {
            NodeFacts {
                running: self.running.clone(),
                client_cert: Some(self.cert.clone()),
                ..Default::default()
            }
        }
        fn disk(&self, _cfg: &ConfigData, _inst: &Instance, _idx: usize) -> DiskFact {
            self.disk.clone()
        }
    }

    fn healthy() -> (ConfigData, FakeProbe) {
        let mut cfg = testcfg::config();
        cfg.cluster
            .candidate_certs
            .insert(testcfg::NODE.into(), json!("AA:BB"));
        (
            cfg,
            FakeProbe {
                running: vec![],
                cert: Ok("AA:BB".into()),
                disk: DiskFact::Ok,
            },
        )
    }

    #[test]
    fn jobs_of_verify() {
        let cfg = testcfg::config();
        let jobs = verify_jobs(
            &cfg,
            &op(
                json!({"error_codes": true, "ignore_errors": [], "verbose": false,
                                                  "debug_simulate_errors": false, "skip_checks": [], "verify_clutter": false}),
            ),
        );
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0][0]["OP_ID"], json!("OP_CLUSTER_VERIFY_CONFIG"));
        assert_eq!(jobs[1][0]["OP_ID"], json!("OP_CLUSTER_VERIFY_GROUP"));
        assert_eq!(jobs[1][0]["group_name"], json!(testcfg::GROUP));
        assert_eq!(jobs[1][0]["depends"], json!([[-1, []]]));
        assert_eq!(jobs[1][0]["error_codes"], json!(true));
        for j in &jobs {
            ganeti_opschema::validate_and_fill(j[0].as_object().unwrap()).unwrap();
        }
        let jobs = verify_jobs(&cfg, &op(json!({"group_name": "default"})));
        assert_eq!(jobs.len(), 1);
        assert!(jobs[0][0].get("depends").is_none());
    }

    #[test]
    fn verify_disks_jobs_only_with_instances() {
        let mut cfg = testcfg::config();
        assert!(verify_disks_jobs(&cfg, &Dict::new()).unwrap().is_empty());
        testcfg::add_instance(&mut cfg, "inst1.example.com", None, None, true);
        let jobs = verify_disks_jobs(&cfg, &Dict::new()).unwrap();
        assert_eq!(
            jobs,
            vec![vec![
                json!({"OP_ID": "OP_GROUP_VERIFY_DISKS", "group_name": testcfg::GROUP})
            ]]
        );
        ganeti_opschema::validate_and_fill(jobs[0][0].as_object().unwrap()).unwrap();
    }

    #[test]
    fn consistent_config_has_no_problems() {
        let (cfg, _) = healthy();
        assert_eq!(config_problems(&cfg), Vec::<String>::new());
    }

    #[test]
    fn config_problems_found() {
        let mut cfg = testcfg::config();
        testcfg::add_instance(&mut cfg, "inst1.example.com", None, None, false);
        testcfg::add_instance(&mut cfg, "inst2.example.com", None, None, false);
        let macs: Vec<String> = cfg
            .instances
            .values()
            .map(|i| i.nics[0].mac.clone())
            .collect();
        for i in cfg.instances.values_mut() {
            i.nics[0].mac = macs[0].clone();
        }
        let first = cfg.instances.keys().next().cloned().unwrap();
        cfg.instances.get_mut(&first).unwrap().primary_node = "ghost".into();
        cfg.instances
            .get_mut(&first)
            .unwrap()
            .disks
            .push("nodisk".into());
        let p = config_problems(&cfg);
        assert!(
            p.iter()
                .any(|m| m.contains("has NIC 0 mac") && m.ends_with("duplicate")),
            "{p:?}"
        );
        assert!(
            p.contains(
                &"instance 'inst1.example.com' has invalid primary node 'ghost'".to_string()
            ),
            "{p:?}"
        );
        assert!(
            p.contains(&"Instance 'inst1.example.com' has invalid disk 'nodisk'".to_string()),
            "{p:?}"
        );
        let mut cfg = testcfg::config();
        cfg.nodes
            .values_mut()
            .for_each(|n| n.group = "nogroup".into());
        let p = config_problems(&cfg);
        assert!(
            p.contains(&"Node 'node1.example.com' has invalid group 'nogroup'".to_string()),
            "{p:?}"
        );
    }

    #[test]
    fn verify_config_reports_in_both_formats() {
        let mut cfg = testcfg::config();
        cfg.nodes
            .values_mut()
            .for_each(|n| n.group = "nogroup".into());
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path());
        let rep = run_verify_config(&cfg, &paths, &op(json!({})));
        assert!(rep.bad);
        assert_eq!(rep.lines[0], "* Verifying cluster config");
        assert!(
            rep.lines.contains(
                &"  - ERROR: cluster : Node 'node1.example.com' has invalid group 'nogroup'"
                    .to_string()
            ),
            "{:?}",
            rep.lines
        );
        assert!(
            rep.lines
                .iter()
                .any(|l| l.starts_with("  - ERROR: cluster : Failed to load X509 certificate")),
            "{:?}",
            rep.lines
        );
        assert!(rep
            .lines
            .contains(&"* Verifying all nodes belong to an existing group".to_string()));
        assert!(rep.lines.iter().any(|l| l.starts_with("  - ERROR: node : the following nodes (and their instances) belong to a non existing group: node1.example.com ()")), "{:?}", rep.lines);
        let rep = run_verify_config(
            &cfg,
            &paths,
            &op(
                json!({"error_codes": true, "ignore_errors": ["ECLUSTERCERT", "ECLUSTERCFG", "ECLUSTERDANGLINGNODES"]}),
            ),
        );
        assert!(!rep.bad, "ignored errors are warnings: {:?}", rep.lines);
        assert!(rep.lines.contains(&"  - WARNING:ECLUSTERCFG:cluster:None:Node 'node1.example.com' has invalid group 'nogroup'".to_string()), "{:?}", rep.lines);
    }

    #[test]
    fn verify_config_checks_filled_hvparams() {
        let mut cfg = testcfg::config();
        cfg.cluster.enabled_hypervisors.push("kvm".into());
        cfg.cluster
            .hvparams
            .insert("kvm".into(), json!({"boot_order": "cdrom"}));
        cfg.cluster.os_hvp.insert(
            "debian".into(),
            json!({"kvm": {"cdrom_image_path": "/x.iso", "nic_type": "virtio"}}),
        );
        cfg.cluster
            .hvparams
            .insert("fake".into(), json!({"migration_mode": "fast"}));
        let dir = tempfile::tempdir().unwrap();
        let rep = run_verify_config(&cfg, &Paths::new(dir.path()), &op(json!({})));
        for want in [
            "  - ERROR: cluster : hypervisor cluster parameters syntax check (source kvm): Cannot boot from cdrom without an ISO path",
            "  - ERROR: cluster : hypervisor os debian parameters syntax check (source kvm): Parameter 'nic_type' fails syntax check: The value must be one of: e1000, i82551, i82557b, i82559er, ne2k_isa, ne2k_pci, paravirtual, pcnet, rtl8139 (current value: 'virtio')",
            "  - ERROR: cluster : hypervisor cluster parameters syntax check (source fake): Parameter 'migration_mode' fails syntax check: invalid migration mode (current value: 'fast')",
        ] {
            assert!(rep.lines.iter().any(|l| l == want), "missing {want:?} in {:?}", rep.lines);
        }
    }

    #[test]
    fn secret_file_modes_checked() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path());
        std::fs::create_dir_all(paths.data_dir()).unwrap();
        std::fs::write(paths.hmac_key(), "x").unwrap();
        std::fs::set_permissions(paths.hmac_key(), std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut rep = Report::default();
        verify_crypto_files(&mut rep, &paths);
        let want = format!(
            "{} must be accessible only by its owner (mode is 0644, expected 0600)",
            paths.hmac_key().display()
        );
        assert!(
            rep.lines.iter().any(|l| l.ends_with(&want)),
            "{:?}",
            rep.lines
        );
        std::fs::set_permissions(paths.hmac_key(), std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut rep = Report::default();
        verify_crypto_files(&mut rep, &paths);
        assert!(
            !rep.lines
                .iter()
                .any(|l| l.contains("must be accessible only")),
            "{:?}",
            rep.lines
        );
    }

    #[test]
    fn healthy_group_passes_with_ganeti_steps() {
        let (cfg, probe) = healthy();
        let rep = run_verify_group(&cfg, &op(json!({"group_name": "default"})), &probe).unwrap();
        assert!(!rep.bad, "{:?}", rep.lines);
        assert_eq!(
            rep.lines,
            vec![
                "* Verifying group 'default'",
                "* Gathering data (1 nodes)",
                "* Gathering information about nodes (1 nodes)",
                "* Gathering disk information (1 nodes)",
                "* Verifying configuration file consistency",
                "* Verifying node status",
                "* Verifying instance status",
                "* Verifying orphan volumes",
                "* Verifying N+1 Memory redundancy",
                "* Other Notes",
                "* Hooks Results",
            ]
        );
    }

    #[test]
    fn instance_problems() {
        let (mut cfg, mut probe) = healthy();
        testcfg::add_instance(&mut cfg, "inst1.example.com", None, None, true);
        cfg.instances
            .values_mut()
            .for_each(|i| i.admin_state = AdminState::Up);
        probe.disk = DiskFact::Missing("/x/disk0".into());
        probe.running = vec!["stray".into()];
        let rep = run_verify_group(&cfg, &op(json!({"group_name": "default"})), &probe).unwrap();
        assert!(rep.bad);
        for want in [
            "  - ERROR: node node1.example.com: node is running unknown instance stray",
            "  - ERROR: instance inst1.example.com: volume /x/disk0 missing on node node1.example.com",
            "  - ERROR: instance inst1.example.com: instance not running on its primary node node1.example.com",
            "  - NOTICE: 1 non-redundant instance(s) found.",
        ] {
            assert!(rep.lines.iter().any(|l| l == want), "missing {want:?} in {:?}", rep.lines);
        }
        // running, with its disk: only the notice remains
        probe.disk = DiskFact::Ok;
        probe.running = vec!["inst1.example.com".into()];
        let rep = run_verify_group(&cfg, &op(json!({"group_name": "default"})), &probe).unwrap();
        assert!(!rep.bad, "{:?}", rep.lines);
    }

    #[test]
    fn client_certificate_map_checked() {
        let (mut cfg, mut probe) = healthy();
        probe.cert = Ok("CC:DD".into());
        let rep = run_verify_group(&cfg, &op(json!({"group_name": "default"})), &probe).unwrap();
        assert!(rep.bad);
        assert!(
            rep.lines
                .iter()
                .any(|l| l.contains("does not match its entry in the cluster's map")),
            "{:?}",
            rep.lines
        );
        assert!(rep
            .lines
            .iter()
            .any(|l| l.ends_with("renew-crypto --new-node-certificates'.")));
        cfg.cluster.candidate_certs.clear();
        let rep = run_verify_group(
            &cfg,
            &op(json!({"group_name": "default", "error_codes": true})),
            &probe,
        )
        .unwrap();
        assert!(rep.lines.iter().any(|l| l.starts_with("  - ERROR:ECLUSTERCLIENTCERT:cluster:None:The cluster's list of master candidate certificates is empty.")), "{:?}", rep.lines);
    }

    #[test]
    fn empty_group_is_skipped() {
        let (mut cfg, probe) = healthy();
        cfg.nodes.clear();
        let rep = run_verify_group(&cfg, &op(json!({"group_name": "default"})), &probe).unwrap();
        assert_eq!(
            rep.lines,
            vec![
                "* Verifying group 'default'",
                "* Empty node group, skipping verification"
            ]
        );
        assert!(!rep.bad);
    }
}
