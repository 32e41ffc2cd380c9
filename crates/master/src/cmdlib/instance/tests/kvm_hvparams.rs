//! kvm hypervisor parameters of instances: Ganeti's syntax check of the
//! filled dict (cluster < os < instance) refuses bad ones when the job is
//! submitted, so nothing is queued and nothing changes; good ones are kept
//! as given. kvm instances get a network port from the cluster, and give
//! it back when removed.
//!
//! No instance here is started: the checks and the port bookkeeping are the
//! master's, whatever hypervisor the node runs.

use ganeti_types::{now_f64, ErrorClass, GanetiError};
use serde_json::{json, Value};

use super::{op, Env, NODE_NAME};
use crate::state::ConfigOp;

const SET: &str = "OP_INSTANCE_SET_PARAMS";
const I1: &str = "inst1.example.com";
const I2: &str = "inst2.example.com";
const I3: &str = "inst3.example.com";

/// A cluster with kvm enabled beside fake, as `gnt-cluster init` makes it
/// (ports start at Ganeti's first, 11000).
fn kvm_env() -> Env {
    Env::with(|cfg| {
        cfg.cluster.enabled_hypervisors.push("kvm".into());
        cfg.cluster.highest_used_port = 10999;
        cfg.cluster.hvparams.insert(
            "kvm".into(),
            Value::Object(ganeti_types::constants::hv_defaults("kvm")),
        );
    })
}

/// A stopped diskless instance on `hv` with `hvparams`.
fn create_op(name: &str, hv: &str, hvparams: Value) -> Value {
    json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": name, "mode": "create",
        "disk_template": "diskless", "disks": [], "nics": [], "os_type": "noop",
        "hypervisor": hv, "hvparams": hvparams, "pnode": NODE_NAME,
        "name_check": false, "ip_check": false, "start": false, "ignore_ipolicy": true})
}

/// Submission must refuse `o` and leave the configuration as it was.
#[track_caller]
fn refused_at_submit(env: &Env, o: Value) -> GanetiError {
    let before = env.cfg();
    let e = env.m.submit_job(&[o], false).unwrap_err();
    let after = env.cfg();
    assert_eq!(before.instances, after.instances);
    assert_eq!(before.cluster, after.cluster);
    e
}

#[test]
fn bad_kvm_hvparams_are_refused_at_submission() {
    let env = kvm_env();
    for (hvp, msg) in [
        (
            json!({"boot_order": "cdrom"}),
            "Cannot boot from cdrom without an ISO path",
        ),
        (
            json!({"kernel_path": "vmlinuz"}),
            "Parameter 'kernel_path' fails syntax check: must be an absolute normalized path (current value: 'vmlinuz')",
        ),
        (
            json!({"nic_type": "virtio"}),
            "Parameter 'nic_type' fails syntax check: The value must be one of: e1000, i82551, i82557b, i82559er, ne2k_isa, ne2k_pci, paravirtual, pcnet, rtl8139 (current value: 'virtio')",
        ),
        (
            json!({"cpu_mask": "2-1"}),
            "Parameter 'cpu_mask' fails syntax check: Multiple CPU mask definition is not well-formed (current value: '2-1')",
        ),
        (
            json!({"virtio_net_queues": 9}),
            "Parameter 'virtio_net_queues' fails syntax check: invalid number of queues (current value: '9')",
        ),
        (
            json!({"serial_speed": 1000}),
            "Invalid serial console speed, must be one of: 75, 110, 300, 600, 1200, 1800, 2400, 4800, 9600, 14400, 19200, 28800, 38400, 57600, 115200, 230400, 345600, 460800",
        ),
        (
            json!({"root_path": ""}),
            "Need a root partition for the instance, if a kernel is defined",
        ),
        (
            json!({"vnc_bind_address": "not an address"}),
            "VNC: The vnc_bind_address parameter must be either a valid IP address, an interface name, or an absolute path",
        ),
        (
            json!({"spice_use_tls": true}),
            "SPICE: spice_use_tls requires spice_bind to be set",
        ),
        (json!({"frob": 1}), "Parameter 'frob' is not supported"),
    ] {
        let e = refused_at_submit(&env, create_op(I1, "kvm", hvp.clone()));
        assert_eq!(e.message(), msg, "{hvp}");
        assert_eq!(e.class_name(), "HypervisorError", "{hvp}");
    }
    // a wrong type is a parameter error, as before
    let e = refused_at_submit(&env, create_op(I1, "kvm", json!({"acpi": "perhaps"})));
    assert_eq!(e.message(), "'acpi' (value perhaps) is not a valid boolean");
    // cluster-wide parameters cannot be set per instance
    let e = refused_at_submit(&env, create_op(I1, "kvm", json!({"migration_port": 9000})));
    assert_eq!(
        e.message(),
        "The following hypervisor parameters are global and cannot be customized at instance level, please modify them at cluster level: migration_port"
    );
    assert_eq!(e.error_class(), Some(ErrorClass::WrongInput));
    let e = refused_at_submit(
        &env,
        create_op(I1, "fake", json!({"migration_mode": "live"})),
    );
    assert!(
        e.message().ends_with("at cluster level: migration_mode"),
        "{e}"
    );
    // nothing was queued: the next job is the first
    let id = env
        .m
        .submit_job(&[create_op(I1, "kvm", json!({}))], false)
        .unwrap();
    assert_eq!(id, 1);
}

#[test]
fn a_disabled_hypervisor_is_reported_as_such() {
    let env = Env::new();
    let e = env
        .run(create_op(I1, "kvm", json!({"boot_order": "cdrom"})))
        .unwrap_err();
    assert_eq!(
        e.message(),
        "Selected hypervisor (kvm) not enabled in the cluster (fake)"
    );
    assert!(env.cfg().instances.is_empty());
}

#[test]
fn good_kvm_hvparams_are_kept_and_ports_allocated() {
    let env = kvm_env();
    let serial = env.cfg().cluster.serial_no;
    env.ok(create_op(
        I1,
        "kvm",
        json!({"kernel_path": "", "serial_speed": "115200", "boot_order": "network",
               "cpu_mask": "0:1", "nic_type": "e1000"}),
    ));
    let i1 = env.inst(I1);
    assert_eq!(i1.hypervisor, "kvm");
    assert_eq!(
        Value::Object(i1.hvparams.clone()),
        json!({"kernel_path": "", "serial_speed": 115200, "boot_order": "network",
               "cpu_mask": "0:1", "nic_type": "e1000"})
    );
    assert_eq!(i1.network_port, Some(11000));
    let cl = env.cfg().cluster;
    assert_eq!(cl.highest_used_port, 11000);
    assert_eq!(cl.serial_no, serial + 1);
    // the cluster's own values count: a cdrom boot with the ISO set there
    let mut cl2 = cl.clone();
    cl2.hvparams["kvm"]["cdrom_image_path"] = json!("/srv/iso/debian.iso");
    cl2.serial_no += 1;
    cl2.mtime = now_f64();
    env.m
        .commit(vec![ConfigOp::PutCluster(Box::new(cl2))])
        .unwrap();
    env.ok(create_op(I2, "kvm", json!({"boot_order": "cdrom"})));
    assert_eq!(env.inst(I2).network_port, Some(11001));
    // a fake instance needs no port
    env.ok(create_op(I3, "fake", json!({})));
    assert_eq!(env.inst(I3).network_port, None);
    assert_eq!(env.cfg().cluster.highest_used_port, 11001);
    assert!(env.cfg().cluster.tcpudp_port_pool.is_empty());
}

#[test]
fn removed_instances_give_their_port_back() {
    let env = kvm_env();
    env.ok(create_op(I1, "kvm", json!({})));
    env.ok(create_op(I2, "kvm", json!({})));
    assert_eq!(env.inst(I1).network_port, Some(11000));
    // this node cannot run kvm yet: let I1 be a fake instance that still
    // holds its port, so removing it needs no kvm on the node
    let mut i1 = env.inst(I1);
    i1.hypervisor = "fake".into();
    i1.hvparams.clear();
    i1.serial_no += 1;
    env.m
        .commit(vec![ConfigOp::PutInstance(Box::new(i1))])
        .unwrap();
    env.ok(op("OP_INSTANCE_REMOVE", I1, json!({})));
    let cl = env.cfg().cluster;
    assert_eq!(cl.tcpudp_port_pool, vec![11000]);
    assert_eq!(cl.highest_used_port, 11001);
    // the next kvm instance takes the freed port
    env.ok(create_op(I3, "kvm", json!({})));
    assert_eq!(env.inst(I3).network_port, Some(11000));
    let cl = env.cfg().cluster;
    assert!(cl.tcpudp_port_pool.is_empty());
    assert_eq!(cl.highest_used_port, 11001);
}

#[test]
fn a_dry_run_allocates_no_port() {
    let env = kvm_env();
    let mut o = create_op(I1, "kvm", json!({}));
    o["dry_run"] = json!(true);
    env.ok(o);
    assert!(env.cfg().instances.is_empty());
    assert_eq!(env.cfg().cluster.highest_used_port, 10999);
}

#[test]
fn modify_checks_the_filled_kvm_hvparams() {
    let env = kvm_env();
    env.ok(create_op(I1, "kvm", json!({"kernel_path": ""})));
    for (hvp, msg) in [
        (
            json!({"disk_aio": "native"}),
            "When 'disk_aio' is set to 'native', the only supported value for 'disk_cache' is 'none'.",
        ),
        // resetting kernel_path brings the cluster's kernel back, which needs a root
        (
            json!({"kernel_path": "default", "root_path": ""}),
            "Need a root partition for the instance, if a kernel is defined",
        ),
        (
            json!({"security_model": "user"}),
            "A security domain (user to run kvm as) must be specified",
        ),
        (json!({"frob": 1}), "Parameter 'frob' is not supported"),
    ] {
        let e = refused_at_submit(&env, op(SET, I1, json!({ "hvparams": hvp })));
        assert_eq!(e.message(), msg, "{hvp}");
    }
    let e = refused_at_submit(
        &env,
        op(SET, I1, json!({"hvparams": {"migration_bandwidth": 1}})),
    );
    assert!(e
        .message()
        .starts_with("The following hypervisor parameters are global"));
    // accepted: kept as given (coerced), resets drop the key
    env.ok(op(
        SET,
        I1,
        json!({"hvparams": {"disk_aio": "native", "disk_cache": "none", "acpi": "false"},
               "ignore_ipolicy": true}),
    ));
    assert_eq!(
        Value::Object(env.inst(I1).hvparams),
        json!({"kernel_path": "", "disk_aio": "native", "disk_cache": "none", "acpi": false})
    );
    env.ok(op(
        SET,
        I1,
        json!({"hvparams": {"kernel_path": "default"}, "ignore_ipolicy": true}),
    ));
    assert!(!env.inst(I1).hvparams.contains_key("kernel_path"));
    assert_eq!(env.inst(I1).network_port, Some(11000));
}

#[test]
fn startup_overrides_are_checked_filled() {
    let env = kvm_env();
    env.ok(create_op(I1, "kvm", json!({})));
    let e = refused_at_submit(
        &env,
        op(
            "OP_INSTANCE_STARTUP",
            I1,
            json!({"hvparams": {"boot_order": "cdrom"}}),
        ),
    );
    assert_eq!(e.message(), "Cannot boot from cdrom without an ISO path");
    let e = refused_at_submit(
        &env,
        op("OP_INSTANCE_STARTUP", I1, json!({"hvparams": {"frob": 1}})),
    );
    assert_eq!(e.message(), "Parameter 'frob' is not supported");
    // a fake instance: its one parameter, checked, for this start only
    env.ok(create_op(I2, "fake", json!({})));
    let e = refused_at_submit(
        &env,
        op(
            "OP_INSTANCE_STARTUP",
            I2,
            json!({"hvparams": {"migration_mode": "fast"}}),
        ),
    );
    assert_eq!(
        e.message(),
        "Parameter 'migration_mode' fails syntax check: invalid migration mode (current value: 'fast')"
    );
    env.ok(op(
        "OP_INSTANCE_STARTUP",
        I2,
        json!({"hvparams": {"migration_mode": "non-live"}}),
    ));
    assert!(env.inst(I2).hvparams.is_empty());
}
