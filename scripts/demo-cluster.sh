#!/usr/bin/env bash
# Build ganeti-rs and start a single-node cluster on the embedded default:
# everything lives under ./ganeti-root (no /etc, /var touched), the fake and kvm
# hypervisors (fake is the default), file, sharedfile, diskless and blockdev
# disk templates, and two OS providers: `noop` (does nothing) and `simpleimage`
# (writes an image onto the first disk; installed by scripts/install.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
root=${GANETI_ROOT:-$top/ganeti-root}
cargo build --release --bins
bin=$top/target/release
# The install step, into the demo root: gnt-* links next to the built
# binaries, the simpleimage OS provider and its config below $root.
scripts/install.sh --root "$root" --no-build --bindir "$bin" >/dev/null
export PATH=$bin:$PATH GANETI_ROOT=$root
if [ -e "$root/var/lib/ganeti/config.data" ]; then
  echo "A cluster already lives in $root; restarting its daemon if needed."
  pgrep -f "ganetid --root $root" >/dev/null || "$bin/ganetid" --root "$root" >>"$root/var/log/ganeti/ganetid.log" 2>&1 &
else
  mkdir -p "$root/srv/ganeti/os"
  cp -r "$top/os/noop" "$root/srv/ganeti/os/"
  gnt-cluster init --master-ip 127.0.0.2 --nic-parameters link=br0 \
    --enabled-hypervisors=fake,kvm --enabled-disk-templates=file,sharedfile,diskless,blockdev \
    cluster.local
  # A RAPI user with write access; its password is printed once, below.
  rapi_pw=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
  install -d -m 0750 "$root/var/lib/ganeti/rapi"
  (umask 077; printf 'admin %s write\n' "$rapi_pw" >"$root/var/lib/ganeti/rapi/users")
  echo "RAPI user 'admin', password: $rapi_pw (in $root/var/lib/ganeti/rapi/users)"
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
  # simpleimage writes an image (raw, raw+gz, raw+bzip2, raw+xz or qcow2; a path or an http(s) URL)
  # onto the first disk; config: $root/etc/ganeti/instance-simpleimage/default/config
  gnt-instance add -t file --disk 0:size=3G -o simpleimage+default --no-name-check --no-ip-check \\
    -O image=https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-nocloud-amd64.qcow2,image_type=qcow2 demo2
  gnt-job list
  curl -k https://127.0.0.1:5080/2/info                 # RAPI (anonymous reads)
  curl -k -u admin:PASSWORD -X PUT 'https://127.0.0.1:5080/2/tags?tag=demo'
  gnt-cluster destroy --yes-do-it      # after removing the instances

Real VMs (kvm, needs qemu-system-x86_64; tests/guest/build-guest.sh builds a tiny guest):

  gnt-instance add -t diskless --no-nics --ignore-ipolicy -o noop --no-name-check --no-ip-check \\
    -H kvm:kvm_flag=disabled,kernel_path=$top/target/guest/vmlinuz,initrd_path=$top/target/guest/initramfs.img,kernel_args=gnt.name=vm1 vm1
  gnt-instance console vm1             # Ctrl-] detaches
MSG
