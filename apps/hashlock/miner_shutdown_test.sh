#!/bin/sh
# SIGTERM stops a running miner cleanly: exit 0, a summary line, and the
# store lease released so the next miner process starts at once.
# Usage: miner_shutdown_test.sh HASHLOCK DIR
set -eu
hashlock=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
cat > "$dir/miner.toml" <<TOML
miner_id = "miner-1"
store = "sqlite:$dir/miner.db"
recovery_log = "$dir/recovery.jsonl"
poll_interval_ms = 20
TOML
"$hashlock" miner --config "$dir/miner.toml" > "$dir/first.out" 2>&1 &
first=$!
tries=0
until grep -q "^poll 3 " "$dir/first.out" 2>/dev/null; do
  tries=$((tries + 1))
  if [ "$tries" -gt 100 ]; then echo "FAIL: the miner did not run"; cat "$dir/first.out"; kill "$first"; exit 1; fi
  sleep 0.1
done
kill -TERM "$first"
if ! wait "$first"; then echo "FAIL: the miner did not exit 0 on SIGTERM"; cat "$dir/first.out"; exit 1; fi
grep -q "^miner miner-1 stopped after" "$dir/first.out" || { echo "FAIL: no summary line"; cat "$dir/first.out"; exit 1; }
"$hashlock" miner --config "$dir/miner.toml" --max-polls 1 > "$dir/second.out" 2>&1 ||
  { echo "FAIL: the lease was not released"; cat "$dir/second.out"; exit 1; }
echo "OK: clean shutdown on SIGTERM, lease released"
