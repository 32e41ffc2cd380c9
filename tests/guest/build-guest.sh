#!/usr/bin/env bash
# Build the tiny guest the real-VM test tier (tests/tests/kvm.rs) and
# bench/kvm-start.sh boot: a Debian cloud kernel plus a busybox initramfs,
# made only from Debian packages (no network besides the Debian mirror, no
# root needed except for `apt-get update` when the package lists are empty).
#
#   usage: tests/guest/build-guest.sh [OUTDIR]
#   OUTDIR defaults to $GANETI_TEST_GUEST_DIR, else <repo>/target/guest.
#
# Output:
#   OUTDIR/vmlinuz         the kernel (bzImage) of linux-image-cloud-amd64's dependency
#   OUTDIR/initramfs.img   cpio (newc) + gzip: busybox-static, virtio modules, our /init
#   OUTDIR/rootfs.img      raw disk image (32 MiB, sparse, no partition table):
#                          ext4 holding the same busybox userland, for tests
#                          whose guest runs from a disk an OS provider wrote
#   OUTDIR/kernel-release  the kernel's release string
#   OUTDIR/inputs          hash of what the build depends on; unchanged => nothing to do
#
# Why an initramfs: tests need a guest that boots in seconds under TCG and
# that they can talk to. By default the guest runs from the initramfs and
# disks given to the VM are data disks (vda, vdb, ...) the tests inspect from
# inside the guest.
#
# Disk root (gnt.root=): the Debian cloud kernel has ext4 built in
# (CONFIG_EXT4_FS=y) but virtio_blk as a module, so root_path with no initrd
# cannot work; the same initramfs is always booted (kernel_path +
# initrd_path) and its /init, after loading the modules, mounts gnt.root's
# device (ext4, read-write) and switch_roots into it, running the disk's
# /init. Ganeti's own root_path (the kernel's root=, /dev/vda1 by default)
# is ignored on purpose: it is always set, so it cannot mean "boot the disk".
# rootfs.img is made without root or loop devices by `mke2fs -d` (e2fsprogs).
# Its /etc/gnt/disk-id is absent; a test writes its own id there into a copy
# (e.g. `debugfs -w -R "write ID_FILE /etc/gnt/disk-id" COPY`) to prove the
# guest runs from the very disk it made.
#
# The guest, configured by kernel arguments (Ganeti's kernel_args hvparam):
#   gnt.name=NAME        hostname, printed in the markers (default: guest)
#   gnt.ip=A.B.C.D/NN    static address on eth0 (virtio-net)
#   gnt.root=DEV         run from the ext4 filesystem on DEV (e.g. /dev/vda);
#                        if it cannot be mounted the guest prints
#                        `GUEST-ERROR ...` and stays on the initramfs
# Console protocol on ttyS0 (the VM's serial port; Ganeti's serial socket):
#   GUEST-READY name=NAME ip=IP boot=BOOT_ID root=ROOT disk_id=ID
#                        the guest is up and listens for commands; BOOT_ID
#                        differs at every boot; ROOT is `initramfs` or `disk`;
#                        ID is the disk root's /etc/gnt/disk-id (first word),
#                        `none` without one
#   then every line received is run by `sh -c` (no echo); its output follows,
#   then `CMD-DONE rc=N`.
#   ACPI power button -> acpid -> poweroff; the guest prints
#   `GUEST-SHUTDOWN name=NAME` just before it powers off.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-${GANETI_TEST_GUEST_DIR:-$repo/target/guest}}
kmeta=${GUEST_KERNEL_PKG:-linux-image-cloud-amd64}
# Modules the guest needs; their dependencies are added (from each module's
# own .modinfo "depends=", since the package ships no modules.dep).
wanted_modules="virtio_pci virtio_blk virtio_net button evdev"

say() { echo "build-guest: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

PATH=$PATH:/usr/sbin:/sbin  # mke2fs lives in sbin
for tool in apt-get apt-cache dpkg-deb cpio gzip tar sha256sum mke2fs; do
  command -v "$tool" >/dev/null 2>&1 \
    || die "$tool is missing (scripts/test.sh installs cpio and e2fsprogs)"
done

mkdir -p "$out"
out=$(cd "$out" && pwd)
# One build at a time per output directory.
exec 9>"$out/.lock"
command -v flock >/dev/null 2>&1 && flock 9

candidates() {  # candidates PKG... -> "PKG=VERSION" per package apt would download
  apt-cache policy "$@" 2>/dev/null | awk '/^[^ ].*:$/ {p=substr($1, 1, length($1)-1)} /Candidate:/ {print p "=" $2}'
}
# One apt-cache call (they cost ~1 s each) tells whether anything changed:
# the kernel metapackage's version moves whenever its dependency does.
versions=$(candidates "$kmeta" busybox-static)
if [ -z "$versions" ] && [ "$(id -u)" = 0 ]; then
  say "apt knows no $kmeta; running apt-get update"
  apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null 2>&1 || true
  versions=$(candidates "$kmeta" busybox-static)
fi
version_of() { sed -n "s/^$1=//p" <<<"$versions" | head -n1; }
mver=$(version_of "$kmeta")
bver=$(version_of busybox-static)
[ -n "$mver" ] && [ "$mver" != "(none)" ] || die "apt has no $kmeta (apt-get update as root?)"
[ -n "$bver" ] && [ "$bver" != "(none)" ] || die "apt has no busybox-static (apt-get update as root?)"

inputs=$( { sha256sum < "$0"; echo "$kmeta=$mver busybox-static=$bver $wanted_modules"; } | sha256sum | cut -d' ' -f1)
if [ -f "$out/inputs" ] && [ "$(cat "$out/inputs")" = "$inputs" ] \
   && [ -s "$out/vmlinuz" ] && [ -s "$out/initramfs.img" ] && [ -s "$out/rootfs.img" ]; then
  say "guest in $out is up to date ($kmeta $mver, busybox-static $bver)"
  exit 0
fi
kpkg=$(apt-cache depends "$kmeta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}' || true)
[ -n "$kpkg" ] || die "cannot resolve $kmeta to a kernel package"
kver=$(candidates "$kpkg" | sed -n "s/^$kpkg=//p")
[ -n "$kver" ] && [ "$kver" != "(none)" ] || die "no candidate version for $kpkg"
say "building the guest in $out from $kpkg $kver and busybox-static $bver"

# --- packages (kept in OUTDIR/debs: a rebuild does not download again) ---
debs="$out/debs"
mkdir -p "$debs"
fetch() {  # fetch PKG VERSION -> path of the .deb
  local pkg=$1 ver=$2 f
  for f in "$debs/${pkg}"_*.deb; do
    [ -f "$f" ] || continue
    if [ "$(dpkg-deb -f "$f" Version)" = "$ver" ]; then echo "$f"; return; fi
    rm -f "$f"
  done
  ( cd "$debs" && apt-get -q -o APT::Sandbox::User=root download "$pkg=$ver" >&2 ) \
    || die "apt-get download $pkg=$ver failed"
  for f in "$debs/${pkg}"_*.deb; do
    [ -f "$f" ] && { echo "$f"; return; }
  done
  die "apt-get download $pkg left no .deb"
}
kdeb=$(fetch "$kpkg" "$kver")
bdeb=$(fetch busybox-static "$bver")

work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/k" "$work/b"
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$work/k" --wildcards './boot/vmlinuz-*' './lib/modules/*'
dpkg-deb -x "$bdeb" "$work/b"
krel=$(ls "$work/k/lib/modules" | head -n1)
[ -n "$krel" ] || die "no lib/modules in $kdeb"
kmods="$work/k/lib/modules/$krel"
busybox="$work/b/bin/busybox"
[ -x "$busybox" ] || die "no bin/busybox in $bdeb"

# --- modules in dependency order ---------------------------------------
declare -A modpath=()
while IFS= read -r -d '' ko; do
  name=$(basename "$ko" .ko)
  modpath[${name//-/_}]=$ko
done < <(find "$kmods/kernel" -name '*.ko' -print0)
builtin=$(sed 's#.*/##; s#\.ko$##; s#-#_#g' "$kmods/modules.builtin" 2>/dev/null || true)
order=()
declare -A seen=()
add_module() {  # depth-first: dependencies first
  local m=${1//-/_} dep deps
  [ -n "${seen[$m]:-}" ] && return
  seen[$m]=1
  if grep -qx "$m" <<<"$builtin"; then return; fi
  [ -n "${modpath[$m]:-}" ] || die "module $m is neither built in nor in $kpkg"
  deps=$(tr '\0' '\n' < "${modpath[$m]}" | sed -n 's/^depends=//p' | head -n1 | tr ',' ' ')
  for dep in $deps; do add_module "$dep"; done
  order+=("$m")
}
for m in $wanted_modules; do add_module "$m"; done

# --- the userland both roots share -----------------------------------------
# userland DIR ORIGIN: busybox, busybox init's inittab and our scripts;
# ORIGIN (initramfs|disk) is what the ready line reports as root=.
userland() {
  local r=$1 origin=$2 applet
  mkdir -p "$r"/{bin,sbin,etc/gnt,etc/acpi/PWRF,proc,sys,dev,run,tmp,root,lib/modules,var/log}
  ln -s ../run "$r/var/run"
  cp "$busybox" "$r/bin/busybox"
  for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] && continue
    case $applet in
      init|poweroff|reboot|halt|acpid|insmod|ifconfig|route|mdev) ln -sf ../bin/busybox "$r/sbin/$applet" ;;
      *) ln -sf busybox "$r/bin/$applet" ;;
    esac
  done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$r/etc/passwd"
  echo 'root:x:0:' > "$r/etc/group"
  echo "$origin" > "$r/etc/gnt/root"

  cat > "$r/etc/inittab" <<'EOF'
::sysinit:/etc/gnt/rc
::respawn:/etc/gnt/console
::ctrlaltdel:/sbin/reboot
::shutdown:/etc/gnt/down
EOF

  # One-time setup; the ready line is printed by the console loop once it
  # listens, so a test that sees it can send commands at once.
  cat > "$r/etc/gnt/rc" <<'EOF'
#!/bin/sh
export PATH=/sbin:/bin
mount -t tmpfs run /run
mount -t tmpfs tmp /tmp
karg() {
  for w in $(cat /proc/cmdline); do
    case $w in "$1"=*) echo "${w#*=}"; return ;; esac
  done
}
name=$(karg gnt.name)
hostname "${name:-guest}"
ip link set lo up
ip=$(karg gnt.ip)
if [ -n "$ip" ]; then
  n=0
  while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
  ip addr add "$ip" dev eth0 && ip link set eth0 up \
    || echo "GUEST-WARNING cannot configure eth0 with $ip" > /dev/ttyS0
fi
acpid -c /etc/acpi -l /run/acpid.log -p /run/acpid.pid \
  || echo "GUEST-WARNING acpid did not start" > /dev/ttyS0
root=$(cat /etc/gnt/root 2>/dev/null)
disk_id=
[ -r /etc/gnt/disk-id ] && read -r disk_id _ < /etc/gnt/disk-id
echo "GUEST-READY name=$(hostname) ip=${ip:-none} boot=$(cat /proc/sys/kernel/random/boot_id)" \
  "root=${root:-unknown} disk_id=${disk_id:-none}" > /run/ready
EOF

  # The command loop on the serial port, for tests.
  cat > "$r/etc/gnt/console" <<'EOF'
#!/bin/sh
exec < /dev/ttyS0 > /dev/ttyS0 2>&1
stty -echo
cat /run/ready
while IFS= read -r line; do
  sh -c "$line" < /dev/null
  echo "CMD-DONE rc=$?"
done
# the port hung up: do not let init respawn us in a tight loop
sleep 1
EOF

  # A disk root is left clean (read-only) for whoever looks at it next.
  cat > "$r/etc/gnt/down" <<'EOF'
#!/bin/sh
echo "GUEST-SHUTDOWN name=$(hostname)" > /dev/ttyS0
sync
[ "$(cat /etc/gnt/root 2>/dev/null)" = disk ] && mount -o remount,ro / 2>/dev/null
exit 0
EOF

  # busybox acpid runs PWRF/00000080 for the power button (evdev KEY_POWER).
  cat > "$r/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
/sbin/poweroff
EOF
  chmod 755 "$r"/etc/gnt/rc "$r"/etc/gnt/console "$r"/etc/gnt/down "$r/etc/acpi/PWRF/00000080"
}

# --- the initramfs ---------------------------------------------------------
r="$work/root"
userland "$r" initramfs
mkdir -p "$r/newroot"
for m in "${order[@]}"; do
  cp "${modpath[$m]}" "$r/lib/modules/$m.ko"
  echo "$m" >> "$r/lib/modules/order"
done

# PID 1 until busybox init takes over: load the drivers the kernel lacks,
# then either stay (busybox init of the initramfs) or hand over to the disk.
cat > "$r/init" <<'EOF'
#!/bin/sh
export PATH=/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do
  insmod "/lib/modules/$m.ko" || echo "GUEST-WARNING insmod $m failed" > /dev/ttyS0
done < /lib/modules/order
root=
for w in $(cat /proc/cmdline); do
  case $w in gnt.root=*) root=${w#gnt.root=} ;; esac
done
if [ -n "$root" ]; then
  n=0
  while [ ! -b "$root" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
  if mount -t ext4 -o rw "$root" /newroot; then
    if [ -x /newroot/init ]; then
      mount --move /dev /newroot/dev
      mount --move /proc /newroot/proc
      mount --move /sys /newroot/sys
      exec switch_root /newroot /init
    fi
    umount /newroot
    echo "GUEST-ERROR $root has no executable /init; staying on the initramfs" > /dev/ttyS0
  else
    echo "GUEST-ERROR cannot mount $root as ext4; staying on the initramfs" > /dev/ttyS0
  fi
fi
exec /sbin/init
EOF
chmod 755 "$r/init"

# --- the disk root -----------------------------------------------------------
d="$work/disk"
userland "$d" disk
rmdir "$d/lib/modules" "$d/lib"
# PID 1 after switch_root: the initramfs moved /proc, /sys and /dev here;
# mount them only if that did not happen (a kernel that mounted us itself).
cat > "$d/init" <<'EOF'
#!/bin/sh
export PATH=/sbin:/bin
[ -e /proc/self ] || mount -t proc proc /proc
[ -d /sys/kernel ] || mount -t sysfs sysfs /sys
[ -c /dev/null ] || mount -t devtmpfs devtmpfs /dev
exec /sbin/init
EOF
chmod 755 "$d/init"

( cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -6 ) > "$out/.initramfs.img.new"
rm -f "$out/.rootfs.img.new"
mke2fs -q -F -t ext4 -L gnt-root -E root_owner=0:0 -d "$d" "$out/.rootfs.img.new" 32M >/dev/null \
  || die "mke2fs -d could not make the disk root"
cp "$work/k/boot/vmlinuz-$krel" "$out/.vmlinuz.new"
mv -f "$out/.initramfs.img.new" "$out/initramfs.img"
mv -f "$out/.rootfs.img.new" "$out/rootfs.img"
mv -f "$out/.vmlinuz.new" "$out/vmlinuz"
echo "$krel" > "$out/kernel-release"
echo "$inputs" > "$out/inputs"
say "done: $out/vmlinuz ($krel), $out/initramfs.img ($(du -k "$out/initramfs.img" | cut -f1) KiB)," \
  "$out/rootfs.img ($(du -k "$out/rootfs.img" | cut -f1) KiB used of 32 MiB), modules: ${order[*]}"
