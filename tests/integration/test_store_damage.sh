#!/usr/bin/env bash
# Damages a real store with RocksDB's own tool (ldb, rocksdb-tools) while no
# process has it open, and checks that the next read of the damaged block reports
# CORRUPT and that the scrubber lists the damaged key:
#   flipped bytes in a block, a truncated block, a valid block stored under the
#   wrong height, a deleted block_hash entry, a deleted tx_index entry, a state
#   value copied under another key.
# Uses build/bench/bench_store as the driver (fill / get / scrub).
set -uo pipefail
cd "$(dirname "$0")/../.."
tool=build/bench/bench_store
[ -x "$tool" ] || { echo "FAIL: $tool not built (make)"; exit 1; }
command -v ldb >/dev/null || { echo "FAIL: ldb not found (apt-get install rocksdb-tools)"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db=$tmp/db
fails=0
check() { # description, condition...
  local what=$1; shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails+1)); fi
}
hkey() { printf '0x%016X' "$1"; }                       # height key, big-endian hex
ldbc() { ldb --db="$db" --column_family="$1" "${@:2}"; }
get_hex() { ldbc "$1" get --key_hex --value_hex "$2" | tr -d '\r\n'; }
put_hex() { ldbc "$1" put --key_hex --value_hex "$2" "$3" >/dev/null; }
del_hex() { ldbc "$1" delete --key_hex "$2" >/dev/null; }
read_is() { [ "$("$tool" get "$db" "$1")" = "$2" ]; }
scrub_lists() { "$tool" scrub "$db" >"$tmp/scrub.out"; [ $? -eq 4 ] && grep -q -- "$1" "$tmp/scrub.out"; }
scrub_clean() { "$tool" scrub "$db" >"$tmp/scrub.out"; }
flip_at() { # hex value (0x...), byte offset -> value with that byte xor 0x20
  python3 -c 'import sys; v=bytearray.fromhex(sys.argv[1][2:]); o=int(sys.argv[2]); v[o]^=0x20; print("0x"+v.hex().upper())' "$1" "$2"
}

"$tool" fill "$db" 40 || { echo "FAIL: fill"; exit 1; }
check "fresh store scrubs clean" scrub_clean
check "fresh block reads ok" read_is 10 ok

# 1. flipped bytes in block 10, one at a time, restored after each
orig=$(get_hex blocks "$(hkey 10)")
len=$(( (${#orig} - 2) / 2 ))
for off in 0 3 12 40 90 $((len / 2)) $((len - 30)) $((len - 1)); do
  put_hex blocks "$(hkey 10)" "$(flip_at "$orig" "$off")"
  check "flip at byte $off: read reports CORRUPT" read_is 10 CORRUPT
  check "flip at byte $off: scrub lists blocks/height=10" scrub_lists "blocks/height=10:"
  put_hex blocks "$(hkey 10)" "$orig"
done
check "restored block reads ok again" read_is 10 ok

# 2. truncated block 11
orig=$(get_hex blocks "$(hkey 11)")
put_hex blocks "$(hkey 11)" "${orig:0:$(( ${#orig} - 20 ))}"
check "truncated block: read reports CORRUPT" read_is 11 CORRUPT
check "truncated block: scrub lists blocks/height=11" scrub_lists "blocks/height=11:"
put_hex blocks "$(hkey 11)" "$orig"

# 3. valid block 3 stored under height 5
orig=$(get_hex blocks "$(hkey 5)")
put_hex blocks "$(hkey 5)" "$(get_hex blocks "$(hkey 3)")"
check "swapped block: read of 5 reports CORRUPT" read_is 5 CORRUPT
check "swapped block: block 3 still reads ok" read_is 3 ok
check "swapped block: scrub lists blocks/height=5" scrub_lists "blocks/height=5:"
put_hex blocks "$(hkey 5)" "$orig"

# 4. deleted block_hash entry of block 12 (value = height 12, little-endian)
entry=$(ldbc block_hash scan --key_hex --value_hex | grep ' : 0x0C00000000000000$' | head -1)
key=${entry%% : *}
del_hex block_hash "$key"
check "deleted hash index entry: read of 12 reports CORRUPT" read_is 12 CORRUPT
check "deleted hash index entry: scrub lists block_hash/${key:2:16}" scrub_lists "block_hash/${key:2}"
put_hex block_hash "$key" 0x0C00000000000000

# 5. deleted tx_index entry
entry=$(ldbc tx_index scan --key_hex --value_hex | head -1)
key=${entry%% : *}; val=${entry##* : }
del_hex tx_index "$key"
check "deleted tx index entry: scrub lists tx_index/${key:2:16}" scrub_lists "tx_index/${key:2}"
put_hex tx_index "$key" "$val"

# 6. state value copied under another key (its seal binds it to its own key)
a=$(ldbc state scan --key_hex --value_hex | sed -n 1p)
b=$(ldbc state scan --key_hex --value_hex | sed -n 2p)
put_hex state "${b%% : *}" "${a##* : }"
check "moved state value: scrub lists state/${b:2:8}" scrub_lists "state/${b:2:8}"
put_hex state "${b%% : *}" "${b##* : }"

check "after every restore the store scrubs clean" scrub_clean
echo "$fails failed"
[ "$fails" -eq 0 ]
