#!/bin/sh
# A recorded fake of the LVM2 command line tools, for ganeti-rs tests.
# One script, installed under each tool's name (as LVM's own multi-call
# binary is). State lives in files below STATE; every call is appended to
# STATE/log. Output lines and messages are those LVM 2.03.16 printed on
# Debian 12 for a volume group on a loop device.
STATE='@STATE@'
EXT=4
tool=${0##*/}
{ printf '%s' "$tool"; for a in "$@"; do printf ' %s' "$a"; done; printf '\n'; } >> "$STATE/log"
if [ -f "$STATE/fail/$tool" ]; then cat "$STATE/fail/$tool" >&2; exit 5; fi
if [ -f "$STATE/fail/$tool-if" ]; then
  needle=$(head -n 1 "$STATE/fail/$tool-if")
  case "$*" in *"$needle"*) tail -n +2 "$STATE/fail/$tool-if" >&2; exit 5;; esac
fi

die() { printf '  %s\n' "$@" >&2; exit 5; }
no_vg() { die "Volume group \"$1\" not found" "Cannot process volume group $1"; }
no_lv() { die "Failed to find logical volume \"$1/$2\""; }
num() {
  if [ "$1" -eq 0 ]; then printf '0'
  elif [ "$UNITS" = k ]; then printf '%d.00' $(( $1 * 1024 ))
  else printf '%d.00' "$1"; fi
}
# a size argument (8m, 8M, 4096k, 8) in MiB rounded up to whole extents
to_mib() {
  v=${1#+}
  case "$v" in
    *[kK]) v=${v%?}; v=$(( (v + 1023) / 1024 ));;
    *[mM]) v=${v%?};;
    *[gG]) v=${v%?}; v=$(( v * 1024 ));;
  esac
  echo $(( (v + EXT - 1) / EXT * EXT ))
}
vg_used() {
  t=0
  for f in "$STATE/vg/$1/lv/"*; do
    [ -f "$f" ] || continue
    read s a o m < "$f"; t=$((t + s))
  done
  echo $t
}
load_vg() {
  vg=$1; d="$STATE/vg/$vg"
  [ -d "$d" ] || return 1
  vsize=$(cat "$d/size"); pv=$(cat "$d/pv"); vused=$(vg_used "$vg")
  vattr=$(cat "$d/attr" 2>/dev/null || echo wz--n-)
  pattr=$(cat "$d/pvattr" 2>/dev/null || echo a--)
}
load_lv() {
  lv=$1; f="$STATE/vg/$vg/lv/$lv"
  [ -f "$f" ] || return 1
  read lsize lact lopen lminor < "$f"
  if [ "$lopen" = 1 ]; then lattr=-wi-ao----
  elif [ "$lact" = 1 ]; then lattr=-wi-a-----
  else lattr=-wi-------; fi
  if [ "$lact" = 1 ]; then lmaj=253; lmin=$lminor; else lmaj=-1; lmin=-1; fi
}
save_lv() { printf '%s %s %s %s\n' "$lsize" "$lact" "$lopen" "$lminor" > "$STATE/vg/$vg/lv/$lv"; }
# "vg/lv" or "/dev/vg/lv" -> vg, lv
target() { t=${1#/dev/}; tvg=${t%%/*}; tlv=${t#*/}; }

field() {
  case "$1" in
    vg_name) printf '%s' "$vg";;
    vg_size|pv_size) num "$vsize";;
    vg_free|pv_free) num $((vsize - vused));;
    pv_used) num "$vused";;
    vg_attr) printf '%s' "$vattr";;
    pv_attr) printf '%s' "$pattr";;
    vg_extent_size) num $EXT;;
    pv_name) printf '%s' "$pv";;
    lv_name) printf '%s' "$lv";;
    lv_size) num "$lsize";;
    lv_attr) printf '%s' "$lattr";;
    lv_kernel_major) printf '%s' "$lmaj";;
    lv_kernel_minor) printf '%s' "$lmin";;
    stripes) printf '1';;
    devices) printf '%s(0)' "$pv";;
    *) die "Unrecognised field: $1";;
  esac
}
row() {
  printf '  '; first=1
  for f in $(echo "$FIELDS" | tr , ' '); do
    [ $first = 1 ] || printf '%s' "$SEP"; first=0
    field "$f"
  done
  printf '\n'
}
parse_report() {
  UNITS=m; SEP=' '; FIELDS=; NAMES=
  while [ $# -gt 0 ]; do
    case "$1" in
      --units=*) UNITS=${1#--units=};;
      --units) shift; UNITS=$1;;
      --separator=*) SEP=${1#--separator=};;
      --separator) shift; SEP=$1;;
      -o|--options) shift; FIELDS=$1;;
      --options=*) FIELDS=${1#--options=};;
      -o*) FIELDS=${1#-o};;
      -*) ;;
      *) NAMES="$NAMES $1";;
    esac
    shift
  done
  UNITS=$(echo "$UNITS" | tr MK mk)
}
selected() {
  [ -z "$NAMES" ] && return 0
  for n in $NAMES; do [ "$n" = "$1" ] && return 0; done
  return 1
}
each_vg() {
  for d in "$STATE"/vg/*/; do
    [ -d "$d" ] || continue
    load_vg "$(basename "$d")"
    "$@"
  done
}

case "$tool" in
  vgs)
    parse_report "$@"
    for n in $NAMES; do [ -d "$STATE/vg/$n" ] || no_vg "$n"; done
    vg_row() { selected "$vg" && row; }
    each_vg vg_row
    ;;
  pvs)
    parse_report "$@"
    for n in $NAMES; do
      found=0
      for d in "$STATE"/vg/*/; do [ -f "$d/pv" ] && [ "$(cat "$d/pv")" = "$n" ] && found=1; done
      [ $found = 1 ] || die "Failed to find physical volume \"$n\"."
    done
    pv_row() { selected "$pv" && row; }
    each_vg pv_row
    ;;
  lvs)
    parse_report "$@"
    for n in $NAMES; do
      case "$n" in
        */*) target "$n"; [ -f "$STATE/vg/$tvg/lv/$tlv" ] || no_lv "$tvg" "$tlv";;
        *) [ -d "$STATE/vg/$n" ] || no_vg "$n";;
      esac
    done
    lv_rows() {
      for f in "$STATE/vg/$vg/lv/"*; do
        [ -f "$f" ] || continue
        load_lv "$(basename "$f")"
        if [ -z "$NAMES" ] || selected "$vg" || selected "$vg/$lv"; then row; fi
      done
    }
    each_vg lv_rows
    ;;
  lvcreate)
    size=; name=; vgarg=
    while [ $# -gt 0 ]; do
      case "$1" in
        -L|-n|-i|-W) o=$1; shift; case $o in -L) size=$1;; -n) name=$1;; esac;;
        -L*) size=${1#-L};;
        -n*) name=${1#-n};;
        -*) ;;
        *) [ -z "$vgarg" ] && { target "$1"; vgarg=$tvg; };;
      esac
      shift
    done
    load_vg "$vgarg" || no_vg "$vgarg"
    mib=$(to_mib "$size")
    [ -f "$STATE/vg/$vg/lv/$name" ] && die "Logical Volume \"$name\" already exists in volume group \"$vg\""
    free=$((vsize - vused))
    [ "$mib" -gt "$free" ] && die "Volume group \"$vg\" has insufficient free space ($((free / EXT)) extents): $((mib / EXT)) required."
    mkdir -p "$STATE/vg/$vg/lv"
    n=$(cat "$STATE/next_minor" 2>/dev/null || echo 0); echo $((n + 1)) > "$STATE/next_minor"
    lv=$name; lsize=$mib; lact=1; lopen=0; lminor=$n; save_lv
    if [ -f "$STATE/fail/lvcreate-after" ]; then cat "$STATE/fail/lvcreate-after" >&2; exit 5; fi
    echo "  Logical volume \"$name\" created."
    ;;
  lvremove)
    for a in "$@"; do case "$a" in -*) ;; *) target "$a";; esac; done
    load_vg "$tvg" || no_vg "$tvg"
    load_lv "$tlv" || no_lv "$tvg" "$tlv"
    [ "$lopen" = 1 ] && die "Logical volume $tvg/$tlv contains a filesystem in use."
    rm -f "$STATE/vg/$tvg/lv/$tlv"
    echo "  Logical volume \"$tlv\" successfully removed."
    ;;
  lvextend)
    add=; test=0; alloc=normal
    while [ $# -gt 0 ]; do
      case "$1" in
        -L) shift; add=$1;;
        -L*) add=${1#-L};;
        --test|-t) test=1;;
        --alloc) shift; alloc=$1;;
        -*) ;;
        *) target "$1";;
      esac
      shift
    done
    if [ -f "$STATE/fail/lvextend-$alloc" ]; then cat "$STATE/fail/lvextend-$alloc" >&2; exit 5; fi
    load_vg "$tvg" || no_vg "$tvg"
    load_lv "$tlv" || no_lv "$tvg" "$tlv"
    mib=$(to_mib "$add"); free=$((vsize - vused))
    [ "$mib" -gt "$free" ] && die "Insufficient free space: $((mib / EXT)) extents needed, but only $((free / EXT)) available"
    [ $test = 1 ] && echo "  TEST MODE: Metadata will NOT be updated and volumes will not be (de)activated." >&2
    new=$((lsize + mib))
    echo "  Size of logical volume $tvg/$tlv changed from $lsize.00 MiB ($((lsize / EXT)) extents) to $new.00 MiB ($((new / EXT)) extents)."
    echo "  Logical volume $tvg/$tlv successfully resized."
    if [ $test = 0 ]; then lsize=$new; vg=$tvg; save_lv; fi
    ;;
  lvchange)
    act=
    for a in "$@"; do case "$a" in -ay|-aey) act=1;; -an) act=0;; -*) ;; *) target "$a";; esac; done
    load_vg "$tvg" || no_vg "$tvg"
    load_lv "$tlv" || no_lv "$tvg" "$tlv"
    [ -n "$act" ] && lact=$act && save_lv
    ;;
  lvrename)
    set -- $(for a in "$@"; do case "$a" in -*) ;; *) echo "$a";; esac; done)
    load_vg "$1" || no_vg "$1"
    [ -f "$STATE/vg/$vg/lv/$2" ] || die "Existing logical volume \"$2\" not found in volume group \"$vg\""
    [ -f "$STATE/vg/$vg/lv/$3" ] && die "Logical Volume \"$3\" already exists in volume group \"$vg\""
    mv "$STATE/vg/$vg/lv/$2" "$STATE/vg/$vg/lv/$3"
    echo "  Renamed \"$2\" to \"$3\" in volume group \"$vg\""
    ;;
  *)
    die "fake LVM: unknown tool $tool"
    ;;
esac
exit 0
