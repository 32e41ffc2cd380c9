#!/usr/bin/env bash
# simpleimage (os/simpleimage) writing an image onto a file disk, against
# `qemu-img convert -n` and `dd` (compressed formats: zcat/bzcat/xzcat | dd)
# on the same input, for a mostly-zero and a mostly-random image in every
# format. Prints wall seconds and the disk space allocated afterwards.
#   SIZE_MIB=1024 (default) bench/simpleimage.sh
# Compressing the random image with bzip2/xz takes minutes on 2 cores;
# SIZE_MIB=256 gives the same picture faster. Needs qemu-img, gzip, bzip2, xz.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${SIZE_MIB:-1024}
cargo build --release -q -p simpleimage
bin=$(pwd)/target/release/simpleimage
work=$(mktemp -d /var/tmp/simpleimage-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
disk=$work/disk
TIMEFORMAT=%R

# Inputs: "zeros" = 1 MiB of random data every 64 MiB; "random" = all random.
truncate -s "${size}M" "$work/zeros.raw"
for ((off = 0; off < size; off += 64)); do
  head -c 1M /dev/urandom | dd of="$work/zeros.raw" bs=1M seek="$off" conv=notrunc status=none
done
head -c "${size}M" /dev/urandom >"$work/random.raw"
for kind in zeros random; do
  gzip -1 -c "$work/$kind.raw" >"$work/$kind.raw.gz"
  bzip2 -1 -c "$work/$kind.raw" >"$work/$kind.raw.bz2"
  xz -1 -T0 -c "$work/$kind.raw" >"$work/$kind.raw.xz"
  qemu-img convert -f raw -O qcow2 "$work/$kind.raw" "$work/$kind.qcow2"
done

fresh_disk() { rm -f "$disk"; truncate -s "$((size + 64))M" "$disk"; }
alloc() { echo $(( $(stat -c %b "$disk") * 512 / 1048576 )); }
# run <label> <command...>: prints "secs alloc_MiB"
run() {
  fresh_disk
  local t
  t=$( { time "$@" >/dev/null 2>"$work/err"; } 2>&1 ) || { echo "FAIL($(head -c 80 "$work/err"))"; return; }
  echo "$t $(alloc)"
}
si() { # si <image> <type>
  env -i PATH=/sbin:/bin:/usr/sbin:/usr/bin OS_API_VERSION=20 OS_VARIANT=default \
    INSTANCE_NAME=bench DISK_COUNT=1 DISK_0_PATH="$disk" \
    SIMPLEIMAGE_CONFIG_DIR="$work/etc" OSP_IMAGE="$1" OSP_IMAGE_TYPE="$2" "$bin" create
}
ddz() { "$1" -c "$2" | dd of="$disk" bs=1M iflag=fullblock conv=notrunc,fsync status=none; }
ddraw() { dd if="$1" of="$disk" bs=1M conv=notrunc,fsync status=none; }
qconv() { qemu-img convert -n -f "$2" -O raw "$1" "$disk"; }

printf '%-7s %-10s | %-16s | %-16s | %-16s\n' image format "simpleimage s/MiB" "qemu-img s/MiB" "dd s/MiB"
printf '%s\n' "-----------------------------------------------------------------------------"
for kind in zeros random; do
  for fmt in raw raw+gz raw+bzip2 raw+xz qcow2; do
    case $fmt in
      raw) f=$work/$kind.raw; q=$(run qconv "$f" raw); d=$(run ddraw "$f") ;;
      raw+gz) f=$work/$kind.raw.gz; q=n/a; d=$(run ddz zcat "$f") ;;
      raw+bzip2) f=$work/$kind.raw.bz2; q=n/a; d=$(run ddz bzcat "$f") ;;
      raw+xz) f=$work/$kind.raw.xz; q=n/a; d=$(run ddz xzcat "$f") ;;
      qcow2) f=$work/$kind.qcow2; q=$(run qconv "$f" qcow2); d=n/a ;;
    esac
    s=$(run si "$f" "$fmt")
    printf '%-7s %-10s | %-16s | %-16s | %-16s\n' "$kind" "$fmt" "$s" "$q" "$d"
  done
done
echo "(${size} MiB images; time in wall seconds, then MiB allocated on the disk file)"
