#!/usr/bin/env bash
# A few runs at the edges: a single validator, and 10 validators.
source "$(dirname "$0")/lib.sh"
sim --seeds 20 --validators 1 --heights 100 --seed 2000
sim --seeds 100 --validators 10 --heights 100 --seed 3000
