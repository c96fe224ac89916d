#!/usr/bin/env bash
# 1000 seeds with 4 validators, 100 heights each, every regular schedule in turn
# (the seed picks it): agreement, validity, no honest double-sign, liveness.
source "$(dirname "$0")/lib.sh"
sim --seeds 1000 --validators 4 --heights 100
