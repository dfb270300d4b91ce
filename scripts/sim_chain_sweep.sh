#!/bin/sh
# Runs the on-chain simulation of issue #7 for a range of seeds in both
# monitor event modes, without and with multi-part payments, and sums what
# happened:
#   hashlock sim --seed S --nodes 6 --payments 3000 --forwarding [--mpp] \
#     --force-close-rate 0.01 --reorg-rate 0.01 --crash-rate 0.02 --async-persist --json
# Usage: sim_chain_sweep.sh HASHLOCK FIRST_SEED LAST_SEED [PAYMENTS]
# Exits 1 if any run violated an invariant (its reproduce command is
# printed) or if no revoked commitment was punished over the whole sweep.
set -u
hashlock=$1
first=$2
last=$3
payments=${4:-3000}
runs=0 failed=0
force=0 revoked=0 punished=0 coop=0 reorgs=0 crashes=0 forfeited=0 mpp=0

# The value of a numeric key of a one-line JSON object (0 if it is not
# there, as after a run that died).
key() {
  value=$(printf '%s\n' "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p")
  echo "${value:-0}"
}

for variant in "" "--mpp"; do
for mode in persistent legacy; do
  seed=$first
  while [ "$seed" -le "$last" ]; do
    # $variant is one word or none: unquoted on purpose.
    out=$("$hashlock" sim --seed "$seed" --nodes 6 --payments "$payments" --forwarding $variant \
      --force-close-rate 0.01 --reorg-rate 0.01 --crash-rate 0.02 --async-persist \
      --mode "$mode" --json)
    status=$?
    line=$(printf '%s\n' "$out" | tail -n 1)
    runs=$((runs + 1))
    if [ "$status" -ne 0 ]; then
      failed=$((failed + 1))
      echo "FAIL seed $seed mode $mode $variant (exit $status): $line"
    fi
    mpp=$((mpp + $(key "$line" mpp_payments)))
    force=$((force + $(key "$line" force_closes)))
    revoked=$((revoked + $(key "$line" revoked_closes)))
    punished=$((punished + $(key "$line" punished_revoked_commitments)))
    coop=$((coop + $(key "$line" cooperative_closes)))
    reorgs=$((reorgs + $(key "$line" reorgs)))
    crashes=$((crashes + $(key "$line" crashes)))
    forfeited=$((forfeited + $(key "$line" payments_forfeited)))
    seed=$((seed + 1))
  done
done
done
echo "seeds $first..$last, both modes, with and without --mpp: $runs runs, $failed failed;" \
  "$mpp multi-part payments, $force force closes," \
  "$revoked revoked closes ($punished punished, $forfeited payments forfeited)," \
  "$coop cooperative closes, $reorgs reorgs, $crashes crashes"
[ "$failed" -eq 0 ] && [ "$punished" -gt 0 ] && [ "$mpp" -gt 0 ]
