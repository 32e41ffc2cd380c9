//! End-to-end tests of the query engine against an in-memory cluster:
//! three instances (a running diskless one, a stopped file-backed one and
//! one with two NICs, one of them on a network) on one node.

use ganeti_types::{
    constants, AddressPool, ConfigData, ErrorClass, GanetiError, Job, LogEntry, Network,
};
use ganeti_types::{OpStatus, QueuedOpCode};
use serde_json::{json, Value};

use super::*;

const N1: &str = "n-1";
const G1: &str = "g-1";
const NET1: &str = "net-1";

fn network() -> Network {
    let mut net: Network = serde_json::from_value(json!({
        "uuid": NET1, "name": "net1", "network": "10.1.0.0/24", "gateway": "10.1.0.1",
        "mac_prefix": "aa:00:00", "reservations": "", "ext_reservations": "",
        "tags": [], "serial_no": 1, "ctime": 1700000000.25, "mtime": 1700000000.25
    }))
    .unwrap();
    let mut pool = AddressPool::new("10.1.0.0/24", Some("10.1.0.1")).unwrap();
    pool.reserve("10.1.0.5", false).unwrap();
    pool.store(&mut net);
    net
}

fn config() -> ConfigData {
    let cfg = json!({
        "version": 3000000,
        "cluster": {
            "uuid": "c-1", "cluster_name": "cluster.example.com", "master_node": N1,
            "master_ip": "198.51.100.1", "mac_prefix": "aa:00:00",
            "default_hypervisor": "fake", "enabled_hypervisors": ["fake"],
            "enabled_disk_templates": ["file", "diskless"],
            "hvparams": {"fake": constants::hv_defaults("fake")},
            "beparams": {"default": constants::be_defaults()},
            "osparams": {"noop": {"zeta": "1", "alpha": "x"}},
            "nicparams": {"default": {"link": "gntbr0", "mode": "bridged", "vlan": ""}},
            "ndparams": constants::nd_defaults(),
            "diskparams": constants::disk_defaults(),
            "ipolicy": constants::ipolicy_defaults(),
            "candidate_pool_size": 10,
            "tags": ["ctag1"],
            "serial_no": 3, "ctime": 1700000000.5, "mtime": 1700000001.5
        },
        "nodes": {N1: {
            "uuid": N1, "name": "node1.example.com", "primary_ip": "198.51.100.10",
            "secondary_ip": "198.51.100.10", "group": G1, "master_candidate": true,
            "offline": false, "drained": false, "master_capable": true, "vm_capable": true,
            "ndparams": {}, "tags": [], "serial_no": 1, "ctime": 1700000000.0, "mtime": 1700000000.0
        }},
        "nodegroups": {G1: {
            "uuid": G1, "name": "default", "alloc_policy": "preferred",
            "networks": {NET1: {"mode": "bridged", "link": "gntbr0", "vlan": ""}},
            "tags": [], "serial_no": 1, "ctime": 0.0, "mtime": 1795381384.271461
        }},
        "instances": {
            "i-1": {
                "uuid": "i-1", "name": "inst1.example.com", "primary_node": N1, "os": "noop",
                "hypervisor": "fake", "beparams": {"vcpus": 1, "maxmem": 128, "minmem": 128},
                "admin_state": "up", "disk_template": "diskless",
                "nics": [{"uuid": "nic-1", "mac": "aa:00:00:6c:9e:ea", "nicparams": {}}],
                "serial_no": 2, "ctime": 1795381392.978814, "mtime": 1795381393.414057
            },
            "i-2": {
                "uuid": "i-2", "name": "inst2.example.com", "primary_node": N1, "os": "noop+v1",
                "hypervisor": "fake", "admin_state": "down", "disk_template": "file",
                "disks": ["d-1"],
                "nics": [{"uuid": "nic-2", "mac": "aa:00:00:40:52:37", "nicparams": {}}],
                "serial_no": 3, "ctime": 1795381395.158437, "mtime": 1795381395.66589
            },
            "i-3": {
                "uuid": "i-3", "name": "inst10.example.com", "primary_node": N1, "os": "noop",
                "hypervisor": "fake", "hvparams": {"migration_mode": "non-live"},
                "osparams": {"alpha": "y"},
                "beparams": {"maxmem": 256, "vcpus": 2}, "admin_state": "up",
                "disk_template": "diskless", "network_port": 11000,
                "nics": [
                    {"uuid": "nic-3a", "mac": "aa:00:00:00:00:01", "nicparams": {}},
                    {"uuid": "nic-3b", "name": "eth1", "mac": "aa:00:00:00:00:02",
                     "ip": "10.1.0.5", "network": NET1,
                     "nicparams": {"mode": "openvswitch", "link": "br1", "vlan": "100"}}
                ],
                "tags": ["itag1", "web"],
                "serial_no": 4, "ctime": 1795381400.0, "mtime": 1795381401.0
            }
        },
        "disks": {"d-1": {
            "uuid": "d-1", "dev_type": "file", "logical_id": ["loop", "/srv/ganeti/inst2/disk0"],
            "nodes": [N1], "iv_name": "disk/0", "size": 128, "mode": "rw",
            "serial_no": 1, "ctime": 1.0, "mtime": 1.0
        }},
        "networks": {NET1: serde_json::to_value(network()).unwrap()},
        "filters": {"f-1": {
            "uuid": "f-1", "watermark": 96, "priority": 10,
            "predicates": [["opcode", ["==", "OP_ID", "OP_TEST_DELAY"]]],
            "action": "REJECT", "reason_trail": [["luxid", "", 1795447109532580000u64]]
        }},
        "serial_no": 10, "ctime": 1700000000.0, "mtime": 1700000001.0
    });
    serde_json::from_value(cfg).unwrap()
}

fn running(mem: u64, vcpus: u32) -> LiveInstance {
    LiveInstance {
        node: N1.into(),
        running: true,
        state: "-b----".into(),
        memory: mem,
        vcpus,
    }
}

fn live() -> LiveData {
    let mut l = LiveData::default();
    l.nodes.insert(
        N1.into(),
        NodeLive {
            bootid: Some("boot-1".into()),
            mtotal: Some(24105),
            mnode: Some(217),
            mfree: Some(23446),
            dtotal: Some(258019),
            dfree: Some(80743),
            ctotal: Some(2),
            cnos: Some(2),
            cnodes: Some(1),
            csockets: Some(1),
            sptotal: None,
            spfree: None,
        },
    );
    l.instances.insert("i-1".into(), running(128, 1));
    l.instances.insert("i-3".into(), running(256, 2));
    l.consoles.insert(
        "i-1".into(),
        json!({"kind": "message", "message": "fake console"}),
    );
    l
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Query and return rows, panicking on error.
fn q(
    res: Resource,
    cfg: &ConfigData,
    l: &LiveData,
    fields: &[&str],
    filter: Option<Value>,
) -> Vec<Vec<Cell>> {
    let ctx = QueryContext::new(cfg, l);
    query(res, &ctx, &s(fields), filter.as_ref()).unwrap().data
}

/// One field of every row, as `[status, value]` JSON.
fn col(res: Resource, cfg: &ConfigData, l: &LiveData, field: &str) -> Value {
    let rows = q(res, cfg, l, &[field], None);
    json!(rows
        .iter()
        .map(|r| json!([r[0].0, r[0].1]))
        .collect::<Vec<_>>())
}

fn names(rows: &[Vec<Cell>]) -> Vec<String> {
    rows.iter()
        .map(|r| r[0].1.as_str().unwrap_or("?").to_string())
        .collect()
}

fn qerr(res: Resource, fields: &[&str], filter: Value) -> QueryError {
    let cfg = config();
    let l = live();
    let ctx = QueryContext::new(&cfg, &l);
    query(res, &ctx, &s(fields), Some(&filter)).unwrap_err()
}

// ---------------------------------------------------------------- spec

fn tsv_rows() -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/spec/query-fields.tsv"
    ))
    .unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn field_definitions_equal_the_tsv_for_every_resource() {
    let rows = tsv_rows();
    for res in Resource::ALL {
        let mut want: Vec<Value> = rows
            .iter()
            .filter(|r| r[0] == res.as_str())
            .map(|r| json!({"name": r[1], "title": r[3], "kind": r[2], "doc": r[4]}))
            .collect();
        assert!(!want.is_empty(), "{res}");
        let got: Vec<Value> = fields(res, None)
            .iter()
            .map(|d| serde_json::to_value(d).unwrap())
            .collect();
        assert_eq!(got.len(), want.len(), "{res}");
        // returned in natural name order
        let got_names: Vec<String> = got
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect();
        let mut sorted = got_names.clone();
        nice_sort(&mut sorted);
        assert_eq!(got_names, sorted, "{res}");
        want.sort_by(|a, b| nice_cmp(a["name"].as_str().unwrap(), b["name"].as_str().unwrap()));
        assert_eq!(got, want, "{res}");
    }
}

#[test]
fn natural_order_of_field_names_matches_reference() {
    let names: Vec<String> = fields(Resource::Instance, None)
        .into_iter()
        .map(|d| d.name)
        .collect();
    let pos = |n: &str| names.iter().position(|x| x == n).unwrap();
    assert!(pos("disk.name/2") < pos("disk.name/10"));
    assert!(pos("disk.name/15") < pos("disk.names"));
    assert_eq!(
        &names[..3],
        &["admin_state", "admin_state_source", "admin_up"]
    );
}

#[test]
fn selected_field_definitions_and_unknown_ones() {
    let defs = fields(Resource::Node, Some(&s(&["name", "frob", "mtotal"])));
    assert_eq!(defs[0].title, "Node");
    assert_eq!(defs[1], FieldDef::unknown("frob"));
    assert_eq!(
        serde_json::to_value(&defs[1]).unwrap(),
        json!({"name": "frob", "title": "frob", "kind": "unknown", "doc": "Unknown field 'frob'"})
    );
    assert_eq!(defs[2].kind, FieldKind::Unit);
    assert_eq!(fields(Resource::Node, Some(&[])).len(), 46);
}

#[test]
fn every_field_has_a_getter() {
    let cfg = config();
    let mut l = live();
    l.exports
        .insert(N1.into(), vec!["inst9.example.com".into()]);
    let jobs = jobs();
    let locks = vec![LockInfo {
        name: "cluster/BGL".into(),
        owners: vec![("job:5".into(), false)],
        pending: vec![("job:6".into(), true)],
    }];
    let mut ctx = QueryContext::new(&cfg, &l);
    ctx.jobs = &jobs;
    ctx.locks = &locks;
    for res in Resource::ALL {
        let all: Vec<String> = fields(res, None).into_iter().map(|d| d.name).collect();
        let r = query(res, &ctx, &all, None).unwrap();
        assert_eq!(r.fields.len(), all.len());
        if matches!(res, Resource::Os | Resource::ExtStorage) {
            assert!(r.data.is_empty());
            continue;
        }
        assert!(!r.data.is_empty(), "{res} has rows");
        for row in &r.data {
            assert_eq!(row.len(), all.len());
            for (f, (st, _)) in all.iter().zip(row) {
                assert_ne!(*st, RS_UNKNOWN, "{res} field {f} has no getter");
            }
        }
    }
}

// ---------------------------------------------------------------- instances

#[test]
fn instances_sorted_naturally() {
    let rows = q(Resource::Instance, &config(), &live(), &["name"], None);
    assert_eq!(
        names(&rows),
        vec![
            "inst1.example.com",
            "inst2.example.com",
            "inst10.example.com"
        ]
    );
}

fn inst_fields(name: &str, fields: &[&str]) -> Vec<Cell> {
    let rows = q(
        Resource::Instance,
        &config(),
        &live(),
        fields,
        Some(json!(["==", "name", name])),
    );
    assert_eq!(rows.len(), 1, "{name}");
    rows.into_iter().next().unwrap()
}

fn as_json(cells: &[Cell]) -> Value {
    json!(cells
        .iter()
        .map(|(st, v)| json!([st, v]))
        .collect::<Vec<_>>())
}

#[test]
fn running_diskless_instance_like_reference_bulk() {
    let f = [
        "name",
        "admin_state",
        "os",
        "pnode",
        "snodes",
        "disk_template",
        "nic.ips",
        "nic.macs",
        "nic.modes",
        "nic.uuids",
        "nic.names",
        "nic.links",
        "nic.networks",
        "nic.networks.names",
        "nic.bridges",
        "network_port",
        "disk.sizes",
        "disk.spindles",
        "disk_usage",
        "disk.uuids",
        "disk.names",
        "beparams",
        "hvparams",
        "oper_state",
        "oper_ram",
        "oper_vcpus",
        "status",
        "custom_hvparams",
        "custom_beparams",
        "custom_nicparams",
        "ctime",
        "mtime",
        "uuid",
        "serial_no",
        "tags",
    ];
    let row = inst_fields("inst1.example.com", &f);
    let got: serde_json::Map<String, Value> = f
        .iter()
        .zip(&row)
        .map(|(k, (st, v))| {
            (
                k.to_string(),
                if *st == RS_NORMAL {
                    v.clone()
                } else {
                    Value::Null
                },
            )
        })
        .collect();
    // 2_instances_bulk.json from the reference cluster, minus RAPI's own
    // "memory" addition to beparams.
    let want = json!({"name": "inst1.example.com", "admin_state": "up", "os": "noop",
        "pnode": "node1.example.com", "snodes": [], "disk_template": "diskless",
        "nic.ips": [null], "nic.macs": ["aa:00:00:6c:9e:ea"], "nic.modes": ["bridged"],
        "nic.uuids": ["nic-1"], "nic.names": [null], "nic.links": ["gntbr0"],
        "nic.networks": [null], "nic.networks.names": [null], "nic.bridges": ["gntbr0"],
        "network_port": null, "disk.sizes": [], "disk.spindles": [], "disk_usage": 0,
        "disk.uuids": [], "disk.names": [],
        "beparams": {"minmem": 128, "maxmem": 128, "vcpus": 1, "auto_balance": true,
                     "always_failover": false, "spindle_use": 1},
        "hvparams": {}, "oper_state": true, "oper_ram": 128, "oper_vcpus": 1,
        "status": "running", "custom_hvparams": {},
        "custom_beparams": {"minmem": 128, "maxmem": 128, "vcpus": 1},
        "custom_nicparams": [{}], "ctime": 1795381392.978814, "mtime": 1795381393.414057,
        "uuid": "i-1", "serial_no": 2, "tags": []});
    assert_eq!(
        serde_json::to_string(&Value::Object(got)).unwrap(),
        serde_json::to_string(&want).unwrap()
    );
    // network_port is "unavailable", not a null value
    assert_eq!(row[15], (RS_UNAVAIL, Value::Null));
}

#[test]
fn stopped_file_instance() {
    let row = inst_fields(
        "inst2",
        &[
            "status",
            "oper_state",
            "oper_ram",
            "oper_vcpus",
            "disk_template",
            "disk.sizes",
            "disk_usage",
            "disk.count",
            "disk.size/0",
            "sda_size",
            "sdb_size",
            "disk.spindles",
            "disk.spindles/0",
            "disk.names",
            "disk.name/0",
            "disk.uuid/0",
            "disk.uuids",
            "os",
            "osparams",
            "custom_osparams",
            "admin_up",
            "be/memory",
            "vcpus",
            "console",
        ],
    );
    assert_eq!(
        as_json(&row),
        json!([[0, "ADMIN_down"], [0, false], [3, null], [3, null], [0, "file"], [0, [128]],
               [0, 128], [0, 1], [0, 128], [0, 128], [3, null], [0, [null]], [3, null],
               [0, [null]], [3, null], [0, "d-1"], [0, ["d-1"]], [0, "noop+v1"],
               [0, {"alpha": "x", "zeta": "1"}], [0, {}], [0, false], [0, 128], [0, 1],
               [2, null]])
    );
}

#[test]
fn instance_with_two_nics_and_a_network() {
    let row = inst_fields(
        "inst10",
        &[
            "nic.count",
            "nic.macs",
            "nic.ips",
            "nic.names",
            "nic.networks",
            "nic.networks.names",
            "nic.modes",
            "nic.links",
            "nic.vlans",
            "nic.bridges",
            "nic.ip/0",
            "nic.ip/1",
            "nic.network/1",
            "nic.network.name/0",
            "nic.network.name/1",
            "nic.mode/1",
            "nic.vlan/0",
            "nic.vlan/1",
            "nic.bridge/0",
            "nic.bridge/1",
            "nic.name/1",
            "nic.mac/2",
            "mac",
            "ip",
            "bridge",
            "nic_mode",
            "nic_link",
            "nic_network",
            "custom_nicparams",
            "hvparams",
            "custom_hvparams",
            "hv/migration_mode",
            "hv/acpi",
            "beparams",
            "be/maxmem",
            "be/minmem",
            "network_port",
            "tags",
            "osparams",
            "ctime",
        ],
    );
    assert_eq!(
        as_json(&row),
        json!([
            [0, 2],
            [0, ["aa:00:00:00:00:01", "aa:00:00:00:00:02"]],
            [0, [null, "10.1.0.5"]],
            [0, [null, "eth1"]],
            [0, [null, NET1]],
            [0, [null, "net1"]],
            [0, ["bridged", "openvswitch"]],
            [0, ["gntbr0", "br1"]],
            [0, [null, "100"]],
            [0, ["gntbr0", null]],
            [3, null], [0, "10.1.0.5"], [0, NET1], [3, null], [0, "net1"], [0, "openvswitch"],
            [3, null], [0, "100"], [0, "gntbr0"], [3, null], [0, "eth1"], [3, null],
            [0, "aa:00:00:00:00:01"], [3, null], [0, "gntbr0"], [0, "bridged"], [0, "gntbr0"],
            [3, null],
            [0, [{}, {"mode": "openvswitch", "link": "br1", "vlan": "100"}]],
            [0, {}],
            [0, {"migration_mode": "non-live"}],
            [1, null],
            [3, null],
            [0, {"minmem": 128, "maxmem": 256, "vcpus": 2, "auto_balance": true,
                 "always_failover": false, "spindle_use": 1}],
            [0, 256], [0, 128], [0, 11000], [0, ["itag1", "web"]],
            [0, {"alpha": "y", "zeta": "1"}],
            [0, 1795381400]
        ])
    );
}

#[test]
fn primary_node_group_and_secondaries() {
    let row = inst_fields(
        "inst1",
        &[
            "pnode.group",
            "pnode.group.uuid",
            "snodes.group",
            "snodes.group.uuid",
            "disks_active",
            "forthcoming",
            "hypervisor",
            "admin_state_source",
        ],
    );
    assert_eq!(
        as_json(&row),
        json!([
            [0, "default"],
            [0, G1],
            [0, []],
            [0, []],
            [0, false],
            [0, false],
            [0, "fake"],
            [0, "admin"]
        ])
    );
}

#[test]
fn console_comes_from_live_data() {
    let row = inst_fields("inst1", &["console"]);
    assert_eq!(
        row[0],
        (
            RS_NORMAL,
            json!({"kind": "message", "message": "fake console"})
        )
    );
}

#[test]
fn disk_lookup_failure_is_nodata() {
    let mut cfg = config();
    cfg.disks.clear();
    let rows = q(
        Resource::Instance,
        &cfg,
        &live(),
        &["disk.sizes", "disk.size/0", "disk_template", "disk.count"],
        Some(json!(["=", "name", "inst2"])),
    );
    assert_eq!(
        as_json(&rows[0]),
        json!([[2, null], [2, null], [2, null], [0, 1]])
    );
}

// ---------------------------------------------------------------- status

fn status_of(cfg: &ConfigData, l: &LiveData, inst: &str) -> Vec<Cell> {
    let rows = q(
        Resource::Instance,
        cfg,
        l,
        &["status", "oper_state", "oper_ram"],
        Some(json!(["=", "name", inst])),
    );
    rows.into_iter().next().unwrap()
}

fn set_admin(cfg: &mut ConfigData, uuid: &str, state: &str, source: &str) {
    let i = cfg.instances.get_mut(uuid).unwrap();
    i.admin_state = serde_json::from_value(json!(state)).unwrap();
    i.admin_state_source = source.into();
}

#[test]
fn status_table() {
    struct Case {
        admin: &'static str,
        source: &'static str,
        user_shutdown: bool,
        live: Option<LiveInstance>,
        node: &'static str, // "ok", "error", "offline-flag", "offline-rpc", "absent"
        want: &'static str,
    }
    let on = |running: bool, node: &str| {
        Some(LiveInstance {
            node: node.into(),
            running,
            state: String::new(),
            memory: 64,
            vcpus: 1,
        })
    };
    let cases = [
        Case {
            admin: "up",
            source: "admin",
            user_shutdown: false,
            live: on(true, N1),
            node: "ok",
            want: "running",
        },
        Case {
            admin: "up",
            source: "admin",
            user_shutdown: false,
            live: on(true, ""),
            node: "ok",
            want: "running",
        },
        Case {
            admin: "down",
            source: "admin",
            user_shutdown: false,
            live: on(true, N1),
            node: "ok",
            want: "ERROR_up",
        },
        Case {
            admin: "offline",
            source: "admin",
            user_shutdown: false,
            live: on(true, N1),
            node: "ok",
            want: "ERROR_up",
        },
        Case {
            admin: "up",
            source: "admin",
            user_shutdown: false,
            live: None,
            node: "ok",
            want: "ERROR_down",
        },
        Case {
            admin: "down",
            source: "admin",
            user_shutdown: false,
            live: None,
            node: "ok",
            want: "ADMIN_down",
        },
        Case {
            admin: "offline",
            source: "admin",
            user_shutdown: false,
            live: None,
            node: "ok",
            want: "ADMIN_offline",
        },
        Case {
            admin: "down",
            source: "user",
            user_shutdown: true,
            live: None,
            node: "ok",
            want: "USER_down",
        },
        Case {
            admin: "down",
            source: "user",
            user_shutdown: false,
            live: None,
            node: "ok",
            want: "ADMIN_down",
        },
        Case {
            admin: "up",
            source: "admin",
            user_shutdown: true,
            live: on(false, N1),
            node: "ok",
            want: "USER_down",
        },
        Case {
            admin: "up",
            source: "admin",
            user_shutdown: false,
            live: on(false, N1),
            node: "ok",
            want: "ERROR_down",
        },
        Case {
            admin: "down",
            source: "admin",
            user_shutdown: true,
            live: on(false, N1),
            node: "ok",
            want: "ADMIN_down",
        },
        Case {
            admin: "up",
            source: "admin",
            user_shutdown: false,
            live: on(true, "n-other"),
            node: "ok",
            want: "ERROR_wrongnode",
        },
        Case {
            admin: "up",
            source: "admin",
            user_shutdown: false,
            live: None,
            node: "error",
            want: "ERROR_nodedown",
        },
        Case {
            admin: "up",
            source: "admin",
            user_shutdown: false,
            live: None,
            node: "absent",
            want: "ERROR_nodedown",
        },
        Case {
            admin: "down",
            source: "admin",
            user_shutdown: false,
            live: None,
            node: "offline-rpc",
            want: "ERROR_nodedown",
        },
        Case {
            admin: "up",
            source: "admin",
            user_shutdown: false,
            live: None,
            node: "offline-flag",
            want: "ERROR_nodeoffline",
        },
        Case {
            admin: "up",
            source: "admin",
            user_shutdown: false,
            live: on(true, N1),
            node: "offline-flag",
            want: "ERROR_nodeoffline",
        },
    ];
    for (i, c) in cases.iter().enumerate() {
        let mut cfg = config();
        cfg.cluster.enabled_user_shutdown = c.user_shutdown;
        set_admin(&mut cfg, "i-1", c.admin, c.source);
        let mut l = live();
        l.instances.remove("i-1");
        if let Some(li) = &c.live {
            l.instances.insert("i-1".into(), li.clone());
        }
        match c.node {
            "ok" => {}
            "error" => {
                l.nodes.remove(N1);
                l.node_errors
                    .insert(N1.into(), NodeFailure::Error("timeout".into()));
            }
            "absent" => {
                l.nodes.remove(N1);
            }
            "offline-rpc" => {
                l.nodes.remove(N1);
                l.node_errors.insert(N1.into(), NodeFailure::Offline);
            }
            _ => {
                l.nodes.remove(N1);
                cfg.nodes.get_mut(N1).unwrap().offline = true;
            }
        }
        let row = status_of(&cfg, &l, "inst1");
        assert_eq!(row[0].1, json!(c.want), "case {i}: {}", c.want);
    }
}

#[test]
fn live_fields_follow_the_node_answer() {
    // node failed: no data everywhere
    let cfg = config();
    let mut l = live();
    l.instances.clear();
    l.nodes.clear();
    l.node_errors
        .insert(N1.into(), NodeFailure::Error("x".into()));
    assert_eq!(
        as_json(&status_of(&cfg, &l, "inst1")),
        json!([[0, "ERROR_nodedown"], [2, null], [2, null]])
    );
    // node offline: offline status for the memory
    let mut cfg2 = config();
    cfg2.nodes.get_mut(N1).unwrap().offline = true;
    assert_eq!(
        as_json(&status_of(&cfg2, &l, "inst1")),
        json!([[0, "ERROR_nodeoffline"], [2, null], [4, null]])
    );
    // the node answered and does not run it: not running, memory unavailable
    let mut l3 = live();
    l3.instances.clear();
    assert_eq!(
        as_json(&status_of(&cfg, &l3, "inst1")),
        json!([[0, "ERROR_down"], [0, false], [3, null]])
    );
}

#[test]
fn kvm_user_shutdown_needs_the_hv_parameter() {
    let mut cfg = config();
    cfg.cluster.enabled_user_shutdown = true;
    cfg.instances.get_mut("i-1").unwrap().hypervisor = "kvm".into();
    let mut l = live();
    l.instances.get_mut("i-1").unwrap().running = false;
    assert_eq!(status_of(&cfg, &l, "inst1")[0].1, json!("ERROR_down"));
    cfg.instances
        .get_mut("i-1")
        .unwrap()
        .hvparams
        .insert("user_shutdown".into(), json!(true));
    assert_eq!(status_of(&cfg, &l, "inst1")[0].1, json!("USER_down"));
}

// ---------------------------------------------------------------- filters

fn filtered(res: Resource, filter: Value) -> Vec<String> {
    names(&q(res, &config(), &live(), &["name"], Some(filter)))
}

#[test]
fn filter_operators() {
    use Resource::Instance as I;
    assert_eq!(
        filtered(I, json!(["==", "status", "running"])),
        vec!["inst1.example.com", "inst10.example.com"]
    );
    assert_eq!(
        filtered(I, json!(["=", "disk_template", "file"])),
        vec!["inst2.example.com"]
    );
    assert_eq!(
        filtered(I, json!(["!=", "disk_template", "file"])),
        vec!["inst1.example.com", "inst10.example.com"]
    );
    assert_eq!(
        filtered(I, json!([">", "be/maxmem", 128])),
        vec!["inst10.example.com"]
    );
    assert_eq!(
        filtered(I, json!(["<=", "be/maxmem", 128])),
        vec!["inst1.example.com", "inst2.example.com"]
    );
    assert_eq!(
        filtered(I, json!([">=", "be/maxmem", 256])),
        vec!["inst10.example.com"]
    );
    assert_eq!(
        filtered(I, json!(["<", "be/vcpus", 2])),
        vec!["inst1.example.com", "inst2.example.com"]
    );
    assert_eq!(
        filtered(I, json!(["<", "name", "inst2"])),
        vec!["inst1.example.com", "inst10.example.com"]
    );
    assert_eq!(
        filtered(I, json!(["=~", "name", "^inst[12]\\."])),
        vec!["inst1.example.com", "inst2.example.com"]
    );
    assert_eq!(
        filtered(I, json!(["=~", "name", "10"])),
        vec!["inst10.example.com"]
    );
    assert_eq!(
        filtered(I, json!(["=[]", "tags", "web"])),
        vec!["inst10.example.com"]
    );
    assert_eq!(
        filtered(I, json!(["=[]", "nic.links", "br1"])),
        vec!["inst10.example.com"]
    );
    assert_eq!(
        filtered(I, json!(["=[]", "disk.sizes", 128])),
        vec!["inst2.example.com"]
    );
    assert_eq!(
        filtered(I, json!(["?", "admin_up"])),
        vec!["inst1.example.com", "inst10.example.com"]
    );
    assert_eq!(
        filtered(I, json!(["!", ["?", "oper_state"]])),
        vec!["inst2.example.com"]
    );
    assert_eq!(
        filtered(I, json!(["&", ["?", "admin_up"], ["==", "be/vcpus", 2]])),
        vec!["inst10.example.com"]
    );
    assert_eq!(
        filtered(
            I,
            json!(["|", ["==", "disk_template", "file"], ["==", "nic.count", 2]])
        ),
        vec!["inst2.example.com", "inst10.example.com"]
    );
    assert!(filtered(I, json!(["|"])).is_empty());
    assert_eq!(filtered(I, json!(["&"])).len(), 3);
    assert_eq!(filtered(I, Value::Null).len(), 3);
    // host-name equality accepts the short name, but not a partial component
    assert_eq!(filtered(I, json!(["==", "pnode", "node1"])).len(), 3);
    assert!(filtered(I, json!(["==", "pnode", "node"])).is_empty());
    // a value that is not available lets the item pass
    assert_eq!(filtered(I, json!(["==", "disk.size/0", 999])).len(), 2);
    assert_eq!(
        filtered(I, json!(["!", ["==", "disk.size/0", 999]])),
        vec!["inst2.example.com"]
    );
    // the reference request 2_query_instance_put.req.json
    let rows = q(
        I,
        &config(),
        &live(),
        &["name", "status", "disk.sizes"],
        Some(json!(["=", "disk_template", "file"])),
    );
    assert_eq!(
        as_json(&rows[0]),
        json!([[0, "inst2.example.com"], [0, "ADMIN_down"], [0, [128]]])
    );
}

#[test]
fn filters_on_other_resources() {
    assert_eq!(
        filtered(Resource::Node, json!(["==", "role", "M"])),
        vec!["node1.example.com"]
    );
    assert!(filtered(Resource::Node, json!([">", "mfree", 100000])).is_empty());
    assert_eq!(
        filtered(Resource::Group, json!(["==", "node_cnt", 1])),
        vec!["default"]
    );
    assert_eq!(
        filtered(
            Resource::Network,
            json!(["=[]", "inst_list", "inst10.example.com"])
        ),
        vec!["net1"]
    );
    assert_eq!(
        filtered(Resource::Cluster, json!(["==", "name", "cluster"])),
        vec!["cluster.example.com"]
    );
}

#[test]
fn bad_filters_are_refused_with_ganeti_wording() {
    use Resource::Instance as I;
    let cases: Vec<(Value, &str)> = vec![
        (json!(["frob", "name", "x"]), "Unknown filter operand 'frob'"),
        // Ganeti's list-membership operator is `=[]`; `=[` is unknown
        (json!(["=[", "tags", "x"]), "Unknown filter operand '=['"),
        (json!(["==", "name"]), "Cannot deserialise field/value pair, expected [fieldname, value] but got [\"name\"]"),
        (json!(["==", "name", "a", "b"]), "Cannot deserialise field/value pair, expected [fieldname, value] but got [\"name\", \"a\", \"b\"]"),
        (json!(["!", ["?", "admin_up"], ["?", "admin_up"]]), "Cannot deserialise field, expected [filter] but got [[\"?\", \"admin_up\"], [\"?\", \"admin_up\"]]"),
        (json!(["?"]), "Cannot deserialise field, expected [fieldname] but got []"),
        (json!(["?", 5]), "Cannot deserialise field, expected [fieldname] but got [5]"),
        (json!(["==", "name", true]), "Cannot deserialise filter value, expecting string or integer, got true"),
        (json!(["==", "be/maxmem", 1.5]), "Cannot deserialise numeric filter value, expecting integral but got a fractional value: 3 % 2"),
        (json!("name"), "Cannot deserialise filter: expected array [string, args], got \"name\""),
        (json!([]), "Cannot deserialise filter: expected array [string, args], got []"),
        (json!([1, 2]), "Cannot deserialise filter: expected array [string, args], got [1, 2]"),
        (json!(["|", ["==", "name"]]), "Cannot deserialise field/value pair, expected [fieldname, value] but got [\"name\"]"),
    ];
    for (f, want) in cases {
        let e = qerr(I, &["name"], f.clone());
        assert_eq!(e.to_string(), want, "{f}");
        assert!(matches!(e, QueryError::BadFilter { .. }), "{f}");
        assert_eq!(e.to_ganeti().error_class(), Some(ErrorClass::WrongInput));
    }
    let e = qerr(I, &["name"], json!(["=~", "name", "(unclosed"]));
    assert!(e.to_string().starts_with("Invalid regex pattern ("), "{e}");
    let e = qerr(I, &["name"], json!(["=~", "name", 5]));
    assert!(matches!(e, QueryError::BadFilter { .. }));

    let e = qerr(
        I,
        &["name"],
        json!(["&", ["?", "admin_up"], ["==", "frobfield", "x"]]),
    );
    assert_eq!(
        e,
        QueryError::UnknownFilterField {
            field: "frobfield".into()
        }
    );
    assert_eq!(
        e.to_ganeti(),
        GanetiError::Parameter("Can't find field named 'frobfield'".into())
    );
}

#[test]
fn comparisons_of_the_wrong_type_fail_while_evaluating() {
    use Resource::Instance as I;
    let e = qerr(I, &["name"], json!(["==", "admin_up", "yes"]));
    assert_eq!(
        e.to_string(),
        "Invalid types in comparison, trying to compare true with 'QuotedString \"yes\"'"
    );
    assert!(matches!(e.to_ganeti(), GanetiError::Parameter(_)));
    let e = qerr(I, &["name"], json!(["<", "name", 5]));
    assert_eq!(
        e.to_string(),
        "Invalid types in comparison, trying to compare \"inst1.example.com\" with 'NumericValue 5'"
    );
    let e = qerr(I, &["name"], json!(["?", "name"]));
    assert_eq!(
        e.to_string(),
        "Unexpected value '\"inst1.example.com\"' in boolean context"
    );
    let e = qerr(I, &["name"], json!(["=~", "be/maxmem", "1"]));
    assert_eq!(
        e.to_string(),
        "Invalid field value used in regexp matching, expecting string but got '128'"
    );
    let e = qerr(I, &["name"], json!(["=[]", "name", "x"]));
    assert_eq!(
        e.to_string(),
        "Cannot convert value '\"inst1.example.com\"', error: Unable to read list"
    );
}

#[test]
fn filter_fields_need_not_be_requested() {
    // the filter uses oper_state, the output only has name
    let rows = q(
        Resource::Instance,
        &config(),
        &live(),
        &["name"],
        Some(json!(["?", "oper_state"])),
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].len(), 1);
}

// ---------------------------------------------------------------- names

#[test]
fn requested_names_select_and_order_rows() {
    let rows = q(
        Resource::Instance,
        &config(),
        &live(),
        &["name"],
        Some(json!([
            "|",
            ["=", "name", "inst10"],
            ["=", "name", "inst1.example.com"]
        ])),
    );
    assert_eq!(
        names(&rows),
        vec!["inst10.example.com", "inst1.example.com"]
    );
    // by uuid too
    let rows = q(
        Resource::Instance,
        &config(),
        &live(),
        &["name"],
        Some(json!(["=", "name", "i-2"])),
    );
    assert!(rows.is_empty(), "the name filter itself still applies");
}

#[test]
fn unknown_names_are_errors() {
    let e = qerr(
        Resource::Instance,
        &["name"],
        json!(["|", ["=", "name", "inst99.example.com"]]),
    );
    assert_eq!(e.to_string(), "Instance name inst99.example.com not found");
    assert_eq!(
        e.to_ganeti().encode(),
        json!([
            "OpPrereqError",
            [
                "Instance name inst99.example.com not found",
                "unknown_entity"
            ]
        ])
    );
    let e = qerr(Resource::Node, &["name"], json!(["=", "name", "node9"]));
    assert_eq!(e.to_string(), "Node name node9 not found");
    let e = qerr(Resource::Group, &["name"], json!(["=", "name", "grp9"]));
    assert_eq!(e.to_string(), "NodeGroup name grp9 not found");
    let e = qerr(Resource::Network, &["name"], json!(["=", "name", "net9"]));
    assert_eq!(e.to_string(), "Network name net9 not found");
    // filter rules have no name field; selecting by uuid just filters
    let e = qerr(Resource::Filter, &["uuid"], json!(["=", "name", "f-9"]));
    assert_eq!(e.to_string(), "Can't find field named 'name'");
    assert!(q(
        Resource::Filter,
        &config(),
        &live(),
        &["uuid"],
        Some(json!(["=", "uuid", "f-9"]))
    )
    .is_empty());
    assert_eq!(
        q(
            Resource::Filter,
            &config(),
            &live(),
            &["uuid"],
            Some(json!(["=", "uuid", "f-1"]))
        )
        .len(),
        1
    );
}

#[test]
fn requested_names_helper() {
    assert_eq!(requested_names(Resource::Instance, None), Some(vec![]));
    assert_eq!(
        requested_names(Resource::Instance, Some(&Value::Null)),
        Some(vec![])
    );
    assert_eq!(
        requested_names(
            Resource::Instance,
            Some(&json!(["|", ["=", "name", "a"], ["==", "name", "b"]]))
        ),
        Some(s(&["a", "b"]))
    );
    assert_eq!(
        requested_names(Resource::Instance, Some(&json!(["=", "name", "a"]))),
        Some(s(&["a"]))
    );
    assert_eq!(
        requested_names(Resource::Instance, Some(&json!(["=", "os", "a"]))),
        None
    );
    assert_eq!(
        requested_names(Resource::Instance, Some(&json!(["!=", "name", "a"]))),
        None
    );
    assert_eq!(
        requested_names(Resource::Instance, Some(&json!(["&", ["=", "name", "a"]]))),
        None
    );
    assert_eq!(
        requested_names(Resource::Instance, Some(&json!(["bogus"]))),
        None
    );
    assert_eq!(
        requested_names(
            Resource::Job,
            Some(&json!(["|", ["=", "id", 5], ["=", "id", "7"]]))
        ),
        Some(s(&["5", "7"]))
    );
}

// ---------------------------------------------------------------- unknown fields

#[test]
fn unknown_requested_fields() {
    let cfg = config();
    let l = live();
    let ctx = QueryContext::new(&cfg, &l);
    let r = query(Resource::Instance, &ctx, &s(&["name", "frobfield"]), None).unwrap();
    assert_eq!(r.fields[1], FieldDef::unknown("frobfield"));
    for row in &r.data {
        assert_eq!(row[1], (RS_UNKNOWN, Value::Null));
    }
    assert_eq!(
        r.to_compat().unwrap_err().to_string(),
        "Unknown output fields selected: frobfield"
    );
    let ok = query(
        Resource::Instance,
        &ctx,
        &s(&["name", "network_port"]),
        None,
    )
    .unwrap();
    assert_eq!(
        ok.to_compat().unwrap(),
        vec![
            vec![json!("inst1.example.com"), Value::Null],
            vec![json!("inst2.example.com"), Value::Null],
            vec![json!("inst10.example.com"), json!(11000)],
        ]
    );
    // no fields at all: no definitions, empty rows
    let none = query(Resource::Instance, &ctx, &[], None).unwrap();
    assert!(none.fields.is_empty());
    assert_eq!(none.data, vec![Vec::<Cell>::new(); 3]);
}

#[test]
fn result_wire_shape() {
    let cfg = config();
    let l = live();
    let ctx = QueryContext::new(&cfg, &l);
    let r = query(
        Resource::Instance,
        &ctx,
        &s(&["name", "oper_ram"]),
        Some(&json!(["=", "name", "inst2"])),
    )
    .unwrap();
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#"{"fields":[{"name":"name","title":"Instance","kind":"text","doc":"instance name"},{"name":"oper_ram","title":"Memory","kind":"unit","doc":"memory currently used as reported by the hypervisor (live)"}],"data":[[[0,"inst2.example.com"],[3,null]]]}"#
    );
    let back: QueryResult = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
}

// ---------------------------------------------------------------- nodes

#[test]
fn node_fields() {
    let f = [
        "name",
        "pip",
        "sip",
        "mtotal",
        "mnode",
        "mfree",
        "dtotal",
        "dfree",
        "ctotal",
        "cnos",
        "cnodes",
        "csockets",
        "sptotal",
        "spfree",
        "bootid",
        "pinst_cnt",
        "sinst_cnt",
        "pinst_list",
        "sinst_list",
        "role",
        "master",
        "offline",
        "drained",
        "master_candidate",
        "master_capable",
        "vm_capable",
        "group",
        "group.uuid",
        "powered",
        "hv_state",
        "disk_state",
        "custom_ndparams",
        "ndp/ssh_port",
        "ndp/cpu_speed",
        "ctime",
    ];
    let rows = q(Resource::Node, &config(), &live(), &f, None);
    assert_eq!(
        as_json(&rows[0]),
        json!([
            [0, "node1.example.com"],
            [0, "198.51.100.10"],
            [0, "198.51.100.10"],
            [0, 24105],
            [0, 217],
            [0, 23446],
            [0, 258019],
            [0, 80743],
            [0, 2],
            [0, 2],
            [0, 1],
            [0, 1],
            [2, null],
            [2, null],
            [0, "boot-1"],
            [0, 3],
            [0, 0],
            [
                0,
                [
                    "inst1.example.com",
                    "inst2.example.com",
                    "inst10.example.com"
                ]
            ],
            [0, []],
            [0, "M"],
            [0, true],
            [0, false],
            [0, false],
            [0, true],
            [0, true],
            [0, true],
            [0, "default"],
            [0, G1],
            [3, null],
            [3, null],
            [3, null],
            [0, {}],
            [0, 22],
            [0, 1],
            [0, 1700000000]
        ])
    );
    let nd = q(Resource::Node, &config(), &live(), &["ndparams"], None);
    assert_eq!(
        serde_json::to_string(&nd[0][0].1).unwrap(),
        r#"{"oob_program":"","spindle_count":1,"exclusive_storage":false,"ovs":false,"ovs_name":"switch1","ovs_link":"","ssh_port":22,"cpu_speed":1}"#
    );
}

#[test]
fn node_live_fields_without_answers() {
    let cfg = config();
    let mut l = live();
    l.nodes.clear();
    assert_eq!(col(Resource::Node, &cfg, &l, "mtotal"), json!([[2, null]]));
    let mut off = config();
    off.nodes.get_mut(N1).unwrap().offline = true;
    assert_eq!(
        col(Resource::Node, &off, &live(), "mfree"),
        json!([[4, null]])
    );
    assert_eq!(
        col(Resource::Node, &off, &live(), "role"),
        json!([[0, "M"]])
    );
    let mut c2 = config();
    c2.cluster.master_node = "elsewhere".into();
    c2.nodes.get_mut(N1).unwrap().master_candidate = false;
    c2.nodes.get_mut(N1).unwrap().offline = true;
    assert_eq!(col(Resource::Node, &c2, &live(), "role"), json!([[0, "O"]]));
    // powered is shown only with an out-of-band program
    let mut c3 = config();
    c3.cluster
        .ndparams
        .insert("oob_program".into(), json!("/bin/oob"));
    assert_eq!(
        col(Resource::Node, &c3, &live(), "powered"),
        json!([[0, false]])
    );
}

// ---------------------------------------------------------------- groups & networks

#[test]
fn group_fields() {
    let f = [
        "name",
        "uuid",
        "node_cnt",
        "node_list",
        "pinst_cnt",
        "pinst_list",
        "alloc_policy",
        "custom_ndparams",
        "custom_ipolicy",
        "custom_diskparams",
        "ndp/ovs_name",
        "ctime",
        "tags",
    ];
    let rows = q(Resource::Group, &config(), &live(), &f, None);
    assert_eq!(
        as_json(&rows[0]),
        json!([
            [0, "default"],
            [0, G1],
            [0, 1],
            [0, ["node1.example.com"]],
            [0, 3],
            [
                0,
                [
                    "inst1.example.com",
                    "inst2.example.com",
                    "inst10.example.com"
                ]
            ],
            [0, "preferred"],
            [0, {}],
            [0, {}],
            [0, {}],
            [0, "switch1"],
            [0, 0],
            [0, []]
        ])
    );
    // a whole-number ctime goes out as an integer, as the reference sends it
    let cfg = config();
    let l = live();
    let ctx = QueryContext::new(&cfg, &l);
    let r = query(Resource::Group, &ctx, &s(&["ctime"]), None).unwrap();
    assert!(serde_json::to_string(&r)
        .unwrap()
        .ends_with(r#""data":[[[0,0]]]}"#));
    let dp = q(
        Resource::Group,
        &config(),
        &live(),
        &["diskparams", "ipolicy"],
        None,
    );
    let text = serde_json::to_string(&dp[0][0].1).unwrap();
    assert!(
        text.starts_with(
            r#"{"blockdev":{},"diskless":{},"drbd":{"c-delay-target":1,"c-fill-target":0"#
        ),
        "{text}"
    );
    let ip = serde_json::to_string(&dp[0][1].1).unwrap();
    assert!(ip.contains(r#""std":{"memory-size":128,"disk-size":1024,"disk-count":1,"cpu-count":1,"nic-count":1,"spindle-use":1},"spindle-ratio":32,"vcpu-ratio":4,"disk-templates""#), "{ip}");
}

#[test]
fn group_policy_overrides() {
    let mut cfg = config();
    let g = cfg.nodegroups.get_mut(G1).unwrap();
    g.ipolicy = json!({"std": {"cpu-count": 2}, "vcpu-ratio": 2.5})
        .as_object()
        .unwrap()
        .clone();
    g.ndparams.insert("spindle_count".into(), json!(4));
    let rows = q(
        Resource::Group,
        &cfg,
        &live(),
        &["ipolicy", "ndparams", "custom_ipolicy"],
        None,
    );
    assert_eq!(rows[0][0].1["std"]["cpu-count"], json!(2));
    assert_eq!(rows[0][0].1["std"]["memory-size"], json!(128));
    assert_eq!(rows[0][0].1["vcpu-ratio"], json!(2.5));
    assert_eq!(rows[0][1].1["spindle_count"], json!(4));
    assert_eq!(
        rows[0][2].1,
        json!({"std": {"cpu-count": 2}, "vcpu-ratio": 2.5})
    );
    // node parameters: node over group over cluster
    cfg.nodes
        .get_mut(N1)
        .unwrap()
        .ndparams
        .insert("ssh_port".into(), json!(2222));
    assert_eq!(
        col(Resource::Node, &cfg, &live(), "ndp/ssh_port"),
        json!([[0, 2222]])
    );
    assert_eq!(
        col(Resource::Node, &cfg, &live(), "ndp/spindle_count"),
        json!([[0, 4]])
    );
    assert_eq!(
        col(Resource::Node, &cfg, &live(), "custom_ndparams"),
        json!([[0, {"ssh_port": 2222}]])
    );
}

#[test]
fn network_fields() {
    let f = [
        "name",
        "network",
        "gateway",
        "network6",
        "gateway6",
        "mac_prefix",
        "free_count",
        "reserved_count",
        "external_reservations",
        "group_list",
        "group_cnt",
        "inst_list",
        "inst_cnt",
        "tags",
        "serial_no",
        "ctime",
    ];
    let rows = q(Resource::Network, &config(), &live(), &f, None);
    assert_eq!(
        as_json(&rows[0]),
        json!([
            [0, "net1"],
            [0, "10.1.0.0/24"],
            [0, "10.1.0.1"],
            [3, null],
            [3, null],
            [0, "aa:00:00"],
            [0, 252],
            [0, 4],
            [0, "10.1.0.0, 10.1.0.1, 10.1.0.255"],
            [0, [["default", "bridged", "gntbr0", ""]]],
            [0, 1],
            [0, ["inst10.example.com"]],
            [0, 1],
            [0, []],
            [0, 1],
            [0, 1700000000.25]
        ])
    );
    let map = q(Resource::Network, &config(), &live(), &["map"], None);
    let m = map[0][0].1.as_str().unwrap();
    assert_eq!(m.len(), 256);
    assert!(m.starts_with("XX...X..."));
    assert!(m.ends_with(".X"));
}

// ---------------------------------------------------------------- jobs

fn op(id: &str, extra: Value, status: OpStatus) -> QueuedOpCode {
    let mut input = json!({"OP_ID": id, "priority": 0});
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    QueuedOpCode {
        input: input.as_object().unwrap().clone(),
        status,
        result: Value::Null,
        log: vec![],
        priority: 0,
        start_timestamp: Some((100, 5)),
        exec_timestamp: None,
        end_timestamp: None,
    }
}

fn jobs() -> Vec<Job> {
    let mut j1 = Job {
        id: 1,
        ops: vec![op("OP_CLUSTER_POST_INIT", json!({}), OpStatus::Success)],
        received_timestamp: (1795381387, 431769),
        start_timestamp: Some((1795381387, 657581)),
        end_timestamp: Some((1795381387, 729869)),
        archived: false,
    };
    j1.ops[0].result = json!(true);
    j1.ops[0].log = vec![LogEntry(
        1,
        (1795381387, 700000),
        "message".into(),
        json!("hello"),
    )];
    let mut j2 = Job {
        id: 2,
        ops: vec![
            op(
                "OP_INSTANCE_STARTUP",
                json!({"instance_name": "inst1.example.com"}),
                OpStatus::Error,
            ),
            // not a valid opcode (required parameters missing): bare name
            op(
                "OP_INSTANCE_CREATE",
                json!({"instance_name": "inst1.example.com"}),
                OpStatus::Error,
            ),
        ],
        received_timestamp: (1795381391, 609858),
        start_timestamp: None,
        end_timestamp: None,
        archived: false,
    };
    j2.ops[0].result = json!(["OpPrereqError", ["boom", "wrong_input"]]);
    let j3 = Job {
        id: 3,
        ops: vec![op("OP_OS_DIAGNOSE", json!({}), OpStatus::Success)],
        received_timestamp: (1795381389, 934776),
        start_timestamp: None,
        end_timestamp: None,
        archived: true,
    };
    let mut j10 = Job {
        id: 10,
        ops: vec![
            op(
                "OP_TEST_DELAY",
                json!({"duration": 0.001}),
                OpStatus::Running,
            ),
            op("OP_TEST_DELAY", json!({"duration": 8}), OpStatus::Queued),
        ],
        received_timestamp: (1795381400, 0),
        start_timestamp: Some((1795381401, 0)),
        end_timestamp: None,
        archived: false,
    };
    j10.ops[0].priority = 5;
    j10.ops[1].priority = -3;
    vec![j10, j2, j3, j1]
}

fn job_rows(fields: &[&str], filter: Option<Value>) -> Result<Vec<Vec<Cell>>, QueryError> {
    let cfg = config();
    let l = live();
    let js = jobs();
    let mut ctx = QueryContext::new(&cfg, &l);
    ctx.jobs = &js;
    query(Resource::Job, &ctx, &s(fields), filter.as_ref()).map(|r| r.data)
}

#[test]
fn job_listing_sorted_by_id_without_archived() {
    let rows = job_rows(&["id", "status", "priority", "summary"], None).unwrap();
    assert_eq!(
        json!(rows.iter().map(|r| as_json(r)).collect::<Vec<_>>()),
        json!([
            [[0, 1], [0, "success"], [0, 0], [0, ["CLUSTER_POST_INIT"]]],
            [
                [0, 2],
                [0, "error"],
                [0, 0],
                [
                    0,
                    ["INSTANCE_STARTUP(inst1.example.com)", "INSTANCE_CREATE"]
                ]
            ],
            [
                [0, 10],
                [0, "running"],
                [0, -3],
                [0, ["TEST_DELAY(1.0e-3)", "TEST_DELAY(8.0)"]]
            ],
        ])
    );
    let with_archived = job_rows(&["id", "archived"], None).unwrap();
    assert_eq!(with_archived.len(), 4);
    assert_eq!(with_archived[2], vec![(0, json!(3)), (0, json!(true))]);
}

#[test]
fn job_detail_fields() {
    let rows = job_rows(
        &[
            "ops",
            "opresult",
            "opstatus",
            "oplog",
            "opstart",
            "opexec",
            "opend",
            "oppriority",
            "received_ts",
            "start_ts",
            "end_ts",
        ],
        Some(json!(["=", "id", 1])),
    )
    .unwrap();
    assert_eq!(
        as_json(&rows[0]),
        json!([[0, [{"OP_ID": "OP_CLUSTER_POST_INIT", "priority": 0}]], [0, [true]],
               [0, ["success"]], [0, [[[1, [1795381387, 700000], "message", "hello"]]]],
               [0, [[100, 5]]], [0, [null]], [0, [null]], [0, [0]],
               [0, [1795381387, 431769]], [0, [1795381387, 657581]], [0, [1795381387, 729869]]])
    );
    let rows = job_rows(
        &["start_ts", "end_ts", "opresult"],
        Some(json!(["=", "id", 2])),
    )
    .unwrap();
    assert_eq!(
        as_json(&rows[0]),
        json!([
            [3, null],
            [3, null],
            [0, [["OpPrereqError", ["boom", "wrong_input"]], null]]
        ])
    );
}

#[test]
fn job_ids_in_filters() {
    // named ids keep their order; unknown ids still give a row
    let rows = job_rows(
        &["id", "status"],
        Some(json!([
            "|",
            ["=", "id", 10],
            ["=", "id", 99],
            ["=", "id", 3]
        ])),
    )
    .unwrap();
    assert_eq!(
        json!(rows.iter().map(|r| as_json(r)).collect::<Vec<_>>()),
        json!([
            [[0, 10], [0, "running"]],
            [[0, 99], [3, null]],
            [[0, 3], [0, "success"]]
        ])
    );
    let rows = job_rows(&["id"], Some(json!(["==", "status", "success"]))).unwrap();
    assert_eq!(rows.len(), 1);
    // timestamps compare by their seconds
    let rows = job_rows(&["id"], Some(json!([">", "received_ts", 1795381390]))).unwrap();
    assert_eq!(
        rows.iter().map(|r| r[0].1.clone()).collect::<Vec<_>>(),
        vec![json!(2), json!(10)]
    );
    let e = job_rows(&["id"], Some(json!(["=", "id", "abc"]))).unwrap_err();
    assert_eq!(
        e,
        QueryError::BadJobId {
            value: "abc".into()
        }
    );
    let e = job_rows(&["id"], Some(json!(["=", "id", -1]))).unwrap_err();
    assert!(matches!(e, QueryError::BadJobId { .. }));
}

#[test]
fn job_status_and_priority_rules() {
    use OpStatus::*;
    let job = |st: &[OpStatus]| Job {
        id: 1,
        ops: st
            .iter()
            .map(|s| op("OP_TEST_DUMMY", json!({}), *s))
            .collect(),
        received_timestamp: (0, 0),
        start_timestamp: None,
        end_timestamp: None,
        archived: false,
    };
    assert_eq!(job(&[Success, Success]).status(), Success);
    assert_eq!(job(&[Success, Queued]).status(), Queued);
    assert_eq!(job(&[Running, Queued]).status(), Running);
    assert_eq!(job(&[Success, Waiting]).status(), Waiting);
    assert_eq!(job(&[Running, Error]).status(), Error);
    assert_eq!(job(&[Canceling, Canceling]).status(), Canceling);
    assert_eq!(job(&[Canceled]).status(), Canceled);
    let mut j = job(&[Success, Success]);
    j.ops[0].priority = 10;
    assert_eq!(j.priority(), 0);
}

// ---------------------------------------------------------------- cluster & small resources

#[test]
fn cluster_fields() {
    let cfg = config();
    let l = live();
    let mut ctx = QueryContext::new(&cfg, &l);
    ctx.drain_flag = true;
    let f = [
        "name",
        "cluster_name",
        "master_node",
        "drain_flag",
        "watcher_pause",
        "tags",
        "software_version",
        "protocol_version",
        "config_version",
        "os_api_version",
        "export_version",
        "volume_group_name",
        "ctime",
        "architecture",
    ];
    let r = query(Resource::Cluster, &ctx, &s(&f), None).unwrap();
    let row = &r.data[0];
    assert_eq!(
        as_json(&row[..13]),
        json!([
            [0, "cluster.example.com"],
            [0, "cluster.example.com"],
            [0, "node1.example.com"],
            [0, true],
            [3, null],
            [0, ["ctag1"]],
            [0, "3.0.2"],
            [0, 3000000],
            [0, 3000000],
            [0, 20],
            [0, 0],
            [0, null],
            [0, 1700000000.5]
        ])
    );
    assert_eq!(row[13].1.as_array().map(Vec::len), Some(2));
    ctx.watcher_pause = Some(1795381500.0);
    let r = query(Resource::Cluster, &ctx, &s(&["watcher_pause"]), None).unwrap();
    assert_eq!(r.data[0][0], (0, json!(1795381500.0)));
}

#[test]
fn filter_rules_locks_and_exports() {
    let f = [
        "uuid",
        "watermark",
        "priority",
        "predicates",
        "action",
        "reason_trail",
    ];
    let rows = q(Resource::Filter, &config(), &live(), &f, None);
    assert_eq!(
        as_json(&rows[0]),
        json!([
            [0, "f-1"],
            [0, 96],
            [0, 10],
            [0, [["opcode", ["==", "OP_ID", "OP_TEST_DELAY"]]]],
            [0, "REJECT"],
            [0, [["luxid", "", 1795447109532580000u64]]]
        ])
    );

    let cfg = config();
    let l = live();
    let locks = vec![
        LockInfo {
            name: "instance/inst10".into(),
            owners: vec![],
            pending: vec![],
        },
        LockInfo {
            name: "instance/inst2".into(),
            owners: vec![("job:5".into(), false), ("job:6".into(), false)],
            pending: vec![("job:7".into(), true)],
        },
    ];
    let mut ctx = QueryContext::new(&cfg, &l);
    ctx.locks = &locks;
    let r = query(
        Resource::Lock,
        &ctx,
        &s(&["name", "mode", "owner", "pending"]),
        None,
    )
    .unwrap();
    assert_eq!(
        json!(r.data.iter().map(|r| as_json(r)).collect::<Vec<_>>()),
        json!([
            [
                [0, "instance/inst2"],
                [0, "shared"],
                [0, ["job:5", "job:6"]],
                [0, [["exclusive", ["job:7"]]]]
            ],
            [[0, "instance/inst10"], [0, null], [0, []], [0, []]],
        ])
    );

    let mut l2 = live();
    l2.exports.insert(
        N1.into(),
        vec!["a.example.com".into(), "b.example.com".into()],
    );
    let rows = q(
        Resource::Export,
        &cfg,
        &l2,
        &["node", "export"],
        Some(json!(["=", "node", "node1"])),
    );
    assert_eq!(
        json!(rows.iter().map(|r| as_json(r)).collect::<Vec<_>>()),
        json!([
            [[0, "node1.example.com"], [0, "a.example.com"]],
            [[0, "node1.example.com"], [0, "b.example.com"]]
        ])
    );
    let mut l3 = live();
    l3.nodes.clear();
    l3.node_errors
        .insert(N1.into(), NodeFailure::Error("down".into()));
    let rows = q(Resource::Export, &cfg, &l3, &["node", "export"], None);
    assert_eq!(
        as_json(&rows[0]),
        json!([[0, "node1.example.com"], [2, null]])
    );
    assert!(q(Resource::Os, &cfg, &l3, &["name"], None).is_empty());
}

// ---------------------------------------------------------------- live-data hints

#[test]
fn live_data_hints() {
    let f = |v: &[&str]| s(v);
    assert!(!needs_live_data(
        Resource::Instance,
        &f(&["name", "os"]),
        None
    ));
    assert!(needs_live_data(
        Resource::Instance,
        &f(&["name", "status"]),
        None
    ));
    assert!(needs_live_data(
        Resource::Instance,
        &f(&["name"]),
        Some(&json!(["?", "oper_state"]))
    ));
    assert!(!needs_live_data(
        Resource::Instance,
        &f(&["name"]),
        Some(&json!(["?", "admin_up"]))
    ));
    assert!(needs_live_data(Resource::Node, &f(&["mtotal"]), None));
    assert!(!needs_live_data(
        Resource::Node,
        &f(&["name", "pinst_cnt"]),
        None
    ));
    assert!(!needs_live_data(Resource::Group, &f(&["name"]), None));
    assert!(!needs_live_data(Resource::Job, &f(&["status"]), None));
    assert!(needs_live_data(Resource::Export, &f(&["node"]), None));
    assert!(needs_console(&f(&["console"])));
    assert!(!needs_console(&f(&["status"])));
}

#[test]
fn resources_parse() {
    for r in Resource::ALL {
        assert_eq!(Resource::parse(r.as_str()), Some(r));
        assert_eq!(r.as_str().parse::<Resource>(), Ok(r));
    }
    let e = Resource::from_wire("frob").unwrap_err();
    assert_eq!(e.to_ganeti().error_class(), Some(ErrorClass::WrongInput));
    assert_eq!(Resource::Job.name_field(), "id");
}

#[test]
fn hypervisor_globals_are_hidden_and_os_overrides_apply() {
    let mut cfg = config();
    cfg.cluster.os_hvp = json!({"noop": {"fake": {"frob": "os-level"}}})
        .as_object()
        .unwrap()
        .clone();
    let rows = q(
        Resource::Instance,
        &cfg,
        &live(),
        &["hvparams"],
        Some(json!(["=", "name", "inst1"])),
    );
    assert_eq!(rows[0][0].1, json!({"frob": "os-level"}));
}
