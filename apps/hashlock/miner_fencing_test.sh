#!/bin/sh
# Two miner processes on one store: the second must be refused with a clear
# error while the first runs, and the first must finish cleanly.
# Usage: miner_fencing_test.sh HASHLOCK DIR
set -eu
hashlock=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
cat > "$dir/miner.toml" <<TOML
miner_id = "miner-1"
store = "sqlite:$dir/miner.db"
recovery_log = "$dir/recovery.jsonl"
poll_interval_ms = 50
TOML
"$hashlock" miner --config "$dir/miner.toml" --max-polls 60 > "$dir/first.out" 2>&1 &
first=$!
# Wait (at most 10 s) until the first miner holds the lease: it prints its
# start line only after Miner::start succeeded.
tries=0
until grep -q "^miner miner-1 on" "$dir/first.out" 2>/dev/null; do
  tries=$((tries + 1))
  if [ "$tries" -gt 100 ]; then echo "FAIL: the first miner did not start"; cat "$dir/first.out"; kill "$first"; exit 1; fi
  sleep 0.1
done
if "$hashlock" miner --config "$dir/miner.toml" --max-polls 1 > "$dir/second.out" 2>&1; then
  echo "FAIL: the second miner started on a store the first one owns"; kill "$first"; exit 1
fi
grep -q "another miner owns this store" "$dir/second.out" || { echo "FAIL: unclear refusal:"; cat "$dir/second.out"; exit 1; }
wait "$first" || { echo "FAIL: the first miner did not finish cleanly"; cat "$dir/first.out"; exit 1; }
cat "$dir/second.out"
echo "OK: second miner refused; first finished"
