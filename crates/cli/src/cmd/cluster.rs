//! `gnt-cluster`: cluster-wide settings, verification, tags, the queue,
//! and the local operations init/destroy/renew-crypto.
//!
//! Why: as Ganeti's `gnt_cluster.py`. `getmaster` reads the ssconf file
//! directly so it works with the master down; `init`, `destroy` and
//! `renew-crypto` parse and validate here and act through
//! [`crate::bootstrap`]; everything else is opcodes and queries.

use ganeti_clifmt::nested::Info;
use ganeti_clifmt::pystr;
use ganeti_luxi::Method;
use serde_json::{json, Map, Value};

use super::{flat_to_dict, ident_dict, io_error_text, jbool, jint, jmaybe_bool, jstr, kv_json};
use crate::bootstrap::{self, InitOptions, RenewCryptoOptions};
use crate::commands::{ArgSpec, CmdDef, GroupDef};
use crate::context::Ctx;
use crate::errors::{CliError, GanetiErr};
use crate::info::format_policy_info;
use crate::ipolicy::{create_ipolicy, PolicyMode};
use crate::jobs::{opcode, JobExecutor};
use crate::options::*;
use crate::optparse::{Action, Dflt, Kind, OptDef, Opts};
use crate::params;
use crate::query::TagKind;

/// `--master-ip` (ours): the master IP for clusters whose name does not
/// resolve.
pub static MASTER_IP: OptDef = OptDef {
    flags: &["--master-ip"],
    dest: "master_ip",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("ADDRESS"),
    help: "The cluster (master) IP address, for cluster names that do not resolve",
    choices: &[],
    default: Dflt::None,
};

/// Disk templates that use LVM.
const DTS_LVM: &[&str] = &["plain", "drbd"];
/// The data collectors Ganeti knows.
const DATA_COLLECTORS: &[&str] = &[
    "cpu-avg-load",
    "diskstats",
    "drbd",
    "inst-status-xen",
    "lv",
    "xen-cpu-avg-load",
];

// ---------------------------------------------------------------------------
// init

fn comma_list(s: &str) -> Vec<String> {
    s.split(',').map(str::to_string).collect()
}

/// The SSH key size to use (`ssh.DetermineKeyBits` without a previous key).
pub fn determine_key_bits(key_type: &str, bits: Option<i64>) -> Result<u32, CliError> {
    let (default, valid): (i64, fn(i64) -> bool) = match key_type {
        "dsa" => (1024, |b| b == 1024),
        "ecdsa" => (384, |b| matches!(b, 256 | 384 | 521)),
        _ => (2048, |b| b >= 768),
    };
    let b = bits.unwrap_or(default);
    if !valid(b) {
        return Err(GanetiErr::inval(format!(
            "Invalid key type and bit size combination: {key_type} with {b} bits"
        ))
        .into());
    }
    u32::try_from(b).map_err(|_| GanetiErr::inval(format!("Invalid key size {b}")).into())
}

/// The result of checking `init`'s options.
#[derive(Debug)]
pub enum InitPlan {
    /// Initialise with these options.
    Init(Box<InitOptions>),
    /// Print this on stderr and exit 1.
    Refuse(String),
    /// Print this on stdout, then initialise.
    Note(String, Box<InitOptions>),
}

/// Ganeti's `InitCluster` option processing.
pub fn build_init(opts: &Opts, args: &[String]) -> Result<InitPlan, CliError> {
    let templates: Option<Vec<String>> = opts.str("enabled_disk_templates").map(|s| comma_list(&s));
    let lvm_enabled = templates
        .as_ref()
        .is_some_and(|t| t.iter().any(|x| DTS_LVM.contains(&x.as_str())));
    let mut note = None;
    let vg_name = match opts.str("vg_name") {
        Some(vg) if !vg.is_empty() => {
            if templates.is_some() && !lvm_enabled {
                note = Some("You specified a volume group with --vg-name, but you did not enable any disk template that uses lvm.".to_string());
            }
            Some(vg)
        }
        Some(_) if lvm_enabled => {
            return Ok(InitPlan::Refuse(
                "LVM disk templates are enabled, but vg name not set.".into(),
            ))
        }
        Some(_) => None,
        None if lvm_enabled => Some(ganeti_types::constants::DEFAULT_VG.to_string()),
        None => None,
    };
    let drbd_enabled = templates
        .as_ref()
        .is_some_and(|t| t.iter().any(|x| x == "drbd"));
    let drbd_helper = match opts.str("drbd_helper") {
        Some(h) if templates.is_some() && !drbd_enabled => {
            return Ok(InitPlan::Refuse(format!(
                "You specified a DRBD usermode helper with --drbd-usermode-helper ({h}) while DRBD is not enabled."
            )))
        }
        Some(h) => Some(h),
        None if drbd_enabled => Some("/bin/true".to_string()),
        None => None,
    };
    let mut nicparams_kv = opts.keyval("nicparams");
    let master_netdev = match opts.str("master_netdev") {
        Some(d) => Some(d),
        None => match nicparams_kv.get("mode").map(|m| m.py_str()) {
            Some(m) if m == "openvswitch" => {
                nicparams_kv.insert("link", ganeti_clifmt::kv::KvValue::Str("switch1".into()));
                Some("switch1".to_string())
            }
            _ => None,
        },
    };
    let diskparams_opt = opts.ident_kv_list("diskparams");
    let mut unknown: Vec<String> = diskparams_opt
        .iter()
        .map(|d| d.ident.clone())
        .filter(|k| ganeti_types::DiskTemplate::parse(k).is_none())
        .collect();
    if !unknown.is_empty() {
        super::os::nice_sort(&mut unknown);
        return Ok(InitPlan::Refuse(format!(
            "Disk templates unknown: {}",
            unknown.join(", ")
        )));
    }
    let diskparams = ident_dict(&diskparams_opt, Some(params::DISK_DT_TYPES))?;
    let beparams = params::force(&opts.keyval("beparams"), params::BES_PARAMETER_COMPAT)?;
    let nicparams = params::force(&nicparams_kv, params::NICS_PARAMETER_TYPES)?;
    let ndparams = match opts.maybe_keyval("ndparams") {
        Some(m) => params::force(&m, params::NDS_PARAMETER_TYPES)?,
        None => Map::new(),
    };
    let hvparams = ident_dict(
        &opts.ident_kv_list("hvparams"),
        Some(params::HVS_PARAMETER_TYPES),
    )?;
    let ipolicy = create_ipolicy(opts, PolicyMode::default())?;
    let primary_ip_version = match opts.int("primary_ip_version") {
        Some(v) if v == 4 || v == 6 => v as u32,
        Some(v) => {
            return Ok(InitPlan::Refuse(format!(
                "Invalid primary ip version value: {v}"
            )))
        }
        None => {
            return Ok(InitPlan::Refuse(format!(
                "Invalid primary ip version value: invalid literal for int() with base 10: {}",
                pystr::str_repr(&opts.str("primary_ip_version").unwrap_or_default())
            )))
        }
    };
    let master_netmask = match opts.str("master_netmask") {
        Some(m) => match m.trim().parse::<u32>() {
            Ok(v) => Some(v),
            Err(_) => {
                return Ok(InitPlan::Refuse(format!(
                    "Invalid master netmask value: invalid literal for int() with base 10: {}",
                    pystr::str_repr(&m)
                )))
            }
        },
        None => None,
    };
    let ssh_key_type = opts
        .str("ssh_key_type")
        .unwrap_or_else(|| "rsa".to_string());
    let ssh_key_bits = determine_key_bits(&ssh_key_type, opts.int("ssh_key_bits"))?;
    let compression_tools = match opts.str("compression_tools") {
        Some(t) if !t.is_empty() => Some(comma_list(&t)),
        Some(_) => Some(
            ganeti_types::constants::DEFAULT_COMPRESSION_TOOLS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        None => None,
    };
    let candidate_pool_size = match opts.int("candidate_pool_size") {
        Some(c) => Some(
            u32::try_from(c)
                .map_err(|_| GanetiErr::inval(format!("Invalid candidate pool size {c}")))?,
        ),
        None => None,
    };
    let init = InitOptions {
        cluster: ganeti_bootstrap::InitOptions {
            cluster_name: args.first().cloned().unwrap_or_default(),
            master_ip: opts.str("master_ip"),
            secondary_ip: opts.str("secondary_ip"),
            vg_name,
            mac_prefix: opts.str("mac_prefix"),
            master_netmask,
            master_netdev,
            file_storage_dir: opts.str("file_storage_dir"),
            shared_file_storage_dir: opts.str("shared_file_storage_dir"),
            gluster_storage_dir: if opts.given("gluster_storage_dir") {
                opts.str("gluster_storage_dir")
            } else {
                None
            },
            enabled_hypervisors: opts
                .str("enabled_hypervisors")
                .map(|s| comma_list(&s))
                .unwrap_or_default(),
            hvparams,
            beparams,
            nicparams,
            ndparams,
            diskparams,
            ipolicy,
            candidate_pool_size,
            modify_etc_hosts: opts.flag("modify_etc_hosts"),
            modify_ssh_setup: opts.flag("modify_ssh_setup"),
            maintain_node_health: opts.maybe_bool("maintain_node_health"),
            drbd_helper,
            default_iallocator: opts.str("default_iallocator"),
            prealloc_wipe_disks: opts.maybe_bool("prealloc_wipe_disks"),
            use_external_mip_script: opts.maybe_bool("use_external_mip_script"),
            enabled_disk_templates: templates.unwrap_or_default(),
            install_image: opts.str("install_image"),
            zeroing_image: opts.str("zeroing_image"),
            compression_tools,
            enabled_user_shutdown: opts.maybe_bool("enabled_user_shutdown"),
            ..Default::default()
        },
        uid_pool: opts.str("uid_pool"),
        default_iallocator_params: opts
            .maybe_keyval("default_iallocator_params")
            .map(|m| m.to_json())
            .unwrap_or_default(),
        primary_ip_version,
        hv_state: flat_to_dict(&opts.ident_kv_list("hv_state")),
        disk_state: flat_to_dict(&opts.ident_kv_list("disk_state")),
        ssh_key_type,
        ssh_key_bits,
    };
    Ok(match note {
        Some(n) => InitPlan::Note(n, Box::new(init)),
        None => InitPlan::Init(Box::new(init)),
    })
}

fn init(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let options = match build_init(opts, &args)? {
        InitPlan::Refuse(msg) => {
            ctx.errln(&msg)?;
            return Ok(1);
        }
        InitPlan::Note(msg, o) => {
            ctx.outln(&msg)?;
            o
        }
        InitPlan::Init(o) => o,
    };
    bootstrap::init_cluster(&ctx.paths, &options)?;
    ctx.submit_opcode(opcode("OP_CLUSTER_POST_INIT", vec![]), opts)?;
    Ok(0)
}

// ---------------------------------------------------------------------------
// destroy, rename, master IP, redist-conf, repair-disk-sizes

fn destroy(ctx: &mut Ctx<'_>, opts: &Opts, _args: Vec<String>) -> Result<i32, CliError> {
    if !opts.flag("yes_do_it") {
        ctx.errln("Destroying a cluster is irreversible. If you really want destroy this cluster, supply the --yes-do-it option.")?;
        return Ok(1);
    }
    let master_uuid = ctx.submit_opcode(opcode("OP_CLUSTER_DESTROY", vec![]), opts)?;
    bootstrap::finalize_destroy(&ctx.paths, &pystr::py_str(&master_uuid))?;
    Ok(0)
}

fn cluster_name(ctx: &Ctx<'_>) -> Result<String, CliError> {
    Ok(ctx
        .call(Method::QueryConfigValues, json!([["cluster_name"]]))?
        .get(0)
        .map(pystr::py_str)
        .unwrap_or_default())
}

fn rename(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let old = cluster_name(ctx)?;
    let new = &args[0];
    if !opts.flag("force") {
        let text = format!(
            "This will rename the cluster from '{old}' to '{new}'. If you are connected over the network to the cluster name, the operation is very dangerous as the IP address will be removed from the node and the change may not go through. Continue?"
        );
        if !ctx.ask_yes_no(&text) {
            return Ok(1);
        }
    }
    let result = ctx.submit_opcode(
        opcode("OP_CLUSTER_RENAME", vec![("name", json!(new))]),
        opts,
    )?;
    if pystr::py_truthy(&result) {
        ctx.outln(&format!(
            "Cluster renamed from '{old}' to '{}'",
            pystr::py_str(&result)
        ))?;
    }
    Ok(0)
}

fn activate_master_ip(ctx: &mut Ctx<'_>, opts: &Opts, _args: Vec<String>) -> Result<i32, CliError> {
    ctx.submit_opcode(opcode("OP_CLUSTER_ACTIVATE_MASTER_IP", vec![]), opts)?;
    Ok(0)
}

fn deactivate_master_ip(
    ctx: &mut Ctx<'_>,
    opts: &Opts,
    _args: Vec<String>,
) -> Result<i32, CliError> {
    if !opts.flag("confirm") {
        let text = "This will disable the master IP. All the open connections to the master IP will be closed. To reach the master you will need to use its node IP. Continue?";
        if !ctx.ask_yes_no(text) {
            return Ok(1);
        }
    }
    ctx.submit_opcode(opcode("OP_CLUSTER_DEACTIVATE_MASTER_IP", vec![]), opts)?;
    Ok(0)
}

fn redist_conf(ctx: &mut Ctx<'_>, opts: &Opts, _args: Vec<String>) -> Result<i32, CliError> {
    let mut op = opcode("OP_CLUSTER_REDIST_CONF", vec![]);
    if opts.flag("yes_do_it") {
        ctx.prepare(&mut op, opts);
        let r = ctx.call(Method::SubmitJobToDrainedQueue, json!([[op]]))?;
        let id = crate::jobs::job_id_of(&r)?;
        ctx.poll_job(id, &mut crate::jobs::Reporter::Stdio)?;
    } else {
        ctx.submit_or_send(op, opts)?;
    }
    Ok(0)
}

fn repair_disk_sizes(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let op = opcode(
        "OP_CLUSTER_REPAIR_DISK_SIZES",
        vec![("instances", json!(args))],
    );
    ctx.submit_opcode(op, opts)?;
    Ok(0)
}

// ---------------------------------------------------------------------------
// getmaster, version, info, show-ispecs-cmd, master-ping

fn getmaster(ctx: &mut Ctx<'_>, _opts: &Opts, _args: Vec<String>) -> Result<i32, CliError> {
    let path = ctx.paths.ssconf("master_node");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let master = text.lines().next().unwrap_or("").trim().to_string();
            ctx.outln(&master)?;
            Ok(0)
        }
        Err(e) => Err(GanetiErr::new(
            "ConfigurationError",
            format!(
                "Can't read ssconf file {}: [Errno {}] {}: '{}'",
                path.display(),
                e.raw_os_error().unwrap_or(0),
                io_error_text(&e),
                path.display()
            ),
        )
        .into()),
    }
}

fn version(ctx: &mut Ctx<'_>, _opts: &Opts, _args: Vec<String>) -> Result<i32, CliError> {
    let r = ctx.call(Method::QueryClusterInfo, json!([]))?;
    let g = |k: &str| r.get(k).map(pystr::py_str).unwrap_or_else(|| "None".into());
    ctx.outln(&format!("Software version: {}", g("software_version")))?;
    ctx.outln(&format!("Internode protocol: {}", g("protocol_version")))?;
    ctx.outln(&format!("Configuration format: {}", g("config_version")))?;
    ctx.outln(&format!("OS api version: {}", g("os_api_version")))?;
    ctx.outln(&format!("Export interface: {}", g("export_version")))?;
    ctx.outln(&format!("VCS version: {}", g("vcs_version")))?;
    Ok(0)
}

/// `_FormatGroupedParams`: nested dicts with `str()` values.
pub fn grouped_params(v: &Value) -> Info {
    match v {
        Value::Object(m) => Info::Dict(
            m.iter()
                .map(|(k, v)| {
                    let inner = match v {
                        Value::Object(_) => grouped_params(v),
                        other => Info::text(pystr::py_str(other)),
                    };
                    (k.clone(), inner)
                })
                .collect(),
        ),
        _ => Info::Dict(Vec::new()),
    }
}

fn data_collectors(r: &Value) -> Info {
    let enabled = r
        .get("enabled_data_collectors")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let interval = r
        .get("data_collector_interval")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Info::Dict(
        enabled
            .iter()
            .map(|(k, active)| {
                let iv = interval.get(k).and_then(Value::as_f64).unwrap_or(0.0);
                (
                    k.clone(),
                    Info::dict(vec![
                        ("active", Info::text(pystr::py_str(active))),
                        ("interval", Info::text(format!("{:.3}s", iv / 1e6))),
                    ]),
                )
            })
            .collect(),
    )
}

/// `ShowClusterConfig`'s tree for a `QueryClusterInfo` result; `os_path`
/// and `es_path` are the search paths of this node.
pub fn format_cluster_info(r: &Value, os_path: &[String], es_path: &[String]) -> Info {
    let g = |k: &str| r.get(k).cloned().unwrap_or(Value::Null);
    let s = |k: &str| Info::text(pystr::py_str(&g(k)));
    let items = |k: &str| -> Vec<String> {
        g(k).as_array()
            .map(|a| a.iter().map(pystr::py_str).collect())
            .unwrap_or_default()
    };
    let mut tags = items("tags");
    super::os::nice_sort(&mut tags);
    let tags = if tags.is_empty() {
        "(none)".to_string()
    } else {
        pystr::comma_join(&tags)
    };
    let reserved = items("reserved_lvs");
    let reserved = if reserved.is_empty() {
        "(none)".to_string()
    } else {
        pystr::comma_join(&reserved)
    };
    let enabled_hv = items("enabled_hypervisors");
    let hvparams: Map<String, Value> = g("hvparams")
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| enabled_hv.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let arch = items("architecture");
    let arch_text = format!(
        "{} ({})",
        arch.first().cloned().unwrap_or_default(),
        arch.get(1).cloned().unwrap_or_default()
    );
    let uid_pool = uid_pool_text(&g("uid_pool"));
    let cluster_params = Info::ordered(vec![
        ("candidate pool size", s("candidate_pool_size")),
        (
            "maximal number of jobs running simultaneously",
            s("max_running_jobs"),
        ),
        (
            "maximal number of jobs simultaneously tracked by the scheduler",
            s("max_tracked_jobs"),
        ),
        ("mac prefix", s("mac_prefix")),
        ("master netdev", s("master_netdev")),
        ("master netmask", s("master_netmask")),
        (
            "use external master IP address setup script",
            s("use_external_mip_script"),
        ),
        ("lvm volume group", s("volume_group_name")),
        ("lvm reserved volumes", Info::text(reserved)),
        ("drbd usermode helper", s("drbd_usermode_helper")),
        ("file storage path", s("file_storage_dir")),
        ("shared file storage path", s("shared_file_storage_dir")),
        ("gluster storage path", s("gluster_storage_dir")),
        ("maintenance of node health", s("maintain_node_health")),
        ("uid pool", Info::text(uid_pool)),
        ("default instance allocator", s("default_iallocator")),
        (
            "default instance allocator parameters",
            Info::from_json(&g("default_iallocator_params")),
        ),
        ("primary ip version", s("primary_ip_version")),
        ("preallocation wipe disks", s("prealloc_wipe_disks")),
        ("OS search path", Info::text(pystr::comma_join(os_path))),
        (
            "ExtStorage Providers search path",
            Info::text(pystr::comma_join(es_path)),
        ),
        (
            "enabled disk templates",
            Info::text(pystr::comma_join(items("enabled_disk_templates"))),
        ),
        ("install image", s("install_image")),
        (
            "instance communication network",
            s("instance_communication_network"),
        ),
        ("zeroing image", s("zeroing_image")),
        (
            "compression tools",
            Info::from_json(&g("compression_tools")),
        ),
        ("enabled user shutdown", s("enabled_user_shutdown")),
        ("modify ssh setup", s("modify_ssh_setup")),
        ("ssh_key_type", s("ssh_key_type")),
        ("ssh_key_bits", s("ssh_key_bits")),
    ]);
    Info::ordered(vec![
        ("Cluster name", s("name")),
        ("Cluster UUID", s("uuid")),
        (
            "Creation time",
            Info::text(ganeti_clifmt::timefmt::format_time_value(&g("ctime"))),
        ),
        (
            "Modification time",
            Info::text(ganeti_clifmt::timefmt::format_time_value(&g("mtime"))),
        ),
        ("Master node", s("master")),
        ("Architecture (this node)", Info::text(arch_text)),
        ("Tags", Info::text(tags)),
        ("Default hypervisor", s("default_hypervisor")),
        (
            "Enabled hypervisors",
            Info::text(pystr::comma_join(&enabled_hv)),
        ),
        (
            "Hypervisor parameters",
            grouped_params(&Value::Object(hvparams)),
        ),
        (
            "OS-specific hypervisor parameters",
            grouped_params(&g("os_hvp")),
        ),
        ("OS parameters", grouped_params(&g("osparams"))),
        (
            "Hidden OSes",
            Info::text(pystr::comma_join(items("hidden_os"))),
        ),
        (
            "Blacklisted OSes",
            Info::text(pystr::comma_join(items("blacklisted_os"))),
        ),
        ("Cluster parameters", cluster_params),
        ("Default node parameters", grouped_params(&g("ndparams"))),
        (
            "Default instance parameters",
            grouped_params(&g("beparams")),
        ),
        ("Default nic parameters", grouped_params(&g("nicparams"))),
        ("Default disk parameters", grouped_params(&g("diskparams"))),
        (
            "Instance policy - limits for instances",
            format_policy_info(&g("ipolicy"), &Value::Null, true),
        ),
        ("Data collectors", data_collectors(r)),
    ])
}

/// `uidpool.FormatUidPool`: `a-b, c` ranges.
fn uid_pool_text(v: &Value) -> String {
    v.as_array()
        .map(|ranges| {
            ranges
                .iter()
                .map(|r| match r.as_array().map(Vec::as_slice) {
                    Some([a, b]) if a == b => pystr::py_str(a),
                    Some([a, b]) => format!("{}-{}", pystr::py_str(a), pystr::py_str(b)),
                    _ => pystr::py_str(r),
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn path_strings(p: Vec<std::path::PathBuf>) -> Vec<String> {
    p.into_iter().map(|p| p.display().to_string()).collect()
}

fn info(ctx: &mut Ctx<'_>, _opts: &Opts, _args: Vec<String>) -> Result<i32, CliError> {
    let r = ctx.call(Method::QueryClusterInfo, json!([]))?;
    let os_path = path_strings(ctx.paths.os_search_path());
    let es_path = path_strings(ctx.paths.es_search_path());
    ctx.print_info(&format_cluster_info(&r, &os_path, &es_path))?;
    Ok(0)
}

fn show_ispecs_cmd(ctx: &mut Ctx<'_>, _opts: &Opts, _args: Vec<String>) -> Result<i32, CliError> {
    let r = ctx.call(Method::QueryClusterInfo, json!([]))?;
    let ipol = r.get("ipolicy").cloned().unwrap_or(Value::Null);
    let name = r.get("name").map(pystr::py_str).unwrap_or_default();
    ctx.outln(&format!(
        "gnt-cluster init{} {name}",
        super::group::ipolicy_command(&ipol, false)
    ))?;
    Ok(0)
}

fn master_ping(ctx: &mut Ctx<'_>, _opts: &Opts, _args: Vec<String>) -> Result<i32, CliError> {
    Ok(match ctx.call(Method::QueryClusterInfo, json!([])) {
        Ok(_) => 0,
        Err(_) => 1,
    })
}

// ---------------------------------------------------------------------------
// verify, verify-disks

/// `OP_CLUSTER_VERIFY`.
pub fn build_verify(opts: &Opts) -> Value {
    let mut skip = Vec::new();
    if opts.flag("skip_nplusone_mem") {
        skip.push("nplusone_mem");
    }
    let ignore: Vec<String> = opts.str_list("ignore_errors");
    opcode(
        "OP_CLUSTER_VERIFY",
        vec![
            ("verbose", jbool(opts, "verbose")),
            ("error_codes", jbool(opts, "error_codes")),
            ("debug_simulate_errors", jbool(opts, "simulate_errors")),
            ("skip_checks", json!(skip)),
            ("ignore_errors", json!(ignore)),
            ("group_name", jstr(opts, "nodegroup")),
            ("verify_clutter", jbool(opts, "verify_clutter")),
        ],
    )
}

fn verify(ctx: &mut Ctx<'_>, opts: &Opts, _args: Vec<String>) -> Result<i32, CliError> {
    let result = ctx.submit_opcode(build_verify(opts), opts)?;
    let mut jex = JobExecutor::new(true);
    jex.add_result_jobs(&result);
    let results = jex.get_results(ctx)?;
    let bad_jobs = results.iter().filter(|(ok, _)| !ok).count();
    let bad_results = results
        .iter()
        .filter(|(_, r)| {
            !r.as_array()
                .and_then(|a| a.first())
                .is_some_and(pystr::py_truthy)
        })
        .count();
    if bad_jobs == 0 && bad_results == 0 {
        return Ok(0);
    }
    if bad_jobs > 0 {
        ctx.outln(&format!(
            "{bad_jobs} job(s) failed while verifying the cluster."
        ))?;
    }
    Ok(1)
}

fn verify_disks(ctx: &mut Ctx<'_>, opts: &Opts, _args: Vec<String>) -> Result<i32, CliError> {
    let op = opcode(
        "OP_CLUSTER_VERIFY_DISKS",
        vec![("group_name", jstr(opts, "nodegroup"))],
    );
    let result = ctx.submit_opcode(op, opts)?;
    let mut jex = JobExecutor::new(true);
    jex.add_result_jobs(&result);
    let mut rc = 0;
    for (ok, res) in jex.get_results(ctx)? {
        if !ok {
            ctx.outln(&format!("Job failed: {}", pystr::py_str(&res)))?;
            continue;
        }
        let first = res
            .as_array()
            .and_then(|a| a.first())
            .cloned()
            .unwrap_or(Value::Null);
        let parts = first.as_array().cloned().unwrap_or_default();
        let bad_nodes = parts
            .first()
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let instances: Vec<String> = parts
            .get(1)
            .and_then(Value::as_array)
            .map(|a| a.iter().map(pystr::py_str).collect())
            .unwrap_or_default();
        let missing = parts
            .get(2)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (node, text) in &bad_nodes {
            let t = pystr::py_str(text);
            let tail: String = {
                let chars: Vec<char> = t.chars().collect();
                chars[chars.len().saturating_sub(400)..].iter().collect()
            };
            ctx.outln(&format!(
                "Error gathering data on node {node}: {}",
                pystr::safe_encode(&tail)
            ))?;
            rc = 1;
            ctx.outln("You need to fix these nodes first before fixing instances")?;
        }
        for iname in &instances {
            if missing.contains_key(iname) {
                continue;
            }
            let op = opcode(
                "OP_INSTANCE_ACTIVATE_DISKS",
                vec![("instance_name", json!(iname))],
            );
            ctx.outln(&format!("Activating disks for instance '{iname}'"))?;
            if let Err(e) = ctx.submit_opcode(op, opts) {
                let (nret, msg) = crate::errors::format_error(&e);
                rc |= nret;
                ctx.errln(&format!(
                    "Error activating disks for instance {iname}: {msg}"
                ))?;
            }
        }
        if !missing.is_empty() {
            for (iname, ival) in &missing {
                let mut vols: Vec<(String, String)> = ival
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|x| match x.as_array().map(Vec::as_slice) {
                        Some([n, v]) => Some((pystr::py_str(n), pystr::py_str(v))),
                        _ => None,
                    })
                    .collect();
                if vols.iter().all(|(n, _)| bad_nodes.contains_key(n)) {
                    ctx.outln(&format!(
                        "Instance {iname} cannot be verified as it lives on broken nodes"
                    ))?;
                    continue;
                }
                ctx.outln(&format!("Instance {iname} has missing logical volumes:"))?;
                vols.sort();
                for (node, vol) in vols {
                    if bad_nodes.contains_key(&node) {
                        ctx.outln(&format!("\tbroken node {node} /dev/{vol}"))?;
                    } else {
                        ctx.outln(&format!("\t{node} /dev/{vol}"))?;
                    }
                }
            }
            ctx.outln("You need to replace or recreate disks for all the above instances if this message persists after fixing broken nodes.")?;
            rc = 1;
        } else if instances.is_empty() {
            ctx.outln("No disks need to be activated.")?;
        }
    }
    Ok(rc)
}

// ---------------------------------------------------------------------------
// modify

/// The result of checking `modify`'s options.
#[derive(Debug)]
pub enum ModifyPlan {
    /// Submit this opcode (after printing the notes on stdout).
    Op(Value, Vec<String>),
    /// Print this on stderr and exit 1.
    Refuse(String),
}

fn uid_pool_json(s: Option<String>) -> Result<Value, CliError> {
    let Some(s) = s else {
        return Ok(Value::Null);
    };
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let parse = |x: &str| {
            x.trim()
                .parse::<i64>()
                .map_err(|_| GanetiErr::inval(format!("Invalid user-id value: {x}")))
        };
        let (lo, hi) = (parse(a)?, parse(b)?);
        if hi < lo {
            return Err(GanetiErr::inval(format!(
                "Invalid user-id range: lower bound greater than upper bound ({lo}-{hi})"
            ))
            .into());
        }
        out.push(json!([lo, hi]));
    }
    Ok(Value::Array(out))
}

/// `SetClusterParams`: the `OP_CLUSTER_SET_PARAMS` opcode.
pub fn build_modify(opts: &Opts) -> Result<ModifyPlan, CliError> {
    let str_given = [
        "vg_name",
        "drbd_helper",
        "uid_pool",
        "add_uids",
        "remove_uids",
        "default_iallocator",
        "reserved_lvs",
        "mac_prefix",
        "master_netdev",
        "master_netmask",
        "file_storage_dir",
        "install_image",
        "instance_communication_network",
        "zeroing_image",
        "shared_file_storage_dir",
        "compression_tools",
    ]
    .iter()
    .any(|d| opts.str(d).is_some());
    let anything = str_given
        || opts
            .str("enabled_hypervisors")
            .is_some_and(|s| !s.is_empty())
        || !opts.ident_kv_list("hvparams").is_empty()
        || !opts.keyval("beparams").is_empty()
        || !opts.keyval("nicparams").is_empty()
        || opts.maybe_keyval("ndparams").is_some_and(|m| !m.is_empty())
        || !opts.ident_kv_list("diskparams").is_empty()
        || opts.int("candidate_pool_size").is_some()
        || opts.int("max_running_jobs").is_some()
        || opts.int("max_tracked_jobs").is_some()
        || opts.maybe_bool("maintain_node_health").is_some()
        || opts.maybe_keyval("default_iallocator_params").is_some()
        || opts.maybe_bool("use_external_mip_script").is_some()
        || opts.maybe_bool("prealloc_wipe_disks").is_some()
        || !opts.ident_kv_list("hv_state").is_empty()
        || opts
            .str("enabled_disk_templates")
            .is_some_and(|s| !s.is_empty())
        || !opts.ident_kv_list("disk_state").is_empty()
        || opts.multilist("ipolicy_bounds_specs").is_some()
        || opts.given("ipolicy_std_specs")
        || opts.list("ipolicy_disk_templates").is_some()
        || opts.maybe_float("ipolicy_vcpu_ratio").is_some()
        || opts.maybe_float("ipolicy_spindle_ratio").is_some()
        || opts.maybe_bool("modify_etc_hosts").is_some()
        || opts.maybe_bool("enabled_user_shutdown").is_some()
        || !opts.keyval("data_collector_interval").is_empty()
        || !opts.keyval("enabled_data_collectors").is_empty();
    if !anything {
        return Ok(ModifyPlan::Refuse(
            "Please give at least one of the parameters.".into(),
        ));
    }
    let mut notes = Vec::new();
    let templates: Option<Vec<String>> = opts
        .str("enabled_disk_templates")
        .filter(|s| !s.is_empty())
        .map(|s| comma_list(&s));
    let vg_name = opts.str("vg_name");
    if let Some(t) = &templates {
        if vg_name.as_deref().is_some_and(|v| !v.is_empty())
            && !t.iter().any(|x| DTS_LVM.contains(&x.as_str()))
        {
            notes.push("You specified a volume group with --vg-name, but you did not enable any of the following lvm-based disk templates: plain, drbd".to_string());
        }
        if opts.str("drbd_helper").is_some() && !t.iter().any(|x| x == "drbd") {
            notes.push("You specified a DRBD usermode helper with  --drbd-usermode-helper while DRBD is not enabled.".to_string());
        }
    }
    let hvlist = opts
        .str("enabled_hypervisors")
        .map(|s| json!(comma_list(&s)))
        .unwrap_or(Value::Null);
    let hvparams = ident_dict(
        &opts.ident_kv_list("hvparams"),
        Some(params::HVS_PARAMETER_TYPES),
    )?;
    let diskparams = ident_dict(
        &opts.ident_kv_list("diskparams"),
        Some(params::DISK_DT_TYPES),
    )?;
    let beparams = params::force(&opts.keyval("beparams"), params::BES_PARAMETER_COMPAT)?;
    let nicparams = params::force(&opts.keyval("nicparams"), params::NICS_PARAMETER_TYPES)?;
    let ndparams = match opts.maybe_keyval("ndparams") {
        Some(m) => Value::Object(params::force(&m, params::NDS_PARAMETER_TYPES)?),
        None => Value::Null,
    };
    let ipolicy = create_ipolicy(opts, PolicyMode::default())?;
    let reserved_lvs = match opts.str("reserved_lvs") {
        None => Value::Null,
        Some(s) if s.is_empty() => json!([]),
        Some(s) => json!(ganeti_clifmt::kv::unescape_and_split(&s, ',')),
    };
    let master_netmask = match opts.str("master_netmask") {
        None => Value::Null,
        Some(m) => match m.trim().parse::<i64>() {
            Ok(v) => json!(v),
            Err(_) => {
                return Ok(ModifyPlan::Refuse(
                    "The --master-netmask option expects an int parameter.".into(),
                ))
            }
        },
    };
    let compression_tools = match opts.str("compression_tools") {
        None => Value::Null,
        Some(s) if s.is_empty() => json!(ganeti_types::constants::DEFAULT_COMPRESSION_TOOLS),
        Some(s) => json!(comma_list(&s)),
    };
    let mut enabled_dc = Map::new();
    for (k, v) in opts.keyval("enabled_data_collectors").iter() {
        enabled_dc.insert(
            k.to_string(),
            json!(v.py_str().to_lowercase().starts_with('t')),
        );
    }
    let mut dc_interval = Map::new();
    for (k, v) in opts.keyval("data_collector_interval").iter() {
        match pystr::py_float(&v.py_str()) {
            #[allow(clippy::cast_possible_truncation)]
            Some(f) => {
                dc_interval.insert(k.to_string(), json!((1e6 * f) as i64));
            }
            None => {
                return Ok(ModifyPlan::Refuse(format!(
                    "Can't transform all values to integers: {}",
                    pystr::py_repr(&Value::Object(
                        opts.keyval("data_collector_interval").to_json()
                    ))
                )))
            }
        }
    }
    if dc_interval
        .values()
        .any(|v| v.as_i64().is_some_and(|i| i <= 0))
    {
        return Ok(ModifyPlan::Refuse(
            "Some interval times where not above zero.".into(),
        ));
    }
    let op = opcode(
        "OP_CLUSTER_SET_PARAMS",
        vec![
            ("vg_name", json!(vg_name)),
            ("drbd_helper", jstr(opts, "drbd_helper")),
            ("enabled_hypervisors", hvlist),
            ("hvparams", Value::Object(hvparams)),
            ("beparams", Value::Object(beparams)),
            ("nicparams", Value::Object(nicparams)),
            ("ndparams", ndparams),
            ("diskparams", Value::Object(diskparams)),
            ("ipolicy", Value::Object(ipolicy)),
            ("candidate_pool_size", jint(opts, "candidate_pool_size")),
            ("max_running_jobs", jint(opts, "max_running_jobs")),
            ("max_tracked_jobs", jint(opts, "max_tracked_jobs")),
            (
                "maintain_node_health",
                jmaybe_bool(opts, "maintain_node_health"),
            ),
            ("modify_etc_hosts", jmaybe_bool(opts, "modify_etc_hosts")),
            ("uid_pool", uid_pool_json(opts.str("uid_pool"))?),
            ("add_uids", uid_pool_json(opts.str("add_uids"))?),
            ("remove_uids", uid_pool_json(opts.str("remove_uids"))?),
            ("default_iallocator", jstr(opts, "default_iallocator")),
            (
                "default_iallocator_params",
                opts.maybe_keyval("default_iallocator_params")
                    .map(|m| kv_json(&m))
                    .unwrap_or(Value::Null),
            ),
            (
                "prealloc_wipe_disks",
                jmaybe_bool(opts, "prealloc_wipe_disks"),
            ),
            ("mac_prefix", jstr(opts, "mac_prefix")),
            ("master_netdev", jstr(opts, "master_netdev")),
            ("master_netmask", master_netmask),
            ("reserved_lvs", reserved_lvs),
            (
                "use_external_mip_script",
                jmaybe_bool(opts, "use_external_mip_script"),
            ),
            (
                "hv_state",
                Value::Object(flat_to_dict(&opts.ident_kv_list("hv_state"))),
            ),
            (
                "disk_state",
                Value::Object(flat_to_dict(&opts.ident_kv_list("disk_state"))),
            ),
            ("enabled_disk_templates", json!(templates)),
            ("force", jbool(opts, "force")),
            ("file_storage_dir", jstr(opts, "file_storage_dir")),
            ("install_image", jstr(opts, "install_image")),
            (
                "instance_communication_network",
                jstr(opts, "instance_communication_network"),
            ),
            ("zeroing_image", jstr(opts, "zeroing_image")),
            (
                "shared_file_storage_dir",
                jstr(opts, "shared_file_storage_dir"),
            ),
            ("compression_tools", compression_tools),
            (
                "enabled_user_shutdown",
                jmaybe_bool(opts, "enabled_user_shutdown"),
            ),
            ("enabled_data_collectors", Value::Object(enabled_dc)),
            ("data_collector_interval", Value::Object(dc_interval)),
        ],
    );
    Ok(ModifyPlan::Op(op, notes))
}

fn modify(ctx: &mut Ctx<'_>, opts: &Opts, _args: Vec<String>) -> Result<i32, CliError> {
    let (op, notes) = match build_modify(opts)? {
        ModifyPlan::Refuse(msg) => {
            ctx.errln(&msg)?;
            return Ok(1);
        }
        ModifyPlan::Op(op, notes) => (op, notes),
    };
    for n in notes {
        ctx.outln(&n)?;
    }
    let unrecognized: Vec<String> = opts
        .keyval("enabled_data_collectors")
        .keys()
        .filter(|k| !DATA_COLLECTORS.contains(k))
        .map(str::to_string)
        .collect();
    if !unrecognized.is_empty() {
        ctx.errln(&format!(
            "Data collector names not recognized: {}",
            unrecognized.join(", ")
        ))?;
    }
    let result = ctx.submit_or_send(op, opts)?;
    super::group::get_result(ctx, &result)
}

// ---------------------------------------------------------------------------
// queue, watcher, tags

fn queue(ctx: &mut Ctx<'_>, _opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    match args[0].as_str() {
        c @ ("drain" | "undrain") => {
            ctx.call(Method::SetDrainFlag, json!([c == "drain"]))?;
        }
        "info" => {
            let r = ctx.call(Method::QueryConfigValues, json!([["drain_flag"]]))?;
            let set = r.get(0).is_some_and(pystr::py_truthy);
            ctx.outln(&format!(
                "The drain flag is {}",
                if set { "set" } else { "unset" }
            ))?;
        }
        other => {
            return Err(GanetiErr::inval(format!("Command '{other}' is not valid.")).into());
        }
    }
    Ok(0)
}

fn show_watcher_pause(ctx: &mut Ctx<'_>, until: &Value) -> Result<(), CliError> {
    match until.as_f64() {
        Some(t) if t >= ctx.env.now_secs() => {
            let when = ganeti_clifmt::timefmt::ctime(t).unwrap_or_else(|| t.to_string());
            ctx.outln(&format!("The watcher is paused until {when}."))
        }
        _ => ctx.outln("The watcher is not paused."),
    }
}

fn watcher(ctx: &mut Ctx<'_>, _opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    match args[0].as_str() {
        "continue" => {
            ctx.call(Method::SetWatcherPause, json!([null]))?;
            ctx.outln("The watcher is no longer paused.")?;
        }
        "pause" => {
            let Some(spec) = args.get(1) else {
                return Err(GanetiErr::inval("Missing pause duration").into());
            };
            #[allow(clippy::cast_precision_loss)]
            let until = ctx.env.now_secs() + super::job::parse_timespec(spec)? as f64;
            let r = ctx.call(Method::SetWatcherPause, json!([until]))?;
            show_watcher_pause(ctx, &r)?;
        }
        "info" => {
            let r = ctx.call(Method::QueryConfigValues, json!([["watcher_pause"]]))?;
            let v = r.get(0).cloned().unwrap_or(Value::Null);
            show_watcher_pause(ctx, &v)?;
        }
        other => {
            return Err(GanetiErr::inval(format!("Command '{other}' is not valid.")).into());
        }
    }
    Ok(0)
}

fn search_tags(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let op = opcode("OP_TAGS_SEARCH", vec![("pattern", json!(args[0]))]);
    let result = ctx.submit_opcode(op, opts)?;
    let mut rows: Vec<(String, String)> = result
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|r| match r.as_array().map(Vec::as_slice) {
            Some([p, t]) => Some((pystr::py_str(p), pystr::py_str(t))),
            _ => None,
        })
        .collect();
    if rows.is_empty() {
        return Ok(1);
    }
    rows.sort();
    for (p, t) in rows {
        ctx.outln(&format!("{p} {t}"))?;
    }
    Ok(0)
}

crate::tag_commands!(TagKind::Cluster);

// ---------------------------------------------------------------------------
// renew-crypto

/// A first check of a certificate file (the crypto library validates it
/// fully): readable, a PEM certificate, and a key when one is needed.
fn read_cert(path: &str, need_key: bool) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err("Unable to load certificate: no PEM certificate found".into());
    }
    if need_key && !text.contains("PRIVATE KEY-----") {
        return Err("Unable to load private key: no PEM private key found".into());
    }
    Ok(())
}

/// The result of checking `renew-crypto`'s options.
#[derive(Debug)]
pub enum RenewPlan {
    /// Renew with these options.
    Renew(RenewCryptoOptions),
    /// Print this on stderr and exit 1.
    Refuse(String),
}

/// `_RenewCrypto`'s checks: conflicting options and unreadable files.
pub fn build_renew(opts: &Opts) -> RenewPlan {
    let new_rapi = opts.flag("new_rapi_cert");
    let rapi_file = opts.str("rapi_cert");
    let new_cds = opts.flag("new_cluster_domain_secret");
    let cds_file = opts.str("cluster_domain_secret");
    let new_spice = opts.flag("new_spice_cert");
    let spice_file = opts.str("spice_cert");
    let spice_ca = opts.str("spice_cacert");
    if new_rapi && rapi_file.is_some() {
        return RenewPlan::Refuse("Only one of the --new-rapi-certificate and --rapi-certificate options can be specified at the same time.".into());
    }
    if new_cds && cds_file.is_some() {
        return RenewPlan::Refuse("Only one of the --new-cluster-domain-secret and --cluster-domain-secret options can be specified at the same time.".into());
    }
    if new_spice && (spice_file.is_some() || spice_ca.is_some()) {
        return RenewPlan::Refuse("When using --new-spice-certificate, the --spice-certificate and --spice-ca-certificate must not be used.".into());
    }
    if spice_file.is_some() != spice_ca.is_some() {
        return RenewPlan::Refuse(
            "Both --spice-certificate and --spice-ca-certificate must be specified.".into(),
        );
    }
    let mut o = RenewCryptoOptions {
        new_cluster_cert: opts.flag("new_cluster_cert"),
        new_rapi_cert: new_rapi,
        new_spice_cert: new_spice,
        new_confd_hmac_key: opts.flag("new_confd_hmac_key"),
        new_cluster_domain_secret: new_cds,
        new_node_cert: opts.flag("new_node_cert"),
        new_ssh_keys: opts.flag("new_ssh_keys"),
        verbose: opts.flag("verbose"),
        debug: opts.count("debug") > 0,
        ..Default::default()
    };
    for (file, need_key, slot) in [
        (rapi_file, true, &mut o.rapi_cert_file),
        (spice_file, true, &mut o.spice_cert_file),
        (spice_ca, false, &mut o.spice_cacert_file),
    ] {
        if let Some(f) = file {
            if let Err(e) = read_cert(&f, need_key) {
                return RenewPlan::Refuse(format!("Unable to load X509 certificate from {f}: {e}"));
            }
            *slot = Some(f.into());
        }
    }
    if let Some(f) = cds_file {
        if let Err(e) = std::fs::read(&f) {
            return RenewPlan::Refuse(format!(
                "Can't load new cluster domain secret from {f}: {e}"
            ));
        }
        o.cluster_domain_secret_file = Some(f.into());
    }
    RenewPlan::Renew(o)
}

fn renew_crypto(ctx: &mut Ctx<'_>, opts: &Opts, _args: Vec<String>) -> Result<i32, CliError> {
    ctx.outln("Updating certificates now. Running \"gnt-cluster verify\"  is recommended after this operation.")?;
    let o = match build_renew(opts) {
        RenewPlan::Refuse(msg) => {
            ctx.errln(&msg)?;
            return Ok(1);
        }
        RenewPlan::Renew(o) => o,
    };
    if !opts.flag("force")
        && !ctx.ask_yes_no(
            "This requires all daemons on all nodes to be restarted and may take some time. Continue?",
        )
    {
        return Ok(1);
    }
    if o.touches_files() {
        bootstrap::renew_crypto(&ctx.paths, &o)?;
    }
    if o.new_node_cert || o.new_cluster_cert || o.new_ssh_keys {
        let key_type = opts.str("ssh_key_type");
        let bits = match &key_type {
            Some(t) => json!(determine_key_bits(t, opts.int("ssh_key_bits"))?),
            None => jint(opts, "ssh_key_bits"),
        };
        let op = opcode(
            "OP_CLUSTER_RENEW_CRYPTO",
            vec![
                (
                    "node_certificates",
                    json!(o.new_node_cert || o.new_cluster_cert),
                ),
                ("renew_ssh_keys", json!(o.new_ssh_keys)),
                ("ssh_key_type", json!(key_type)),
                ("ssh_key_bits", bits),
            ],
        );
        ctx.submit_opcode(op, opts)?;
    }
    ctx.outln("All requested certificates and keys have been replaced. Running \"gnt-cluster verify\" now is recommended.")?;
    Ok(0)
}

// ---------------------------------------------------------------------------
// the table

/// `gnt-cluster`.
pub static GROUP: GroupDef = GroupDef {
    binary: "gnt-cluster",
    commands: COMMANDS,
    aliases: &[("show", "info")],
    listing_width: 20,
};

static COMMANDS: &[CmdDef] = &[
    CmdDef {
        name: "activate-master-ip",
        usage: "",
        description: "Activates the master IP",
        args: &[],
        options: &[],
        env_override: false,
        run: activate_master_ip,
    },
    CmdDef {
        name: "add-tags",
        usage: "<tag>...",
        description: "Add tags to the cluster",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&FROM, &PRIORITY, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: add_tags,
    },
    CmdDef {
        name: "deactivate-master-ip",
        usage: "",
        description: "Deactivates the master IP",
        args: &[],
        options: &[&YES],
        env_override: false,
        run: deactivate_master_ip,
    },
    CmdDef {
        name: "destroy",
        usage: "",
        description: "Destroy cluster",
        args: &[],
        options: &[&YES_DO_IT_DESTROY],
        env_override: false,
        run: destroy,
    },
    CmdDef {
        name: "getmaster",
        usage: "",
        description: "Shows the cluster master",
        args: &[],
        options: &[],
        env_override: false,
        run: getmaster,
    },
    CmdDef {
        name: "info",
        usage: "[--roman]",
        description: "Show cluster configuration",
        args: &[],
        options: &[&ROMAN],
        env_override: false,
        run: info,
    },
    CmdDef {
        name: "init",
        usage: "[<opts>...] <cluster-name>",
        description: "Initialises a new cluster configuration",
        args: &[ArgSpec {
            min: 1,
            max: Some(1),
        }],
        options: &[
            &BACKEND_PARAMETERS,
            &CANDIDATE_POOL_SIZE,
            &ENABLED_HYPERVISORS,
            &GLOBAL_FILEDIR,
            &HVLIST,
            &MAC_PREFIX,
            &MASTER_NETDEV,
            &MASTER_NETMASK,
            &NIC_PARAMETERS,
            &NO_ETC_HOSTS,
            &NO_SSH_INIT,
            &SECONDARY_IP,
            &VG_NAME,
            &MAINTAIN_NODE_HEALTH,
            &UID_POOL,
            &DRBD_USERMODE_HELPER,
            &DEFAULT_IALLOCATOR,
            &DEFAULT_IALLOCATOR_PARAMS,
            &PRIMARY_IP_VERSION,
            &PREALLOC_WIPE_DISKS,
            &NODE_PARAMETERS,
            &SHARED_FILE_STORAGE_DIR,
            &USE_EXTERNAL_MIP_SCRIPT,
            &DISK_PARAMETERS,
            &HYPERVISOR_STATE,
            &DISK_STATE,
            &ENABLED_DISK_TEMPLATES,
            &IPOLICY_STD_SPECS,
            &GLUSTER_STORAGE_DIR,
            &INSTALL_IMAGE,
            &ZEROING_IMAGE,
            &COMPRESSION_TOOLS,
            &USER_SHUTDOWN,
            &SSH_KEY_BITS,
            &SSH_KEY_TYPE,
            &IPOLICY_BOUNDS_SPECS,
            &IPOLICY_DISK_TEMPLATES,
            &IPOLICY_VCPU_RATIO,
            &IPOLICY_SPINDLE_RATIO,
            &SPECS_CPU_COUNT,
            &SPECS_DISK_COUNT,
            &SPECS_DISK_SIZE,
            &SPECS_MEM_SIZE,
            &SPECS_NIC_COUNT,
            &MASTER_IP,
        ],
        env_override: false,
        run: init,
    },
    CmdDef {
        name: "list-tags",
        usage: "",
        description: "List the tags of the cluster",
        args: &[],
        options: &[],
        env_override: false,
        run: list_tags,
    },
    CmdDef {
        name: "master-ping",
        usage: "",
        description: "Checks if the master is alive",
        args: &[],
        options: &[],
        env_override: false,
        run: master_ping,
    },
    CmdDef {
        name: "modify",
        usage: "[<opts>...]",
        description: "Alters the parameters of the cluster",
        args: &[],
        options: &[
            &FORCE,
            &BACKEND_PARAMETERS,
            &CANDIDATE_POOL_SIZE,
            &MAX_RUNNING_JOBS,
            &MAX_TRACKED_JOBS,
            &INSTALL_IMAGE,
            &INSTANCE_COMMUNICATION_NETWORK,
            &ENABLED_HYPERVISORS,
            &HVLIST,
            &MAC_PREFIX,
            &MASTER_NETDEV,
            &MASTER_NETMASK,
            &NIC_PARAMETERS,
            &VG_NAME,
            &MAINTAIN_NODE_HEALTH,
            &UID_POOL,
            &ADD_UIDS,
            &REMOVE_UIDS,
            &DRBD_USERMODE_HELPER,
            &DEFAULT_IALLOCATOR,
            &DEFAULT_IALLOCATOR_PARAMS,
            &RESERVED_LVS,
            &DRY_RUN,
            &PRIORITY,
            &PREALLOC_WIPE_DISKS,
            &NODE_PARAMETERS,
            &USE_EXTERNAL_MIP_SCRIPT,
            &DISK_PARAMETERS,
            &HYPERVISOR_STATE,
            &DISK_STATE,
            &SUBMIT,
            &PRINT_JOBID,
            &ENABLED_DISK_TEMPLATES,
            &IPOLICY_STD_SPECS,
            &MODIFY_ETC_HOSTS,
            &USER_SHUTDOWN,
            &IPOLICY_BOUNDS_SPECS,
            &IPOLICY_DISK_TEMPLATES,
            &IPOLICY_VCPU_RATIO,
            &IPOLICY_SPINDLE_RATIO,
            &GLOBAL_FILEDIR,
            &SHARED_FILE_STORAGE_DIR,
            &ZEROING_IMAGE,
            &COMPRESSION_TOOLS,
            &ENABLED_DATA_COLLECTORS,
            &DATA_COLLECTOR_INTERVAL,
        ],
        env_override: false,
        run: modify,
    },
    CmdDef {
        name: "queue",
        usage: "drain|undrain|info",
        description: "Change queue properties",
        args: &[ArgSpec {
            min: 1,
            max: Some(1),
        }],
        options: &[],
        env_override: false,
        run: queue,
    },
    CmdDef {
        name: "redist-conf",
        usage: "",
        description:
            "Forces a push of the configuration file and ssconf files to the nodes in the cluster",
        args: &[],
        options: &[
            &SUBMIT,
            &PRINT_JOBID,
            &DRY_RUN,
            &PRIORITY,
            &YES_DO_IT_REDIST,
        ],
        env_override: false,
        run: redist_conf,
    },
    CmdDef {
        name: "remove-tags",
        usage: "<tag>...",
        description: "Remove tags from the cluster",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&FROM, &PRIORITY, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: remove_tags,
    },
    CmdDef {
        name: "rename",
        usage: "<new-name>",
        description: "Renames the cluster",
        args: &[ArgSpec {
            min: 1,
            max: Some(1),
        }],
        options: &[&FORCE, &DRY_RUN],
        env_override: false,
        run: rename,
    },
    CmdDef {
        name: "renew-crypto",
        usage: "[<opts>...]",
        description: "Renews cluster certificates, keys and secrets",
        args: &[],
        options: &[
            &NEW_CLUSTER_CERTIFICATE,
            &NEW_RAPI_CERTIFICATE,
            &RAPI_CERTIFICATE,
            &NEW_CONFD_HMAC_KEY,
            &FORCE,
            &NEW_CLUSTER_DOMAIN_SECRET,
            &CLUSTER_DOMAIN_SECRET,
            &NEW_SPICE_CERTIFICATE,
            &SPICE_CERTIFICATE,
            &SPICE_CA_CERTIFICATE,
            &NEW_NODE_CERTIFICATES,
            &NEW_SSH_KEYS,
            &NO_SSH_KEY_CHECK,
            &VERBOSE,
            &SSH_KEY_BITS,
            &SSH_KEY_TYPE,
        ],
        env_override: false,
        run: renew_crypto,
    },
    CmdDef {
        name: "repair-disk-sizes",
        usage: "[<instance-name>...]",
        description: "Updates mismatches in recorded disk sizes",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&DRY_RUN, &PRIORITY],
        env_override: false,
        run: repair_disk_sizes,
    },
    CmdDef {
        name: "search-tags",
        usage: "",
        description: "Searches the tags on all objects on the cluster for a given pattern (regex)",
        args: &[ArgSpec {
            min: 1,
            max: Some(1),
        }],
        options: &[&PRIORITY],
        env_override: false,
        run: search_tags,
    },
    CmdDef {
        name: "show-ispecs-cmd",
        usage: "",
        description: "Show the command line to re-create the cluster",
        args: &[],
        options: &[],
        env_override: false,
        run: show_ispecs_cmd,
    },
    CmdDef {
        name: "verify",
        usage: "",
        description: "Does a check on the cluster configuration",
        args: &[],
        options: &[
            &VERBOSE,
            &DEBUG_SIMULATE_ERRORS,
            &ERROR_CODES,
            &NO_NPLUS1_MEM,
            &DRY_RUN,
            &PRIORITY,
            &NODE_GROUP,
            &IGNORE_ERRORS,
            &VERIFY_SSH_CLUTTER,
        ],
        env_override: false,
        run: verify,
    },
    CmdDef {
        name: "verify-disks",
        usage: "",
        description: "Does a check on the cluster disk status",
        args: &[],
        options: &[&PRIORITY, &NODE_GROUP],
        env_override: false,
        run: verify_disks,
    },
    CmdDef {
        name: "version",
        usage: "",
        description: "Shows the cluster version",
        args: &[],
        options: &[],
        env_override: false,
        run: version,
    },
    CmdDef {
        name: "watcher",
        usage: "{pause <timespec>|continue|info}",
        description: "Change watcher properties",
        args: &[
            ArgSpec {
                min: 1,
                max: Some(1),
            },
            ArgSpec {
                min: 0,
                max: Some(1),
            },
        ],
        options: &[],
        env_override: false,
        run: watcher,
    },
];

#[cfg(test)]
#[path = "cluster_tests.rs"]
mod tests;
