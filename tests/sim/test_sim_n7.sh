#!/usr/bin/env bash
# 500 seeds with 7 validators (2 of them Byzantine in the byzantine/chaos
# schedules), 100 heights each.
source "$(dirname "$0")/lib.sh"
sim --seeds 500 --validators 7 --heights 100 --seed 1000
