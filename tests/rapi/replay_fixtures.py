#!/usr/bin/python3
"""Replay the requests recorded from a real Ganeti 3.0.2 RAPI against ours.

Usage: replay_fixtures.py HOST PORT FIXTURES_DIR PHASE

PHASE `reqauth` replays everything recorded with `--require-authentication`
(in the recorded order, so the cluster goes through the same states);
PHASE `noreqauth` replays the requests recorded without it. For every
request the status code must be Ganeti's; JSON answers must have the same
keys and value types (values that depend on time, UUIDs, names or the
machine aside); error bodies must be identical. Jobs a request created are
followed to their end and compared the same way.

The cluster needs the users `ref`/`refpass` (write) and `reader`/`readerpass`
(read only), node `node1.example.com`, OS `noop`, templates file and diskless.
Recorded creates ask for `name_check`, which needs the reference's DNS
entries for inst*.example.com (and renames check the new name by default);
here name_check is switched off, the only change made to a recorded request.
"""

import base64
import http.client
import json
import os
import re
import ssl
import sys
import time

HOST, PORT, FIX, PHASE = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
PASSWORDS = {"ref": "refpass", "reader": "readerpass", "nosuchuser": "x"}
CONTENT_TYPES = {
    "err_wrong_content_type": "text/plain",
    "err_content_type_charset": "application/json; charset=utf-8",
}
WRONG_PASSWORD = {"err_wrong_password", "noreqauth_wrong_password"}

# Dict keys whose *key sets* depend on the cluster (object names, UUIDs, the
# set of hypervisors/OSes known) rather than on the API: only the value
# shapes are compared for them.
NAME_KEYED = {"hvparams", "os_hvp", "osparams", "diskparams", "ndparams",
              "custom_ndparams", "custom_diskparams", "custom_hvparams",
              "nicparams", "custom_nicparams", "beparams", "custom_beparams",
              "ipolicy", "custom_ipolicy", "hv_state", "disk_state", "minmax",
              "min", "max", "std", "hv_state_static", "disk_state_static"}

# Recorded requests not replayed, and why. Each is a deliberate difference
# in the master's behaviour, not in RAPI.
KNOWN_DIFFERENCES = {
    "post_instance_iallocator_fail":
        "without pnode Ganeti runs its default iallocator (hail), which refuses "
        "a one-node cluster; ganeti-rs places the instance on the only node",
}

# Opcode parameters Ganeti's logical units fill in while they run (the
# resolved UUIDs, the file driver, OS parameter dicts, helper timeouts),
# which its job queue then stores: ours stores the opcode as submitted.
LU_RESOLVED_OP_KEYS = {"instance_uuid", "pnode_uuid", "node_uuid", "file_driver",
                       "osparams_private", "osparams_secret", "admin_state_source",
                       "helper_startup_timeout", "helper_shutdown_timeout"}

# Hypervisors this release does not ship: Ganeti lists all their default
# parameters in the cluster's hvparams; we list only the ones we implement.
NOT_SHIPPED_HYPERVISORS = {"kvm", "xen-pvm", "xen-hvm", "lxc", "chroot"}

CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE

problems = []


def request(method, path, body=None, auth=None, ctype="application/json"):
    conn = http.client.HTTPSConnection(HOST, PORT, context=CTX, timeout=60)
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    data = None
    if body is not None:
        data = body.encode()
        headers["Content-Type"] = ctype
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        value = ("<not json>", raw[:200])
    # Header names are case-insensitive (RFC 9110): compare them lowercased.
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, value


def kind(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return type(v).__name__


def compare(name, ours, theirs, path="", key=None):
    """Record every difference of structure between two JSON values."""
    if theirs is None or ours is None:
        # A value Ganeti left empty may be known here and vice versa
        # (e.g. a never-started job's start_ts); types are compared when both exist.
        return
    if kind(ours) != kind(theirs):
        problems.append("%s: %s is %s here, %s in Ganeti (%r vs %r)" % (
            name, path or "body", kind(ours), kind(theirs), ours, theirs))
        return
    if isinstance(theirs, dict):
        if key not in NAME_KEYED:
            missing = set(theirs) - set(ours)
            if "OP_ID" in theirs:
                missing -= LU_RESOLVED_OP_KEYS
            missing = sorted(missing)
            extra = sorted(set(ours) - set(theirs))
            if missing or extra:
                problems.append("%s: %s keys missing %s, extra %s" % (
                    name, path or "body", missing, extra))
        for k in set(ours) & set(theirs):
            if key == "hvparams" and k in NOT_SHIPPED_HYPERVISORS:
                continue
            compare(name, ours[k], theirs[k], "%s.%s" % (path, k), k)
    elif isinstance(theirs, list):
        if len(ours) != len(theirs) and any(isinstance(x, dict) for x in theirs):
            # Listings of a different length (e.g. the job list, shifted by
            # a skipped request) do not pair element by element.
            return
        for i, (a, b) in enumerate(zip(ours, theirs)):
            compare(name, a, b, "%s[%d]" % (path, i), key)


def load(name, suffix):
    p = os.path.join(FIX, name + suffix)
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return f.read()


def entries():
    pat = re.compile(r"^(\S+)\s+(GET|PUT|POST|DELETE)\s+(\S+)\s+-> (.*)$")
    with open(os.path.join(FIX, "statuses.txt")) as f:
        for line in f:
            m = pat.match(line.rstrip("\n"))
            if m:
                yield m.groups()


def patched(body):
    try:
        d = json.loads(body)
    except ValueError:
        return body
    if isinstance(d, dict) and (d.get("name_check") is True
                                or ("new_name" in d and "name_check" not in d)):
        d["name_check"] = False
        return json.dumps(d)
    return body


job_ids = {}  # recorded request name -> job id it returned here
last_job = None
count = 0
for name, method, path, outcome in entries():
    if name.startswith("noreqauth_") != (PHASE == "noreqauth"):
        continue
    if name.split(".")[0] in KNOWN_DIFFERENCES:
        if not name.endswith(".job"):
            print("skipped %s: %s" % (name, KNOWN_DIFFERENCES[name]))
        continue
    if name.endswith(".job"):
        base = name[:-4]
        jid = job_ids.get(base)
        if jid is None:
            problems.append("%s: no job id to follow" % name)
            continue
        want = outcome.split(": ")[-1]
        deadline = time.time() + 60
        while True:
            _, _, job = request("GET", "/2/jobs/%d" % jid, auth="ref:refpass")
            if job["status"] in ("success", "error", "canceled") or time.time() > deadline:
                break
            time.sleep(0.05)
        if job["status"] != want:
            problems.append("%s: job ended %s here, %s in Ganeti (%r)" % (
                name, job["status"], want, job.get("opresult")))
        theirs = json.loads(load(name, ".json"))
        compare(name, job, theirs)
        count += 1
        continue
    m = re.match(r"(\d+)  \(auth=(\S+)\)", outcome)
    want_status, user = int(m.group(1)), m.group(2)
    auth = None
    if user != "none":
        auth = "%s:%s" % (user, "wrongpass" if name in WRONG_PASSWORD else PASSWORDS[user])
    body = load(name, ".req.json")
    if body is not None:
        body = patched(body.rstrip("\n"))
    if re.match(r"^/2/jobs/\d+/wait$", path) and last_job is not None:
        path = "/2/jobs/%d/wait" % last_job
    status, headers, value = request(method, path, body, auth,
                                     CONTENT_TYPES.get(name, "application/json"))
    count += 1
    theirs_raw = load(name, ".json")
    theirs = json.loads(theirs_raw) if theirs_raw and theirs_raw.strip() else None
    if status != want_status:
        problems.append("%s: %s %s answered %d here, %d in Ganeti (%r)" % (
            name, method, path, status, want_status, value))
        continue
    if headers.get("content-type") != "application/json":
        problems.append("%s: Content-Type %r" % (name, headers.get("content-type")))
    if status == 401 and headers.get("www-authenticate") != 'Basic realm="Ganeti Remote API"':
        problems.append("%s: WWW-Authenticate %r" % (name, headers.get("www-authenticate")))
    if status >= 400:
        if value != theirs:
            problems.append("%s: error body %r here, %r in Ganeti" % (name, value, theirs))
        continue
    if isinstance(theirs, int) and not isinstance(theirs, bool) and method != "GET" \
            or name in ("2_instance_info", "2_instance_info_static"):
        # A job id: must be a JSON integer, and is followed by the .job entry.
        if not (isinstance(value, int) and not isinstance(value, bool)):
            problems.append("%s: job id %r is not a JSON integer" % (name, value))
            continue
        job_ids[name] = value
        last_job = value
        continue
    compare(name, value, theirs)

print("replayed %d recorded requests (%s)" % (count, PHASE))
for p in problems:
    print("MISMATCH " + p)
sys.exit(1 if problems else 0)
