#!/usr/bin/env python3
"""Benchmarks of a running ganeti-rs cluster over LUXI (the master socket),
reported the way ../shared timings of Ganeti 3.0.2 were measured:
server-side job time from the job's own timestamps (received -> end) and
client-observed throughput.

usage: luxi_bench.py ROOT
"""
import json
import socket
import statistics
import sys
import threading
import time

ROOT = sys.argv[1]
SOCK = ROOT + "/var/run/ganeti/socket/ganeti-master"


class Luxi:
    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(SOCK)
        self.buf = b""

    def call(self, method, args):
        self.s.sendall(json.dumps({"method": method, "args": args, "version": 3000000}).encode() + b"\x03")
        while b"\x03" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\x03", 1)
        resp = json.loads(msg)
        if not resp["success"]:
            raise RuntimeError(resp["result"])
        return resp["result"]

    def submit(self, ops):
        return self.call("SubmitJob", [ops])

    def wait(self, jid):
        prev = None
        while True:
            r = self.call("WaitForJobChange", [jid, ["status"], prev, 0, 10])
            if r == "nochange":
                continue
            prev = r[0]
            if r[0][0] in ("success", "error", "canceled"):
                return r[0][0]

    def server_ms(self, jid):
        (rec, end), = [self.call("QueryJobs", [[jid], ["received_ts", "end_ts"]])[0]]
        return ((end[0] - rec[0]) * 1e6 + (end[1] - rec[1])) / 1000.0


def summary(name, xs, unit="ms"):
    xs = sorted(xs)
    print(f"{name:55s} n={len(xs):4d} median={statistics.median(xs):9.2f} {unit}  "
          f"p90={xs[int(len(xs)*0.9)-1]:9.2f}  min={xs[0]:9.2f}  max={xs[-1]:9.2f}")


def delay_op():
    return {"OP_ID": "OP_TEST_DELAY", "duration": 0.001}


def bench_delay():
    c = Luxi()
    ids, client = [], []
    t0 = time.time()
    for _ in range(200):
        s = time.time()
        jid = c.submit([delay_op()])
        assert c.wait(jid) == "success"
        client.append((time.time() - s) * 1000)
        ids.append(jid)
    wall = time.time() - t0
    summary("delay 0.001 sequential: submit->success (client)", client)
    summary("delay 0.001 sequential: received->end (server)", [c.server_ms(j) for j in ids])
    print(f"delay 0.001 sequential throughput: {200/wall:.1f} jobs/s")

    ids = []
    lock = threading.Lock()

    def worker(n):
        cc = Luxi()
        for _ in range(n):
            jid = cc.submit([delay_op()])
            cc.wait(jid)
            with lock:
                ids.append(jid)
    t0 = time.time()
    ts = [threading.Thread(target=worker, args=(10,)) for _ in range(20)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    wall = time.time() - t0
    summary("delay 0.001 concurrent (20x10): received->end (server)", [c.server_ms(j) for j in ids])
    print(f"delay 0.001 concurrent throughput: {len(ids)/wall:.1f} jobs/s (200 jobs, 20 clients)")


def bench_instances(n=50):
    c = Luxi()
    node = c.call("QueryConfigValues", [["master_node"]])[0]
    create, stop, start, remove = [], [], [], []
    names = [f"bench{i}.example.com" for i in range(n)]
    for name in names:
        jid = c.submit([{"OP_ID": "OP_INSTANCE_CREATE", "instance_name": name, "mode": "create",
                         "disk_template": "diskless", "disks": [], "nics": [{}], "os_type": "noop",
                         "pnode": node, "name_check": False, "ip_check": False,
                         "ignore_ipolicy": True, "start": True}])
        assert c.wait(jid) == "success", c.call("QueryJobs", [[jid], ["opresult"]])
        create.append(c.server_ms(jid))
    summary("instance create (diskless, started): received->end", create)
    for name in names[:20]:
        jid = c.submit([{"OP_ID": "OP_INSTANCE_SHUTDOWN", "instance_name": name}])
        assert c.wait(jid) == "success"
        stop.append(c.server_ms(jid))
        jid = c.submit([{"OP_ID": "OP_INSTANCE_STARTUP", "instance_name": name}])
        assert c.wait(jid) == "success"
        start.append(c.server_ms(jid))
    summary("instance shutdown: received->end", stop)
    summary("instance startup: received->end", start)
    return names


def remove_all(names):
    c = Luxi()
    rm = []
    for name in names:
        jid = c.submit([{"OP_ID": "OP_INSTANCE_REMOVE", "instance_name": name}])
        assert c.wait(jid) == "success"
        rm.append(c.server_ms(jid))
    summary("instance remove: received->end", rm)


def rss_mib():
    pid = open(ROOT + "/var/run/ganeti/ganetid.pid").read().strip()
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024.0
    return 0.0


if __name__ == "__main__":
    bench_delay()
    names = bench_instances()
    time.sleep(2)
    print(f"ganetid RSS with {len(names)} instances, idle: {rss_mib():.1f} MiB (all daemons: ganetid is the only one)")
    remove_all(names)
