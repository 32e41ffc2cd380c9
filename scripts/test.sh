#!/usr/bin/env bash
# Run every test of the workspace: unit tests of each crate and the
# black-box tests that start real clusters in temporary roots.
# The RAPI tests drive the cluster with Ganeti's official Python client
# (Debian package python3-ganeti-rapi); it is installed here when missing.
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
cargo build --workspace --bins
cargo test --workspace --no-fail-fast "$@"
