#!/usr/bin/env bash
# Build ganeti-rs and start a single-node cluster on the embedded default:
# everything lives under ./ganeti-root (no /etc, /var touched), fake hypervisor,
# file and diskless disk templates, and a `noop` OS provider.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
root=${GANETI_ROOT:-$top/ganeti-root}
cargo build --release --bins
bin=$top/target/release
for t in cluster instance node group network job os debug; do
  ln -sf gnt "$bin/gnt-$t"
done
export PATH=$bin:$PATH GANETI_ROOT=$root
if [ -e "$root/var/lib/ganeti/config.data" ]; then
  echo "A cluster already lives in $root; restarting its daemon if needed."
  pgrep -f "ganetid --root $root" >/dev/null || "$bin/ganetid" --root "$root" >>"$root/var/log/ganeti/ganetid.log" 2>&1 &
else
  mkdir -p "$root/srv/ganeti/os"
  cp -r "$top/os/noop" "$root/srv/ganeti/os/"
  gnt-cluster init --master-ip 127.0.0.2 --nic-parameters link=br0 cluster.local
fi
gnt-cluster getmaster >/dev/null
cat <<MSG

A single-node ganeti-rs cluster runs under $root.
Use it from this shell with:

  export PATH=$bin:\$PATH GANETI_ROOT=$root

then, for example:

  gnt-cluster info
  gnt-instance add -t file --disk 0:size=1G -o noop --no-name-check --no-ip-check demo1
  gnt-instance list -o name,status,disk.sizes,be/memory
  gnt-job list
  gnt-cluster destroy --yes-do-it      # after removing the instances
MSG
