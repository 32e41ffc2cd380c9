//! The option definitions of the gnt-* commands, shared between commands
//! as Ganeti's `cli_opts` shares them.
//!
//! Why a table: the same option (say `--submit`) must parse and print its
//! help identically in every command, and optparse prints options in the
//! order a command lists them; keeping one static per option and one
//! ordered list per command gives both. Flags, metavars, help texts and
//! defaults are those of Ganeti 3.0.2's tools (see the recorded `--help`
//! outputs), since scripts and operators rely on them.

use crate::optparse::{Action, Dflt, Kind, OptDef};

/// `-d/--debug`, common to every command.
pub static DEBUG: OptDef = OptDef {
    flags: &["--debug", "-d"],
    dest: "debug",
    action: Action::Count,
    kind: Kind::None,
    metavar: None,
    help: "Increase debugging level",
    choices: &[],
    default: Dflt::Int(0),
};

/// `--reason`, common to every command.
pub static REASON: OptDef = OptDef {
    flags: &["--reason"],
    dest: "reason",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("REASON"),
    help: "The reason for executing the command",
    choices: &[],
    default: Dflt::None,
};

/// `--root`: our addition; the cluster root every path hangs from.
pub static ROOT: OptDef = OptDef {
    flags: &["--root"],
    dest: "root",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("DIR"),
    help: "Cluster root (default: $GANETI_ROOT, else /)",
    choices: &[],
    default: Dflt::None,
};

/// Used by: 41 commands
pub static SUBMIT: OptDef = OptDef {
    flags: &["--submit"],
    dest: "submit_only",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Submit the job and return the job ID, but don't wait for the job to finish",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: 41 commands
pub static PRINT_JOBID: OptDef = OptDef {
    flags: &["--print-jobid"],
    dest: "print_jobid",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Additionally print the job as first line on stdout (for scripting).",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance activate-disks
pub static IGNORE_SIZE: OptDef = OptDef {
    flags: &["--ignore-size"],
    dest: "ignore_size",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Ignore current recorded size (useful for forcing activation when the recorded size is wrong)",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: 55 commands
pub static PRIORITY: OptDef = OptDef {
    flags: &["--priority"],
    dest: "priority",
    action: Action::Priority,
    kind: Kind::Choice,
    metavar: Some("low|normal|high"),
    help: "Priority for opcode processing",
    choices: &["low", "normal", "high"],
    default: Dflt::None,
};

/// Used by: gnt-instance activate-disks
pub static WAIT_FOR_SYNC: OptDef = OptDef {
    flags: &["--wait-for-sync"],
    dest: "wait_for_sync",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Wait for disks to sync",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-cluster init, gnt-cluster modify, gnt-instance add, gnt-instance modify, gnt-instance startup
pub static BACKEND_PARAMETERS: OptDef = OptDef {
    flags: &["--backend-parameters", "-B"],
    dest: "beparams",
    action: Action::Store,
    kind: Kind::KeyVal,
    metavar: Some("BEPARAMS"),
    help: "Backend parameters",
    choices: &[],
    default: Dflt::EmptyDict,
};

/// Used by: gnt-instance add, gnt-instance modify, gnt-instance recreate-disks
pub static DISK: OptDef = OptDef {
    flags: &["--disk"],
    dest: "disks",
    action: Action::Append,
    kind: Kind::IdentKeyVal,
    metavar: Some("DISKS"),
    help: "Disk parameters",
    choices: &[],
    default: Dflt::EmptyList,
};

/// Used by: gnt-instance add
pub static DISK_TEMPLATE: OptDef = OptDef {
    flags: &["--disk-template", "-t"],
    dest: "disk_template",
    action: Action::Store,
    kind: Kind::Choice,
    metavar: Some("TEMPL"),
    help:
        "Custom disk setup (plain, drbd, file, rbd, blockdev, gluster, ext, sharedfile, diskless)",
    choices: &[
        "plain",
        "drbd",
        "file",
        "rbd",
        "blockdev",
        "gluster",
        "ext",
        "sharedfile",
        "diskless",
    ],
    default: Dflt::None,
};

/// Used by: gnt-instance add, gnt-instance modify
pub static FILESTORE_DIR: OptDef = OptDef {
    flags: &["--file-storage-dir"],
    dest: "file_storage_dir",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("<DIR>"),
    help: "Relative path under default cluster-wide file storage dir to store file-based disks",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance add, gnt-instance modify
pub static FILE_DRIVER: OptDef = OptDef {
    flags: &["--file-driver"],
    dest: "file_driver",
    action: Action::Store,
    kind: Kind::Choice,
    metavar: Some("<DRIVER>"),
    help: "Driver to use for image files",
    choices: &["loop", "blktap", "blktap2"],
    default: Dflt::None,
};

/// Used by: gnt-instance add
pub static HYPERVISOR_OPT: OptDef = OptDef {
    flags: &["--hypervisor-parameters", "-H"],
    dest: "hypervisor",
    action: Action::Store,
    kind: Kind::IdentKeyVal,
    metavar: Some("HYPERVISOR"),
    help:
        "Hypervisor and hypervisor options, in the format hypervisor:option=value,option=value,...",
    choices: &[],
    default: Dflt::None,
};

/// Used by: 8 commands
pub static IALLOCATOR: OptDef = OptDef {
    flags: &["--iallocator", "-I"],
    dest: "iallocator",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("<NAME>"),
    help: "Select nodes for the instance automatically using the <NAME> iallocator plugin",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance add, gnt-instance modify
pub static NET: OptDef = OptDef {
    flags: &["--net"],
    dest: "nics",
    action: Action::Append,
    kind: Kind::IdentKeyVal,
    metavar: Some("NICS"),
    help: "NIC parameters",
    choices: &[],
    default: Dflt::EmptyList,
};

/// Used by: gnt-instance add, gnt-instance recreate-disks
pub static NODE_PLACEMENT: OptDef = OptDef {
    flags: &["--node", "-n"],
    dest: "node",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("<pnode>[:<snode>]"),
    help: "Target node and optional secondary node",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster verify, gnt-cluster verify-disks, gnt-instance add
pub static NODE_GROUP: OptDef = OptDef {
    flags: &["--node-group", "-g"],
    dest: "nodegroup",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("<nodegroup>"),
    help: "Node group (name or uuid)",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance add, gnt-instance rename
pub static NO_IP_CHECK: OptDef = OptDef {
    flags: &["--no-ip-check"],
    dest: "ip_check",
    action: Action::StoreFalse,
    kind: Kind::None,
    metavar: None,
    help: "Don't check that the instance's IP is alive",
    choices: &[],
    default: Dflt::Bool(true),
};

/// Used by: gnt-instance add, gnt-instance modify, gnt-network add, gnt-network connect
pub static NO_CONFLICTS_CHECK: OptDef = OptDef {
    flags: &["--no-conflicts-check"],
    dest: "conflicts_check",
    action: Action::StoreFalse,
    kind: Kind::None,
    metavar: None,
    help: "Don't check for conflicting IPs",
    choices: &[],
    default: Dflt::Bool(true),
};

/// Used by: gnt-instance add, gnt-instance rename
pub static NO_NAME_CHECK: OptDef = OptDef {
    flags: &["--no-name-check"],
    dest: "name_check",
    action: Action::StoreFalse,
    kind: Kind::None,
    metavar: None,
    help: "Don't check that the instance's name is resolvable",
    choices: &[],
    default: Dflt::Bool(true),
};

/// Used by: gnt-instance add
pub static NO_NICS: OptDef = OptDef {
    flags: &["--no-nics"],
    dest: "no_nics",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Do not create any network cards for the instance",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance add, gnt-instance grow-disk, gnt-instance modify
pub static NO_WAIT_FOR_SYNC: OptDef = OptDef {
    flags: &["--no-wait-for-sync"],
    dest: "wait_for_sync",
    action: Action::StoreFalse,
    kind: Kind::None,
    metavar: None,
    help: "Don't wait for sync (DANGEROUS!)",
    choices: &[],
    default: Dflt::Bool(true),
};

/// Used by: gnt-instance add, gnt-instance modify, gnt-instance reinstall, gnt-os modify
pub static OS_PARAMETERS: OptDef = OptDef {
    flags: &["--os-parameters", "-O"],
    dest: "osparams",
    action: Action::Store,
    kind: Kind::KeyVal,
    metavar: Some("OSPARAMS"),
    help: "OS parameters",
    choices: &[],
    default: Dflt::EmptyDict,
};

/// Used by: gnt-instance add, gnt-instance modify, gnt-instance reinstall, gnt-os modify
pub static OS_PARAMETERS_PRIVATE: OptDef = OptDef {
    flags: &["--os-parameters-private"],
    dest: "osparams_private",
    action: Action::Store,
    kind: Kind::KeyVal,
    metavar: Some("OSPARAMS_PRIVATE"),
    help: "Private OS parameters (won't be logged)",
    choices: &[],
    default: Dflt::EmptyDict,
};

/// Used by: gnt-instance add, gnt-instance reinstall
pub static OS_PARAMETERS_SECRET: OptDef = OptDef {
    flags: &["--os-parameters-secret"],
    dest: "osparams_secret",
    action: Action::Store,
    kind: Kind::KeyVal,
    metavar: Some("OSPARAMS_SECRET"),
    help: "Secret OS parameters (won't be logged or saved; you must supply these for every operation.)",
    choices: &[],
    default: Dflt::EmptyDict,
};

/// Used by: gnt-instance add
pub static OS_SIZE: OptDef = OptDef {
    flags: &["--os-size", "-s"],
    dest: "sd_size",
    action: Action::Store,
    kind: Kind::Unit,
    metavar: Some("<size>"),
    help: "Enforces a single-disk configuration using the given disk size, in MiB unless a suffix is used",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance add
pub static OPPORTUNISTIC_LOCKING: OptDef = OptDef {
    flags: &["--opportunistic-locking"],
    dest: "opportunistic_locking",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Opportunistically acquire locks",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance add, gnt-network add
pub static TAG_ADD: OptDef = OptDef {
    flags: &["--tags"],
    dest: "tags",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("TAGS"),
    help: "Comma-separated list of instance tags",
    choices: &[],
    default: Dflt::None,
};

/// Used by: 32 commands
pub static DRY_RUN: OptDef = OptDef {
    flags: &["--dry-run"],
    dest: "dry_run",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help:
        "Do not execute the operation, just run the check steps and verify if it could be executed",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance add
pub static FORTHCOMING: OptDef = OptDef {
    flags: &["--forthcoming"],
    dest: "forthcoming",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Only reserve resources, but do not create the instance yet",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance add
pub static COMMIT: OptDef = OptDef {
    flags: &["--commit"],
    dest: "commit",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "The instance is already reserved and should be committed now",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance add
pub static NO_START: OptDef = OptDef {
    flags: &["--no-start"],
    dest: "start",
    action: Action::StoreFalse,
    kind: Kind::None,
    metavar: None,
    help: "Don't start the instance after creation",
    choices: &[],
    default: Dflt::Bool(true),
};

/// Used by: gnt-instance add, gnt-instance modify, gnt-instance reinstall
pub static OS_TYPE: OptDef = OptDef {
    flags: &["--os-type", "-o"],
    dest: "os",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("<os>"),
    help: "What OS to run",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance add, gnt-instance modify, gnt-instance reinstall
pub static FORCE_VARIANT: OptDef = OptDef {
    flags: &["--force-variant"],
    dest: "force_variant",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Force an unknown variant",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance add
pub static NO_INSTALL: OptDef = OptDef {
    flags: &["--no-install"],
    dest: "no_install",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Do not install the OS (will enable no-start)",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: 7 commands
pub static IGNORE_IPOLICY: OptDef = OptDef {
    flags: &["--ignore-ipolicy"],
    dest: "ignore_ipolicy",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Ignore instance policy violations",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance add, gnt-instance modify
pub static COMMUNICATION: OptDef = OptDef {
    flags: &["--communication", "-c"],
    dest: "instance_communication",
    action: Action::Store,
    kind: Kind::Bool,
    metavar: Some("INSTANCE_COMMUNICATION"),
    help: "Enable or disable the communication mechanism for an instance",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance add
pub static HELPER_STARTUP_TIMEOUT: OptDef = OptDef {
    flags: &["--helper-startup-timeout"],
    dest: "helper_startup_timeout",
    action: Action::Store,
    kind: Kind::Int,
    metavar: Some("HELPER_STARTUP_TIMEOUT"),
    help: "Startup timeout for the helper VM",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance add
pub static HELPER_SHUTDOWN_TIMEOUT: OptDef = OptDef {
    flags: &["--helper-shutdown-timeout"],
    dest: "helper_shutdown_timeout",
    action: Action::Store,
    kind: Kind::Int,
    metavar: Some("HELPER_SHUTDOWN_TIMEOUT"),
    help: "Shutdown timeout for the helper VM",
    choices: &[],
    default: Dflt::None,
};

/// Used by: 10 commands
pub static FROM: OptDef = OptDef {
    flags: &["--from"],
    dest: "tags_source",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("TAGS_SOURCE"),
    help: "File with tag names",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-group evacuate, gnt-instance change-group
pub static TO: OptDef = OptDef {
    flags: &["--to"],
    dest: "to",
    action: Action::Append,
    kind: Kind::Str,
    metavar: Some("<group>"),
    help: "Destination node group (name or uuid)",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-group evacuate, gnt-instance change-group, gnt-instance replace-disks
pub static EARLY_RELEASE: OptDef = OptDef {
    flags: &["--early-release"],
    dest: "early_release",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Release the locks on the secondary node(s) early",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance console
pub static SHOW_CMD: OptDef = OptDef {
    flags: &["--show-cmd"],
    dest: "show_command",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Show command instead of executing it",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: 18 commands
pub static FORCE: OptDef = OptDef {
    flags: &["--force", "-f"],
    dest: "force",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Force the operation",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance failover, gnt-instance move
pub static IGNORE_CONSISTENCY: OptDef = OptDef {
    flags: &["--ignore-consistency"],
    dest: "ignore_consistency",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Ignore the consistency of the disks on the secondary. The source node must be marked offline first for this to succeed.",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance failover, gnt-instance move, gnt-instance reboot, gnt-instance remove
pub static SHUTDOWN_TIMEOUT: OptDef = OptDef {
    flags: &["--shutdown-timeout"],
    dest: "shutdown_timeout",
    action: Action::Store,
    kind: Kind::Int,
    metavar: Some("SHUTDOWN_TIMEOUT"),
    help: "Maximum time (in minutes) to wait for instance shutdown",
    choices: &[],
    default: Dflt::Int(120),
};

/// Used by: gnt-instance failover, gnt-instance migrate
pub static TARGET_NODE: OptDef = OptDef {
    flags: &["--target-node", "-n"],
    dest: "dst_node",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("NODE"),
    help: "Specifies the new node for the instance",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance failover, gnt-instance migrate
pub static CLEANUP: OptDef = OptDef {
    flags: &["--cleanup"],
    dest: "cleanup",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Instead of performing the migration/failover, try to recover from a failed cleanup. This is safe to run even if the instance is healthy, but it will create extra replication traffic and  disrupt briefly the replication (like during the migration/failover",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance grow-disk
pub static ABSOLUTE: OptDef = OptDef {
    flags: &["--absolute"],
    dest: "absolute",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Marks the grow as absolute instead of the (default) relative mode",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance info
pub static STATIC: OptDef = OptDef {
    flags: &["--static", "-s"],
    dest: "static",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Only show configuration data, not runtime data",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance info
pub static SHOW_ALL: OptDef = OptDef {
    flags: &["--all"],
    dest: "show_all",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Show info on all instances on the cluster. This can take a long time to run, use wisely",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-cluster info, gnt-instance info
pub static ROMAN: OptDef = OptDef {
    flags: &["--roman"],
    dest: "roman_integers",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Use roman numbers for positive integers",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: 13 commands
pub static NO_HEADERS: OptDef = OptDef {
    flags: &["--no-headers"],
    dest: "no_headers",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Don't display column headers",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: 12 commands
pub static SEPARATOR: OptDef = OptDef {
    flags: &["--separator"],
    dest: "separator",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("SEPARATOR"),
    help: "Separator between output fields (defaults to one space)",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance list, gnt-node list, gnt-node list-storage, gnt-node volumes
pub static UNITS: OptDef = OptDef {
    flags: &["--units"],
    dest: "units",
    action: Action::Store,
    kind: Kind::Choice,
    metavar: Some("UNITS"),
    help: "Specify units for output (one of h/m/g/t)",
    choices: &["h", "m", "g", "t"],
    default: Dflt::None,
};

/// Used by: 7 commands
pub static OUTPUT: OptDef = OptDef {
    flags: &["--output", "-o"],
    dest: "output",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("FIELDS"),
    help: "Comma separated list of output fields",
    choices: &[],
    default: Dflt::None,
};

/// Used by: 7 commands
pub static VERBOSE: OptDef = OptDef {
    flags: &["--verbose", "-v"],
    dest: "verbose",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Increase the verbosity of the operation",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-group list, gnt-instance list, gnt-job list, gnt-node list
pub static FILTER: OptDef = OptDef {
    flags: &["--filter", "-F"],
    dest: "force_filter",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Whether command argument should be treated as filter",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance migrate
pub static NON_LIVE: OptDef = OptDef {
    flags: &["--non-live"],
    dest: "live",
    action: Action::StoreFalse,
    kind: Kind::None,
    metavar: None,
    help: "Do a non-live migration (this usually means freeze the instance, save the state, transfer and only then resume running on the secondary node)",
    choices: &[],
    default: Dflt::Bool(true),
};

/// Used by: gnt-instance migrate
pub static MIGRATION_MODE: OptDef = OptDef {
    flags: &["--migration-mode"],
    dest: "migration_mode",
    action: Action::Store,
    kind: Kind::Choice,
    metavar: Some("MIGRATION_MODE"),
    help: "Override default migration mode (choose either live or non-live",
    choices: &["live", "non-live"],
    default: Dflt::None,
};

/// Used by: gnt-instance migrate
pub static ALLOW_FAILOVER: OptDef = OptDef {
    flags: &["--allow-failover"],
    dest: "allow_failover",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "If migration is not possible fallback to failover",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance migrate
pub static IGNORE_HVVERSIONS: OptDef = OptDef {
    flags: &["--ignore-hvversions"],
    dest: "ignore_hvversions",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Ignore incompatible hypervisor versions between source and target",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance migrate
pub static NO_RUNTIME_CHANGES: OptDef = OptDef {
    flags: &["--no-runtime-changes"],
    dest: "allow_runtime_chgs",
    action: Action::StoreFalse,
    kind: Kind::None,
    metavar: None,
    help: "Don't allow runtime changes",
    choices: &[],
    default: Dflt::Bool(true),
};

/// Used by: gnt-instance modify, gnt-instance startup
pub static HVOPTS: OptDef = OptDef {
    flags: &["--hypervisor-parameters", "-H"],
    dest: "hvparams",
    action: Action::Store,
    kind: Kind::KeyVal,
    metavar: Some("HVPARAMS"),
    help: "Hypervisor parameters",
    choices: &[],
    default: Dflt::EmptyDict,
};

/// Used by: gnt-instance modify, gnt-instance move
pub static SINGLE_NODE: OptDef = OptDef {
    flags: &["--node", "-n"],
    dest: "node",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("<node>"),
    help: "Target node",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance modify
pub static OFFLINE_INST: OptDef = OptDef {
    flags: &["--offline"],
    dest: "offline_inst",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Disable down instance",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance modify
pub static ONLINE: OptDef = OptDef {
    flags: &["--online"],
    dest: "online_inst",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Enable offline instance",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance modify
pub static RUNTIME_MEMORY: OptDef = OptDef {
    flags: &["--runtime-memory", "-m"],
    dest: "runtime_mem",
    action: Action::Store,
    kind: Kind::Unit,
    metavar: Some("<size>"),
    help: "Sets the instance's runtime memory, ballooning it up or down to the new value",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance modify
pub static NEW_PRIMARY: OptDef = OptDef {
    flags: &["--new-primary"],
    dest: "new_primary_node",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("<node>"),
    help: "Specifies the new primary node",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance modify
pub static HOTPLUG: OptDef = OptDef {
    flags: &["--hotplug"],
    dest: "hotplug",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Hotplug supported devices (NICs and Disks)",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance modify
pub static HOTPLUG_IF_POSSIBLE: OptDef = OptDef {
    flags: &["--hotplug-if-possible"],
    dest: "hotplug_if_possible",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Hotplug devices in case hotplug is supported",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance modify
pub static EXT_PARAMS: OptDef = OptDef {
    flags: &["--ext-params", "-e"],
    dest: "ext_params",
    action: Action::Store,
    kind: Kind::KeyVal,
    metavar: Some("EXT_PARAMS"),
    help: "Parameters for ExtStorage template conversions in the format: provider=prvdr[,param1=val1,param2=val2,...]",
    choices: &[],
    default: Dflt::EmptyDict,
};

/// Used by: gnt-instance move
pub static COMPRESS: OptDef = OptDef {
    flags: &["--compress"],
    dest: "compress",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("COMPRESS"),
    help: "The compression mode to use",
    choices: &[],
    default: Dflt::Str("none"),
};

/// Used by: gnt-instance reboot, gnt-instance reinstall, gnt-instance shutdown, gnt-instance startup
pub static FORCE_MULTIPLE: OptDef = OptDef {
    flags: &["--force-multiple"],
    dest: "force_multi",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Do not ask for confirmation when more than one instance is affected",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance reboot
pub static TYPE: OptDef = OptDef {
    flags: &["--type", "-t"],
    dest: "reboot_type",
    action: Action::Store,
    kind: Kind::Choice,
    metavar: Some("<REBOOT>"),
    help: "Type of reboot: soft/hard/full",
    choices: &["soft", "hard", "full"],
    default: Dflt::Str("hard"),
};

/// Used by: gnt-instance reboot
pub static IGNORE_SECONDARIES: OptDef = OptDef {
    flags: &["--ignore-secondaries"],
    dest: "ignore_secondaries",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Ignore errors from secondaries",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance reboot, gnt-instance reinstall, gnt-instance shutdown, gnt-instance startup
pub static M_NODE: OptDef = OptDef {
    flags: &["--node"],
    dest: "multi_mode",
    action: Action::StoreConst("nodes"),
    kind: Kind::None,
    metavar: None,
    help: "Filter by nodes (primary and secondary)",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance reboot, gnt-instance reinstall, gnt-instance shutdown, gnt-instance startup
pub static PRIMARY: OptDef = OptDef {
    flags: &["--primary"],
    dest: "multi_mode",
    action: Action::StoreConst("nodes-pri"),
    kind: Kind::None,
    metavar: None,
    help: "Filter by nodes (primary only)",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance reboot, gnt-instance reinstall, gnt-instance shutdown, gnt-instance startup
pub static SECONDARY: OptDef = OptDef {
    flags: &["--secondary"],
    dest: "multi_mode",
    action: Action::StoreConst("nodes-sec"),
    kind: Kind::None,
    metavar: None,
    help: "Filter by nodes (secondary only)",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance reboot, gnt-instance reinstall, gnt-instance shutdown, gnt-instance startup
pub static M_ALL: OptDef = OptDef {
    flags: &["--all"],
    dest: "multi_mode",
    action: Action::StoreConst("cluster"),
    kind: Kind::None,
    metavar: None,
    help: "Select all instances in the cluster",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance reboot, gnt-instance reinstall, gnt-instance shutdown, gnt-instance startup
pub static INSTANCE: OptDef = OptDef {
    flags: &["--instance"],
    dest: "multi_mode",
    action: Action::StoreConst("instances"),
    kind: Kind::None,
    metavar: None,
    help: "Filter by instance name [default]",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance reboot, gnt-instance reinstall, gnt-instance shutdown, gnt-instance startup
pub static NODE_TAGS: OptDef = OptDef {
    flags: &["--node-tags"],
    dest: "multi_mode",
    action: Action::StoreConst("nodes-by-tags"),
    kind: Kind::None,
    metavar: None,
    help: "Filter by node tag",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance reboot, gnt-instance reinstall, gnt-instance shutdown, gnt-instance startup
pub static PRI_NODE_TAGS: OptDef = OptDef {
    flags: &["--pri-node-tags"],
    dest: "multi_mode",
    action: Action::StoreConst("nodes-pri-by-tags"),
    kind: Kind::None,
    metavar: None,
    help: "Filter by primary node tag",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance reboot, gnt-instance reinstall, gnt-instance shutdown, gnt-instance startup
pub static SEC_NODE_TAGS: OptDef = OptDef {
    flags: &["--sec-node-tags"],
    dest: "multi_mode",
    action: Action::StoreConst("nodes-sec-by-tags"),
    kind: Kind::None,
    metavar: None,
    help: "Filter by secondary node tag",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance reboot, gnt-instance reinstall, gnt-instance shutdown, gnt-instance startup
pub static M_INST_TAGS: OptDef = OptDef {
    flags: &["--tags"],
    dest: "multi_mode",
    action: Action::StoreConst("instances-by-tags"),
    kind: Kind::None,
    metavar: None,
    help: "Filter by instance tag",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance reinstall
pub static SELECT_OS: OptDef = OptDef {
    flags: &["--select-os"],
    dest: "select_os",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Interactive OS reinstall, lists available OS templates for selection",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance remove
pub static IGNORE_FAILURES: OptDef = OptDef {
    flags: &["--ignore-failures"],
    dest: "ignore_failures",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Remove the instance from the cluster configuration even if there are failures during the removal process",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance replace-disks
pub static AUTO: OptDef = OptDef {
    flags: &["--auto", "-a"],
    dest: "auto",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Automatically replace faulty disks (applies only to internally mirrored disk templates, e.g. drbd)",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance replace-disks
pub static DISKS: OptDef = OptDef {
    flags: &["--disks"],
    dest: "disks",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("DISKS"),
    help: "Comma-separated list of disks indices to act on (e.g. 0,2) (optional, defaults to all disks)",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance replace-disks
pub static NEW_SECONDARY: OptDef = OptDef {
    flags: &["--new-secondary", "-n"],
    dest: "dst_node",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("NODE"),
    help: "Specifies the new secondary node",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-instance replace-disks
pub static ON_PRIMARY: OptDef = OptDef {
    flags: &["--on-primary", "-p"],
    dest: "on_primary",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Replace the disk(s) on the primary node (applies only to internally mirrored disk templates, e.g. drbd)",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance replace-disks
pub static ON_SECONDARY: OptDef = OptDef {
    flags: &["--on-secondary", "-s"],
    dest: "on_secondary",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Replace the disk(s) on the secondary node (applies only to internally mirrored disk templates, e.g. drbd)",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance shutdown
pub static TIMEOUT: OptDef = OptDef {
    flags: &["--timeout"],
    dest: "timeout",
    action: Action::Store,
    kind: Kind::Int,
    metavar: Some("TIMEOUT"),
    help: "Maximum time (in minutes) to wait",
    choices: &[],
    default: Dflt::Int(120),
};

/// Used by: gnt-instance shutdown, gnt-instance startup
pub static IGNORE_OFFLINE: OptDef = OptDef {
    flags: &["--ignore-offline"],
    dest: "ignore_offline",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Ignore offline nodes and do as much as possible",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance shutdown, gnt-instance startup
pub static NO_REMEMBER: OptDef = OptDef {
    flags: &["--no-remember"],
    dest: "no_remember",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Perform but do not record the change in the configuration",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-instance startup
pub static PAUSED: OptDef = OptDef {
    flags: &["--paused"],
    dest: "startup_paused",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Pause instance at startup",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-cluster deactivate-master-ip
pub static YES: OptDef = OptDef {
    flags: &["--yes"],
    dest: "confirm",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Do not require confirmation",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-cluster destroy
pub static YES_DO_IT_DESTROY: OptDef = OptDef {
    flags: &["--yes-do-it", "--ya-rly"],
    dest: "yes_do_it",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Destroy cluster",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static CANDIDATE_POOL_SIZE: OptDef = OptDef {
    flags: &["--candidate-pool-size", "-C"],
    dest: "candidate_pool_size",
    action: Action::Store,
    kind: Kind::Int,
    metavar: Some("CANDIDATE_POOL_SIZE"),
    help: "Set the candidate pool size",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static ENABLED_HYPERVISORS: OptDef = OptDef {
    flags: &["--enabled-hypervisors"],
    dest: "enabled_hypervisors",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("ENABLED_HYPERVISORS"),
    help: "Comma-separated list of hypervisors",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static GLOBAL_FILEDIR: OptDef = OptDef {
    flags: &["--file-storage-dir"],
    dest: "file_storage_dir",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("DIR"),
    help: "Specify the default directory (cluster-wide) for storing the file-based disks [/srv/ganeti/file-storage]",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify, gnt-os modify
pub static HVLIST: OptDef = OptDef {
    flags: &["--hypervisor-parameters", "-H"],
    dest: "hvparams",
    action: Action::Append,
    kind: Kind::IdentKeyVal,
    metavar: Some("HVPARAMS"),
    help:
        "Hypervisor and hypervisor options, in the format hypervisor:option=value,option=value,...",
    choices: &[],
    default: Dflt::EmptyList,
};

/// Used by: gnt-cluster init, gnt-cluster modify, gnt-network add, gnt-network modify
pub static MAC_PREFIX: OptDef = OptDef {
    flags: &["--mac-prefix", "-m"],
    dest: "mac_prefix",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("PREFIX"),
    help: "Specify the mac prefix for the instance IP addresses, in the format XX:XX:XX",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static MASTER_NETDEV: OptDef = OptDef {
    flags: &["--master-netdev"],
    dest: "master_netdev",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("NETDEV"),
    help: "Specify the node interface (cluster-wide) on which the master IP address will be added (cluster init default: xen-br0)",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static MASTER_NETMASK: OptDef = OptDef {
    flags: &["--master-netmask"],
    dest: "master_netmask",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("NETMASK"),
    help: "Specify the netmask of the master IP",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify, gnt-network connect
pub static NIC_PARAMETERS: OptDef = OptDef {
    flags: &["--nic-parameters", "-N"],
    dest: "nicparams",
    action: Action::Store,
    kind: Kind::KeyVal,
    metavar: Some("NICPARAMS"),
    help: "NIC parameters",
    choices: &[],
    default: Dflt::EmptyDict,
};

/// Used by: gnt-cluster init
pub static NO_ETC_HOSTS: OptDef = OptDef {
    flags: &["--no-etc-hosts"],
    dest: "modify_etc_hosts",
    action: Action::StoreFalse,
    kind: Kind::None,
    metavar: None,
    help: "Don't modify /etc/hosts",
    choices: &[],
    default: Dflt::Bool(true),
};

/// Used by: gnt-cluster init
pub static NO_SSH_INIT: OptDef = OptDef {
    flags: &["--no-ssh-init"],
    dest: "modify_ssh_setup",
    action: Action::StoreFalse,
    kind: Kind::None,
    metavar: None,
    help: "Don't initialize SSH keys",
    choices: &[],
    default: Dflt::Bool(true),
};

/// Used by: gnt-cluster init, gnt-node modify
pub static SECONDARY_IP: OptDef = OptDef {
    flags: &["--secondary-ip", "-s"],
    dest: "secondary_ip",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("ADDRESS"),
    help: "Specify the secondary ip for the node",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static VG_NAME: OptDef = OptDef {
    flags: &["--vg-name"],
    dest: "vg_name",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("VG"),
    help:
        "Enables LVM and specifies the volume group name (cluster-wide) for disk allocation [xenvg]",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static MAINTAIN_NODE_HEALTH: OptDef = OptDef {
    flags: &["--maintain-node-health"],
    dest: "maintain_node_health",
    action: Action::Store,
    kind: Kind::Bool,
    metavar: Some("yes|no"),
    help: "Configure the cluster to automatically maintain node health, by shutting down unknown instances, shutting down unknown DRBD devices, etc.",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static UID_POOL: OptDef = OptDef {
    flags: &["--uid-pool"],
    dest: "uid_pool",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("UID_POOL"),
    help: "A list of user-ids or user-id ranges separated by commas",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static DRBD_USERMODE_HELPER: OptDef = OptDef {
    flags: &["--drbd-usermode-helper"],
    dest: "drbd_helper",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("DRBD_HELPER"),
    help: "Specifies usermode helper for DRBD",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static DEFAULT_IALLOCATOR: OptDef = OptDef {
    flags: &["--default-iallocator", "-I"],
    dest: "default_iallocator",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("<NAME>"),
    help: "Set the default instance allocator plugin",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static DEFAULT_IALLOCATOR_PARAMS: OptDef = OptDef {
    flags: &["--default-iallocator-params"],
    dest: "default_iallocator_params",
    action: Action::Store,
    kind: Kind::KeyVal,
    metavar: Some("DEFAULT_IALLOCATOR_PARAMS"),
    help: "iallocator template parameters, in the format template:option=value, option=value,...",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init
pub static PRIMARY_IP_VERSION: OptDef = OptDef {
    flags: &["--primary-ip-version"],
    dest: "primary_ip_version",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("4|6"),
    help: "Cluster-wide IP version for primary IP",
    choices: &[],
    default: Dflt::Int(4),
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static PREALLOC_WIPE_DISKS: OptDef = OptDef {
    flags: &["--prealloc-wipe-disks"],
    dest: "prealloc_wipe_disks",
    action: Action::Store,
    kind: Kind::Bool,
    metavar: Some("yes|no"),
    help: "Wipe disks prior to instance creation",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify, gnt-group add, gnt-group modify, gnt-node modify
pub static NODE_PARAMETERS: OptDef = OptDef {
    flags: &["--node-parameters"],
    dest: "ndparams",
    action: Action::Store,
    kind: Kind::KeyVal,
    metavar: Some("NDPARAMS"),
    help: "Node parameters",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static SHARED_FILE_STORAGE_DIR: OptDef = OptDef {
    flags: &["--shared-file-storage-dir"],
    dest: "shared_file_storage_dir",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("SHAREDDIR"),
    help: "Specify the default directory (cluster-wide) for storing the shared file-based disks [/srv/ganeti/shared-file-storage]",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static USE_EXTERNAL_MIP_SCRIPT: OptDef = OptDef {
    flags: &["--use-external-mip-script"],
    dest: "use_external_mip_script",
    action: Action::Store,
    kind: Kind::Bool,
    metavar: Some("yes|no"),
    help: "Specify whether to run a user-provided script for the master IP address turnup and turndown operations",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify, gnt-group add, gnt-group modify
pub static DISK_PARAMETERS: OptDef = OptDef {
    flags: &["--disk-parameters", "-D"],
    dest: "diskparams",
    action: Action::Append,
    kind: Kind::IdentKeyVal,
    metavar: Some("DISKPARAMS"),
    help: "Disk template parameters, in the format template:option=value,option=value,...",
    choices: &[],
    default: Dflt::EmptyList,
};

/// Used by: gnt-cluster init, gnt-cluster modify, gnt-group add, gnt-group modify, gnt-node modify
pub static HYPERVISOR_STATE: OptDef = OptDef {
    flags: &["--hypervisor-state"],
    dest: "hv_state",
    action: Action::Append,
    kind: Kind::IdentKeyVal,
    metavar: Some("HV_STATE"),
    help: "Specify hypervisor state information in the format hypervisor:option=value,...; note this is unused for now",
    choices: &[],
    default: Dflt::EmptyList,
};

/// Used by: gnt-cluster init, gnt-cluster modify, gnt-group add, gnt-group modify, gnt-node modify
pub static DISK_STATE: OptDef = OptDef {
    flags: &["--disk-state"],
    dest: "disk_state",
    action: Action::Append,
    kind: Kind::IdentKeyVal,
    metavar: Some("DISK_STATE"),
    help: "Specify disk state information in the format storage_type/identifier:option=value,...; note this is unused for now",
    choices: &[],
    default: Dflt::EmptyList,
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static ENABLED_DISK_TEMPLATES: OptDef = OptDef {
    flags: &["--enabled-disk-templates"],
    dest: "enabled_disk_templates",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("ENABLED_DISK_TEMPLATES"),
    help: "Comma-separated list of disk templates",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static IPOLICY_STD_SPECS: OptDef = OptDef {
    flags: &["--ipolicy-std-specs"],
    dest: "ipolicy_std_specs",
    action: Action::Store,
    kind: Kind::KeyVal,
    metavar: Some("IPOLICY_STD_SPECS"),
    help: "Complete standard instance specs",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init
pub static GLUSTER_STORAGE_DIR: OptDef = OptDef {
    flags: &["--gluster-storage-dir"],
    dest: "gluster_storage_dir",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("GLUSTERDIR"),
    help: "Specify the default directory (cluster-wide) for mounting Gluster file systems [/var/run/ganeti/gluster]",
    choices: &[],
    default: Dflt::Str("/var/run/ganeti/gluster"),
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static INSTALL_IMAGE: OptDef = OptDef {
    flags: &["--install-image"],
    dest: "install_image",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("INSTALL_IMAGE"),
    help: "The OS image to use for running the OS scripts safely",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static ZEROING_IMAGE: OptDef = OptDef {
    flags: &["--zeroing-image"],
    dest: "zeroing_image",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("ZEROING_IMAGE"),
    help: "The OS image to use to zero instance disks",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static COMPRESSION_TOOLS: OptDef = OptDef {
    flags: &["--compression-tools"],
    dest: "compression_tools",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("COMPRESSION_TOOLS"),
    help: "Comma-separated list of compression tools which are allowed to be used by Ganeti in various operations",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify
pub static USER_SHUTDOWN: OptDef = OptDef {
    flags: &["--user-shutdown"],
    dest: "enabled_user_shutdown",
    action: Action::Store,
    kind: Kind::Bool,
    metavar: Some("ENABLED_USER_SHUTDOWN"),
    help: "Whether user shutdown is enabled",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster renew-crypto
pub static SSH_KEY_BITS: OptDef = OptDef {
    flags: &["--ssh-key-bits"],
    dest: "ssh_key_bits",
    action: Action::Store,
    kind: Kind::Int,
    metavar: Some("SSH_KEY_BITS"),
    help: "Length of SSH keys generated by Ganeti, in bits",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster renew-crypto
pub static SSH_KEY_TYPE: OptDef = OptDef {
    flags: &["--ssh-key-type"],
    dest: "ssh_key_type",
    action: Action::Store,
    kind: Kind::Choice,
    metavar: Some("SSH_KEY_TYPE"),
    help: "Type of SSH key deployed by Ganeti for cluster actions",
    choices: &["rsa", "dsa", "ecdsa"],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify, gnt-group add, gnt-group modify
pub static IPOLICY_BOUNDS_SPECS: OptDef = OptDef {
    flags: &["--ipolicy-bounds-specs"],
    dest: "ipolicy_bounds_specs",
    action: Action::Store,
    kind: Kind::MultiList,
    metavar: Some("IPOLICY_BOUNDS_SPECS"),
    help: "Complete instance specs limits",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify, gnt-group add, gnt-group modify
pub static IPOLICY_DISK_TEMPLATES: OptDef = OptDef {
    flags: &["--ipolicy-disk-templates"],
    dest: "ipolicy_disk_templates",
    action: Action::Store,
    kind: Kind::List,
    metavar: Some("IPOLICY_DISK_TEMPLATES"),
    help: "Comma-separated list of enabled disk templates",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify, gnt-group add, gnt-group modify
pub static IPOLICY_VCPU_RATIO: OptDef = OptDef {
    flags: &["--ipolicy-vcpu-ratio"],
    dest: "ipolicy_vcpu_ratio",
    action: Action::Store,
    kind: Kind::MaybeFloat,
    metavar: Some("IPOLICY_VCPU_RATIO"),
    help: "The maximum allowed vcpu-to-cpu ratio",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init, gnt-cluster modify, gnt-group add, gnt-group modify
pub static IPOLICY_SPINDLE_RATIO: OptDef = OptDef {
    flags: &["--ipolicy-spindle-ratio"],
    dest: "ipolicy_spindle_ratio",
    action: Action::Store,
    kind: Kind::MaybeFloat,
    metavar: Some("IPOLICY_SPINDLE_RATIO"),
    help: "The maximum allowed instances to spindle ratio",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster init
pub static SPECS_CPU_COUNT: OptDef = OptDef {
    flags: &["--specs-cpu-count"],
    dest: "ispecs_cpu_count",
    action: Action::Store,
    kind: Kind::KeyVal,
    metavar: Some("ISPECS_CPU_COUNT"),
    help: "CPU count specs: list of key=value, where key is one of min, max, std",
    choices: &[],
    default: Dflt::EmptyDict,
};

/// Used by: gnt-cluster init
pub static SPECS_DISK_COUNT: OptDef = OptDef {
    flags: &["--specs-disk-count"],
    dest: "ispecs_disk_count",
    action: Action::Store,
    kind: Kind::KeyVal,
    metavar: Some("ISPECS_DISK_COUNT"),
    help: "Disk count specs: list of key=value, where key is one of min, max, std",
    choices: &[],
    default: Dflt::EmptyDict,
};

/// Used by: gnt-cluster init
pub static SPECS_DISK_SIZE: OptDef = OptDef {
    flags: &["--specs-disk-size"],
    dest: "ispecs_disk_size",
    action: Action::Store,
    kind: Kind::KeyVal,
    metavar: Some("ISPECS_DISK_SIZE"),
    help: "Disk size specs: list of key=value, where key is one of min, max, std (in MB or using a unit)",
    choices: &[],
    default: Dflt::EmptyDict,
};

/// Used by: gnt-cluster init
pub static SPECS_MEM_SIZE: OptDef = OptDef {
    flags: &["--specs-mem-size"],
    dest: "ispecs_mem_size",
    action: Action::Store,
    kind: Kind::KeyVal,
    metavar: Some("ISPECS_MEM_SIZE"),
    help: "Memory size specs: list of key=value, where key is one of min, max, std (in MB or using a unit)",
    choices: &[],
    default: Dflt::EmptyDict,
};

/// Used by: gnt-cluster init
pub static SPECS_NIC_COUNT: OptDef = OptDef {
    flags: &["--specs-nic-count"],
    dest: "ispecs_nic_count",
    action: Action::Store,
    kind: Kind::KeyVal,
    metavar: Some("ISPECS_NIC_COUNT"),
    help: "NIC count specs: list of key=value, where key is one of min, max, std",
    choices: &[],
    default: Dflt::EmptyDict,
};

/// Used by: gnt-cluster modify
pub static MAX_RUNNING_JOBS: OptDef = OptDef {
    flags: &["--max-running-jobs"],
    dest: "max_running_jobs",
    action: Action::Store,
    kind: Kind::Int,
    metavar: Some("MAX_RUNNING_JOBS"),
    help: "Set the maximal number of jobs to run simultaneously",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster modify
pub static MAX_TRACKED_JOBS: OptDef = OptDef {
    flags: &["--max-tracked-jobs"],
    dest: "max_tracked_jobs",
    action: Action::Store,
    kind: Kind::Int,
    metavar: Some("MAX_TRACKED_JOBS"),
    help: "Set the maximal number of jobs to be tracked simultaneously for scheduling",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster modify
pub static INSTANCE_COMMUNICATION_NETWORK: OptDef = OptDef {
    flags: &["--instance-communication-network"],
    dest: "instance_communication_network",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("INSTANCE_COMMUNICATION_NETWORK"),
    help: "Set the network name for instance communication",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster modify
pub static ADD_UIDS: OptDef = OptDef {
    flags: &["--add-uids"],
    dest: "add_uids",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("ADD_UIDS"),
    help:
        "A list of user-ids or user-id ranges separated by commas, to be added to the user-id pool",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster modify
pub static REMOVE_UIDS: OptDef = OptDef {
    flags: &["--remove-uids"],
    dest: "remove_uids",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("REMOVE_UIDS"),
    help: "A list of user-ids or user-id ranges separated by commas, to be removed from the user-id pool",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster modify
pub static RESERVED_LVS: OptDef = OptDef {
    flags: &["--reserved-lvs"],
    dest: "reserved_lvs",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("RESERVED_LVS"),
    help: "A comma-separated list of reserved logical volumes names, that will be ignored by cluster verify",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster modify
pub static MODIFY_ETC_HOSTS: OptDef = OptDef {
    flags: &["--modify-etc-hosts"],
    dest: "modify_etc_hosts",
    action: Action::Store,
    kind: Kind::Bool,
    metavar: Some("yes|no"),
    help: "Defines whether the cluster should autonomously modify and keep in sync the /etc/hosts file of the nodes",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster modify
pub static ENABLED_DATA_COLLECTORS: OptDef = OptDef {
    flags: &["--enabled-data-collectors"],
    dest: "enabled_data_collectors",
    action: Action::Store,
    kind: Kind::KeyVal,
    metavar: Some("ENABLED_DATA_COLLECTORS"),
    help: "Deactivate or reactivate a data collector for reporting, in the format collector=bool, where collector is one of xen-cpu-avg-load, inst-status-xen, drbd, diskstats, cpu-avg-load, lv.",
    choices: &[],
    default: Dflt::EmptyDict,
};

/// Used by: gnt-cluster modify
pub static DATA_COLLECTOR_INTERVAL: OptDef = OptDef {
    flags: &["--data-collector-interval"],
    dest: "data_collector_interval",
    action: Action::Store,
    kind: Kind::KeyVal,
    metavar: Some("DATA_COLLECTOR_INTERVAL"),
    help: "Set collection intervals in seconds of data collectors.",
    choices: &[],
    default: Dflt::EmptyDict,
};

/// Used by: gnt-cluster redist-conf
pub static YES_DO_IT_REDIST: OptDef = OptDef {
    flags: &["--yes-do-it"],
    dest: "yes_do_it",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Unconditionally distribute the configuration, even if the queue is drained",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-cluster renew-crypto
pub static NEW_CLUSTER_CERTIFICATE: OptDef = OptDef {
    flags: &["--new-cluster-certificate"],
    dest: "new_cluster_cert",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Generate a new cluster certificate",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-cluster renew-crypto
pub static NEW_RAPI_CERTIFICATE: OptDef = OptDef {
    flags: &["--new-rapi-certificate"],
    dest: "new_rapi_cert",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Generate a new self-signed RAPI certificate",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-cluster renew-crypto
pub static RAPI_CERTIFICATE: OptDef = OptDef {
    flags: &["--rapi-certificate"],
    dest: "rapi_cert",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("RAPI_CERT"),
    help: "File containing new RAPI certificate",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster renew-crypto
pub static NEW_CONFD_HMAC_KEY: OptDef = OptDef {
    flags: &["--new-confd-hmac-key"],
    dest: "new_confd_hmac_key",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Create a new HMAC key for ganeti-confd",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-cluster renew-crypto
pub static NEW_CLUSTER_DOMAIN_SECRET: OptDef = OptDef {
    flags: &["--new-cluster-domain-secret"],
    dest: "new_cluster_domain_secret",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Create a new cluster domain secret",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-cluster renew-crypto
pub static CLUSTER_DOMAIN_SECRET: OptDef = OptDef {
    flags: &["--cluster-domain-secret"],
    dest: "cluster_domain_secret",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("CLUSTER_DOMAIN_SECRET"),
    help: "Load new new cluster domain secret from file",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster renew-crypto
pub static NEW_SPICE_CERTIFICATE: OptDef = OptDef {
    flags: &["--new-spice-certificate"],
    dest: "new_spice_cert",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Generate a new self-signed SPICE certificate",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-cluster renew-crypto
pub static SPICE_CERTIFICATE: OptDef = OptDef {
    flags: &["--spice-certificate"],
    dest: "spice_cert",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("SPICE_CERT"),
    help: "File containing new SPICE certificate",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster renew-crypto
pub static SPICE_CA_CERTIFICATE: OptDef = OptDef {
    flags: &["--spice-ca-certificate"],
    dest: "spice_cacert",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("SPICE_CACERT"),
    help: "File containing the certificate of the CA which signed the SPICE certificate",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-cluster renew-crypto
pub static NEW_NODE_CERTIFICATES: OptDef = OptDef {
    flags: &["--new-node-certificates"],
    dest: "new_node_cert",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Generate new node certificates (for all nodes)",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-cluster renew-crypto
pub static NEW_SSH_KEYS: OptDef = OptDef {
    flags: &["--new-ssh-keys"],
    dest: "new_ssh_keys",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Generate new node SSH keys (for all nodes)",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-cluster renew-crypto
pub static NO_SSH_KEY_CHECK: OptDef = OptDef {
    flags: &["--no-ssh-key-check"],
    dest: "ssh_key_check",
    action: Action::StoreFalse,
    kind: Kind::None,
    metavar: None,
    help: "Disable SSH key fingerprint checking",
    choices: &[],
    default: Dflt::Bool(true),
};

/// Used by: gnt-cluster verify
pub static DEBUG_SIMULATE_ERRORS: OptDef = OptDef {
    flags: &["--debug-simulate-errors"],
    dest: "simulate_errors",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Debugging option that makes the operation treat most runtime checks as failed",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-cluster verify
pub static ERROR_CODES: OptDef = OptDef {
    flags: &["--error-codes"],
    dest: "error_codes",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Enable parseable error messages",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-cluster verify
pub static NO_NPLUS1_MEM: OptDef = OptDef {
    flags: &["--no-nplus1-mem"],
    dest: "skip_nplusone_mem",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Skip N+1 memory redundancy tests",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-cluster verify
pub static IGNORE_ERRORS: OptDef = OptDef {
    flags: &["--ignore-errors", "-I"],
    dest: "ignore_errors",
    action: Action::Append,
    kind: Kind::Choice,
    metavar: Some("IGNORE_ERRORS"),
    help: "Error code to be ignored",
    choices: &[
        "ECLUSTERCERT",
        "ECLUSTERCFG",
        "ECLUSTERCLIENTCERT",
        "ECLUSTERDANGLINGINST",
        "ECLUSTERDANGLINGNODES",
        "ECLUSTERFILECHECK",
        "EEXTAGS",
        "EGROUPDIFFERENTPVSIZE",
        "EINSTANCEBADNODE",
        "EINSTANCEDOWN",
        "EINSTANCEFAULTYDISK",
        "EINSTANCELAYOUT",
        "EINSTANCEMISSINGCFGPARAMETER",
        "EINSTANCEMISSINGDISK",
        "EINSTANCEPOLICY",
        "EINSTANCESPLITGROUPS",
        "EINSTANCEUNSUITABLENODE",
        "EINSTANCEWRONGNODE",
        "ENODEDRBD",
        "ENODEDRBDHELPER",
        "ENODEDRBDVERSION",
        "ENODEFILECHECK",
        "ENODEFILESTORAGEPATHS",
        "ENODEFILESTORAGEPATHUNUSABLE",
        "ENODEGLUSTERSTORAGEPATHUNUSABLE",
        "ENODEHOOKS",
        "ENODEHV",
        "ENODELVM",
        "ENODEN1",
        "ENODENET",
        "ENODEOOBPATH",
        "ENODEORPHANINSTANCE",
        "ENODEORPHANLV",
        "ENODEOS",
        "ENODERPC",
        "ENODESETUP",
        "ENODESHAREDFILESTORAGEPATHUNUSABLE",
        "ENODESSH",
        "ENODETIME",
        "ENODEUSERSCRIPTS",
        "ENODEVERSION",
    ],
    default: Dflt::EmptyList,
};

/// Used by: gnt-cluster verify
pub static VERIFY_SSH_CLUTTER: OptDef = OptDef {
    flags: &["--verify-ssh-clutter"],
    dest: "verify_clutter",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Verify that Ganeti did not clutter up the 'authorized_keys' file",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-node list-storage
pub static STORAGE_TYPE: OptDef = OptDef {
    flags: &["--storage-type", "-t"],
    dest: "user_storage_type",
    action: Action::Store,
    kind: Kind::Choice,
    metavar: Some("STORAGE_TYPE"),
    help: "Storage type (file, lvm-pv, lvm-vg, sharedfile, gluster)",
    choices: &["file", "lvm-pv", "lvm-vg", "sharedfile", "gluster"],
    default: Dflt::None,
};

/// Used by: gnt-node modify
pub static MASTER_CANDIDATE: OptDef = OptDef {
    flags: &["--master-candidate", "-C"],
    dest: "master_candidate",
    action: Action::Store,
    kind: Kind::Bool,
    metavar: Some("yes|no"),
    help: "Set the master_candidate flag on the node",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-node modify
pub static DRAINED: OptDef = OptDef {
    flags: &["--drained", "-D"],
    dest: "drained",
    action: Action::Store,
    kind: Kind::Bool,
    metavar: Some("yes|no"),
    help: "Set the drained flag on the node (excluded from allocation operations)",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-node modify
pub static NODE_OFFLINE: OptDef = OptDef {
    flags: &["--offline", "-O"],
    dest: "offline",
    action: Action::Store,
    kind: Kind::Bool,
    metavar: Some("yes|no"),
    help: "Set the offline flag on the node (cluster does not communicate with offline nodes)",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-node modify
pub static MASTER_CAPABLE: OptDef = OptDef {
    flags: &["--master-capable"],
    dest: "master_capable",
    action: Action::Store,
    kind: Kind::Bool,
    metavar: Some("yes|no"),
    help: "Set the master_capable flag on the node",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-node modify
pub static VM_CAPABLE: OptDef = OptDef {
    flags: &["--vm-capable"],
    dest: "vm_capable",
    action: Action::Store,
    kind: Kind::Bool,
    metavar: Some("yes|no"),
    help: "Set the vm_capable flag on the node",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-node modify
pub static AUTO_PROMOTE: OptDef = OptDef {
    flags: &["--auto-promote"],
    dest: "auto_promote",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Lock all nodes and auto-promote as needed to MC status",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-node modify
pub static NODE_POWERED: OptDef = OptDef {
    flags: &["--node-powered"],
    dest: "node_powered",
    action: Action::Store,
    kind: Kind::Bool,
    metavar: Some("yes|no"),
    help: "Specify if the SoR for node is powered",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-group add, gnt-group modify
pub static ALLOC_POLICY: OptDef = OptDef {
    flags: &["--alloc-policy"],
    dest: "alloc_policy",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("POLICY"),
    help: "Allocation policy for the node group",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-group evacuate
pub static SEQUENTIAL: OptDef = OptDef {
    flags: &["--sequential"],
    dest: "sequential",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Execute all resulting jobs sequentially",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-group evacuate
pub static FORCE_FAILOVER: OptDef = OptDef {
    flags: &["--force-failover"],
    dest: "force_failover",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Do not use migration, always use failover",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-group show-ispecs-cmd
pub static INCLUDE_DEFAULTS: OptDef = OptDef {
    flags: &["--include-defaults"],
    dest: "include_defaults",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Include default values",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-network add
pub static NETWORK: OptDef = OptDef {
    flags: &["--network"],
    dest: "network",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("NETWORK"),
    help: "IP network in CIDR notation",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-network add, gnt-network modify
pub static GATEWAY: OptDef = OptDef {
    flags: &["--gateway"],
    dest: "gateway",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("GATEWAY"),
    help: "IP address of the router (gateway)",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-network add, gnt-network modify
pub static ADD_RESERVED_IPS: OptDef = OptDef {
    flags: &["--add-reserved-ips"],
    dest: "add_reserved_ips",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("ADD_RESERVED_IPS"),
    help: "Comma-separated list of reserved IPs to add",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-network add, gnt-network modify
pub static NETWORK6: OptDef = OptDef {
    flags: &["--network6"],
    dest: "network6",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("NETWORK6"),
    help: "IP network in CIDR notation",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-network add, gnt-network modify
pub static GATEWAY6: OptDef = OptDef {
    flags: &["--gateway6"],
    dest: "gateway6",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("GATEWAY6"),
    help: "IP6 address of the router (gateway)",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-network modify
pub static REMOVE_RESERVED_IPS: OptDef = OptDef {
    flags: &["--remove-reserved-ips"],
    dest: "remove_reserved_ips",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("REMOVE_RESERVED_IPS"),
    help: "Comma-delimited list of reserved IPs to remove",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-job cancel
pub static KILL: OptDef = OptDef {
    flags: &["--kill"],
    dest: "kill",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Kill running jobs with SIGKILL",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-job cancel, gnt-job change-priority, gnt-job list
pub static PENDING: OptDef = OptDef {
    flags: &["--pending"],
    dest: "status_filter",
    action: Action::StoreConst("queued,waiting,canceling"),
    kind: Kind::None,
    metavar: None,
    help: "Select jobs pending execution or being cancelled",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-job cancel, gnt-job change-priority
pub static QUEUED: OptDef = OptDef {
    flags: &["--queued"],
    dest: "status_filter",
    action: Action::StoreConst("queued"),
    kind: Kind::None,
    metavar: None,
    help: "Select queued jobs only",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-job cancel, gnt-job change-priority
pub static WAITING: OptDef = OptDef {
    flags: &["--waiting"],
    dest: "status_filter",
    action: Action::StoreConst("waiting"),
    kind: Kind::None,
    metavar: None,
    help: "Select waiting jobs only",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-job cancel
pub static YES_DO_IT_KILL: OptDef = OptDef {
    flags: &["--yes-do-it", "--ya-rly"],
    dest: "yes_do_it",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Really use --kill",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-job list
pub static RUNNING: OptDef = OptDef {
    flags: &["--running"],
    dest: "status_filter",
    action: Action::StoreConst("running"),
    kind: Kind::None,
    metavar: None,
    help: "Show jobs currently running only",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-job list
pub static ERROR: OptDef = OptDef {
    flags: &["--error"],
    dest: "status_filter",
    action: Action::StoreConst("error"),
    kind: Kind::None,
    metavar: None,
    help: "Show failed jobs only",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-job list
pub static FINISHED: OptDef = OptDef {
    flags: &["--finished"],
    dest: "status_filter",
    action: Action::StoreConst("canceled,success,error"),
    kind: Kind::None,
    metavar: None,
    help: "Show finished jobs only",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-job list
pub static ARCHIVED: OptDef = OptDef {
    flags: &["--archived"],
    dest: "archived",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Include archived jobs in list (slow and expensive)",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-os modify
pub static HIDDEN: OptDef = OptDef {
    flags: &["--hidden"],
    dest: "hidden",
    action: Action::Store,
    kind: Kind::Bool,
    metavar: Some("yes|no"),
    help: "Sets the hidden flag on the OS",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-os modify
pub static BLACKLISTED: OptDef = OptDef {
    flags: &["--blacklisted"],
    dest: "blacklisted",
    action: Action::Store,
    kind: Kind::Bool,
    metavar: Some("yes|no"),
    help: "Sets the blacklisted flag on the OS",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-debug delay
pub static NO_MASTER: OptDef = OptDef {
    flags: &["--no-master"],
    dest: "on_master",
    action: Action::StoreFalse,
    kind: Kind::None,
    metavar: None,
    help: "Do not sleep in the master code",
    choices: &[],
    default: Dflt::Bool(true),
};

/// Used by: gnt-debug delay
pub static ON_NODES: OptDef = OptDef {
    flags: &["-n"],
    dest: "on_nodes",
    action: Action::Append,
    kind: Kind::Str,
    metavar: Some("ON_NODES"),
    help: "Select nodes to sleep on",
    choices: &[],
    default: Dflt::EmptyList,
};

/// Used by: gnt-debug delay
pub static REPEAT: OptDef = OptDef {
    flags: &["--repeat", "-r"],
    dest: "repeat",
    action: Action::Store,
    kind: Kind::Int,
    metavar: Some("REPEAT"),
    help: "Number of times to repeat the sleep",
    choices: &[],
    default: Dflt::Int(0),
};

/// Used by: gnt-debug delay
pub static INTERRUPTIBLE: OptDef = OptDef {
    flags: &["--interruptible", "-i"],
    dest: "interruptible",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Allows the opcode to be interrupted by using a domain socket",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-debug delay
pub static NO_LOCKS: OptDef = OptDef {
    flags: &["--no-locks", "-l"],
    dest: "no_locks",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Don't take locks while performing the delay",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-backup export
pub static TRANSPORT_COMPRESSION: OptDef = OptDef {
    flags: &["--transport-compression"],
    dest: "transport_compression",
    action: Action::Store,
    kind: Kind::Str,
    metavar: None,
    help: "The compression mode to use during transport",
    choices: &[],
    default: Dflt::Str("none"),
};

/// Used by: gnt-backup export
pub static NOSHUTDOWN: OptDef = OptDef {
    flags: &["--noshutdown"],
    dest: "shutdown",
    action: Action::StoreFalse,
    kind: Kind::None,
    metavar: None,
    help: "Don't shutdown the instance (unsafe)",
    choices: &[],
    default: Dflt::Bool(true),
};

/// Used by: gnt-backup export
pub static REMOVE_INSTANCE: OptDef = OptDef {
    flags: &["--remove-instance"],
    dest: "remove_instance",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Remove the instance from the cluster",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-backup export
pub static IGNORE_REMOVE_FAILURES: OptDef = OptDef {
    flags: &["--ignore-remove-failures"],
    dest: "ignore_remove_failures",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Remove the instance from the cluster configuration even if there are failures during the removal process",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-backup export
pub static ZERO_FREE_SPACE: OptDef = OptDef {
    flags: &["--zero-free-space"],
    dest: "zero_free_space",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Whether to zero the free space on the disks of the instance prior to the export",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-backup export
pub static ZEROING_TIMEOUT_FIXED: OptDef = OptDef {
    flags: &["--zeroing-timeout-fixed"],
    dest: "zeroing_timeout_fixed",
    action: Action::Store,
    kind: Kind::Int,
    metavar: None,
    help: "The fixed amount of time to wait before assuming that the zeroing failed",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-backup export
pub static ZEROING_TIMEOUT_PER_MIB: OptDef = OptDef {
    flags: &["--zeroing-timeout-per-mib"],
    dest: "zeroing_timeout_per_mib",
    action: Action::Store,
    kind: Kind::Float,
    metavar: None,
    help: "The amount of time to wait per MiB of data to zero, in addition to the fixed timeout",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-backup export
pub static LONG_SLEEP: OptDef = OptDef {
    flags: &["--long-sleep"],
    dest: "long_sleep",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Allow long shutdowns when backing up instances",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-backup import
pub static IDENTIFY_DEFAULTS: OptDef = OptDef {
    flags: &["--identify-defaults"],
    dest: "identify_defaults",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "Identify which saved instance parameters are equal to the current cluster defaults and set them as such, instead of marking them as overridden",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Used by: gnt-backup import
pub static SRC_DIR: OptDef = OptDef {
    flags: &["--src-dir"],
    dest: "src_dir",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("<dir>"),
    help: "Source directory",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-backup import
pub static SRC_NODE: OptDef = OptDef {
    flags: &["--src-node"],
    dest: "src_node",
    action: Action::Store,
    kind: Kind::Str,
    metavar: Some("<node>"),
    help: "Source node",
    choices: &[],
    default: Dflt::None,
};

/// Used by: gnt-backup list
pub static NODE_LIST: OptDef = OptDef {
    flags: &["--node", "-n"],
    dest: "nodes",
    action: Action::Append,
    kind: Kind::Str,
    metavar: Some("<node>"),
    help: "Use only this node (can be used multiple times, if not given defaults to all nodes)",
    choices: &[],
    default: Dflt::EmptyList,
};
