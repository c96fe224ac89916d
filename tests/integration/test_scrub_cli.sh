#!/usr/bin/env bash
# A node's own store, damaged with RocksDB's ldb while the node is stopped:
# `cairn inspect block` refuses to print the damaged block as good, `cairn scrub`
# lists it and exits 1; untouched blocks still read and verify.
set -uo pipefail
cd "$(dirname "$0")/../.."
cairn=$PWD/build/cairn
command -v ldb >/dev/null || { echo "FAIL: ldb not found (apt-get install rocksdb-tools)"; exit 1; }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
fails=0
check() { local what=$1; shift; if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails+1)); fi; }

base=$(( 20000 + (RANDOM % 1000) * 10 ))
$cairn testnet --validators 1 --out "$tmp/net" --base-port $base --chain-id scrub-it >/dev/null
home=$tmp/net/node0
$cairn start --home "$home" >"$tmp/node.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  grep -q "committed block 6 " "$tmp/node.log" && break
  sleep 0.2
done
kill -TERM $pid; wait $pid; pid=
check "node committed 6 blocks and stopped cleanly" grep -q "committed block 6 " "$tmp/node.log"

check "intact store scrubs clean" $cairn scrub --home "$home"
check "block 3 reads and verifies" $cairn inspect block 3 --home "$home"

db=$home/data/store
key=$(printf '0x%016X' 3)
orig=$(ldb --db="$db" --column_family=blocks get --key_hex --value_hex "$key" | tr -d '\r\n')
bad=$(python3 -c 'import sys; v=bytearray.fromhex(sys.argv[1][2:]); v[len(v)//2]^=1; print("0x"+v.hex().upper())' "$orig")
ldb --db="$db" --column_family=blocks put --key_hex --value_hex "$key" "$bad" >/dev/null

check "damaged block 3 is refused by inspect" bash -c "! $cairn inspect block 3 --home '$home' >$tmp/inspect.out 2>&1"
check "inspect says what is wrong" grep -qi "corrupt\|integrity" "$tmp/inspect.out"
$cairn scrub --home "$home" >"$tmp/scrub.out" 2>/dev/null
check "scrub exits 1 on damage" test $? -eq 1
check "scrub lists blocks/3" grep -q "blocks/0*3\|height=3\|blocks.*3" "$tmp/scrub.out"
check "block 5 still reads and verifies" $cairn inspect block 5 --home "$home"

[ $fails -eq 0 ] && echo "ok test_scrub_cli" || { cat "$tmp/scrub.out"; echo "FAIL test_scrub_cli ($fails)"; exit 1; }
