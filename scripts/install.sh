#!/usr/bin/env bash
# The project's install step: build the release binaries and install them,
# plus the simpleimage OS provider, for a cluster whose root is ROOT.
#
# Layout, following Ganeti's conventions (its Makefile installs the gnt-*
# tools and the daemons into $(sbindir); configure's default OS search
# path is /srv/ganeti/os, the first directory our nodes search too):
#   BINDIR (default ROOT/PREFIX/sbin):  gnt, gnt-cluster … gnt-backup -> gnt,
#                                       ganetid, simpleimage
#   ROOT/srv/ganeti/os/simpleimage:     the OS scripts, simpleimage.path
#                                       naming BINDIR/simpleimage
#   ROOT/etc/ganeti/instance-simpleimage/default/config:
#                                       commented example (never overwritten)
# ROOT is a live cluster root (ganeti-rs relocates every path below it, see
# GANETI_ROOT), not a staging directory: when it is not /, the OS dir also
# gets simpleimage.configdir pointing at ROOT/etc/ganeti/instance-simpleimage
# and the example config puts the download cache (IMAGE_STORAGE) below ROOT.
# Running it again updates binaries and scripts and keeps local edits of
# variants.list and of the variant configs.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/install.sh [--prefix DIR] [--root DIR] [--bindir DIR] [--no-build] [--from DIR]
  --prefix DIR  installation prefix below ROOT (default /usr/local)
  --root DIR    cluster root (default /)
  --bindir DIR  where the binaries go, a real path (default ROOT/PREFIX/sbin);
                if they are already there (e.g. target/release), they stay
  --no-build    do not run `cargo build --release --bins`; use what is built
  --from DIR    take the built binaries from DIR (implies --no-build;
                default: the release build, target/release)
EOF
}

prefix=/usr/local
root=/
bindir=
from=
build=1
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --root) root=${2:?--root needs a directory}; shift 2 ;;
    --root=*) root=${1#*=}; shift ;;
    --bindir) bindir=${2:?--bindir needs a directory}; shift 2 ;;
    --bindir=*) bindir=${1#*=}; shift ;;
    --no-build) build=0; shift ;;
    --from) from=${2:?--from needs a directory}; build=0; shift 2 ;;
    --from=*) from=${1#*=}; build=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
case $prefix in
  /*) ;;
  *) echo "install.sh: --prefix must be absolute: $prefix" >&2; exit 2 ;;
esac

top=$(cd "$(dirname "$0")/.." && pwd)
root=$(realpath -m -- "$root")
# A path below the root ("/x" stays "/x" when the root is /).
under() {
  if [ "$root" = / ]; then printf '%s\n' "$1"; else printf '%s\n' "$root$1"; fi
}
if [ -z "$bindir" ]; then
  bindir=$(under "$(realpath -m -- "$prefix")/sbin")
fi
bindir=$(realpath -m -- "$bindir")

if [ "$build" = 1 ]; then
  (cd "$top" && cargo build --release --bins)
fi
if [ -n "$from" ]; then
  src=$(realpath -m -- "$from")
else
  src=${CARGO_TARGET_DIR:-$top/target}/release
  case $src in /*) ;; *) src=$top/$src ;; esac
fi

# ---- binaries ------------------------------------------------------------
for b in gnt ganetid simpleimage; do
  if [ ! -x "$src/$b" ]; then
    echo "install.sh: $src/$b is not built (run without --no-build, or cargo build --release --bins)" >&2
    exit 1
  fi
done
install -d -m 0755 "$bindir"
for b in gnt ganetid simpleimage; do
  if [ -e "$bindir/$b" ] && [ "$(realpath -- "$src/$b")" = "$(realpath -- "$bindir/$b")" ]; then
    continue
  fi
  # copy then rename: a running ganetid keeps its old, unlinked binary
  install -m 0755 "$src/$b" "$bindir/.$b.new"
  mv -f "$bindir/.$b.new" "$bindir/$b"
done
for t in cluster instance node group network job os debug filter backup; do
  ln -sfn gnt "$bindir/gnt-$t"
done

# ---- the simpleimage OS provider ----------------------------------------
osdir=$(under /srv/ganeti/os/simpleimage)
confdir=$(under /etc/ganeti/instance-simpleimage)
cachedir=$(under /var/cache/ganeti/instance-simpleimage)
osrc=$top/os/simpleimage
install -d -m 0755 "$osdir"
for s in create export import rename verify; do
  install -m 0755 "$osrc/$s" "$osdir/$s"
done
for f in common.sh ganeti_api_version parameters.list; do
  install -m 0644 "$osrc/$f" "$osdir/$f"
done
[ -e "$osdir/variants.list" ] || install -m 0644 "$osrc/variants.list" "$osdir/variants.list"
printf '%s\n' "$bindir/simpleimage" >"$osdir/simpleimage.path.new"
mv -f "$osdir/simpleimage.path.new" "$osdir/simpleimage.path"
if [ "$root" = / ]; then
  rm -f "$osdir/simpleimage.configdir"
else
  printf '%s\n' "$confdir" >"$osdir/simpleimage.configdir.new"
  mv -f "$osdir/simpleimage.configdir.new" "$osdir/simpleimage.configdir"
fi

install -d -m 0755 "$confdir/default"
install -d -m 0700 "$cachedir"
if [ ! -e "$confdir/default/config" ]; then
  if [ "$root" = / ]; then
    storage="# IMAGE_STORAGE=$cachedir"
  else
    storage="IMAGE_STORAGE=$cachedir"
  fi
  cat >"$confdir/default/config" <<EOF
# simpleimage, variant "default" (see os/simpleimage/README.md).
# KEY=value lines, read as data (never sourced by a shell); the values shown
# commented out are examples or the defaults.

# HTTP proxy for http(s) images (CONNECT is used for every URL).
# PROXY=http://proxy.example.com:3128

# Extra TLS/proxy options, curl syntax: --cacert FILE, --capath DIR,
# -k/--insecure, -x/--proxy URL.
# CUSTOM_CURL_OPTS="--cacert /etc/ssl/certs/my-ca.pem"

# Download cache for http(s) images; entries expire after
# DOWNLOAD_CACHE_MAX_DAYS days (0 disables the cache).
$storage
# DOWNLOAD_CACHE_MAX_DAYS=7

# Hooks: executables in
#   $confdir/default/hooks.d
# run after the image is written (run-parts rules), with the OS environment
# and TARGET_DISK_DEVICE (a block device for the first disk).
EOF
  chmod 0644 "$confdir/default/config"
fi

echo "installed gnt, gnt-*, ganetid and simpleimage in $bindir"
echo "installed the simpleimage OS provider in $osdir (config: $confdir)"
