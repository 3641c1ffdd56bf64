#!/usr/bin/env bash
# Runs once in the development container after it is created, in the lab's folder: makes
# target/ (a volume of the container's own) the user's, then builds the lab, so that the
# README's first `cargo run` starts at once.
set -euo pipefail
mkdir -p target
if [[ $(stat -c %u target) != $(id -u) ]]; then
    sudo chown "$(id -u):$(id -g)" target
fi
cargo build --workspace
echo "The lab is built. Start with: cargo run -p gen-testfile"
