#!/usr/bin/env bash
# The demo run by `make demo`: the main jobs of hashlock on an embedded SQLite
# store, with a summary a person can read.
set -euo pipefail
hashlock=$1
dir=$2

echo "==> hashlock $("$hashlock" --version | awk '{print $2}'): store self-check on a fresh SQLite store ($dir/demo.db)"
"$hashlock" store check --store "sqlite:$dir/demo.db"
