#!/usr/bin/env bash
# The whole test suite: formatting and lints, unit tests, and the end-to-end
# tests that start a real berthd (as root) on a temporary data root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash fixtures/build-busybox.sh >/dev/null
export BERTH_TEST_ROOTFS=$PWD/fixtures/out/rootfs
export BERTH_TEST_IMAGE=$PWD/fixtures/out/busybox.tar
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -q -- -D warnings
cargo build --workspace -q
cargo test --workspace --no-fail-fast -q -- --test-threads=2
