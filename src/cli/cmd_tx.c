/* cmd_tx.c - `cairn tx`: build and sign transactions offline, and decode any
 * transaction (checking its signature for a chain id).
 *
 * transfer, put and delete talk to no node: the nonce is given by the user (the
 * account's next nonce, from `cairn query` or /abci_query), and the output is
 * the signed encoding (chain.h, docs/formats.md) to hand to broadcast_tx_*.
 * `tx send` builds the same transaction, asks the node (src/client) for the
 * chain id and the next nonce when they are not given, and broadcasts it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "chain/chain.h"
#include "app/app.h"
#include "cli/cli.h"
#include "client/client.h"
#include "node/keys.h"

#define TX_HEX_MAX (2 * TX_BYTES_MAX + 2)

static const char usage_text[] =
    "usage: cairn tx transfer --from NAME --to ADDR --amount N  COMMON\n"
    "       cairn tx put      --from NAME --key K --value V     COMMON\n"
    "       cairn tx delete   --from NAME --key K               COMMON\n"
    "       cairn tx decode   TX [--chain-id ID] [--format hex|base64]\n"
    "       cairn tx send transfer|put|delete ... [--nonce N] [--chain-id ID] [--fee N]\n"
    "                 [--home DIR] [--node URL] [--async | --sync] [--json]\n"
    "  COMMON: --nonce N --chain-id ID [--fee N] [--home DIR] [--output hex|base64|json]\n"
    "\n"
    "transfer, put and delete build a transaction, sign it with the key NAME from\n"
    "the keyring (HOME/keys) and print it: hex by default, or base64, or JSON.\n"
    "put and delete act in the sender's own namespace; K and V are taken as text.\n"
    "decode prints any transaction (hex, 0x-hex or base64; '-' reads stdin) as\n"
    "JSON with its hash; with --chain-id it also checks the signature and exits 1\n"
    "if it does not verify.\n"
    "send builds and signs the same transactions and broadcasts them to a node;\n"
    "without --chain-id it uses the node's chain, without --nonce the account's\n"
    "next nonce (abci_query /account). It waits for the block (broadcast_tx_commit)\n"
    "unless --sync (wait for the mempool check) or --async (do not wait), then\n"
    "prints the hash, height, result code and log; a refused or failed\n"
    "transaction exits 1.\n"
    "\n"
    "  --from NAME      signing key in the keyring\n"
    "  --to ADDR        recipient address, 40 hex digits\n"
    "  --amount N       amount to transfer (whole number)\n"
    "  --nonce N        the sender account's next nonce\n"
    "  --fee N          fee (default: 0)\n"
    "  --chain-id ID    chain the signature is for\n"
    "  --home DIR       home folder (default: $CAIRN_HOME, else ~/.cairn)\n"
    "  --output FMT     hex (default), base64 or json\n"
    "  --node URL       (send) the node's RPC address (default: $CAIRN_NODE, else\n"
    "                   " CLI_NODE_DEFAULT ")\n"
    "  --async, --sync  (send) do not wait for the block (see above)\n"
    "  --json           (send) print the node's answer as JSON\n";

enum out_fmt { OUT_HEX, OUT_BASE64, OUT_JSON };

typedef struct {
    const char *cmd; /* "tx transfer" ... */
    char home[CLI_PATH_MAX];
    const char *from, *to, *key, *value, *chain_id, *format, *input;
    bool have_amount, have_nonce;
    bool send;             /* tx send */
    const char *node;      /* send: --node */
    const char *broadcast; /* send: broadcast_tx_commit, _sync or _async */
    uint64_t amount, nonce, fee;
    enum out_fmt out;
} tx_opts;

static const char *type_name(uint8_t t)
{
    switch (t) {
    case TX_TRANSFER: return "transfer";
    case TX_PUT: return "put";
    case TX_DELETE: return "delete";
    default: return "unknown";
    }
}

static json_t *u64_json(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)v);
    return json_string(s);
}

static json_t *b64_json(const uint8_t *p, size_t n)
{
    char *s = malloc(base64_encoded_len(n) + 1);
    if (!s) return NULL;
    base64_encode(s, p, n);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 1);
    if (!s) return NULL;
    hex_encode_upper(s, p, n);
    json_t *j = json_string(s);
    free(s);
    return j;
}

/* Byte strings are base64 (the RPC convention); printable ASCII also as text. */
static void add_bytes(json_t *o, const char *name, const uint8_t *p, size_t n)
{
    json_object_set_new(o, name, b64_json(p, n));
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7e) return;
    char text_name[32];
    snprintf(text_name, sizeof text_name, "%s_text", name);
    json_object_set_new(o, text_name, json_stringn((const char *)p, n));
}

/* The JSON view of a decoded tx and its raw bytes. */
static json_t *tx_json(const tx_t *tx, const uint8_t *raw, size_t n)
{
    uint8_t h[HASH_BYTES], addr[ADDR_BYTES];
    tx_hash(h, raw, n);
    key_address(addr, tx->sender);
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "hash", hex_json(h, HASH_BYTES));
    json_object_set_new(o, "size", json_integer((json_int_t)n));
    json_object_set_new(o, "version", json_integer(tx->version));
    json_object_set_new(o, "type", json_string(type_name(tx->type)));
    json_object_set_new(o, "sender", json_pack("{s:o, s:o}", "address", hex_json(addr, ADDR_BYTES),
                                               "pub_key", b64_json(tx->sender, PUBKEY_BYTES)));
    json_object_set_new(o, "nonce", u64_json(tx->nonce));
    json_object_set_new(o, "fee", u64_json(tx->fee));
    if (tx->type == TX_TRANSFER) {
        json_object_set_new(o, "to", hex_json(tx->to, ADDR_BYTES));
        json_object_set_new(o, "amount", u64_json(tx->amount));
    } else {
        add_bytes(o, "key", tx->key, tx->key_len);
        if (tx->type == TX_PUT) add_bytes(o, "value", tx->value, tx->value_len);
    }
    json_object_set_new(o, "signature", b64_json(tx->sig, SIG_BYTES));
    json_object_set_new(o, "tx_hex", hex_json(raw, n));
    json_object_set_new(o, "tx_base64", b64_json(raw, n));
    return o;
}

/* ------------------------------------------------------------ arguments */

static int parse_args(tx_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"from", required_argument, 0, 'F'},   {"to", required_argument, 0, 'T'},
        {"amount", required_argument, 0, 'A'}, {"key", required_argument, 0, 'K'},
        {"value", required_argument, 0, 'V'},  {"nonce", required_argument, 0, 'N'},
        {"fee", required_argument, 0, 'E'},    {"chain-id", required_argument, 0, 'C'},
        {"home", required_argument, 0, 'H'},   {"output", required_argument, 0, 'O'},
        {"format", required_argument, 0, 'M'}, {"json", no_argument, 0, 'J'},
        {"node", required_argument, 0, 'U'},   {"async", no_argument, 0, 'a'},
        {"sync", no_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *home = NULL;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'F': o->from = optarg; break;
        case 'T': o->to = optarg; break;
        case 'K': o->key = optarg; break;
        case 'V': o->value = optarg; break;
        case 'C': o->chain_id = optarg; break;
        case 'H': home = optarg; break;
        case 'M': o->format = optarg; break;
        case 'J': o->out = OUT_JSON; break;
        case 'U': o->node = optarg; break;
        case 'a':
        case 's':
            if (o->broadcast && strcmp(o->broadcast, c == 'a' ? "broadcast_tx_async"
                                                              : "broadcast_tx_sync"))
                return cli_usage_error(o->cmd, "give --async or --sync, not both");
            o->broadcast = c == 'a' ? "broadcast_tx_async" : "broadcast_tx_sync";
            break;
        case 'A':
            if (!cli_parse_u64(optarg, &o->amount))
                return cli_usage_error(o->cmd, "--amount '%s' is not a whole number", optarg);
            o->have_amount = true;
            break;
        case 'N':
            if (!cli_parse_u64(optarg, &o->nonce))
                return cli_usage_error(o->cmd, "--nonce '%s' is not a whole number", optarg);
            o->have_nonce = true;
            break;
        case 'E':
            if (!cli_parse_u64(optarg, &o->fee))
                return cli_usage_error(o->cmd, "--fee '%s' is not a whole number", optarg);
            break;
        case 'O':
            if (!strcmp(optarg, "hex")) o->out = OUT_HEX;
            else if (!strcmp(optarg, "base64")) o->out = OUT_BASE64;
            else if (!strcmp(optarg, "json")) o->out = OUT_JSON;
            else return cli_usage_error(o->cmd, "--output must be hex, base64 or json");
            break;
        case 'h': fputs(usage_text, stdout); return -1;
        default: return cli_bad_option(o->cmd, c, argv);
        }
    }
    if (optind < argc) o->input = argv[optind++];
    if (optind < argc) return cli_usage_error(o->cmd, "unexpected argument '%s'", argv[optind]);
    if (!cli_home(o->home, home)) return cli_usage_error(o->cmd, "no home folder: use --home");
    if (!o->send && (o->node || o->broadcast))
        return cli_usage_error(o->cmd, "--node, --async and --sync are only for tx send");
    return 0;
}

/* Options each kind of tx needs; anything extra is refused, not ignored. */
static int check_build_args(const tx_opts *o, uint8_t type)
{
    if (o->input) return cli_usage_error(o->cmd, "unexpected argument '%s'", o->input);
    if (!o->from) return cli_usage_error(o->cmd, "--from NAME is required");
    if (!o->have_nonce && !o->send) return cli_usage_error(o->cmd, "--nonce N is required");
    if (!o->chain_id && !o->send) return cli_usage_error(o->cmd, "--chain-id ID is required");
    if (o->format) return cli_usage_error(o->cmd, "--format is only for tx decode");
    bool transfer = type == TX_TRANSFER;
    if (transfer && (!o->to || !o->have_amount))
        return cli_usage_error(o->cmd, "--to ADDR and --amount N are required");
    if (!transfer && (o->to || o->have_amount))
        return cli_usage_error(o->cmd, "--to and --amount are only for transfer");
    if (!transfer && !o->key) return cli_usage_error(o->cmd, "--key K is required");
    if (type == TX_PUT && !o->value) return cli_usage_error(o->cmd, "--value V is required");
    if (type != TX_PUT && o->value) return cli_usage_error(o->cmd, "--value is only for put");
    if (transfer && o->key) return cli_usage_error(o->cmd, "--key is only for put and delete");
    if (o->key && (strlen(o->key) < 1 || strlen(o->key) > TX_KEY_MAX))
        return cli_usage_error(o->cmd, "--key must be 1 to %d bytes", TX_KEY_MAX);
    if (o->value && strlen(o->value) > TX_VALUE_MAX)
        return cli_usage_error(o->cmd, "--value must be at most %d bytes", TX_VALUE_MAX);
    return 0;
}

/* ------------------------------------------------------------ build */

static int print_tx(const tx_opts *o, const tx_t *tx, const uint8_t *raw, size_t n)
{
    if (o->out == OUT_JSON) return cli_print_json(tx_json(tx, raw, n));
    char *s = malloc(2 * n + 1 > base64_encoded_len(n) + 1 ? 2 * n + 1 : base64_encoded_len(n) + 1);
    if (!s) return cli_fail(o->cmd, "out of memory");
    if (o->out == OUT_HEX)
        hex_encode_upper(s, raw, n);
    else
        base64_encode(s, raw, n);
    puts(s);
    free(s);
    return CLI_EXIT_OK;
}

/* Builds and signs the tx of o into *b (buf_init'ed by the caller). */
static int sign_tx(tx_opts *o, uint8_t type, tx_t *out, buf_t *b)
{
    chain_id_t cid;
    if (chain_id_set(&cid, o->chain_id) != CAIRN_OK)
        return cli_usage_error(o->cmd, "--chain-id '%s' is not 1 to %d printable ASCII characters",
                               o->chain_id, CHAIN_ID_MAX);
    tx_t tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_VERSION;
    tx.type = type;
    tx.nonce = o->nonce;
    tx.fee = o->fee;
    if (type == TX_TRANSFER) {
        if (hex_decode(tx.to, ADDR_BYTES, o->to) != CAIRN_OK)
            return cli_usage_error(o->cmd, "--to '%s' is not a 40 hex digit address", o->to);
        tx.amount = o->amount;
    } else {
        tx.key = (const uint8_t *)o->key;
        tx.key_len = (uint32_t)strlen(o->key);
        if (type == TX_PUT) {
            tx.value = (const uint8_t *)o->value;
            tx.value_len = (uint32_t)strlen(o->value);
        }
    }
    if (!cli_crypto_init(o->cmd)) return CLI_EXIT_FAIL;
    keypair_t kp;
    char err[KEYS_ERR_MAX];
    if (keys_account_load(o->home, o->from, &kp, err) != CAIRN_OK) return cli_fail(o->cmd, "%s", err);
    memcpy(tx.sender, kp.pub, PUBKEY_BYTES);
    cairn_err crc = tx_sign(&tx, &cid, &kp);
    crypto_wipe(&kp, sizeof kp);
    if (crc != CAIRN_OK) return cli_fail(o->cmd, "cannot sign: %s", cairn_strerror(crc));
    crc = tx_encode(&tx, b);
    if (crc != CAIRN_OK) return cli_fail(o->cmd, "cannot encode: %s", cairn_strerror(crc));
    *out = tx;
    return 0;
}

static int build(tx_opts *o, uint8_t type)
{
    int rc = check_build_args(o, type);
    if (rc) return rc;
    tx_t tx;
    buf_t b;
    buf_init(&b, TX_BYTES_MAX);
    rc = sign_tx(o, type, &tx, &b);
    if (!rc) rc = print_tx(o, &tx, b.data, b.len);
    buf_deinit(&b);
    return rc;
}

/* ------------------------------------------------------------ send */

/* The sender's next nonce from the node (0 for an account it does not know). */
static int fetch_nonce(tx_opts *o, client_t *cl, uint64_t *nonce)
{
    keypair_t kp;
    char err[KEYS_ERR_MAX], why[CLIENT_WHY_MAX];
    if (keys_account_load(o->home, o->from, &kp, err) != CAIRN_OK) return cli_fail(o->cmd, "%s", err);
    uint8_t addr[ADDR_BYTES];
    key_address(addr, kp.pub);
    crypto_wipe(&kp, sizeof kp);
    light_query_t q;
    if (client_fetch_query(cl, "/account", addr, ADDR_BYTES, 0, false, &q, why, sizeof why))
        return cli_fail(o->cmd, "%s", why);
    int rc = 0;
    ledger_account_t acc = {0, 0};
    if (q.code != 0)
        rc = cli_fail(o->cmd, "cannot read the account's nonce: code %u: %s", q.code, q.log);
    else if (q.exists && ledger_account_decode(&acc, q.value, q.value_len) != CAIRN_OK)
        rc = cli_fail(o->cmd, "the node sent a malformed account");
    *nonce = acc.nonce;
    light_query_free(&q);
    return rc;
}

static json_int_t code_of(const json_t *o) { return json_integer_value(json_object_get(o, "code")); }

static int send(tx_opts *o, uint8_t type)
{
    int rc = check_build_args(o, type);
    if (rc) return rc;
    if (o->out != OUT_HEX && o->out != OUT_JSON)
        return cli_usage_error(o->cmd, "tx send prints text or --json");
    if (!cli_crypto_init(o->cmd)) return CLI_EXIT_FAIL;
    client_t *cl;
    unsigned timeout = o->broadcast ? 15000 : 60000;
    if (!cli_client_open(o->cmd, o->node, timeout, &cl)) return CLI_EXIT_FAIL;
    char why[CLIENT_WHY_MAX];
    chain_id_t cid;
    uint64_t latest;
    buf_t b;
    buf_init(&b, TX_BYTES_MAX);
    json_t *res = NULL;
    if (!o->chain_id || !o->have_nonce) {
        if (client_status_latest(cl, &latest, &cid, why, sizeof why)) {
            rc = cli_fail(o->cmd, "%s", why);
            goto out;
        }
        if (!o->chain_id) o->chain_id = cid.id;
    }
    if (!o->have_nonce) {
        if ((rc = fetch_nonce(o, cl, &o->nonce))) goto out;
        o->have_nonce = true;
    }
    tx_t tx;
    if ((rc = sign_tx(o, type, &tx, &b))) goto out;
    char *b64 = malloc(base64_encoded_len(b.len) + 1);
    if (!b64) {
        rc = cli_fail(o->cmd, "out of memory");
        goto out;
    }
    base64_encode(b64, b.data, b.len);
    json_t *params = json_pack("{s:s}", "tx", b64);
    free(b64);
    const char *method = o->broadcast ? o->broadcast : "broadcast_tx_commit";
    cairn_err crc = params ? client_call(cl, method, params, &res, why, sizeof why) : CAIRN_ENOMEM;
    json_decref(params);
    if (crc) {
        rc = cli_fail(o->cmd, "%s", crc == CAIRN_ENOMEM ? "out of memory" : why);
        goto out;
    }
    /* the outcome: CheckTx refused it, or the block's result, or accepted */
    const json_t *check = json_object_get(res, "check_tx");
    const json_t *deliver = json_object_get(res, "tx_result");
    const json_t *decisive = check ? (code_of(check) != 0 ? check : deliver) : res;
    json_int_t code = code_of(decisive);
    const char *log = cli_jstr(decisive, "log");
    const char *height = cli_jstr(res, "height");
    if (o->out == OUT_JSON) {
        rc = cli_print_json(json_incref(res));
    } else {
        printf("hash    %s\n", cli_jstr(res, "hash"));
        printf("height  %s\n", check && code == 0 ? height : "(not in a block yet)");
        printf("code    %lld (%s)\n", (long long)code, app_code_str((uint32_t)code));
        printf("log     %s\n", log);
        printf("nonce   %llu\n", (unsigned long long)o->nonce);
    }
    if (rc == 0 && code != 0)
        rc = cli_fail(o->cmd, "transaction %s with code %lld: %s",
                      decisive == deliver ? "failed in the block" : "refused",
                      (long long)code, *log ? log : app_code_str((uint32_t)code));
out:
    json_decref(res);
    buf_deinit(&b);
    client_free(cl);
    return rc;
}

/* ------------------------------------------------------------ decode */

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

/* Reads `-` (stdin) or the argument, trimmed; *text is heap memory. */
static int read_input(const tx_opts *o, char **text, size_t *len)
{
    size_t cap = 2 * TX_HEX_MAX + 16, n = 0;
    char *s = malloc(cap + 1);
    if (!s) return cli_fail(o->cmd, "out of memory");
    if (!strcmp(o->input, "-")) {
        n = fread(s, 1, cap, stdin);
        if (n == cap) {
            free(s);
            return cli_fail(o->cmd, "input on stdin is larger than any transaction");
        }
    } else {
        n = strlen(o->input);
        if (n > cap) {
            free(s);
            return cli_fail(o->cmd, "input is larger than any transaction (%d bytes)", TX_BYTES_MAX);
        }
        memcpy(s, o->input, n);
    }
    s[n] = 0;
    size_t start = 0;
    while (start < n && strchr(" \t\r\n", s[start])) start++;
    while (n > start && strchr(" \t\r\n", s[n - 1])) n--;
    memmove(s, s + start, n - start);
    n -= start;
    s[n] = 0;
    *text = s;
    *len = n;
    return 0;
}

static int decode(tx_opts *o)
{
    if (!o->input) return cli_usage_error(o->cmd, "missing the transaction (hex or base64)");
    if (o->from || o->to || o->key || o->value || o->have_amount || o->have_nonce)
        return cli_usage_error(o->cmd, "decode takes only TX, --chain-id and --format");
    if (o->format && strcmp(o->format, "hex") && strcmp(o->format, "base64"))
        return cli_usage_error(o->cmd, "--format must be hex or base64");
    chain_id_t cid;
    if (o->chain_id && chain_id_set(&cid, o->chain_id) != CAIRN_OK)
        return cli_usage_error(o->cmd, "--chain-id '%s' is not 1 to %d printable ASCII characters",
                               o->chain_id, CHAIN_ID_MAX);
    if (!cli_crypto_init(o->cmd)) return CLI_EXIT_FAIL;
    char *text = NULL;
    size_t len = 0;
    int rc = read_input(o, &text, &len);
    if (rc) return rc;
    uint8_t *raw = malloc(TX_BYTES_MAX + 1);
    if (!raw) {
        free(text);
        return cli_fail(o->cmd, "out of memory");
    }
    const char *s = text;
    size_t slen = len, n = 0;
    bool hex_prefix = slen >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    bool is_hex = o->format ? !strcmp(o->format, "hex")
                            : (hex_prefix && all_hex(s + 2, slen - 2)) ||
                                  (slen % 2 == 0 && all_hex(s, slen));
    if (is_hex && hex_prefix) s += 2, slen -= 2;
    cairn_err crc = is_hex ? hex_decode_var(raw, TX_BYTES_MAX + 1, &n, s, slen)
                           : base64_decode(raw, TX_BYTES_MAX + 1, &n, s, slen);
    tx_t tx;
    if (crc != CAIRN_OK) {
        rc = cli_fail(o->cmd, "input is not valid %s%s", is_hex ? "hex" : "base64",
                      crc == CAIRN_ELIMIT || crc == CAIRN_ETOO_LARGE ? " (or too large)" : "");
        goto out;
    }
    crc = tx_decode(&tx, raw, n);
    if (crc != CAIRN_OK) {
        rc = cli_fail(o->cmd, "not a valid transaction: %s", cairn_strerror(crc));
        goto out;
    }
    json_t *j = tx_json(&tx, raw, n);
    cairn_err vrc = CAIRN_OK;
    if (j && o->chain_id) {
        vrc = tx_verify(&tx, &cid);
        json_object_set_new(j, "chain_id", json_string(o->chain_id));
        json_object_set_new(j, "signature_valid", json_boolean(vrc == CAIRN_OK));
    }
    rc = cli_print_json(j);
    if (rc == CLI_EXIT_OK && vrc != CAIRN_OK)
        rc = cli_fail(o->cmd, "signature does not verify for chain id '%s' (wrong chain id, "
                              "or the transaction was altered)", o->chain_id);
out:
    free(raw);
    free(text);
    return rc;
}

int cli_tx(int argc, char **argv)
{
    if (argc < 2) return cli_usage_error("tx", "missing the subcommand: transfer, put, delete or decode");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage_text, stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "send")) {
        static const struct {
            const char *name, *cmd;
            int type;
        } kinds[] = {{"transfer", "tx send transfer", TX_TRANSFER},
                     {"put", "tx send put", TX_PUT},
                     {"delete", "tx send delete", TX_DELETE}};
        if (argc < 3) return cli_usage_error("tx send", "missing the kind: transfer, put or delete");
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            if (strcmp(argv[2], kinds[i].name)) continue;
            tx_opts o;
            memset(&o, 0, sizeof o);
            o.cmd = kinds[i].cmd;
            o.send = true;
            int rc = parse_args(&o, argc - 2, argv + 2);
            if (rc < 0) return CLI_EXIT_OK;
            if (rc) return rc;
            return send(&o, (uint8_t)kinds[i].type);
        }
        if (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
            fputs(usage_text, stdout);
            return CLI_EXIT_OK;
        }
        return cli_usage_error("tx send", "unknown kind '%s': use transfer, put or delete", argv[2]);
    }
    static const struct {
        const char *name, *cmd;
        int type; /* 0: decode */
    } subs[] = {{"transfer", "tx transfer", TX_TRANSFER},
                {"put", "tx put", TX_PUT},
                {"delete", "tx delete", TX_DELETE},
                {"decode", "tx decode", 0}};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (strcmp(argv[1], subs[i].name)) continue;
        tx_opts o;
        memset(&o, 0, sizeof o);
        o.cmd = subs[i].cmd;
        int rc = parse_args(&o, argc - 1, argv + 1);
        if (rc < 0) return CLI_EXIT_OK;
        if (rc) return rc;
        return subs[i].type ? build(&o, (uint8_t)subs[i].type) : decode(&o);
    }
    return cli_usage_error("tx", "unknown subcommand '%s': use transfer, put, delete, decode or send",
                           argv[1]);
}
