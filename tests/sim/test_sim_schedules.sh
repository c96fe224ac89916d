#!/usr/bin/env bash
# Every regular schedule by name, so each fault kind runs at n = 4 and n = 7 even
# if the seed rotation skipped one.
source "$(dirname "$0")/lib.sh"
for s in calm lossy partition crash skew byzantine chaos; do
  sim --seeds 10 --validators 4 --heights 100 --schedule "$s" --seed 4000
  sim --seeds 6 --validators 7 --heights 100 --schedule "$s" --seed 5000
done
