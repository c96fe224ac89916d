#!/usr/bin/env bash
# Runs the real binary through init, keys new/show/list and tx
# transfer/put/delete/decode, and checks what a user or script would rely on:
# files and modes, JSON fields, decode round trips, signature checks, and
# one-line errors with a non-zero exit for bad input.
set -euo pipefail
cd "$(dirname "$0")/../.."
CAIRN=${CAIRN:-$PWD/build/cairn}
[ -x "$CAIRN" ] || { echo "missing $CAIRN (run make)"; exit 1; }
T=$(mktemp -d /tmp/cairn-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
H=$T/home
fails=0
ok()   { echo "ok   $*"; }
bad()  { echo "FAIL $*"; fails=$((fails+1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# expect_fail WHAT EXIT_CODE STDERR_SUBSTRING cmd...: fails with that code and
# exactly one line on stderr containing the substring.
expect_fail() {
  local what=$1 code=$2 want=$3; shift 3
  local rc=0; "$@" >"$T/out" 2>"$T/err" || rc=$?
  local lines; lines=$(wc -l <"$T/err")
  if [ "$rc" = "$code" ] && [ "$lines" = 1 ] && grep -qF -- "$want" "$T/err"; then ok "$what"
  else bad "$what (exit $rc, $lines stderr lines: $(cat "$T/err"))"; fi
}

# ---- help
for c in "init" "keys" "tx" "keys new" "keys show" "keys list" "tx transfer" "tx decode"; do
  check "cairn $c --help" bash -c "$CAIRN $c --help | grep -q usage"
done

# ---- init
"$CAIRN" init --home "$H" --chain-id cli-test --moniker val0 --json >"$T/init.json"
check "init --json has node_id, validator address, genesis hash" \
  test "$(json '(len(d["node_id"]), len(d["validator"]["address"]), len(d["genesis_hash"]), d["chain_id"])' <"$T/init.json")" = "(40, 40, 64, 'cli-test')"
for f in config/config.ini config/genesis.json config/node_key.json config/priv_validator_key.json; do
  check "init created $f" test -f "$H/$f"
done
check "init created data/" test -d "$H/data"
check "node key is 0600" test "$(stat -c %a "$H/config/node_key.json")" = 600
check "validator key is 0600" test "$(stat -c %a "$H/config/priv_validator_key.json")" = 600
check "every config option has a comment above it" python3 - "$H/config/config.ini" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
keys = [i for i, l in enumerate(lines) if l and l[0] not in "#[" and "=" in l]
sys.exit(0 if len(keys) >= 30 and all(lines[i-1].startswith("#") for i in keys) else 1)
PY
VAL=$(json 'd["validator"]["address"]' <"$T/init.json")
check "genesis has this node as the only validator" \
  test "$(json '(len(d["validators"]), d["validators"][0]["address"], d["validators"][0]["power"], d["validators"][0]["pub_key"]["type"], d["chain_id"], d["initial_height"])' <"$H/config/genesis.json")" \
       = "(1, '$VAL', '10', 'tendermint/PubKeyEd25519', 'cli-test', '1')"
check "genesis_time is RFC 3339 with nanoseconds" python3 -c "
import json, re, sys
t = json.load(open('$H/config/genesis.json'))['genesis_time']
sys.exit(0 if re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z', t) else 1)"
expect_fail "init refuses an existing home" 1 "refusing to overwrite" \
  "$CAIRN" init --home "$H" --chain-id cli-test
expect_fail "init needs --chain-id" 2 "--chain-id is required" "$CAIRN" init --home "$T/other"
expect_fail "init rejects a bad chain id" 2 "invalid chain id" \
  "$CAIRN" init --home "$T/other" --chain-id "has space"
expect_fail "init rejects unknown options" 2 "unknown option '--bogus'" \
  "$CAIRN" init --home "$T/other" --chain-id x --bogus
cp -r "$H" "$T/forced"
"$CAIRN" init --home "$T/forced" --chain-id cli-test-2 --force --json >"$T/forced.json"
check "init --force replaces keys and genesis" \
  test "$(json 'd["validator"]["address"] != "'"$VAL"'" and d["chain_id"] == "cli-test-2"' <"$T/forced.json")" = True
check "init --force kept the old validator key as a 0600 backup" bash -c \
  "cmp -s '$H/config/priv_validator_key.json' $T/forced/config/priv_validator_key.json.bak.* &&
   [ \"\$(stat -c %a $T/forced/config/priv_validator_key.json.bak.*)\" = 600 ]"
touch "$T/forced/data/blocks"
expect_fail "init --force refuses a non-empty data/" 1 "data is not empty" \
  "$CAIRN" init --home "$T/forced" --chain-id cli-test-2 --force

"$CAIRN" init --home "$T/funded" --chain-id funded --power 33 \
  --account 0123456789abcdef0123456789abcdef01234567=1000 --account AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=5 >/dev/null
check "init --account and --power go into the genesis" \
  test "$(json '(d["validators"][0]["power"], [(a["address"], a["balance"]) for a in d["app_state"]["accounts"]])' <"$T/funded/config/genesis.json")" \
       = "('33', [('0123456789ABCDEF0123456789ABCDEF01234567', '1000'), ('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '5')])"
expect_fail "init refuses a duplicate --account" 1 "appears more than once" \
  "$CAIRN" init --home "$T/dup" --chain-id x --account AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=1 --account aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=2
check "...and leaves no home behind" test ! -e "$T/dup/config/genesis.json"

# ---- keys
"$CAIRN" keys new alice --home "$H" >/dev/null
"$CAIRN" keys new bob --home "$H" --json >"$T/bob.json"
"$CAIRN" keys show alice --home "$H" --json >"$T/alice.json"
ALICE=$(json 'd["address"]' <"$T/alice.json")
BOB=$(json 'd["address"]' <"$T/bob.json")
check "keys show: address is upper-case hex of SHA-256(pub)[:20]" python3 - "$T/alice.json" <<'PY'
import base64, hashlib, json, re, sys
d = json.load(open(sys.argv[1]))
pub = base64.b64decode(d["pub_key"], validate=True)
sys.exit(0 if len(pub) == 32 and re.fullmatch("[0-9A-F]{40}", d["address"])
         and hashlib.sha256(pub).hexdigest().upper()[:40] == d["address"] and d["name"] == "alice" else 1)
PY
check "keyring file is 0600" test "$(stat -c %a "$H/keys/alice.json")" = 600
check "keys list --json lists both, sorted" \
  test "$("$CAIRN" keys list --home "$H" --json | json '[k["name"] for k in d]')" = "['alice', 'bob']"
check "keys list (human) shows addresses" bash -c "'$CAIRN' keys list --home '$H' | grep -q '$BOB'"
check "keys show (human) shows the address" bash -c "'$CAIRN' keys show alice --home '$H' | grep -q 'address: $ALICE'"
check "keys show --validator matches init's validator" \
  test "$("$CAIRN" keys show --validator --home "$H" --json | json 'd["address"]')" = "$VAL"
check "keys show --node gives init's node id" \
  test "$("$CAIRN" keys show --node --home "$H" --json | json 'd["node_id"]')" = "$(json 'd["node_id"]' <"$T/init.json")"
expect_fail "keys new refuses a taken name" 1 "already exists" "$CAIRN" keys new alice --home "$H"
expect_fail "keys show of a missing key" 1 "no key named 'carol'" "$CAIRN" keys show carol --home "$H"
expect_fail "keys new rejects a bad name" 2 "invalid key name" "$CAIRN" keys new ../x --home "$H"
chmod 644 "$H/keys/alice.json"
expect_fail "a key file readable by others is refused" 1 "chmod 600" "$CAIRN" keys show alice --home "$H"
expect_fail "signing with it is refused too" 1 "accessible by group or others" \
  "$CAIRN" tx transfer --from alice --to "$BOB" --amount 1 --nonce 0 --chain-id cli-test --home "$H"
chmod 600 "$H/keys/alice.json"

# ---- tx transfer
TX=$("$CAIRN" tx transfer --from alice --to "$BOB" --amount 250 --nonce 3 --fee 2 --chain-id cli-test --home "$H")
check "tx transfer prints upper-case hex" bash -c "[[ '$TX' =~ ^[0-9A-F]+$ ]]"
"$CAIRN" tx decode "$TX" --chain-id cli-test >"$T/dec.json"
check "decode shows the transfer's fields" \
  test "$(json '(d["type"], d["to"], d["amount"], d["nonce"], d["fee"], d["sender"]["address"], d["signature_valid"])' <"$T/dec.json")" \
       = "('transfer', '$BOB', '250', '3', '2', '$ALICE', True)"
check "decode round trip: tx_hex equals the input" test "$(json 'd["tx_hex"]' <"$T/dec.json")" = "$TX"
check "hash is SHA-256 of the bytes, upper-case hex" \
  test "$(json 'd["hash"]' <"$T/dec.json")" = "$(python3 -c "import hashlib;print(hashlib.sha256(bytes.fromhex('$TX')).hexdigest().upper())")"
B64=$("$CAIRN" tx transfer --from alice --to "$BOB" --amount 250 --nonce 3 --fee 2 --chain-id cli-test --home "$H" --output base64)
check "base64 output is the same transaction" \
  test "$(python3 -c "import base64;print(base64.b64decode('$B64').hex().upper())")" = "$TX"
check "decode accepts base64 and 0x-hex" bash -c \
  "'$CAIRN' tx decode '$B64' --chain-id cli-test >/dev/null && '$CAIRN' tx decode 0x$TX --chain-id cli-test >/dev/null"
check "decode reads stdin" bash -c "echo '$TX' | '$CAIRN' tx decode - | grep -q '\"amount\": \"250\"'"
check "--output json carries hash and tx_hex" \
  test "$("$CAIRN" tx transfer --from alice --to "$BOB" --amount 250 --nonce 3 --fee 2 --chain-id cli-test --home "$H" --output json | json 'd["tx_hex"] == "'"$TX"'" and len(d["hash"]) == 64')" = True

# ---- tx put / delete
PUT=$("$CAIRN" tx put --from alice --key greeting --value "hello world" --nonce 4 --chain-id cli-test --home "$H")
check "put decodes with key and value" \
  test "$("$CAIRN" tx decode "$PUT" --chain-id cli-test | json '(d["type"], d["key_text"], d["value_text"], d["signature_valid"])')" \
       = "('put', 'greeting', 'hello world', True)"
DEL=$("$CAIRN" tx delete --from alice --key greeting --nonce 5 --chain-id cli-test --home "$H" --output base64)
check "delete decodes with its key and no value" \
  test "$("$CAIRN" tx decode "$DEL" --chain-id cli-test | json '(d["type"], d["key_text"], "value" in d, d["nonce"])')" \
       = "('delete', 'greeting', False, '5')"

# ---- verification failures and tampering
expect_fail "wrong chain id: signature does not verify" 1 "signature does not verify for chain id 'other'" \
  "$CAIRN" tx decode "$TX" --chain-id other
check "...and the JSON still says signature_valid false" test "$(json 'd["signature_valid"]' <"$T/out")" = False
flip() { python3 -c "import sys; b=bytearray.fromhex('$1'); b[int(sys.argv[1])]^=1; print(b.hex().upper())" "$2"; }
AMOUNT_FLIPPED=$(flip "$TX" 70)   # inside the amount
expect_fail "tampered amount fails to verify" 1 "signature does not verify" \
  "$CAIRN" tx decode "$AMOUNT_FLIPPED" --chain-id cli-test
SIG_FLIPPED=$(flip "$TX" 100)     # inside the signature
expect_fail "tampered signature fails to verify" 1 "signature does not verify" \
  "$CAIRN" tx decode "$SIG_FLIPPED" --chain-id cli-test
TYPE_FLIPPED=$(flip "$TX" 1)      # type 1 -> 0
expect_fail "tampered type fails to decode" 1 "not a valid transaction" \
  "$CAIRN" tx decode "$TYPE_FLIPPED" --chain-id cli-test
expect_fail "truncated tx fails to decode" 1 "not a valid transaction: input ends before" \
  "$CAIRN" tx decode "${TX:0:100}" --chain-id cli-test
expect_fail "trailing bytes fail to decode" 1 "not a valid transaction: trailing bytes" \
  "$CAIRN" tx decode "${TX}00" --chain-id cli-test
expect_fail "garbage is neither hex nor base64" 1 "input is not valid base64" \
  "$CAIRN" tx decode "zz!!" --chain-id cli-test

# ---- usage errors
expect_fail "transfer needs --nonce" 2 "--nonce N is required" \
  "$CAIRN" tx transfer --from alice --to "$BOB" --amount 1 --chain-id cli-test --home "$H"
expect_fail "transfer rejects a bad address" 2 "is not a 40 hex digit address" \
  "$CAIRN" tx transfer --from alice --to XYZ --amount 1 --nonce 0 --chain-id cli-test --home "$H"
expect_fail "amount must be a whole number" 2 "--amount '-5' is not a whole number" \
  "$CAIRN" tx transfer --from alice --to "$BOB" --amount -5 --nonce 0 --chain-id cli-test --home "$H"
expect_fail "put needs --value" 2 "--value V is required" \
  "$CAIRN" tx put --from alice --key k --nonce 0 --chain-id cli-test --home "$H"
expect_fail "keys without a subcommand" 2 "missing the subcommand" "$CAIRN" keys
expect_fail "tx without a subcommand" 2 "missing the subcommand" "$CAIRN" tx
expect_fail "unknown tx subcommand" 2 "unknown subcommand 'frobnicate'" "$CAIRN" tx frobnicate
expect_fail "option without its value" 2 "option '--amount' needs a value" \
  "$CAIRN" tx transfer --from alice --to "$BOB" --amount

echo
if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi
echo "all checks passed"
