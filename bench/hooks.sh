#!/usr/bin/env bash
# What hooks cost: `gnt-instance startup` + `shutdown` of a fake-hypervisor
# instance, as whole commands, with no hook scripts and with 5 trivial
# scripts in each of instance-start/stop pre.d and post.d (20 script runs
# per pair), timed with hyperfine. Prints the medians and the cost per
# script run.
#
# Ganeti 3.0.2 runs its hooks the same way (fork+exec per script on the
# node daemon); run the same loop against ../shared/tools/ganeti-ref to
# compare (see bench/RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
cargo build --release --bins
bin=$top/target/release
links=$(mktemp -d)
ln -sf "$bin/gnt" "$links/gnt-cluster"; ln -sf "$bin/gnt" "$links/gnt-instance"
root=$(mktemp -d /tmp/gnt-bench-hooks.XXXXXX)
mkdir -p "$root/srv/ganeti/os" && cp -r os/noop "$root/srv/ganeti/os/"
export PATH=$links:$PATH GANETI_ROOT=$root GANETID=$bin/ganetid
gnt-cluster init --master-ip 127.0.0.1 --nic-parameters link=br0 bench.example.com >/dev/null
trap 'gnt-cluster destroy --yes-do-it >/dev/null 2>&1 || kill "$(cat "$root/var/run/ganeti/ganetid.pid")"; rm -rf "$root" "$links"' EXIT
gnt-instance add -t diskless -o noop --no-name-check --no-ip-check --no-start --no-nics --ignore-ipolicy vm1 >/dev/null
pair='sh -c "gnt-instance startup vm1 >/dev/null && gnt-instance shutdown vm1 >/dev/null"'
median() {
    hyperfine -N --warmup 3 --runs 40 --export-json "$root/h.json" "$pair" >/dev/null 2>&1
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("median %.1f ms (min %.1f, max %.1f)" % (r["median"]*1e3, r["min"]*1e3, r["max"]*1e3))' "$root/h.json"
}
echo "== startup+shutdown, no hook scripts"
median
for dir in instance-start-pre.d instance-start-post.d instance-stop-pre.d instance-stop-post.d; do
    mkdir -p "$root/etc/ganeti/hooks/$dir"
    for i in 1 2 3 4 5; do
        printf '#!/bin/sh\nexit 0\n' > "$root/etc/ganeti/hooks/$dir/${i}0-noop"
        chmod 755 "$root/etc/ganeti/hooks/$dir/${i}0-noop"
    done
done
echo "== startup+shutdown, 5 scripts in each of 4 directories (20 runs per pair)"
median
