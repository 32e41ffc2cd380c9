#!/usr/bin/env bash
# Benchmarks side by side with Ganeti 3.0.2's recorded figures
# (fake hypervisor, single node). Uses hyperfine for CLI start-up and a
# LUXI client (luxi_bench.py) for job timings. Prints a report.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
cargo build --release --bins
bin=$top/target/release
links=$(mktemp -d)
for t in cluster instance node group network job os debug; do ln -sf "$bin/gnt" "$links/gnt-$t"; done
root=$(mktemp -d /tmp/gnt-bench.XXXXXX)
mkdir -p "$root/srv/ganeti/os" && cp -r os/noop "$root/srv/ganeti/os/"
export PATH=$links:$PATH GANETI_ROOT=$root GANETID=$bin/ganetid
gnt-cluster init --master-ip 127.0.0.1 --nic-parameters link=br0 bench.example.com
trap 'gnt-cluster destroy --yes-do-it >/dev/null 2>&1 || kill "$(cat "$root/var/run/ganeti/ganetid.pid")"; rm -rf "$root" "$links"' EXIT
echo "== CLI start-up (gnt-debug delay --help); Ganeti 3.0.2: 152 ms"
hyperfine -N --warmup 5 --runs 50 'gnt-debug delay --help' 2>/dev/null | grep -E "Time|Range"
echo "== gnt-debug delay 0.001 as a whole command; Ganeti 3.0.2: 496 ms"
hyperfine -N --warmup 3 --runs 30 'gnt-debug delay 0.001' 2>/dev/null | grep -E "Time|Range"
echo "== jobs and instances over LUXI; Ganeti 3.0.2: delay server 266 ms, 2.0 jobs/s seq, 2.2-3.7 conc;"
echo "   create 740-955 ms, shutdown 401 ms, startup 517 ms, remove ~500 ms; RSS ~200 MiB"
python3 bench/luxi_bench.py "$root"
