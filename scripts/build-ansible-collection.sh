#!/usr/bin/env bash
# Build the Ansible collection ganeti_rs.ganeti with its binary module
# ganeti_instance:
#   target/ansible/ganeti_rs-ganeti-<version>.tar.gz   (ansible-galaxy collection install ...)
#   target/ansible/library/                            (ANSIBLE_LIBRARY=... for plays without collections)
# Options: --debug (use the debug build, as the tests do), --no-tarball.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release tarball=1
for a in "$@"; do
  case "$a" in
    --debug) profile=debug ;;
    --no-tarball) tarball=0 ;;
    *) echo "usage: $0 [--debug] [--no-tarball]" >&2; exit 2 ;;
  esac
done
if [ "$profile" = release ]; then cargo build --release -p ganeti-ansible; else cargo build -p ganeti-ansible; fi
out=target/ansible
rm -rf "$out/collection" "$out/library"
mkdir -p "$out/library"
cp -r ansible/collection "$out/collection"
cp "target/$profile/ganeti_instance" "$out/collection/plugins/modules/ganeti_instance"
cp "target/$profile/ganeti_instance" "$out/library/ganeti_instance"
cp ansible/collection/plugins/modules/ganeti_instance.yml "$out/library/"
if [ "$tarball" = 1 ]; then
  command -v ansible-galaxy >/dev/null || { echo "ansible-galaxy not found (pip install ansible-core)" >&2; exit 1; }
  ansible-galaxy collection build --force --output-path "$out" "$out/collection"
fi
echo "library directory: $out/library"
