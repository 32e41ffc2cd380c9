//! The `os` resource: combining node reports as Ganeti's master does, the
//! hidden/blacklist flags, name selection and filtering.

use ganeti_types::{ConfigData, GanetiError, OsDiagnosis};
use serde_json::{json, Value};

use crate::{fields, query, LiveData, QueryContext, Resource, RS_NORMAL};

const N1: &str = "n-1";
const N2: &str = "n-2";

fn node(uuid: &str, name: &str) -> Value {
    json!({
        "uuid": uuid, "name": name, "primary_ip": "198.51.100.10",
        "secondary_ip": "198.51.100.10", "group": "g-1", "master_candidate": true,
        "offline": false, "drained": false, "master_capable": true, "vm_capable": true,
        "serial_no": 1, "ctime": 0.0, "mtime": 0.0
    })
}

fn config() -> ConfigData {
    serde_json::from_value(json!({
        "version": 3000000,
        "cluster": {
            "uuid": "c-1", "cluster_name": "cluster.example.com", "master_node": N1,
            "master_ip": "198.51.100.1", "mac_prefix": "aa:00:00",
            "default_hypervisor": "fake", "enabled_hypervisors": ["fake"],
            "enabled_disk_templates": ["diskless"],
            "hvparams": {}, "beparams": {}, "nicparams": {}, "ndparams": {},
            "diskparams": {}, "ipolicy": {}, "candidate_pool_size": 10,
            "hidden_os": ["hid"], "blacklisted_os": ["black"],
            "os_hvp": {"img+v1": {"fake": {"x": 1}}, "img": {"fake": {"y": 2}}},
            "osparams": {"img+v2": {"image": "/a"}, "img+gone": {"image": "/b"}},
            "serial_no": 1, "ctime": 0.0, "mtime": 0.0
        },
        "nodes": {N1: node(N1, "node1.example.com"), N2: node(N2, "node2.example.com")},
        "serial_no": 1, "ctime": 0.0, "mtime": 0.0
    }))
    .unwrap()
}

fn valid(name: &str, dir: &str, api: &[i64], variants: &[&str], params: &[&str]) -> OsDiagnosis {
    OsDiagnosis {
        name: name.into(),
        path: format!("{dir}/{name}"),
        valid: true,
        message: String::new(),
        variants: variants.iter().map(|s| s.to_string()).collect(),
        parameters: params
            .iter()
            .map(|p| vec![p.to_string(), format!("the {p}")])
            .collect(),
        api_versions: api.to_vec(),
        trusted: true,
    }
}

fn invalid(name: &str, dir: &str, msg: &str) -> OsDiagnosis {
    OsDiagnosis {
        name: name.into(),
        path: format!("{dir}/{name}"),
        message: msg.into(),
        trusted: true,
        ..OsDiagnosis::default()
    }
}

/// Values of `fields` for every row (all statuses must be normal).
fn rows(live: &LiveData, fields: &[&str], filter: Option<Value>) -> Result<Value, GanetiError> {
    let cfg = config();
    let ctx = QueryContext::new(&cfg, live);
    let fields: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
    let res = query(Resource::Os, &ctx, &fields, filter.as_ref()).map_err(|e| e.to_ganeti())?;
    let out: Vec<Value> = res
        .data
        .iter()
        .map(|row| {
            Value::Array(
                row.iter()
                    .map(|(st, v)| {
                        assert_eq!(*st, RS_NORMAL);
                        v.clone()
                    })
                    .collect(),
            )
        })
        .collect();
    Ok(Value::Array(out))
}

const D1: &str = "/srv/ganeti/os";
const D2: &str = "/usr/share/ganeti/os";

fn two_nodes() -> LiveData {
    let mut l = LiveData::default();
    l.os.insert(
        N1.into(),
        vec![
            valid(
                "img",
                D1,
                &[15, 20],
                &["v2", "v10", "v1"],
                &["size", "image"],
            ),
            valid("noop", D1, &[10, 5], &[], &[]),
            invalid("img", D2, "shadowed one"),
            invalid(
                "broken",
                D1,
                "File 'export' under path '/x' is missing (ENOENT)",
            ),
        ],
    );
    l.os.insert(
        N2.into(),
        vec![
            valid("img", D1, &[20], &["v1", "v2", "v10"], &["image"]),
            valid("noop", D1, &[10], &[], &[]),
            valid("broken", D1, &[20], &[], &[]),
            valid("hid", D1, &[20], &[], &[]),
        ],
    );
    l
}

#[test]
fn valid_only_where_every_answering_node_has_it_valid() {
    let r = rows(&two_nodes(), &["name", "valid"], None).unwrap();
    assert_eq!(
        r,
        json!([
            ["broken", false],
            ["hid", false],
            ["img", true],
            ["noop", true]
        ])
    );
}

#[test]
fn details_are_intersected_and_sorted() {
    let r = rows(
        &two_nodes(),
        &["name", "variants", "parameters", "api_versions", "trusted"],
        Some(json!(["=", "name", "img"])),
    )
    .unwrap();
    assert_eq!(
        r,
        json!([[
            "img",
            ["v1", "v2", "v10"],
            [["image", "the image"]],
            [20],
            true
        ]])
    );
    let r = rows(
        &two_nodes(),
        &["api_versions"],
        Some(json!(["=", "name", "noop"])),
    )
    .unwrap();
    assert_eq!(r, json!([[[10]]]));
}

#[test]
fn node_status_lists_every_search_path_entry_per_node() {
    let r = rows(
        &two_nodes(),
        &["node_status"],
        Some(json!(["=", "name", "img"])),
    )
    .unwrap();
    assert_eq!(
        r[0][0],
        json!({
            N1: [
                ["/srv/ganeti/os/img", true, "", ["v2", "v10", "v1"],
                 [["size", "the size"], ["image", "the image"]], [15, 20], true],
                ["/usr/share/ganeti/os/img", false, "shadowed one", [], [], [], true]
            ],
            N2: [["/srv/ganeti/os/img", true, "", ["v1", "v2", "v10"],
                  [["image", "the image"]], [20], true]]
        })
    );
    // a node that lacks the OS is listed with no entries
    let r = rows(
        &two_nodes(),
        &["node_status"],
        Some(json!(["=", "name", "hid"])),
    )
    .unwrap();
    assert_eq!(r[0][0][N1], json!([]));
}

#[test]
fn invalid_os_has_no_details() {
    let r = rows(
        &two_nodes(),
        &["variants", "parameters", "api_versions", "trusted"],
        Some(json!(["=", "name", "broken"])),
    )
    .unwrap();
    assert_eq!(r, json!([[[], [], [], true]]));
}

#[test]
fn untrusted_on_any_node_makes_it_untrusted() {
    let mut l = two_nodes();
    l.os.get_mut(N2).unwrap()[1].trusted = false;
    let r = rows(&l, &["trusted"], Some(json!(["=", "name", "noop"]))).unwrap();
    assert_eq!(r, json!([[false]]));
}

#[test]
fn failed_nodes_are_ignored_and_empty_answers_count() {
    // only node 1 answered: what it says decides
    let mut l = two_nodes();
    l.os.remove(N2);
    let r = rows(&l, &["name", "valid"], None).unwrap();
    assert_eq!(r, json!([["broken", false], ["img", true], ["noop", true]]));
    // node 2 answered with nothing: every OS is invalid
    l.os.insert(N2.into(), vec![]);
    let r = rows(&l, &["name", "valid"], None).unwrap();
    assert_eq!(
        r,
        json!([["broken", false], ["img", false], ["noop", false]])
    );
    // nothing answered: nothing to list
    assert_eq!(
        rows(&LiveData::default(), &["name"], None).unwrap(),
        json!([])
    );
}

#[test]
fn hidden_blacklisted_and_cluster_parameters() {
    let mut l = LiveData::default();
    l.os.insert(
        N1.into(),
        vec![
            valid("black", D1, &[20], &[], &[]),
            valid("hid", D1, &[20], &[], &[]),
            valid("img", D1, &[20], &["v1", "v2"], &[]),
        ],
    );
    l.os.insert(N2.into(), l.os[N1].clone());
    let r = rows(
        &l,
        &["name", "hidden", "blacklisted", "os_hvp", "osparams"],
        None,
    )
    .unwrap();
    assert_eq!(
        r,
        json!([
            ["black", false, true, {}, {}],
            ["hid", true, false, {}, {}],
            // only OS+variant entries of variants the OS has (not "img" itself)
            ["img", false, false, {"img+v1": {"fake": {"x": 1}}}, {"img+v2": {"image": "/a"}}]
        ])
    );
}

#[test]
fn named_oses_come_in_the_order_asked_and_must_exist() {
    let names = json!([
        "|",
        ["=", "name", "noop"],
        ["=", "name", "img"],
        ["=", "name", "noop"]
    ]);
    let r = rows(&two_nodes(), &["name"], Some(names)).unwrap();
    assert_eq!(r, json!([["noop"], ["img"]]));
    let e = rows(
        &two_nodes(),
        &["name"],
        Some(json!([
            "|",
            ["=", "name", "zz"],
            ["=", "name", "img"],
            ["=", "name", "aa"]
        ])),
    )
    .unwrap_err();
    assert_eq!(
        e.encode(),
        json!([
            "OpExecError",
            ["Some items were removed before retrieving their data: {'aa', 'zz'}"]
        ])
    );
}

#[test]
fn filters_on_os_fields() {
    let r = rows(
        &two_nodes(),
        &["name"],
        Some(json!(["&", ["?", "valid"], ["!", ["?", "hidden"]]])),
    )
    .unwrap();
    assert_eq!(r, json!([["img"], ["noop"]]));
    // a name filter that is not a plain list of names lists all (sorted)
    let r = rows(
        &two_nodes(),
        &["name"],
        Some(json!(["=~", "name", "^[a-i]"])),
    )
    .unwrap();
    assert_eq!(r, json!([["broken"], ["hid"], ["img"]]));
}

#[test]
fn every_os_field_has_a_getter() {
    let all: Vec<String> = fields(Resource::Os, None)
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(all.len(), 11);
    let cfg = config();
    let l = two_nodes();
    let ctx = QueryContext::new(&cfg, &l);
    let res = query(Resource::Os, &ctx, &all, None).unwrap();
    assert_eq!(res.data.len(), 4);
    for row in &res.data {
        for (f, (st, _)) in all.iter().zip(row) {
            assert_eq!(*st, RS_NORMAL, "os field {f}");
        }
    }
    // an unknown field is reported as such, and refused in old-style results
    let res = query(Resource::Os, &ctx, &["name".into(), "frob".into()], None).unwrap();
    assert_eq!(res.data[0][1].0, crate::RS_UNKNOWN);
    assert_eq!(
        res.to_compat().unwrap_err().to_string(),
        "Unknown output fields selected: frob"
    );
}
