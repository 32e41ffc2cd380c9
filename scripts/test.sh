#!/usr/bin/env bash
# Run every test of the workspace: unit tests of each crate and the
# black-box tests that start real clusters in temporary roots.
# The RAPI tests drive the cluster with Ganeti's official Python client
# (Debian package python3-ganeti-rapi); it is installed here when missing,
# as is Debian's ganeti-os-noop OS provider for the OS provider tests.
# The real-VM tier (tests/tests/kvm.rs) needs QEMU, a few tools and a tiny
# guest (tests/guest/build-guest.sh); they are installed/built here. Where
# that is impossible (not root, apt failing) the tier skips, loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -c 'import ganeti.rapi.client' 2>/dev/null; then
  echo "installing Ganeti's RAPI client (python3-ganeti-rapi) for the RAPI tests" >&2
  if [ "$(id -u)" = 0 ]; then
    (apt-get install -y -qq python3-ganeti-rapi >/dev/null 2>&1 ||
      (apt-get update -qq && apt-get install -y -qq python3-ganeti-rapi >/dev/null))
  else
    sudo apt-get install -y -qq python3-ganeti-rapi >/dev/null
  fi
fi
# The OS provider tests (tests/tests/os_providers.rs) run Debian's own
# noop provider (package ganeti-os-noop) unchanged; they skip without it.
if [ ! -d /usr/share/ganeti/os/noop ]; then
  echo "installing Debian's noop OS provider (ganeti-os-noop) for the OS provider tests" >&2
  if [ "$(id -u)" = 0 ]; then
    (apt-get install -y -qq ganeti-os-noop >/dev/null 2>&1 ||
      (apt-get update -qq && apt-get install -y -qq ganeti-os-noop >/dev/null)) ||
      echo "WARNING: installing ganeti-os-noop failed; its tests will SKIP" >&2
  else
    sudo apt-get install -y -qq ganeti-os-noop >/dev/null ||
      echo "WARNING: installing ganeti-os-noop failed; its tests will SKIP" >&2
  fi
fi

# ---- the kvm tier -------------------------------------------------------
kvm_skip() {
  echo "" >&2
  echo "########################################################################" >&2
  echo "## WARNING: the kvm tier (tests/tests/kvm.rs) will SKIP its tests:" >&2
  echo "##   $*" >&2
  echo "########################################################################" >&2
  echo "" >&2
}

apt_q() {
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -q "$@"
}

# QEMU comes from bookworm-backports: the machine's qemu-utils is the
# backports build, and bookworm's own qemu-system-x86 (7.2) conflicts with it.
add_backports() {
  grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ && return 0
  grep -qs 'VERSION_CODENAME=bookworm' /etc/os-release || return 0
  local mirror
  mirror=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
  echo "adding bookworm-backports ($mirror) to the apt sources for qemu-system-x86" >&2
  cat > /etc/apt/sources.list.d/bookworm-backports.sources <<EOF
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  apt_q update >/dev/null
}

kvm_deps() {
  local missing=()
  command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
  dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
  command -v cpio >/dev/null || missing+=(cpio)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v socat >/dev/null || missing+=(socat)
  PATH=$PATH:/usr/sbin:/sbin command -v mke2fs >/dev/null || missing+=(e2fsprogs)
  command -v xz >/dev/null || missing+=(xz-utils)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    kvm_skip "not root, cannot install ${missing[*]}"
    return 1
  fi
  echo "installing for the kvm tier: ${missing[*]}" >&2
  local qemu=() rest=()
  for p in "${missing[@]}"; do
    if [ "$p" = qemu-system-x86 ]; then qemu=(qemu-system-x86); else rest+=("$p"); fi
  done
  if [ ${#rest[@]} -gt 0 ] && ! apt_q install -y --no-install-recommends "${rest[@]}" >/dev/null 2>&1; then
    apt_q update >/dev/null 2>&1 || true
    apt_q install -y --no-install-recommends "${rest[@]}" >/dev/null 2>&1 ||
      { kvm_skip "apt-get install ${rest[*]} failed"; return 1; }
  fi
  if [ ${#qemu[@]} -gt 0 ]; then
    local target=()
    if grep -qs 'VERSION_CODENAME=bookworm' /etc/os-release; then
      add_backports || { kvm_skip "cannot add bookworm-backports to apt"; return 1; }
      target=(-t bookworm-backports)
    fi
    apt_q install -y --no-install-recommends "${target[@]}" qemu-system-x86 >/dev/null 2>&1 ||
      { kvm_skip "apt-get install qemu-system-x86 ${target[*]} failed"; return 1; }
  fi
}

export GANETI_TEST_GUEST_DIR=${GANETI_TEST_GUEST_DIR:-$PWD/target/guest}
if kvm_deps; then
  tests/guest/build-guest.sh "$GANETI_TEST_GUEST_DIR" ||
    kvm_skip "building the test guest failed (tests/guest/build-guest.sh, output above)"
fi

# ---- Ansible (tests/tests/ansible.rs) -------------------------------------
# ansible-core from the Python package index, in a virtualenv under target/.
ansible_venv=$PWD/target/ansible-venv
if [ ! -x "$ansible_venv/bin/ansible-playbook" ]; then
  echo "installing ansible-core (pip) into $ansible_venv for the Ansible module tests" >&2
  if ! /usr/bin/python3 -m venv "$ansible_venv" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then apt_q install -y python3-venv >/dev/null 2>&1 || true; fi
    /usr/bin/python3 -m venv "$ansible_venv" >/dev/null 2>&1 || true
  fi
  "$ansible_venv/bin/pip" install -q 'ansible-core>=2.15,<2.18' >/dev/null 2>&1 ||
    echo "WARNING: installing ansible-core failed; the Ansible module tests will SKIP" >&2
fi
export GANETI_TEST_ANSIBLE_BIN=$ansible_venv/bin

cargo build --workspace --bins
cargo test --workspace --no-fail-fast "$@"
