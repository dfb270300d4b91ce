#!/usr/bin/env bash
# The demo run by `make demo`: the main jobs of hashlock on an embedded SQLite
# store, with a summary a person can read.
set -euo pipefail
hashlock=$1
dir=$2

echo "==> hashlock $("$hashlock" --version | awk '{print $2}'): a Lightning network of 4 nodes on embedded SQLite stores ($dir/ln)"
echo "    2000 payments, nodes crashing at random (the store is closed abruptly and reopened), links dropping"
mkdir -p "$dir/ln"
"$hashlock" sim --seed 1 --nodes 4 --payments 2000 --crash-rate 0.02 --store "sqlite:$dir/ln"
echo
echo "==> the same engine with a chain: 6 nodes, forwards and multi-part payments, channels closed"
echo "    (force and cooperative) and resolved on a simulated chain through reorgs, crashes throughout"
"$hashlock" sim --seed 1 --nodes 6 --payments 1500 --forwarding --mpp --force-close-rate 0.01 \
    --reorg-rate 0.01 --crash-rate 0.02 --async-persist
echo
echo "==> what node 1 keeps on disk, every record verified"
"$hashlock" store check --store "sqlite:$dir/ln/node1.db"

echo
echo "==> swap miner: a seeded simulation of 2000 swaps with crashes at random persistence points and RPC faults"
"$hashlock" swap-sim --seed 1 --swaps 2000 --crash-rate 0.05 --rpc-fault-rate 0.1
echo
echo "==> swap miner: 30 polls of 'hashlock miner' against the embedded simulated network ($dir/miner)"
mkdir -p "$dir/miner"
sed -e "s#sqlite:miner.db#sqlite:$dir/miner/miner.db#" -e "s#\"recovery.jsonl\"#\"$dir/miner/recovery.jsonl\"#" \
    -e "s#\"miner.log\"#\"$dir/miner/miner.log\"#" -e "s#poll_interval_ms = 200#poll_interval_ms = 50#" \
    examples/miner.toml > "$dir/miner/miner.toml"
"$hashlock" miner --config "$dir/miner/miner.toml" --max-polls 30 | grep -E "^(miner|poll)" | tail -6
echo "    (every event: $dir/miner/miner.log)"
"$hashlock" recovery list --log "$dir/miner/recovery.jsonl"
