#!/usr/bin/python3
"""Drive a ganeti-rs cluster through Ganeti's official RAPI client.

Usage: client_scenario.py HOST PORT CAFILE NODE ROOT

The cluster must have the users `admin`/`adminpw` (write) and
`reader`/`readerpw` (read only), the `noop` OS, and the `file` and
`diskless` templates. Every call checks the shape and the types of its
answer; the first failed check exits non-zero with a message naming it.
Run by tests/tests/rapi_client.rs; also usable by hand.
"""

import glob
import os
import sys
import time

from ganeti.rapi import client as rapi

HOST, PORT, CAFILE, NODE, ROOT = (sys.argv[1], int(sys.argv[2]), sys.argv[3],
                                  sys.argv[4], sys.argv[5])
CURL = rapi.GenericCurlConfig(cafile=CAFILE, timeout=60)

used = set()


def client(user="admin", password="adminpw"):
    return rapi.GanetiRapiClient(HOST, port=PORT, username=user,
                                 password=password, curl_config_fn=CURL)


class Traced:
    """Records which client methods the scenario used."""

    def __init__(self, cl):
        self._cl = cl

    def __getattr__(self, name):
        attr = getattr(self._cl, name)
        if callable(attr):
            used.add(name)
        return attr


def check(what, cond, detail=None):
    if not cond:
        sys.exit("FAILED: %s%s" % (what, "" if detail is None else ": %r" % (detail,)))


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_ts(v):
    return isinstance(v, list) and len(v) == 2 and all(is_int(x) for x in v)


def expect_api_error(what, code, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except rapi.GanetiApiError as err:
        check("%s gives HTTP %d" % (what, code), err.code == code, (err.code, str(err)))
        return err
    check("%s raises GanetiApiError" % what, False)


cl = Traced(client())


def wait_job(job_id, want="success"):
    """Follow a job with the long-poll call, as Ganeti's own tools do."""
    check("job id is a JSON integer", is_int(job_id), job_id)
    prev_info, prev_serial = None, None
    deadline = time.time() + 120
    while time.time() < deadline:
        change = cl.WaitForJobChange(job_id, ["status"], prev_info, prev_serial)
        if change is None:
            continue
        check("wait answer keys", set(change) == {"job_info", "log_entries"}, change)
        prev_info = change["job_info"]
        for entry in change["log_entries"]:
            check("log entry shape", len(entry) == 4 and is_int(entry[0])
                  and is_ts(entry[1]) and isinstance(entry[3], str), entry)
            prev_serial = max(prev_serial or 0, entry[0])
        if prev_info[0] in ("success", "error", "canceled"):
            break
    job = cl.GetJobStatus(job_id)
    check("job %s finished as %s" % (job_id, want), job["status"] == want,
          (job["status"], job.get("opresult")))
    return job


# --- cluster-wide reads ------------------------------------------------------
check("version", cl.GetVersion() == 2)
check("features", set(cl.GetFeatures()) == {
    "instance-create-reqv1", "instance-reinstall-reqv1",
    "node-migrate-reqv1", "node-evac-res1"})
info = cl.GetInfo()
check("info is a dict", isinstance(info, dict))
for key in ("name", "master", "software_version", "enabled_hypervisors",
            "beparams", "ipolicy", "vg_name", "drbd_helper", "ctime", "uuid"):
    check("info has %s" % key, key in info, sorted(info))
check("info master", info["master"] == NODE, info["master"])
check("os list", "noop" in cl.GetOperatingSystems())

# --- nodes ------------------------------------------------------------------
check("nodes", cl.GetNodes() == [NODE])
nodes_bulk = cl.GetNodes(bulk=True)
check("nodes bulk", len(nodes_bulk) == 1 and nodes_bulk[0]["name"] == NODE)
for key in ("mtotal", "mfree", "dtotal", "dfree", "role", "pinst_list",
            "group.uuid", "master_candidate", "serial_no"):
    check("node bulk has %s" % key, key in nodes_bulk[0])
node = cl.GetNode(NODE)
check("node secondary_ip alias", node["secondary_ip"] == node["sip"])
check("node role letter", node["role"] == "M", node["role"])
check("node role", cl.GetNodeRole(NODE) == "master")
storage_job = cl.GetNodeStorageUnits(NODE, "file", "name,size,free")
rows = wait_job(storage_job)["opresult"][0]
check("storage rows", isinstance(rows, list) and all(len(r) == 3 for r in rows), rows)
wait_job(cl.ModifyNode(NODE, ndparams={"spindle_count": 2}))
check("node modify applied", cl.GetNode(NODE)["ndparams"]["spindle_count"] == 2)

# --- groups -----------------------------------------------------------------
check("groups", cl.GetGroups() == ["default"])
groups_bulk = cl.GetGroups(bulk=True)
check("group bulk fields", {"name", "node_cnt", "node_list", "ipolicy", "uuid"}
      <= set(groups_bulk[0]))
check("group default", cl.GetGroup("default")["node_list"] == [NODE])
wait_job(cl.CreateGroup("rapi-g1", alloc_policy="preferred"))
wait_job(cl.ModifyGroup("rapi-g1", alloc_policy="last_resort"))
check("group modified", cl.GetGroup("rapi-g1")["alloc_policy"] == "last_resort")
wait_job(cl.RenameGroup("rapi-g1", "rapi-g2"))
wait_job(cl.AddGroupTags("rapi-g2", ["gt1"]))
check("group tags", cl.GetGroupTags("rapi-g2") == ["gt1"])
wait_job(cl.DeleteGroupTags("rapi-g2", ["gt1"]))
wait_job(cl.DeleteGroup("rapi-g2"))
check("group gone", cl.GetGroups() == ["default"])

# --- networks ---------------------------------------------------------------
check("no networks", cl.GetNetworks() == [])
# Ganeti 3.0.2 types OP_NETWORK_ADD.tags as a list, so the client's default
# (tags=None, sent as null) is refused there as here: give tags.
wait_job(cl.CreateNetwork("rapinet", "10.77.0.0/24", gateway="10.77.0.1", tags="n0"))
wait_job(cl.ConnectNetwork("rapinet", "default", "bridged", "br0"))
net = cl.GetNetwork("rapinet")
check("network fields", net["network"] == "10.77.0.0/24" and is_int(net["free_count"])
      and net["group_list"] and net["group_list"][0][0] == "default", net)
wait_job(cl.ModifyNetwork("rapinet", add_reserved_ips=["10.77.0.50"]))
check("network reserved", cl.GetNetwork("rapinet")["reserved_count"] == net["reserved_count"] + 1)
wait_job(cl.AddNetworkTags("rapinet", ["nt"]))
check("network tags", sorted(cl.GetNetworkTags("rapinet")) == ["n0", "nt"])
wait_job(cl.DeleteNetworkTags("rapinet", ["nt"]))
check("networks bulk", cl.GetNetworks(bulk=True)[0]["name"] == "rapinet")
wait_job(cl.DisconnectNetwork("rapinet", "default"))
wait_job(cl.DeleteNetwork("rapinet"))

# --- instances --------------------------------------------------------------
check("no instances", cl.GetInstances() == [])
common = dict(os="noop", pnode=NODE, name_check=False, ip_check=False)
dry = wait_job(cl.CreateInstance("create", "rapi1.example.com", "diskless", [], [{}],
                                 dry_run=True, **common))
# Ganeti 3.0.2 answers a dry-run create with the chosen nodes' UUIDs.
check("dry-run result is the node list", dry["opresult"] == [[node["uuid"]]], dry["opresult"])
check("dry run created nothing", cl.GetInstances() == [])
job = wait_job(cl.CreateInstance(
    "create", "rapi1.example.com", "diskless", [], [{"mac": "auto"}],
    beparams={"maxmem": 256, "minmem": 128, "vcpus": 2}, hvparams={},
    **common))
check("create job fields", is_ts(job["received_ts"]) and is_ts(job["end_ts"])
      and job["opstatus"] == ["success"] and isinstance(job["oplog"], list)
      and job["ops"][0]["OP_ID"] == "OP_INSTANCE_CREATE", job)
check("create summary", job["summary"] == ["INSTANCE_CREATE(rapi1.example.com)"], job["summary"])
wait_job(cl.CreateInstance("create", "rapi2.example.com", "file", [{"size": 1024}],
                           [{}], start=False, **common))
dup = wait_job(cl.CreateInstance("create", "rapi1.example.com", "diskless", [], [{}],
                                 **common), want="error")
check("duplicate name error", dup["opresult"][0][0] == "OpPrereqError"
      and dup["opresult"][0][1][1] == "already_exists", dup["opresult"])

check("instance list", cl.GetInstances() == ["rapi1.example.com", "rapi2.example.com"])
bulk = cl.GetInstances(bulk=True)
check("bulk memory alias", bulk[0]["beparams"]["memory"] == bulk[0]["beparams"]["maxmem"] == 256)
check("bulk status", bulk[0]["status"] == "running" and bulk[1]["status"] == "ADMIN_down",
      [b["status"] for b in bulk])
inst = cl.GetInstance("rapi2.example.com")
check("instance disks", inst["disk_template"] == "file" and inst["disk.sizes"] == [1024], inst)
check("instance nic macs", len(inst["nic.macs"]) == 1 and inst["nic.macs"][0].count(":") == 5)
qd = wait_job(cl.GetInstanceInfo("rapi1.example.com"))["opresult"][0]
check("instance info job result", "rapi1.example.com" in qd
      and qd["rapi1.example.com"]["run_state"] == "up", qd)
qd = wait_job(cl.GetInstanceInfo("rapi2.example.com", static=True))["opresult"][0]
check("static instance info", qd["rapi2.example.com"]["disk_template"] == "file")

console = cl.GetInstanceConsole("rapi1.example.com")
check("console", console["instance"] == "rapi1.example.com" and console["kind"] == "msg", console)
expect_api_error("console of a stopped instance", 503, cl.GetInstanceConsole, "rapi2.example.com")

wait_job(cl.ShutdownInstance("rapi1.example.com", timeout=10))
check("stopped", cl.GetInstance("rapi1.example.com")["status"] == "ADMIN_down")
wait_job(cl.StartupInstance("rapi1.example.com"))
wait_job(cl.RebootInstance("rapi1.example.com", reboot_type="hard"))
check("running", cl.GetInstance("rapi1.example.com")["oper_state"] is True)
wait_job(cl.ModifyInstance("rapi1.example.com", beparams={"maxmem": 512}))
check("modified", cl.GetInstance("rapi1.example.com")["beparams"]["maxmem"] == 512)
wait_job(cl.ShutdownInstance("rapi1.example.com"))
wait_job(cl.RenameInstance("rapi1.example.com", "rapi3.example.com",
                           ip_check=False, name_check=False))
expect_api_error("old name", 404, cl.GetInstance, "rapi1.example.com")
# Ganeti refuses to reinstall a diskless instance; rapi2 has a file disk.
wait_job(cl.ReinstallInstance("rapi2.example.com", os="noop", no_startup=True))
check("reinstalled, still down", cl.GetInstance("rapi2.example.com")["status"] == "ADMIN_down")

wait_job(cl.GrowInstanceDisk("rapi2.example.com", 0, 128))
check("grown", cl.GetInstance("rapi2.example.com")["disk.sizes"] == [1152])
act = wait_job(cl.ActivateInstanceDisks("rapi2.example.com"))
check("activate-disks result", act["opresult"][0][0][0] == NODE, act["opresult"])
wait_job(cl.DeactivateInstanceDisks("rapi2.example.com"))
# recreate-disks is for lost disks: lose one, then have it recreated.
lost = glob.glob(os.path.join(ROOT, "srv/ganeti/file-storage/rapi2.example.com/*disk0"))
check("file disk on the node", len(lost) == 1, lost)
os.unlink(lost[0])
wait_job(cl.RecreateInstanceDisks("rapi2.example.com", disks=[0]))
check("disk recreated", os.path.getsize(lost[0]) == 1152 * 1024 * 1024)

# --- tags -------------------------------------------------------------------
wait_job(cl.AddClusterTags(["ct1", "ct2"]))
check("cluster tags", sorted(cl.GetClusterTags()) == ["ct1", "ct2"])
wait_job(cl.DeleteClusterTags(["ct1"]))
check("cluster tag removed", cl.GetClusterTags() == ["ct2"])
wait_job(cl.AddNodeTags(NODE, ["nt1"]))
check("node tags", cl.GetNodeTags(NODE) == ["nt1"])
wait_job(cl.DeleteNodeTags(NODE, ["nt1"]))
wait_job(cl.AddInstanceTags("rapi2.example.com", ["it1"]))
check("instance tags", cl.GetInstanceTags("rapi2.example.com") == ["it1"])
wait_job(cl.DeleteInstanceTags("rapi2.example.com", ["it1"]))
check("instance tags empty", cl.GetInstanceTags("rapi2.example.com") == [])

# --- queries ----------------------------------------------------------------
q = cl.Query("instance", ["name", "status", "be/maxmem"])
check("query shape", [f["name"] for f in q["fields"]] == ["name", "status", "be/maxmem"]
      and all(len(row) == 3 and all(len(cell) == 2 for cell in row) for row in q["data"]), q)
q = cl.Query("instance", ["name"], qfilter=["=", "name", "rapi2.example.com"])
check("query filter", q["data"] == [[[0, "rapi2.example.com"]]], q["data"])
f = cl.QueryFields("node", ["name", "nosuchfield"])
check("query fields", [x["kind"] for x in f["fields"]] == ["text", "unknown"], f)

# --- cluster changes ----------------------------------------------------------
wait_job(cl.ModifyCluster(max_running_jobs=15))
check("cluster modified", cl.GetInfo()["max_running_jobs"] == 15)
wait_job(cl.RedistributeConfig())

# --- jobs and filters ---------------------------------------------------------
jobs = cl.GetJobs()
check("job list of ints", jobs and all(is_int(j) for j in jobs), jobs[:3])
jb = cl.GetJobs(bulk=True)
check("job bulk fields", set(jb[0]) == {"id", "ops", "status", "summary", "opstatus",
                                        "received_ts", "start_ts", "end_ts"}, sorted(jb[0]))
check("no filters", cl.GetFilters() == [])
fuuid = cl.AddFilter(0, [["opcode", ["=", "OP_ID", "OP_INSTANCE_STARTUP"]]], "PAUSE")
check("filter uuid", isinstance(fuuid, str) and len(fuuid) == 36, fuuid)
check("filter get", cl.GetFilter(fuuid)["action"] == "PAUSE")
paused = cl.StartupInstance("rapi3.example.com")
time.sleep(1)
check("paused job stays queued", cl.GetJobStatus(paused)["status"] == "queued",
      cl.GetJobStatus(paused)["status"])
res = cl.CancelJob(paused)
check("cancel answer", isinstance(res, list) and res[0] is True and isinstance(res[1], str), res)
wait_job(paused, want="canceled")
check("replace filter", cl.ReplaceFilter(fuuid, 1, [], "CONTINUE") == fuuid)
check("filters bulk", cl.GetFilters(bulk=True)[0]["priority"] == 1)
cl.DeleteFilter(fuuid)
check("filter removed", cl.GetFilters() == [])

multi = wait_job(cl.InstancesMultiAlloc([
    {"mode": "create", "name": "rapi4.example.com", "disk_template": "diskless",
     "disks": [], "nics": [{}], "os": "noop", "pnode": NODE, "name_check": False,
     "ip_check": False, "start": False}]))
check("multi-alloc result", isinstance(multi["opresult"][0]["jobs"], list), multi["opresult"])
for ok, jid in multi["opresult"][0]["jobs"]:
    check("multi-alloc job", ok is True)
    wait_job(jid)
check("multi-alloc instance", "rapi4.example.com" in cl.GetInstances())

# --- error paths ----------------------------------------------------------------
expect_api_error("wrong password", 401, client("admin", "nope").GetInfo)
expect_api_error("unknown user", 401, client("nobody", "x").GetInfo)
reader = client("reader", "readerpw")
check("reader may read", reader.GetVersion() == 2)
expect_api_error("reader writing", 403, reader.AddClusterTags, ["x"])
expect_api_error("unknown instance", 404, cl.GetInstance, "nosuch.example.com")
expect_api_error("bad reboot type", 400, cl.RebootInstance, "rapi2.example.com",
                 reboot_type="sideways")

# --- removal ------------------------------------------------------------------
wait_job(cl.DeleteInstance("rapi2.example.com", dry_run=True))
check("dry-run delete kept it", "rapi2.example.com" in cl.GetInstances())
for name in ("rapi2.example.com", "rapi3.example.com", "rapi4.example.com"):
    wait_job(cl.DeleteInstance(name))
check("all removed", cl.GetInstances() == [])

print("OK: %d client methods used: %s" % (len(used), " ".join(sorted(used))))
check("at least 40 client methods", len(used) >= 40, len(used))
