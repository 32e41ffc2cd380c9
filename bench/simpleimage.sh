#!/usr/bin/env bash
# simpleimage (os/simpleimage) writing an image onto a file disk, against
# `qemu-img convert -n` and `dd` (compressed formats: zcat/bzcat/xzcat | dd)
# on the same input, for a mostly-zero and a mostly-random image in every
# format. Prints wall seconds and the disk space allocated afterwards.
#   SIZE_MIB=1024 (default) RUNS=3 (median of) bench/simpleimage.sh
# Compressing the random image with bzip2/xz takes minutes on 2 cores, so
# the inputs are kept in INPUTS (default /var/tmp/simpleimage-bench-<size>)
# and reused by the next run; SIZE_MIB=256 gives the same picture faster.
# Needs qemu-img, gzip, bzip2, xz. simpleimage links the system's liblzma when
# its pkg-config file is there (Debian: liblzma-dev), else a bundled copy
# whose CRC64 is slower; the line before the table says which.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${SIZE_MIB:-1024}
runs=${RUNS:-3}
cargo build --release -q -p simpleimage
bin=$(pwd)/target/release/simpleimage
echo "simpleimage's liblzma: $(ldd "$bin" | grep -q liblzma && echo system || echo bundled)"
inputs=${INPUTS:-/var/tmp/simpleimage-bench-$size}
work=$(mktemp -d /var/tmp/simpleimage-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
disk=$work/disk
TIMEFORMAT=%R

# Inputs: "zeros" = 1 MiB of random data every 64 MiB; "random" = all random.
if [ ! -e "$inputs/complete" ]; then
  echo "making the ${size} MiB inputs in $inputs (minutes)" >&2
  mkdir -p "$inputs"
  truncate -s "${size}M" "$inputs/zeros.raw"
  for ((off = 0; off < size; off += 64)); do
    head -c 1M /dev/urandom | dd of="$inputs/zeros.raw" bs=1M seek="$off" conv=notrunc status=none
  done
  head -c "${size}M" /dev/urandom >"$inputs/random.raw"
  for kind in zeros random; do
    gzip -1 -c "$inputs/$kind.raw" >"$inputs/$kind.raw.gz"
    bzip2 -1 -c "$inputs/$kind.raw" >"$inputs/$kind.raw.bz2"
    xz -1 -T0 -c "$inputs/$kind.raw" >"$inputs/$kind.raw.xz"
    qemu-img convert -f raw -O qcow2 "$inputs/$kind.raw" "$inputs/$kind.qcow2"
  done
  touch "$inputs/complete"
fi

fresh_disk() { rm -f "$disk"; truncate -s "$((size + 64))M" "$disk"; }
alloc() { echo $(( $(stat -c %b "$disk") * 512 / 1048576 )); }
# run <command...>: prints "median_secs alloc_MiB" over $runs runs
run() {
  local t times=()
  for ((i = 0; i < runs; i++)); do
    fresh_disk
    t=$( { time "$@" >/dev/null 2>"$work/err"; } 2>&1 ) || { echo "FAIL($(head -c 80 "$work/err"))"; return; }
    times+=("$t")
  done
  echo "$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p") $(alloc)"
}
si() { # si <image> <type>
  env -i PATH=/sbin:/bin:/usr/sbin:/usr/bin OS_API_VERSION=20 OS_VARIANT=default \
    INSTANCE_NAME=bench DISK_COUNT=1 DISK_0_PATH="$disk" \
    SIMPLEIMAGE_CONFIG_DIR="$work/etc" OSP_IMAGE="$1" OSP_IMAGE_TYPE="$2" "$bin" create
}
ddz() { "$1" -c "$2" | dd of="$disk" bs=1M iflag=fullblock conv=notrunc,fsync status=none; }
ddraw() { dd if="$1" of="$disk" bs=1M conv=notrunc,fsync status=none; }
# qemu-img convert's default cache mode for the target is "unsafe": it never
# flushes. simpleimage and dd (conv=fsync) sync the disk before they report
# success, so the fair baseline is "-t writeback" (flush at the end); both
# are shown.
qconv() { qemu-img convert -n -f "$2" -O raw "$1" "$disk"; }
qconvw() { qemu-img convert -t writeback -n -f "$2" -O raw "$1" "$disk"; }

printf '%-7s %-10s | %-14s | %-14s | %-14s | %-14s\n' image format "simpleimage" "qemu-img -t wb" "qemu-img" "dd"
printf '%s\n' "-----------------------------------------------------------------------------------------"
for kind in zeros random; do
  for fmt in raw raw+gz raw+bzip2 raw+xz qcow2; do
    case $fmt in
      raw) f=$inputs/$kind.raw; w=$(run qconvw "$f" raw); q=$(run qconv "$f" raw); d=$(run ddraw "$f") ;;
      raw+gz) f=$inputs/$kind.raw.gz; w=n/a; q=n/a; d=$(run ddz zcat "$f") ;;
      raw+bzip2) f=$inputs/$kind.raw.bz2; w=n/a; q=n/a; d=$(run ddz bzcat "$f") ;;
      raw+xz) f=$inputs/$kind.raw.xz; w=n/a; q=n/a; d=$(run ddz xzcat "$f") ;;
      qcow2) f=$inputs/$kind.qcow2; w=$(run qconvw "$f" qcow2); q=$(run qconv "$f" qcow2); d=n/a ;;
    esac
    s=$(run si "$f" "$fmt")
    printf '%-7s %-10s | %-14s | %-14s | %-14s | %-14s\n' "$kind" "$fmt" "$s" "$w" "$q" "$d"
  done
done
echo "(${size} MiB images; each cell: median wall seconds of $runs runs, then MiB allocated on the disk file)"
