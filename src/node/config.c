/* config.c - loading, validating and writing config.ini (see config.h).
 *
 * The option table below is the single source of truth: defaults, ranges,
 * the parser and the commented template all read it. inih does the INI
 * syntax; we feed it through our own line reader so the handler knows the
 * line it is on (Debian's inih is built without INI_HANDLER_LINENO).
 */
#include "node/config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/log.h"
#include "chain/chain.h"

enum opt_kind { K_U32, K_U64, K_BOOL, K_MONIKER, K_LOGLEVEL, K_ADDR, K_PEERS, K_OPT_ADDR };

typedef struct {
    const char *section;
    const char *name;
    enum opt_kind kind;
    size_t offset;
    uint64_t min, max; /* integers: inclusive range */
    const char *help;
} option;

#define OFF(f) offsetof(config_t, f)

static const option options[] = {
    {"node", "moniker", K_MONIKER, OFF(node.moniker), 1, CONFIG_MONIKER_MAX,
     "A human-readable name for this node, shown to peers and in logs.\n"
     "Printable ASCII without ';' or '#', 1 to 64 characters, no leading or\n"
     "trailing space."},
    {"node", "log_level", K_LOGLEVEL, OFF(node.log_level), 0, 0,
     "Least severe log messages written to stderr: debug, info, warn, error or off."},

    {"p2p", "listen", K_ADDR, OFF(p2p.listen), 0, 0,
     "Address and port to accept peer connections on (host:port, [v6]:port)."},
    {"p2p", "persistent_peers", K_PEERS, OFF(p2p.persistent_peers), 0, CONFIG_PEERS_MAX,
     "Peers to stay connected to: comma-separated node_id@host:port, where\n"
     "node_id is the 40 hex digit id printed by `cairn init`. A long list may\n"
     "continue on following lines that start with whitespace. At most 64 peers."},
    {"p2p", "max_inbound_peers", K_U32, OFF(p2p.max_inbound_peers), 0, 1000,
     "Most peers that may connect to this node at once."},
    {"p2p", "max_outbound_peers", K_U32, OFF(p2p.max_outbound_peers), 0, 200,
     "Most peers this node dials at once (persistent peers count)."},
    {"p2p", "max_frame_bytes", K_U32, OFF(p2p.max_frame_bytes), 65536, 67108864,
     "Largest encrypted frame accepted from a peer, in bytes. A peer sending a\n"
     "larger frame is disconnected. Must hold a whole block (8 MiB) plus overhead."},
    {"p2p", "send_queue_bytes", K_U64, OFF(p2p.send_queue_bytes), 1048576, 1073741824,
     "Bytes queued for one peer before it counts as too slow and is dropped."},
    {"p2p", "handshake_timeout_ms", K_U32, OFF(p2p.handshake_timeout_ms), 100, 600000,
     "Time a new connection has to finish the encrypted handshake, in ms."},

    {"rpc", "listen", K_ADDR, OFF(rpc.listen), 0, 0,
     "Address and port of the JSON-RPC (HTTP and WebSocket) server. Keep it on\n"
     "loopback unless a proxy or firewall protects it."},
    {"rpc", "max_body_bytes", K_U32, OFF(rpc.max_body_bytes), 1024, 67108864,
     "Largest HTTP request body accepted, in bytes."},
    {"rpc", "max_batch_response_bytes", K_U32, OFF(rpc.max_batch_response_bytes), 65536,
     1073741824,
     "Largest answer to one JSON-RPC batch, in bytes; calls past it are answered\n"
     "with an error asking to send them again in a smaller batch."},
    {"rpc", "max_connections", K_U32, OFF(rpc.max_connections), 1, 10000,
     "Most simultaneous RPC connections (HTTP and WebSocket together)."},
    {"rpc", "max_subscriptions_per_client", K_U32, OFF(rpc.max_subscriptions_per_client), 0,
     1000, "Most event subscriptions one WebSocket client may hold."},
    {"rpc", "broadcast_tx_commit_timeout_ms", K_U32, OFF(rpc.broadcast_tx_commit_timeout_ms),
     100, 600000, "How long broadcast_tx_commit waits for the transaction's block, in ms."},
    {"rpc", "unsafe", K_BOOL, OFF(rpc.unsafe), 0, 0,
     "Enable unsafe endpoints (dial_peers and the like). true or false."},

    {"consensus", "timeout_propose_ms", K_U32, OFF(consensus.timeout_propose_ms), 1, 600000,
     "Time to wait for a proposal in round 0 before prevoting nil, in ms."},
    {"consensus", "timeout_propose_delta_ms", K_U32, OFF(consensus.timeout_propose_delta_ms), 0,
     600000, "Added to timeout_propose_ms for each further round, in ms."},
    {"consensus", "timeout_prevote_ms", K_U32, OFF(consensus.timeout_prevote_ms), 1, 600000,
     "Time to wait after +2/3 prevotes for anything before precommitting, in ms."},
    {"consensus", "timeout_prevote_delta_ms", K_U32, OFF(consensus.timeout_prevote_delta_ms), 0,
     600000, "Added to timeout_prevote_ms for each further round, in ms."},
    {"consensus", "timeout_precommit_ms", K_U32, OFF(consensus.timeout_precommit_ms), 1, 600000,
     "Time to wait after +2/3 precommits for anything before the next round, in ms."},
    {"consensus", "timeout_precommit_delta_ms", K_U32,
     OFF(consensus.timeout_precommit_delta_ms), 0, 600000,
     "Added to timeout_precommit_ms for each further round, in ms."},
    {"consensus", "timeout_commit_ms", K_U32, OFF(consensus.timeout_commit_ms), 0, 600000,
     "Pause after committing a block before starting the next height, in ms\n"
     "(gathers late precommits and transactions)."},
    {"consensus", "create_empty_blocks", K_BOOL, OFF(consensus.create_empty_blocks), 0, 0,
     "Propose blocks with no transactions. false: wait for transactions."},
    {"consensus", "create_empty_blocks_interval_ms", K_U32,
     OFF(consensus.create_empty_blocks_interval_ms), 0, 3600000,
     "With create_empty_blocks = true, the least time between empty blocks, in ms\n"
     "(0: no extra wait)."},

    {"mempool", "max_txs", K_U32, OFF(mempool.max_txs), 1, 1000000,
     "Most transactions held in the mempool."},
    {"mempool", "max_bytes", K_U64, OFF(mempool.max_bytes), 1048576, 17179869184ull,
     "Most bytes of transactions held in the mempool."},
    {"mempool", "max_tx_bytes", K_U32, OFF(mempool.max_tx_bytes), 128, TX_BYTES_MAX,
     "Largest single transaction accepted, in bytes (the chain's limit is 65536)."},
    {"mempool", "recheck", K_BOOL, OFF(mempool.recheck), 0, 0,
     "Re-check the remaining transactions against the new state after each block."},

    {"storage", "sync_writes", K_BOOL, OFF(storage.sync_writes), 0, 0,
     "fsync every block commit. false is faster but can lose the newest blocks\n"
     "on power loss (they are fetched again from peers)."},
    {"storage", "scrub_interval_s", K_U32, OFF(storage.scrub_interval_s), 0, 604800,
     "Seconds between background integrity scrubs of the store (0: never;\n"
     "`cairn scrub` still works)."},
    {"storage", "keep_state_heights", K_U32, OFF(storage.keep_state_heights), 0, 1000000000,
     "Heights whose application state stays queryable (abci_query with height,\n"
     "proofs at old heights). 0 keeps every height; N (at least 2) forgets the\n"
     "state of older heights as blocks commit, which bounds the store's growth.\n"
     "Blocks and transactions are always kept."},
    {"storage", "rebuild_damaged_store", K_BOOL, OFF(storage.rebuild_damaged_store), 0, 0,
     "When the store is too damaged to open, move it aside to\n"
     "data/store.damaged-TIME and rebuild it from the persistent peers by block\n"
     "sync (true), or refuse to start (false). true or false."},

    {"metrics", "enabled", K_BOOL, OFF(metrics.enabled), 0, 0,
     "Serve Prometheus metrics at /metrics."},
    {"metrics", "listen", K_OPT_ADDR, OFF(metrics.listen), 0, 0,
     "Separate host:port for /metrics. Empty: serve /metrics on the RPC listener."},
};

#define N_OPTIONS (sizeof options / sizeof options[0])

static const char *const section_help[][2] = {
    {"node", "This node's identity and logging."},
    {"p2p", "Peer-to-peer network: encrypted TCP connections to other nodes."},
    {"rpc", "JSON-RPC server for clients (CometBFT v0.38 compatible)."},
    {"consensus", "Tendermint round timeouts and block production."},
    {"mempool", "Pool of transactions waiting for a block. Every limit is enforced."},
    {"storage", "Block and state storage (RocksDB) under HOME/data."},
    {"metrics", "Prometheus metrics."},
};

#define N_SECTIONS (sizeof section_help / sizeof section_help[0])

void config_defaults(config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->node.moniker, sizeof cfg->node.moniker, "cairn-node");
    cfg->node.log_level = LOG_INFO;
    snprintf(cfg->p2p.listen.host, sizeof cfg->p2p.listen.host, "0.0.0.0");
    cfg->p2p.listen.port = 26656;
    cfg->p2p.max_inbound_peers = 40;
    cfg->p2p.max_outbound_peers = 10;
    cfg->p2p.max_frame_bytes = 10 * 1024 * 1024;
    cfg->p2p.send_queue_bytes = 32 * 1024 * 1024;
    cfg->p2p.handshake_timeout_ms = 10000;
    snprintf(cfg->rpc.listen.host, sizeof cfg->rpc.listen.host, "127.0.0.1");
    cfg->rpc.listen.port = 26657;
    cfg->rpc.max_body_bytes = 1024 * 1024;
    cfg->rpc.max_batch_response_bytes = 8 * 1024 * 1024;
    cfg->rpc.max_connections = 256;
    cfg->rpc.max_subscriptions_per_client = 5;
    cfg->rpc.broadcast_tx_commit_timeout_ms = 10000;
    cfg->rpc.unsafe = false;
    cfg->consensus.timeout_propose_ms = 3000;
    cfg->consensus.timeout_propose_delta_ms = 500;
    cfg->consensus.timeout_prevote_ms = 1000;
    cfg->consensus.timeout_prevote_delta_ms = 500;
    cfg->consensus.timeout_precommit_ms = 1000;
    cfg->consensus.timeout_precommit_delta_ms = 500;
    cfg->consensus.timeout_commit_ms = 1000;
    cfg->consensus.create_empty_blocks = true;
    cfg->consensus.create_empty_blocks_interval_ms = 0;
    cfg->mempool.max_txs = 5000;
    cfg->mempool.max_bytes = 256ull * 1024 * 1024;
    cfg->mempool.max_tx_bytes = TX_BYTES_MAX;
    cfg->mempool.recheck = true;
    cfg->storage.sync_writes = true;
    cfg->storage.scrub_interval_s = 3600;
    cfg->storage.rebuild_damaged_store = true;
    cfg->metrics.enabled = true;
    cfg->metrics.listen_set = false;
}

/* ------------------------------------------------------------ value parsers */

static cairn_err parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s) return CAIRN_EINVALID_ARG;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return CAIRN_EINVALID_ARG;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return CAIRN_EOVERFLOW;
        v = v * 10 + d;
    }
    if (s[0] == '0' && s[1]) return CAIRN_EINVALID_ARG; /* no leading zeros */
    *out = v;
    return CAIRN_OK;
}

static bool host_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_' || c == ':';
}

cairn_err config_addr_parse(config_addr_t *out, const char *s)
{
    config_addr_t a;
    memset(&a, 0, sizeof a);
    if (!strncmp(s, "tcp://", 6)) s += 6;
    const char *host = s, *host_end, *colon;
    if (*s == '[') {
        host = s + 1;
        host_end = strchr(host, ']');
        if (!host_end || host_end[1] != ':') return CAIRN_EINVALID_ARG;
        colon = host_end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon) return CAIRN_EINVALID_ARG;
        host_end = colon;
        if (memchr(s, ':', (size_t)(colon - s))) return CAIRN_EINVALID_ARG; /* v6 needs [] */
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0 || hlen > CONFIG_HOST_MAX) return CAIRN_EINVALID_ARG;
    for (size_t i = 0; i < hlen; i++)
        if (!host_char_ok(host[i])) return CAIRN_EINVALID_ARG;
    uint64_t port;
    if (parse_u64(colon + 1, &port) != CAIRN_OK || port == 0 || port > 65535)
        return CAIRN_EINVALID_ARG;
    memcpy(a.host, host, hlen);
    a.port = (uint16_t)port;
    *out = a;
    return CAIRN_OK;
}

void config_addr_format(char *out, size_t n, const config_addr_t *a)
{
    if (strchr(a->host, ':'))
        snprintf(out, n, "[%s]:%u", a->host, (unsigned)a->port);
    else
        snprintf(out, n, "%s:%u", a->host, (unsigned)a->port);
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) (*n)--;
}

/* Appends the peers in s to out[*n]; empty items (a trailing comma) are skipped. */
static cairn_err peers_append(config_peer_t *out, uint32_t *n, const char *s, char *errbuf)
{
    while (*s) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *item = s;
        trim(&item, &len);
        s = end ? end + 1 : s + strlen(s);
        if (len == 0) continue;
        char tmp[CONFIG_HOST_MAX + 64];
        if (len >= sizeof tmp) {
            snprintf(errbuf, CONFIG_ERR_MAX, "peer address too long: '%.40s...'", item);
            return CAIRN_EBAD_CONFIG;
        }
        memcpy(tmp, item, len);
        tmp[len] = 0;
        if (*n >= CONFIG_PEERS_MAX) {
            snprintf(errbuf, CONFIG_ERR_MAX, "more than %d persistent peers", CONFIG_PEERS_MAX);
            return CAIRN_EBAD_CONFIG;
        }
        char *at = strchr(tmp, '@');
        config_peer_t p;
        memset(&p, 0, sizeof p);
        if (!at || at - tmp != 2 * CONFIG_NODE_ID_BYTES) {
            snprintf(errbuf, CONFIG_ERR_MAX,
                     "peer '%s' is not node_id@host:port (node_id: 40 hex digits)", tmp);
            return CAIRN_EBAD_CONFIG;
        }
        *at = 0;
        if (hex_decode(p.id, sizeof p.id, tmp) != CAIRN_OK) {
            snprintf(errbuf, CONFIG_ERR_MAX, "peer node id '%s' is not 40 hex digits", tmp);
            return CAIRN_EBAD_CONFIG;
        }
        if (config_addr_parse(&p.addr, at + 1) != CAIRN_OK) {
            snprintf(errbuf, CONFIG_ERR_MAX, "peer address '%s' is not host:port", at + 1);
            return CAIRN_EBAD_CONFIG;
        }
        out[(*n)++] = p;
    }
    return CAIRN_OK;
}

cairn_err config_peers_parse(config_peer_t *out, uint32_t *n_out, const char *s, char *errbuf)
{
    uint32_t n = 0;
    cairn_err rc = peers_append(out, &n, s, errbuf);
    if (rc == CAIRN_OK) *n_out = n;
    return rc;
}

bool config_moniker_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > CONFIG_MONIKER_MAX) return false;
    if (s[0] == ' ' || s[n - 1] == ' ') return false; /* inih would trim them */
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e || s[i] == ';' || s[i] == '#') return false;
    return true;
}

/* ------------------------------------------------------------ loading */

typedef struct {
    config_t cfg;
    const char *name;
    int line;          /* line the reader handed out last */
    int err_line;      /* line of the first handler error, 0 if none */
    bool line_indented; /* the current line starts with whitespace (continuation) */
    char *errbuf;      /* CONFIG_ERR_MAX */
    bool seen[N_OPTIONS];
    const char *text;  /* reader input */
    size_t len, pos;
} load_ctx;

static int fail(load_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(load_ctx *c, const char *fmt, ...)
{
    if (c->err_line) return 0;
    c->err_line = c->line;
    int n = snprintf(c->errbuf, CONFIG_ERR_MAX, "%s:%d: ", c->name, c->line);
    if (n < 0 || n >= CONFIG_ERR_MAX) return 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errbuf + n, CONFIG_ERR_MAX - (size_t)n, fmt, ap);
    va_end(ap);
    return 0;
}

static bool section_known(const char *s)
{
    for (size_t i = 0; i < N_SECTIONS; i++)
        if (!strcmp(section_help[i][0], s)) return true;
    return false;
}

static int set_value(load_ctx *c, size_t i, const char *value)
{
    const option *o = &options[i];
    void *field = (char *)&c->cfg + o->offset;
    uint64_t v = 0;
    cairn_err rc;
    switch (o->kind) {
    case K_U32:
    case K_U64:
        rc = parse_u64(value, &v);
        if (rc != CAIRN_OK || v < o->min || v > o->max)
            return fail(c, "%s.%s = '%s' is out of range: allowed %llu..%llu", o->section,
                        o->name, value, (unsigned long long)o->min, (unsigned long long)o->max);
        if (o->offset == OFF(storage.keep_state_heights) && v == 1)
            return fail(c, "storage.keep_state_heights = 1: keep 0 (every height) or at least 2");
        if (o->kind == K_U32)
            *(uint32_t *)field = (uint32_t)v;
        else
            *(uint64_t *)field = v;
        return 1;
    case K_BOOL:
        if (!strcmp(value, "true"))
            *(bool *)field = true;
        else if (!strcmp(value, "false"))
            *(bool *)field = false;
        else
            return fail(c, "%s.%s = '%s' is not allowed: use true or false", o->section,
                        o->name, value);
        return 1;
    case K_MONIKER:
        if (!config_moniker_valid(value))
            return fail(c, "%s.%s = '%s' is not allowed: 1 to %d printable characters "
                           "without ';' or '#'", o->section, o->name, value, CONFIG_MONIKER_MAX);
        memset(field, 0, CONFIG_MONIKER_MAX + 1); /* keeps config_equal byte-exact */
        snprintf((char *)field, CONFIG_MONIKER_MAX + 1, "%s", value);
        return 1;
    case K_LOGLEVEL: {
        int lv = log_level_parse(value);
        if (lv < 0)
            return fail(c, "%s.%s = '%s' is not allowed: use debug, info, warn, error or off",
                        o->section, o->name, value);
        *(int *)field = lv;
        return 1;
    }
    case K_ADDR:
        if (config_addr_parse(field, value) != CAIRN_OK)
            return fail(c, "%s.%s = '%s' is not an address: use host:port with port 1..65535",
                        o->section, o->name, value);
        return 1;
    case K_OPT_ADDR:
        if (!*value) {
            c->cfg.metrics.listen_set = false;
            memset(field, 0, sizeof(config_addr_t));
            return 1;
        }
        if (config_addr_parse(field, value) != CAIRN_OK)
            return fail(c, "%s.%s = '%s' is not an address: use host:port with port 1..65535, "
                           "or leave it empty", o->section, o->name, value);
        c->cfg.metrics.listen_set = true;
        return 1;
    case K_PEERS: {
        char perr[CONFIG_ERR_MAX];
        if (peers_append(c->cfg.p2p.persistent_peers, &c->cfg.p2p.n_peers, value, perr) !=
            CAIRN_OK)
            return fail(c, "%s.%s: %s", o->section, o->name, perr);
        return 1;
    }
    }
    return fail(c, "internal: unknown option kind");
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    load_ctx *c = user;
    if (c->err_line) return 0; /* keep the first error only */
    if (!*section) return fail(c, "key '%s' is outside any section", name);
    if (!section_known(section)) return fail(c, "unknown section [%s]", section);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (strcmp(options[i].section, section) || strcmp(options[i].name, name)) continue;
        /* persistent_peers may continue on indented lines (inih reports each line). */
        if (c->seen[i] && options[i].kind != K_PEERS && c->line_indented)
            return fail(c, "indented line continues '%s'; only persistent_peers may "
                           "continue on further lines", name);
        if (c->seen[i] && options[i].kind != K_PEERS)
            return fail(c, "key '%s' in section [%s] is set twice", name, section);
        c->seen[i] = true;
        return set_value(c, i, value);
    }
    return fail(c, "unknown key '%s' in section [%s]", name, section);
}

/* inih does not call the handler for a section without keys, so an unknown
 * empty section is caught here, where the line number is known. */
static void check_section_line(load_ctx *c, const char *line)
{
    if (c->line == 1 && !strncmp(line, "\xEF\xBB\xBF", 3)) line += 3;
    while (*line == ' ' || *line == '\t') line++;
    if (*line != '[') return;
    const char *end = strchr(line, ']');
    if (!end) return; /* inih reports the syntax error */
    char name[64];
    size_t n = (size_t)(end - line - 1);
    if (n >= sizeof name) {
        fail(c, "unknown section [%.40s...]", line + 1);
        return;
    }
    memcpy(name, line + 1, n);
    name[n] = 0;
    if (!section_known(name)) fail(c, "unknown section [%s]", name);
}

/* inih's reader contract is fgets(): up to num-1 bytes, through the newline. */
static char *reader(char *str, int num, void *stream)
{
    load_ctx *c = stream;
    if (c->pos >= c->len || num < 2) return NULL;
    size_t i = 0;
    while (c->pos < c->len && i < (size_t)num - 1) {
        char ch = c->text[c->pos++];
        str[i++] = ch;
        if (ch == '\n') break;
    }
    str[i] = 0;
    c->line++;
    c->line_indented = str[0] == ' ' || str[0] == '\t';
    check_section_line(c, str);
    return str;
}

/* Checks what inih cannot report well: NUL bytes and lines it would split. */
static cairn_err precheck(const char *name, const char *text, size_t len, char *errbuf)
{
    if (len > CONFIG_FILE_MAX) {
        snprintf(errbuf, CONFIG_ERR_MAX, "%s: file is larger than %d bytes", name,
                 CONFIG_FILE_MAX);
        return CAIRN_EBAD_CONFIG;
    }
    int line = 1;
    size_t col = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == 0) {
            snprintf(errbuf, CONFIG_ERR_MAX, "%s:%d: contains a NUL byte", name, line);
            return CAIRN_EBAD_CONFIG;
        }
        if (text[i] == '\n') {
            line++;
            col = 0;
            continue;
        }
        if (++col > CONFIG_LINE_MAX) {
            snprintf(errbuf, CONFIG_ERR_MAX,
                     "%s:%d: line is longer than %d characters (a long persistent_peers "
                     "list may continue on indented lines)", name, line, CONFIG_LINE_MAX);
            return CAIRN_EBAD_CONFIG;
        }
    }
    return CAIRN_OK;
}

cairn_err config_load_string(const char *name, const char *text, size_t len, config_t *cfg,
                             char *errbuf)
{
    cairn_err rc = precheck(name, text, len, errbuf);
    if (rc != CAIRN_OK) return rc;
    load_ctx *c = calloc(1, sizeof *c);
    if (!c) return CAIRN_ENOMEM;
    config_defaults(&c->cfg);
    c->name = name;
    c->errbuf = errbuf;
    c->text = text;
    c->len = len;
    int r = ini_parse_stream(reader, c, handler, c);
    /* inih returns the line of the first error, its own (syntax) or ours (the
     * handler returned 0); ours also include empty unknown sections, which inih
     * does not count. Whichever came first is reported. */
    if (r < 0) {
        snprintf(errbuf, CONFIG_ERR_MAX, "%s: cannot parse (inih error %d)", name, r);
        rc = CAIRN_EBAD_CONFIG;
    } else if (r > 0 && (c->err_line == 0 || r < c->err_line)) {
        snprintf(errbuf, CONFIG_ERR_MAX,
                 "%s:%d: syntax error: expected [section], key = value or a comment", name, r);
        rc = CAIRN_EBAD_CONFIG;
    } else if (c->err_line) {
        rc = CAIRN_EBAD_CONFIG; /* errbuf already holds the message */
    } else {
        *cfg = c->cfg;
        rc = CAIRN_OK;
    }
    free(c);
    return rc;
}

cairn_err config_load(const char *path, config_t *cfg, char *errbuf)
{
    cairn_err rc = CAIRN_OK;
    char *text = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errbuf, CONFIG_ERR_MAX, "%s: cannot open: %s", path, strerror(errno));
        return errno == ENOENT ? CAIRN_ENOT_FOUND : CAIRN_EIO;
    }
    text = malloc(CONFIG_FILE_MAX + 1);
    if (!text) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    size_t n = fread(text, 1, CONFIG_FILE_MAX + 1, f);
    if (ferror(f)) {
        snprintf(errbuf, CONFIG_ERR_MAX, "%s: read error: %s", path, strerror(errno));
        rc = CAIRN_EIO;
        goto out;
    }
    rc = config_load_string(path, text, n, cfg, errbuf);
out:
    free(text);
    fclose(f);
    return rc;
}

/* ------------------------------------------------------------ writing */

typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

static void sb_comment(sbuf *b, const char *text)
{
    const char *s = text;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        sb_printf(b, "# %.*s\n", (int)n, s);
        s += n + (nl ? 1 : 0);
    }
}

static const char *level_name(int lv)
{
    static const char *const names[] = {"debug", "info", "warn", "error", "off"};
    return lv >= 0 && lv <= LOG_OFF ? names[lv] : "info";
}

static void write_value(sbuf *b, const option *o, const config_t *cfg)
{
    const void *field = (const char *)cfg + o->offset;
    char addr[CONFIG_HOST_MAX + 16];
    switch (o->kind) {
    case K_U32:
        sb_printf(b, "%s = %u\n", o->name, *(const uint32_t *)field);
        break;
    case K_U64:
        sb_printf(b, "%s = %llu\n", o->name, (unsigned long long)*(const uint64_t *)field);
        break;
    case K_BOOL:
        sb_printf(b, "%s = %s\n", o->name, *(const bool *)field ? "true" : "false");
        break;
    case K_MONIKER:
        sb_printf(b, "%s = %s\n", o->name, (const char *)field);
        break;
    case K_LOGLEVEL:
        sb_printf(b, "%s = %s\n", o->name, level_name(*(const int *)field));
        break;
    case K_ADDR:
        config_addr_format(addr, sizeof addr, field);
        sb_printf(b, "%s = %s\n", o->name, addr);
        break;
    case K_OPT_ADDR:
        if (cfg->metrics.listen_set) {
            config_addr_format(addr, sizeof addr, field);
            sb_printf(b, "%s = %s\n", o->name, addr);
        } else {
            sb_printf(b, "%s =\n", o->name);
        }
        break;
    case K_PEERS:
        sb_printf(b, "%s =", o->name);
        for (uint32_t i = 0; i < cfg->p2p.n_peers; i++) {
            const config_peer_t *p = &cfg->p2p.persistent_peers[i];
            char id[2 * CONFIG_NODE_ID_BYTES + 1];
            hex_encode_lower(id, p->id, sizeof p->id);
            config_addr_format(addr, sizeof addr, &p->addr);
            /* one peer per line keeps every line under inih's limit */
            sb_printf(b, "%s%s@%s%s", i ? "    " : " ", id, addr,
                      i + 1 < cfg->p2p.n_peers ? ",\n" : "");
        }
        sb_printf(b, "\n");
        break;
    }
}

static void write_range(sbuf *b, const option *o)
{
    if (o->kind == K_U32 || o->kind == K_U64)
        sb_printf(b, "# allowed: %llu..%llu\n", (unsigned long long)o->min,
                  (unsigned long long)o->max);
}

cairn_err config_format(const config_t *cfg, char **out)
{
    sbuf b = {0};
    sb_printf(&b, "# cairn node configuration.\n"
                  "# Every option is listed with its meaning and allowed values; a key\n"
                  "# that is not listed here is an error. Sizes are in bytes, times in\n"
                  "# milliseconds (_ms) or seconds (_s). docs/operations.md has more.\n");
    for (size_t s = 0; s < N_SECTIONS; s++) {
        sb_printf(&b, "\n");
        sb_comment(&b, section_help[s][1]);
        sb_printf(&b, "[%s]\n", section_help[s][0]);
        for (size_t i = 0; i < N_OPTIONS; i++) {
            if (strcmp(options[i].section, section_help[s][0])) continue;
            sb_printf(&b, "\n");
            sb_comment(&b, options[i].help);
            write_range(&b, &options[i]);
            write_value(&b, &options[i], cfg);
        }
    }
    if (b.oom) {
        free(b.p);
        return CAIRN_ENOMEM;
    }
    *out = b.p;
    return CAIRN_OK;
}

cairn_err config_write_template(const char *path, const config_t *cfg)
{
    char *text = NULL;
    char tmp[4096];
    int fd = -1;
    cairn_err rc = config_format(cfg, &text);
    if (rc != CAIRN_OK) return rc;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        rc = CAIRN_EINVALID_ARG;
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = CAIRN_EIO;
        goto out;
    }
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            rc = CAIRN_EIO;
            goto out;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        rc = CAIRN_EIO;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) rc = CAIRN_EIO;
out:
    if (fd >= 0) close(fd);
    if (rc != CAIRN_OK) unlink(tmp);
    free(text);
    return rc;
}

static bool addr_equal(const config_addr_t *a, const config_addr_t *b)
{
    return a->port == b->port && !strcmp(a->host, b->host);
}

static bool option_equal(const option *o, const config_t *a, const config_t *b)
{
    const void *fa = (const char *)a + o->offset, *fb = (const char *)b + o->offset;
    switch (o->kind) {
    case K_U32:
        return *(const uint32_t *)fa == *(const uint32_t *)fb;
    case K_U64:
        return *(const uint64_t *)fa == *(const uint64_t *)fb;
    case K_BOOL:
        return *(const bool *)fa == *(const bool *)fb;
    case K_MONIKER:
        return !strcmp(fa, fb);
    case K_LOGLEVEL:
        return *(const int *)fa == *(const int *)fb;
    case K_ADDR:
        return addr_equal(fa, fb);
    case K_OPT_ADDR:
        return a->metrics.listen_set == b->metrics.listen_set &&
               (!a->metrics.listen_set || addr_equal(fa, fb));
    case K_PEERS:
        if (a->p2p.n_peers != b->p2p.n_peers) return false;
        for (uint32_t i = 0; i < a->p2p.n_peers; i++) {
            const config_peer_t *pa = &a->p2p.persistent_peers[i];
            const config_peer_t *pb = &b->p2p.persistent_peers[i];
            if (memcmp(pa->id, pb->id, sizeof pa->id) || !addr_equal(&pa->addr, &pb->addr))
                return false;
        }
        return true;
    }
    return false;
}

bool config_equal(const config_t *a, const config_t *b)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (!option_equal(&options[i], a, b)) return false;
    return true;
}
