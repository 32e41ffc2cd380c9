#!/usr/bin/env bash
# How much does ganeti-rs add to starting a real KVM/QEMU guest?
#
#   bench/kvm-start.sh [RUNS]        (default 10 runs of each; needs root)
#
# (a) baseline: QEMU started by hand with the command line ganeti-rs itself
#     uses for the instance (captured from /proc/<pid>/cmdline of a first
#     start, its runtime paths moved to a scratch directory), timed from
#     exec to the guest's GUEST-READY line on the serial socket;
# (b) ganeti-rs: timed from running `gnt-instance startup` (job submit) to
#     the same line on the instance's serial socket.
# The guest's boot (~3 s of emulated CPU) varies by several 100 ms from run
# to run on a shared machine, far more than the overhead looked for, so
# two boot-free measures are given as well: the time until the serial
# socket accepts a connection, and the time until QEMU runs the guest
# (baseline: its socket is up, as it starts unpaused; ganeti-rs: the
# `gnt-instance startup` command returned, its job having started QEMU
# paused, set it up over QMP and continued it).
# (c) RSS of the QEMU process after boot (ps -o rss) in both cases.
#
# The guest is tests/guest/build-guest.sh's (software CPU, kvm_flag=disabled,
# 128 MiB, 1 vCPU, no disks, no NICs). Runs of (a) and (b) alternate so that
# noise from other work on the machine hits both alike. Only bash, python3
# (standard library) and the project's own binaries are used.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
runs=${1:-10}
[ "$(id -u)" = 0 ] || { echo "kvm-start.sh: needs root (QEMU's runtime dirs, like the kvm tier)" >&2; exit 1; }
qemu=$(command -v qemu-system-x86_64) || { echo "qemu-system-x86_64 is missing (scripts/test.sh installs it)" >&2; exit 1; }

guest=${GANETI_TEST_GUEST_DIR:-$top/target/guest}
tests/guest/build-guest.sh "$guest"
if [ -z "${GNT_BIN_DIR:-}" ]; then
  cargo build --release --bins
  GNT_BIN_DIR=$top/target/release
fi
bin=$GNT_BIN_DIR
links=$(mktemp -d)
for t in cluster instance node job; do ln -sf "$bin/gnt" "$links/gnt-$t"; done
root=$(mktemp -d /tmp/gnt-kvmbench.XXXXXX)
scratch=$(mktemp -d /tmp/gnt-kvmbase.XXXXXX)
mkdir -p "$root/srv/ganeti/os" && cp -r os/noop "$root/srv/ganeti/os/"
export PATH=$links:$PATH GANETI_ROOT=$root GANETID=$bin/ganetid
cleanup() {
  # only the QEMUs of our own two directories, by the pids in their pid files
  for f in "$root"/var/run/ganeti/kvm-hypervisor/pid/* "$scratch"/pid; do
    [ -f "$f" ] || continue
    p=$(cat "$f" 2>/dev/null || true)
    if [ -n "$p" ] && tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -qF -e "$root" -e "$scratch"; then
      kill -9 "$p" 2>/dev/null || true
    fi
  done
  gnt-cluster destroy --yes-do-it >/dev/null 2>&1 || kill "$(cat "$root/var/run/ganeti/ganetid.pid" 2>/dev/null)" 2>/dev/null || true
  rm -rf "$root" "$links" "$scratch"
}
trap cleanup EXIT

gnt-cluster init --master-ip 127.0.0.1 --enabled-hypervisors=kvm \
  --enabled-disk-templates=diskless,file \
  -H "kvm:kvm_path=$qemu,kvm_flag=disabled,kernel_path=$guest/vmlinuz,initrd_path=$guest/initramfs.img,kernel_args=quiet,serial_console=true" \
  --nic-parameters link=br0 kvmbench.example.com >/dev/null
gnt-instance add -o noop -t diskless --no-nics --no-name-check --no-ip-check \
  --ignore-ipolicy --no-start -H "kvm:kernel_args=quiet gnt.name=bench" \
  bench1.example.com >/dev/null

python3 - "$root" "$scratch" "$runs" <<'EOF'
import os, socket, statistics, subprocess, sys, time

ROOT, SCRATCH, RUNS = sys.argv[1], sys.argv[2], int(sys.argv[3])
INST = "bench1.example.com"
KVMRUN = os.path.join(ROOT, "var/run/ganeti/kvm-hypervisor")
SERIAL = os.path.join(KVMRUN, "ctrl", INST + ".serial")
PIDFILE = os.path.join(KVMRUN, "pid", INST)
TIMEOUT = 120


def connect(path, deadline):
    while True:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise SystemExit("no serial socket at %s" % path)
            time.sleep(0.001)


def wait_ready(s, deadline):
    buf = b""
    s.settimeout(0.5)
    while b"GUEST-READY" not in buf:
        if time.monotonic() > deadline:
            raise SystemExit("no GUEST-READY; got %r" % buf[-500:])
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        if not d:
            raise SystemExit("serial closed before GUEST-READY")
        buf += d


def read_pid(path, deadline):
    while time.monotonic() < deadline:
        try:
            return int(open(path).read().strip())
        except (OSError, ValueError):
            time.sleep(0.01)
    raise SystemExit("no pid file %s" % path)


def rss_kib(pid):
    out = subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True)
    return int(out.stdout.strip() or 0)


def gnt(*argv):
    r = subprocess.run(list(argv), capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("%s failed: %s%s" % (" ".join(argv), r.stdout, r.stderr))
    return r.stdout + r.stderr


def wait_gone(pid):
    for _ in range(2000):
        if not os.path.exists("/proc/%d" % pid):
            return
        try:
            if open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] == "Z":
                return
        except OSError:
            return
        time.sleep(0.005)


def stop_instance():
    gnt("gnt-instance", "shutdown", "--timeout=0", INST)


# --- capture the command line ganeti-rs runs ---------------------------
gnt("gnt-instance", "startup", INST)
pid = read_pid(PIDFILE, time.monotonic() + 30)
argv = open("/proc/%d/cmdline" % pid, "rb").read().split(b"\0")[:-1]
argv = [a.decode() for a in argv]
stop_instance()
wait_gone(pid)

# Same command line, its runtime files under SCRATCH instead of ROOT.
# Whatever ganeti-rs names inside the run dir is moved, nothing else.
base = []
for a in argv:
    a = a.replace(KVMRUN, SCRATCH)
    base.append(a)
# ganeti-rs may start QEMU paused (-S) and continue it over QMP once set
# up; the baseline has nobody to do that, so it runs at once.
base = [a for a in base if a != "-S"]
daemonized = "-daemonize" in base
pidf = None
for i, a in enumerate(base):
    if a == "-pidfile":
        pidf = base[i + 1]
if pidf is None:
    pidf = os.path.join(SCRATCH, "pid")
    base += ["-pidfile", pidf]
for sub in ("ctrl", "pid", "conf", "nic", "uid", "chroot", "instances", "keymap"):
    os.makedirs(os.path.join(SCRATCH, sub), exist_ok=True)
bserial = SERIAL.replace(KVMRUN, SCRATCH)
print("ganeti-rs runs:\n  " + " ".join(argv))
print("baseline runs the same with paths under %s" % SCRATCH)


def baseline_once():
    for f in (bserial, pidf):
        try:
            os.unlink(f)
        except OSError:
            pass
    t0 = time.monotonic()
    p = subprocess.Popen(base, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    s = connect(bserial, t0 + TIMEOUT)
    t_sock = time.monotonic() - t0
    wait_ready(s, t0 + TIMEOUT)
    t_ready = time.monotonic() - t0
    qpid = read_pid(pidf, time.monotonic() + 10) if daemonized else p.pid
    time.sleep(0.5)
    rss = rss_kib(qpid)
    s.close()
    subprocess.run(["kill", "-9", str(qpid)])
    if not daemonized:
        p.wait()
    wait_gone(qpid)
    return t_sock, t_ready, rss


def ganeti_once():
    for f in (SERIAL,):
        try:
            os.unlink(f)
        except OSError:
            pass
    # The command waits for its job, as an operator's would; meanwhile we
    # watch the serial socket. Its return time is when the job (QEMU
    # started, set up over QMP, running) is done.
    t0 = time.monotonic()
    cmd = subprocess.Popen(["gnt-instance", "startup", INST], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
    s = connect(SERIAL, t0 + TIMEOUT)
    t_sock = time.monotonic() - t0
    t_cmd = None
    out = b""
    deadline = t0 + TIMEOUT
    buf = b""
    s.settimeout(0.005)
    while b"GUEST-READY" not in buf:
        if t_cmd is None and cmd.poll() is not None:
            t_cmd = time.monotonic() - t0
            out = cmd.stdout.read()
            if cmd.returncode != 0:
                raise SystemExit("gnt-instance startup failed: %s" % out.decode())
        if time.monotonic() > deadline:
            raise SystemExit("no GUEST-READY; got %r" % buf[-500:])
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        if not d:
            raise SystemExit("serial closed before GUEST-READY")
        buf += d
    t_ready = time.monotonic() - t0
    if t_cmd is None:
        cmd.wait()
        t_cmd = time.monotonic() - t0
    qpid = read_pid(PIDFILE, time.monotonic() + 10)
    time.sleep(0.5)
    rss = rss_kib(qpid)
    s.close()
    stop_instance()
    wait_gone(qpid)
    return t_cmd, t_sock, t_ready, rss


a, b = [], []
for i in range(RUNS):
    a.append(baseline_once())
    b.append(ganeti_once())
    print("run %2d: baseline socket %.3f s ready %.3f s rss %d KiB | ganeti-rs startup done %.3f s "
          "socket %.3f s ready %.3f s rss %d KiB"
          % ((i + 1,) + a[-1] + b[-1]), flush=True)

med = statistics.median
a_sock, a_ready, a_rss = (med(x[k] for x in a) for k in range(3))
b_cmd, b_sock, b_ready, b_rss = (med(x[k] for x in b) for k in range(4))
print()
print("| measure (median of %d) | plain QEMU | ganeti-rs | difference |" % RUNS)
print("|---|---|---|---|")
print("| start to serial socket up | %.0f ms | %.0f ms | %+.0f ms |"
      % (a_sock * 1e3, b_sock * 1e3, (b_sock - a_sock) * 1e3))
print("| start to GUEST-READY | %.2f s | %.2f s | %+.0f ms |"
      % (a_ready, b_ready, (b_ready - a_ready) * 1e3))
print("| QEMU up and running: socket up / `gnt-instance startup` returned | %.0f ms | %.0f ms | %+.0f ms |"
      % (a_sock * 1e3, b_cmd * 1e3, (b_cmd - a_sock) * 1e3))
print("| QEMU RSS after boot | %.1f MiB | %.1f MiB | %+.1f MiB |"
      % (a_rss / 1024, b_rss / 1024, (b_rss - a_rss) / 1024))
print("ranges: baseline ready %.2f-%.2f s, ganeti-rs ready %.2f-%.2f s"
      % (min(x[1] for x in a), max(x[1] for x in a), min(x[2] for x in b), max(x[2] for x in b)))
EOF
