#!/usr/bin/env bash
# Run every test of the workspace: unit tests of each crate and the
# black-box tests that start real clusters in temporary roots.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --workspace --bins
cargo test --workspace --no-fail-fast "$@"
