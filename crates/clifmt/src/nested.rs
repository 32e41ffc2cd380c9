//! The indented YAML-like output of `gnt-* info` (`cli.PrintGenericInfo`)
//! and the "own value or `default (...)`" parameter listing
//! (`cli.FormatParamsDictInfo`).
//!
//! Why: `gnt-cluster info`, `gnt-instance info`, `gnt-job info`,
//! `gnt-group info` and others print one tree of values whose layout
//! (`key: ` with a trailing space before nested values, `- ` list items,
//! sorted dict keys but ordered "key/value lists", aligned values within an
//! alignment group) is fixed by Ganeti's serializer. [`Info`] mirrors the
//! Python shapes that serializer distinguishes, so a caller builds the same
//! tree Ganeti builds and gets the same bytes.

use serde_json::Value;

use crate::pystr;

/// One node of the tree `PrintGenericInfo` prints.
#[derive(Debug, Clone, PartialEq)]
pub enum Info {
    /// A scalar, printed as is (Python: `str(value)`).
    Text(String),
    /// A dict: printed with its keys sorted.
    Dict(Vec<(String, Info)>),
    /// A list of `(key, value[, group])` tuples: an ordered dict. Values of
    /// entries sharing an alignment group start in the same column.
    Ordered(Vec<Entry>),
    /// A list: each item starts with `- `.
    List(Vec<Info>),
    /// A tuple of scalars, printed inline as `[a, b, c]`.
    Inline(Vec<String>),
}

/// One entry of [`Info::Ordered`].
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// The value.
    pub value: Info,
    /// The alignment group, if any.
    pub group: Option<String>,
}

impl Entry {
    /// An entry without alignment.
    pub fn new(key: impl Into<String>, value: Info) -> Self {
        Self {
            key: key.into(),
            value,
            group: None,
        }
    }

    /// An entry aligned with the others of `group`.
    pub fn aligned(key: impl Into<String>, value: Info, group: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value,
            group: Some(group.into()),
        }
    }
}

impl Info {
    /// A scalar.
    pub fn text(s: impl Into<String>) -> Self {
        Info::Text(s.into())
    }

    /// An ordered dict from `(key, value)` pairs.
    pub fn ordered<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Info)>) -> Self {
        Info::Ordered(pairs.into_iter().map(|(k, v)| Entry::new(k, v)).collect())
    }

    /// A dict (sorted when printed) from `(key, value)` pairs.
    pub fn dict<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Info)>) -> Self {
        Info::Dict(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A list of scalars.
    pub fn text_list<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Self {
        Info::List(items.into_iter().map(|s| Info::Text(s.into())).collect())
    }

    /// The tree of a JSON-decoded value: objects are dicts, arrays are
    /// lists, scalars print as Python's `str()` (`None`, `True`, `0.001`).
    pub fn from_json(value: &Value) -> Self {
        match value {
            Value::Object(map) => Info::Dict(
                map.iter()
                    .map(|(k, v)| (k.clone(), Info::from_json(v)))
                    .collect(),
            ),
            Value::Array(items) => Info::List(items.iter().map(Info::from_json).collect()),
            other => Info::Text(pystr::py_str(other)),
        }
    }
}

impl From<&str> for Info {
    fn from(s: &str) -> Self {
        Info::Text(s.to_string())
    }
}

impl From<String> for Info {
    fn from(s: String) -> Self {
        Info::Text(s)
    }
}

const INDENT: &str = "  ";

fn indent(buf: &mut String, level: usize) {
    for _ in 0..level {
        buf.push_str(INDENT);
    }
}

/// Writes the items of a keyed container (dict or ordered dict).
fn serialize_keyed<'a>(
    buf: &mut String,
    entries: impl Iterator<Item = (&'a str, &'a Info, usize)>,
    level: usize,
    afterkey: bool,
) {
    if afterkey {
        buf.push('\n');
    }
    for (idx, (key, value, pad)) in entries.enumerate() {
        if idx > 0 || afterkey {
            indent(buf, level);
        }
        buf.push_str(key);
        buf.push_str(": ");
        buf.extend(std::iter::repeat_n(' ', pad));
        serialize(buf, value, level + 1, true);
    }
}

fn serialize(buf: &mut String, data: &Info, level: usize, afterkey: bool) {
    match data {
        Info::Dict(pairs) if pairs.is_empty() => buf.push('\n'),
        Info::Dict(pairs) => {
            let mut sorted: Vec<&(String, Info)> = pairs.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            serialize_keyed(
                buf,
                sorted.into_iter().map(|(k, v)| (k.as_str(), v, 0)),
                level,
                afterkey,
            );
        }
        Info::Ordered(entries) if entries.is_empty() => buf.push('\n'),
        Info::Ordered(entries) => {
            let width_of = |group: &str| {
                entries
                    .iter()
                    .filter(|e| e.group.as_deref() == Some(group))
                    .map(|e| e.key.chars().count())
                    .max()
                    .unwrap_or(0)
            };
            let padded = entries.iter().map(|e| {
                let pad = e
                    .group
                    .as_deref()
                    .map_or(0, |g| width_of(g).saturating_sub(e.key.chars().count()));
                (e.key.as_str(), &e.value, pad)
            });
            serialize_keyed(buf, padded, level, afterkey);
        }
        Info::Inline(items) => {
            buf.push('[');
            buf.push_str(&pystr::comma_join(items));
            buf.push_str("]\n");
        }
        Info::List(items) if items.is_empty() => buf.push('\n'),
        Info::List(items) => {
            if afterkey {
                buf.push('\n');
            }
            for (idx, item) in items.iter().enumerate() {
                if idx > 0 || afterkey {
                    indent(buf, level);
                }
                buf.push_str("- ");
                serialize(buf, item, level + 1, false);
            }
        }
        Info::Text(s) => {
            buf.push_str(s);
            buf.push('\n');
        }
    }
}

/// The text `PrintGenericInfo` prints, without the final newline (Ganeti
/// strips trailing newlines and prints one).
pub fn render_generic_info(data: &Info) -> String {
    let mut buf = String::new();
    serialize(&mut buf, data, 0, false);
    let trimmed = buf.trim_end_matches('\n').len();
    buf.truncate(trimmed);
    buf
}

/// `cli.FormatParamsDictInfo(own, actual)`: for every parameter of the
/// effective set `actual`, the own value (`str()`) or `default (<actual>)`;
/// non-empty nested dicts recurse with the matching part of `own`.
/// Non-object inputs are treated as empty dicts.
pub fn format_params_dict_info(own: &Value, actual: &Value) -> Info {
    let empty = serde_json::Map::new();
    let own_map = own.as_object().unwrap_or(&empty);
    let actual_map = actual.as_object().unwrap_or(&empty);
    let mut out = Vec::with_capacity(actual_map.len());
    for (key, data) in actual_map {
        let value = match data {
            Value::Object(inner) if !inner.is_empty() => format_params_dict_info(
                own_map
                    .get(key)
                    .unwrap_or(&Value::Object(serde_json::Map::new())),
                data,
            ),
            _ => Info::Text(match own_map.get(key) {
                Some(mine) => pystr::py_str(mine),
                None => format!("default ({})", pystr::py_str(data)),
            }),
        };
        out.push((key.clone(), value));
    }
    Info::Dict(out)
}

/// `_FormatListInfoDefault`: the own list comma-joined, or
/// `default (<effective list>)` when there is none.
pub fn format_list_info_default(own: Option<&[String]>, default: &[String]) -> String {
    match own {
        Some(items) => pystr::comma_join(items),
        None => format!("default ({})", pystr::comma_join(default)),
    }
}

/// The "Usage map" block of `gnt-network info`: the address map in rows
/// of 64 (`     <first> <row> <last>`) followed by the legend line.
pub fn network_usage_map(map: &str) -> Vec<String> {
    let chars: Vec<char> = map.chars().collect();
    let mut lines: Vec<String> = chars
        .chunks(64)
        .enumerate()
        .map(|(n, row)| {
            let first = n * 64;
            let row: String = row.iter().collect();
            format!("     {first:>4} {row:<64} {}", first + 63)
        })
        .collect();
    lines.push("         (X) used    (.) free".to_string());
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What Ganeti 3.0.2 printed for a recorded case.
    fn fixture(name: &str) -> Option<String> {
        ganeti_fixtures::cli(&format!("{name}.out"))
    }

    fn t(s: &str) -> Info {
        Info::text(s)
    }

    fn specs(cpu: u32, disks: u32, dsize: u32, mem: u32, nics: u32, spindles: u32) -> Value {
        json!({"cpu-count": cpu, "disk-count": disks, "disk-size": dsize,
               "memory-size": mem, "nic-count": nics, "spindle-use": spindles})
    }

    /// The tree `gnt-cluster info` builds for the reference cluster.
    fn cluster_info_tree() -> Info {
        let hvparams = json!({"fake": {"migration_mode": "live"}});
        let params = Info::ordered([
            ("candidate pool size", t("10")),
            ("maximal number of jobs running simultaneously", t("20")),
            (
                "maximal number of jobs simultaneously tracked by the scheduler",
                t("25"),
            ),
            ("mac prefix", t("aa:00:00")),
            ("master netdev", t("gntbr0")),
            ("master netmask", t("24")),
            ("use external master IP address setup script", t("False")),
            ("lvm volume group", t("None")),
            ("lvm reserved volumes", t("(none)")),
            ("drbd usermode helper", t("None")),
            ("file storage path", t("/srv/ganeti/file-storage")),
            (
                "shared file storage path",
                t("/srv/ganeti/shared-file-storage"),
            ),
            ("gluster storage path", t("/var/run/ganeti/gluster")),
            ("maintenance of node health", t("False")),
            ("uid pool", t("")),
            ("default instance allocator", t("hail")),
            (
                "default instance allocator parameters",
                Info::from_json(&json!({})),
            ),
            ("primary ip version", t("4")),
            ("preallocation wipe disks", t("False")),
            (
                "OS search path",
                t(&pystr::comma_join([
                    "/srv/ganeti/os",
                    "/usr/local/lib/ganeti/os",
                    "/usr/lib/ganeti/os",
                    "/usr/share/ganeti/os",
                ])),
            ),
            (
                "ExtStorage Providers search path",
                t(&pystr::comma_join([
                    "/srv/ganeti/extstorage",
                    "/usr/local/lib/ganeti/extstorage",
                    "/usr/lib/ganeti/extstorage",
                    "/usr/share/ganeti/extstorage",
                ])),
            ),
            ("enabled disk templates", t("file, sharedfile, diskless")),
            ("install image", t("")),
            ("instance communication network", t("")),
            ("zeroing image", t("")),
            (
                "compression tools",
                Info::text_list(["gzip", "gzip-fast", "gzip-slow"]),
            ),
            ("enabled user shutdown", t("False")),
            ("modify ssh setup", t("False")),
            ("ssh_key_type", t("rsa")),
            ("ssh_key_bits", t("2048")),
        ]);
        let ndparams = json!({"cpu_speed": 1, "exclusive_storage": false, "oob_program": "",
            "ovs": false, "ovs_link": "", "ovs_name": "switch1", "spindle_count": 1,
            "ssh_port": 22});
        let beparams = json!({"default": {"always_failover": false, "auto_balance": true,
            "maxmem": 128, "minmem": 128, "spindle_use": 1, "vcpus": 1}});
        let nicparams = json!({"default": {"link": "gntbr0", "mode": "bridged", "vlan": ""}});
        let diskparams = json!({
            "blockdev": {}, "diskless": {},
            "drbd": {"c-delay-target": 1, "c-fill-target": 0, "c-max-rate": 61440,
                     "c-min-rate": 4096, "c-plan-ahead": 20, "data-stripes": 1,
                     "disk-barriers": "n", "disk-custom": "", "dynamic-resync": false,
                     "meta-barriers": false, "meta-stripes": 1, "metavg": "xenvg",
                     "net-custom": "", "protocol": "C", "resync-rate": 61440},
            "ext": {"access": "kernelspace"}, "file": {},
            "gluster": {"access": "kernelspace", "host": "127.0.0.1", "port": 24007,
                        "volume": "gv0"},
            "plain": {"stripes": 1},
            "rbd": {"access": "kernelspace", "pool": "rbd"},
            "sharedfile": {}});
        let maxs = specs(8, 16, 1_048_576, 32768, 8, 12);
        let mins = specs(1, 1, 1024, 128, 1, 1);
        let std = specs(1, 1, 1024, 128, 1, 1);
        let ipolicy = Info::ordered([
            (
                "bounds specs",
                Info::List(vec![Info::ordered([
                    ("max/0", format_params_dict_info(&maxs, &maxs)),
                    ("min/0", format_params_dict_info(&mins, &mins)),
                ])]),
            ),
            ("std", format_params_dict_info(&std, &std)),
            ("allowed disk templates", t("sharedfile, file, diskless")),
            ("spindle-ratio", t("32")),
            ("vcpu-ratio", t("4")),
        ]);
        let collectors: Vec<(String, Info)> = [
            "cpu-avg-load",
            "diskstats",
            "drbd",
            "inst-status-xen",
            "lv",
            "xen-cpu-avg-load",
        ]
        .iter()
        .map(|name| {
            (
                name.to_string(),
                Info::dict([("active", t("True")), ("interval", t("5.000s"))]),
            )
        })
        .collect();
        Info::ordered([
            ("Cluster name", t("cluster.example.com")),
            ("Cluster UUID", t("8b1a6fda-7586-4084-a145-8d7846fbc004")),
            ("Creation time", t("2026-11-23 15:16:00")),
            ("Modification time", t("2026-11-23 15:16:02")),
            ("Master node", t("node1.example.com")),
            ("Architecture (this node)", t("64bits (x86_64)")),
            ("Tags", t("(none)")),
            ("Default hypervisor", t("fake")),
            ("Enabled hypervisors", t("fake")),
            ("Hypervisor parameters", Info::from_json(&hvparams)),
            (
                "OS-specific hypervisor parameters",
                Info::from_json(&json!({})),
            ),
            ("OS parameters", Info::from_json(&json!({}))),
            ("Hidden OSes", t("")),
            ("Blacklisted OSes", t("")),
            ("Cluster parameters", params),
            ("Default node parameters", Info::from_json(&ndparams)),
            ("Default instance parameters", Info::from_json(&beparams)),
            ("Default nic parameters", Info::from_json(&nicparams)),
            ("Default disk parameters", Info::from_json(&diskparams)),
            ("Instance policy - limits for instances", ipolicy),
            ("Data collectors", Info::Dict(collectors)),
        ])
    }

    #[test]
    fn cluster_info_matches_fixture_byte_for_byte() {
        let mut text = render_generic_info(&cluster_info_tree());
        text.push('\n');
        assert!(text.starts_with("Cluster name: cluster.example.com\n"));
        assert!(text.contains("Hypervisor parameters: \n  fake: \n    migration_mode: live\n"));
        assert!(text.contains("  compression tools: \n    - gzip\n    - gzip-fast\n"));
        assert!(text.contains("  bounds specs: \n    - max/0: \n        cpu-count: 8\n"));
        if let Some(want) = fixture("cluster_info") {
            assert_eq!(text, want);
        }
    }

    #[test]
    fn job_info_matches_fixture() {
        let opcode = json!({"OP_ID": "OP_TEST_DELAY", "comment": null, "debug_level": 0,
            "depends": null, "dry_run": false, "duration": 0.001, "interruptible": false,
            "no_locks": false, "on_master": true,
            "on_node_uuids": ["9ccd3700-90e2-438d-a116-962b6c671464"], "on_nodes": [],
            "priority": 0,
            "reason": [["gnt:client:gnt-debug", "delay", 1_795_447_094_203_399_168u64],
                       ["gnt:opcode:test_delay", "job=87;index=0", 1_795_447_094_204_976_000u64]],
            "repeat": 0});
        let ts = |k: &str, v: &str| Entry::aligned(k, t(v), "opcode_timestamp");
        let jts = |k: &str, v: &str| Entry::aligned(k, t(v), "job_timestamp");
        let op_info = Info::Ordered(vec![
            Entry::new("Opcode", t("OP_TEST_DELAY")),
            Entry::new("Status", t("success")),
            ts("Processing start", "2026-11-23 15:18:14.382137"),
            ts("Execution start", "2026-11-23 15:18:14.387183"),
            ts("Processing end", "2026-11-23 15:18:14.437275"),
            Entry::new("Input fields", Info::from_json(&opcode)),
            Entry::new("Result", Info::from_json(&json!(null))),
            Entry::new("Execution log", Info::List(vec![])),
        ]);
        let job = Info::Ordered(vec![
            Entry::new("Job ID", t("87")),
            Entry::new("Status", t("success")),
            jts("Received", "2026-11-23 15:18:14.204976"),
            jts(
                "Processing start",
                "2026-11-23 15:18:14.382137 (delta 0.177161s)",
            ),
            jts(
                "Processing end",
                "2026-11-23 15:18:14.437286 (delta 0.055149s)",
            ),
            Entry::new("Total processing time", t("0.232310 seconds")),
            Entry::new("Opcodes", Info::List(vec![op_info])),
        ]);
        let mut text = render_generic_info(&Info::List(vec![job]));
        text.push('\n');
        assert!(text.contains("  Received:         2026-11-23 15:18:14.204976\n"));
        assert!(text.ends_with("      Execution log: \n"));
        if let Some(want) = fixture("job_info_success") {
            assert_eq!(text, want);
        }
    }

    #[test]
    fn group_info_defaults_match_fixture() {
        let nd = json!({"cpu_speed": 1, "exclusive_storage": false, "oob_program": "",
            "ovs": false, "ovs_link": "", "ovs_name": "switch1", "spindle_count": 1,
            "ssh_port": 22});
        let disk = json!({"blockdev": {}, "diskless": {},
            "drbd": {"c-delay-target": 1, "c-fill-target": 0, "c-max-rate": 61440,
                     "c-min-rate": 4096, "c-plan-ahead": 20, "data-stripes": 1,
                     "disk-barriers": "n", "disk-custom": "", "dynamic-resync": false,
                     "meta-barriers": false, "meta-stripes": 1, "metavg": "xenvg",
                     "net-custom": "", "protocol": "C", "resync-rate": 61440},
            "ext": {"access": "kernelspace"}, "file": {},
            "gluster": {"access": "kernelspace", "host": "127.0.0.1", "port": 24007,
                        "volume": "gv0"},
            "plain": {"stripes": 1}, "rbd": {"access": "kernelspace", "pool": "rbd"},
            "sharedfile": {}});
        let mins = specs(1, 1, 1024, 128, 1, 1);
        let maxs = specs(8, 16, 1_048_576, 32768, 8, 12);
        let none = json!({});
        let templates: Vec<String> = ["sharedfile", "file", "diskless"]
            .map(String::from)
            .to_vec();
        let group = Info::Ordered(vec![
            Entry::new("Node group", t("default")),
            Entry::new("Node parameters", format_params_dict_info(&none, &nd)),
            Entry::new("Disk parameters", format_params_dict_info(&none, &disk)),
            Entry::new(
                "Instance policy",
                Info::ordered([
                    (
                        "bounds specs",
                        Info::List(vec![Info::ordered([
                            ("min/0", format_params_dict_info(&none, &mins)),
                            ("max/0", format_params_dict_info(&none, &maxs)),
                        ])]),
                    ),
                    (
                        "allowed disk templates",
                        t(&format_list_info_default(None, &templates)),
                    ),
                    ("spindle-ratio", t("default (32)")),
                    ("vcpu-ratio", t("default (4)")),
                ]),
            ),
        ]);
        let mut text = render_generic_info(&Info::List(vec![group]));
        text.push('\n');
        assert!(text.contains("    blockdev: default ({})\n"));
        if let Some(want) = fixture("group_info_default") {
            assert_eq!(text, want);
        }
    }

    #[test]
    fn instance_info_nic_and_disk_shapes() {
        // "- nic/0: " then the other keys of the same ordered dict indented
        let nic = Info::ordered([
            ("nic/0", t("")),
            ("MAC", t("aa:00:00:17:98:77")),
            ("IP", t("None")),
        ]);
        let tree = Info::ordered([
            ("NICs", Info::List(vec![nic])),
            ("Disk template", t("file")),
            (
                "Disks",
                Info::List(vec![Info::ordered([
                    ("disk/0", t("file, size 128M")),
                    ("access mode", t("rw")),
                ])]),
            ),
        ]);
        assert_eq!(
            render_generic_info(&Info::List(vec![tree])),
            "- NICs: \n    - nic/0: \n      MAC: aa:00:00:17:98:77\n      IP: None\n  \
             Disk template: file\n  Disks: \n    - disk/0: file, size 128M\n      access mode: rw"
        );
    }

    #[test]
    fn generic_shapes() {
        // empty containers after a key leave "key: " alone on its line
        let tree = Info::ordered([
            ("a", Info::Dict(vec![])),
            ("b", Info::List(vec![])),
            ("c", Info::Ordered(vec![])),
            (
                "d",
                Info::Inline(vec!["1".into(), "message".into(), "hello".into()]),
            ),
            ("e", Info::Inline(vec![])),
        ]);
        assert_eq!(
            render_generic_info(&tree),
            "a: \nb: \nc: \nd: [1, message, hello]\ne: []"
        );
        // dict keys are sorted by code point (upper case first)
        let d = Info::dict([("b", t("2")), ("OP_ID", t("x")), ("a", t("1"))]);
        assert_eq!(render_generic_info(&d), "OP_ID: x\na: 1\nb: 2");
        // nested lists of lists
        let l = Info::from_json(&json!([["x", 1], ["y", null]]));
        assert_eq!(render_generic_info(&l), "- - x\n  - 1\n- - y\n  - None");
        // top-level scalars and trailing newlines in values are stripped at the end only
        assert_eq!(render_generic_info(&t("x\n\n")), "x");
        let l = Info::from_json(&json!(["a\n", "b"]));
        assert_eq!(render_generic_info(&l), "- a\n\n- b");
        // alignment groups: only entries of the same group are aligned
        let al = Info::Ordered(vec![
            Entry::aligned("k", t("1"), "g"),
            Entry::aligned("long key", t("2"), "g"),
            Entry::new("other", t("3")),
            Entry::aligned("kk", t("4"), "h"),
        ]);
        assert_eq!(
            render_generic_info(&al),
            "k:        1\nlong key: 2\nother: 3\nkk: 4"
        );
        assert_eq!(render_generic_info(&Info::List(vec![])), "");
        assert_eq!(Info::from("s"), Info::Text("s".into()));
        assert_eq!(Info::from(String::from("s")), t("s"));
    }

    #[test]
    fn network_usage_map_matches_fixture() {
        let map = format!("XX...X{}X", ".".repeat(249));
        let lines = network_usage_map(&map);
        assert_eq!(lines.len(), 5);
        assert_eq!(
            lines[0],
            "        0 XX...X.......................................................... 63"
        );
        assert_eq!(lines[4], "         (X) used    (.) free");
        if let Some(want) = fixture("network_info") {
            let block = format!("  Usage map:\n{}\n", lines.join("\n"));
            assert!(want.contains(&block), "{block}");
        }
        // a short map (a /28) is padded to 64 columns
        let short = network_usage_map("X..............X");
        assert_eq!(short[0], format!("        0 {:<64} 63", "X..............X"));
        assert_eq!(network_usage_map(""), ["         (X) used    (.) free"]);
    }

    #[test]
    fn params_dict_info_uses_own_values() {
        let own = json!({"memory": 256, "sub": {"x": "mine"}});
        let actual = json!({"memory": 256, "vcpus": 1, "sub": {"x": "mine", "y": [1, "a"]},
                            "empty": {}});
        let info = format_params_dict_info(&own, &actual);
        assert_eq!(
            render_generic_info(&info),
            "empty: default ({})\nmemory: 256\nsub: \n  x: mine\n  y: default ([1, 'a'])\n\
             vcpus: default (1)"
        );
        // non-objects are empty dicts
        assert_eq!(
            format_params_dict_info(&json!(null), &json!(5)),
            Info::Dict(vec![])
        );
        assert_eq!(
            format_list_info_default(Some(&["a".to_string(), "b".to_string()]), &[]),
            "a, b"
        );
    }
}
