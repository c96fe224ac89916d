#!/usr/bin/env bash
# Negative controls: the checkers must fire when the assumptions are broken.
#  - split-brain: 2 of 4 validators equivocate across a partition of the honest
#    two (> 1/3 Byzantine power): the agreement checker must fire on every seed.
#  - stall: 1/3 or more of the power silent: the liveness checker must fire.
# Also: a failing run prints its seed and a command that reproduces it, and the
# same seed gives the same trace twice.
source "$(dirname "$0")/lib.sh"
out=$("$SIM" --seeds 20 --schedule split-brain --heights 50 --expect-violation)
echo "$out" | tail -n 1
[ "$(echo "$out" | grep -c 'violation: agreement:')" -eq 20 ] || { echo "agreement checker did not fire on every seed"; echo "$out"; exit 1; }
sim --seeds 5 --schedule stall --validators 4 --expect-violation
sim --seeds 3 --schedule stall --validators 7 --expect-violation
# A failing run names its seed and the command to reproduce it.
rc=0; out=$("$SIM" --seed 3 --schedule split-brain --heights 50) || rc=$?
[ "$rc" -eq 1 ] || { echo "split-brain run should exit 1, got $rc"; exit 1; }
echo "$out" | grep -q '^FAIL seed=3 schedule=split-brain validators=4: agreement' || { echo "$out"; exit 1; }
cmd=$(echo "$out" | sed -n 's/^  reproduce: //p' | sed 's/ --trace$//')
rc=0; out2=$($cmd) || rc=$?
[ "$rc" -eq 1 ] && [ "$(echo "$out" | head -n 1)" = "$(echo "$out2" | head -n 1)" ] || { echo "reproduce command did not reproduce"; exit 1; }
# Determinism: the same seed, the same trace.
a=$("$SIM" --seed 11 --validators 7 --heights 40 --schedule chaos --trace | grep -v 'CPU')
b=$("$SIM" --seed 11 --validators 7 --heights 40 --schedule chaos --trace | grep -v 'CPU')
[ "$a" = "$b" ] || { echo "same seed gave two different traces"; exit 1; }
echo "negative controls fired; reproduction and determinism hold"
