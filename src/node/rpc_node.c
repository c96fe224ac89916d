/* rpc_node.c - the CometBFT v0.38 endpoints over the node's state (see
 * rpc_node.h and docs/rpc.md), events on commit, and the node's metrics. */
#include "node/rpc_node.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/cli.h" /* CAIRN_VERSION */
#include "node/node_int.h"
#include "node/results.h"
#include "rpc/json_chain.h"
#include "rpc/rpc.h"

#define COMET_VERSION "0.38.17"
#define APP_NAME "cairn-ledger"
#define PROOF_OP_TYPE "cairn:smt:v1"
#define ERR_TEXT_MAX 256
#define BLOCKCHAIN_MAX 20
#define PER_PAGE_DEFAULT 30
#define PER_PAGE_MAX 100
#define UNCONFIRMED_MAX 100
#define VALSET_REPLAY_MAX 100000 /* increments to rebuild an old height's priorities */
#define TX_SEARCH_SCAN_MAX 10000 /* heights one tx_search may read */
#define TX_SEARCH_MATCH_MAX 10000
#define ABCI_QUERY_DATA_MAX (ADDR_BYTES + TX_KEY_MAX + 64)
/* Heavy reads (docs/rpc.md s.3) run on libuv's thread pool, which they share
 * with signature checks and the background scrub (4 threads by default): at
 * most JOBS_RUNNING_MAX at once, JOBS_QUEUED_MAX more waiting, of which at most
 * JOBS_CLIENT_QUEUED_MAX from one connection; beyond that a call is answered
 * BUSY_TEXT at once. Each call of a batch is one job; a connection may queue
 * one full batch (rpc_config.batch_max, 100), so an idle node answers any
 * batch whole. The workers serve the waiting connections in turn, and a
 * connection with nothing waiting is admitted even past JOBS_QUEUED_MAX (at
 * most one job per connection, rpc max_connections), so busy clients cannot
 * starve another's single call. */
#define JOBS_RUNNING_MAX 2
#define JOBS_QUEUED_MAX 512
#define JOBS_CLIENT_QUEUED_MAX 100
#define JOB_TIMEOUT_MS 30000
#define BUSY_TEXT "server busy, retry later"

typedef struct waiter {
    struct waiter *next;
    struct node_rpc *r;
    rpc_call_t *call; /* NULL: the call ended while the signature was being checked */
    int kind;         /* BCAST_* */
    bool listed;      /* in r->waiters: admitted, waiting for its block */
    uint8_t hash[HASH_BYTES];
    json_t *check_tx;
    uint8_t *raw; /* the tx until it is admitted */
    size_t len;
} waiter;

struct job;

/* What status shows of one block, cached so that status reads no block in the
 * steady state (a block of up to 8 MiB is read and verified whole). */
typedef struct {
    uint64_t height; /* 0: nothing cached */
    bool id_ok;
    uint8_t id[HASH_BYTES];
    uint8_t app_hash[HASH_BYTES];
    int64_t time_ns;
} header_info;

typedef struct node_rpc {
    struct node *n;
    rpc_t *rpc;
    /* heavy reads waiting for a worker: one FIFO per connection, and the
     * connections in a ring (the first one's oldest job runs next) */
    struct jobq *waiting_head, *waiting_tail;
    struct job *running;                 /* handed to uv_queue_work, not yet done */
    uint32_t n_queued, n_running;
    header_info tip_info, base_info; /* status: the latest and the earliest block */
    rpc_t *metrics_rpc; /* [metrics] listen: a second listener sharing rpc's registry */
    uv_timer_t timer;
    waiter *waiters;
    int64_t last_block_time_ns; /* header time of the previous committed block */
    /* what was already added to the counters */
    uint64_t rep_txs, rep_sigs, rep_synced, rep_blocks, rep_rej, rep_rej_sig, rep_votes,
        rep_props;
    uint64_t rep_sent[P2P_CHANNELS_MAX], rep_recv[P2P_CHANNELS_MAX];
    uint8_t rep_ch[P2P_CHANNELS_MAX];
    uint32_t n_rep_ch;
    metric_t *m_height, *m_round, *m_interval, *m_txs, *m_mp_size, *m_mp_bytes, *m_peers,
        *m_sent, *m_recv, *m_sigs, *m_sync_blocks, *m_synced, *m_catching_up, *m_scrub_damaged, *m_rejected,
        *m_dropped, *m_jobs, *m_heavy, *m_busy, *m_repairs, *m_repair_pending;
    uint64_t rep_repairs[REPAIR_OUT__COUNT];
} node_rpc;

#define METRIC(expr)                                                               \
    do {                                                                           \
        cairn_err metric_rc_ = (expr);                                             \
        (void)metric_rc_;                                                          \
    } while (0)

static node_rpc *self(void *ctx) { return ctx; }

static void fail_call(rpc_call_t *call, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_call(rpc_call_t *call, const char *fmt, ...)
{
    char data[ERR_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(data, sizeof data, fmt, ap);
    va_end(ap);
    rpc_call_error(call, RPC_INTERNAL_ERROR, NULL, data);
}

static void fail_params(rpc_call_t *call, const char *what)
{
    rpc_call_error(call, RPC_INVALID_PARAMS, NULL, what);
}

static int64_t int_param(const json_t *params, const char *name, int64_t dflt)
{
    const json_t *j = json_object_get(params, name);
    return json_is_integer(j) ? json_integer_value(j) : dflt;
}

static const char *str_param(const json_t *params, const char *name)
{
    return json_string_value(json_object_get(params, name));
}

/* BYTES param (canonical base64 after normalisation) into out; false if absent
 * or longer than max. */
static bool bytes_param(const json_t *params, const char *name, uint8_t *out, size_t max,
                        size_t *len)
{
    const char *s = str_param(params, name);
    if (!s) return false;
    return base64_decode(out, max, len, s, strlen(s)) == CAIRN_OK;
}

static json_t *b64(const uint8_t *p, size_t n) { return json_chain_base64(p, n); }

/* ------------------------------------------------------------ heights */

/* Resolves an optional height param against the stored range: missing or 0 is
 * the latest height. false: the call was answered with an error. */
static bool height_arg(node_rpc *r, rpc_call_t *call, const json_t *params, const char *name,
                       uint64_t *out)
{
    uint64_t latest = store_height(r->n->store), base = store_base_height(r->n->store);
    int64_t h = int_param(params, name, 0);
    if (h < 0) {
        fail_call(call, "height must be greater than 0, but got %" PRId64, h);
        return false;
    }
    if (h == 0) {
        if (latest == 0) {
            fail_call(call, "no blocks have been committed yet");
            return false;
        }
        *out = latest;
        return true;
    }
    if ((uint64_t)h > latest) {
        fail_call(call,
                  "height %" PRId64
                  " must be less than or equal to the current blockchain height %" PRIu64,
                  h, latest);
        return false;
    }
    if ((uint64_t)h < base) {
        fail_call(call, "height %" PRId64 " is not available, lowest height is %" PRIu64, h, base);
        return false;
    }
    *out = (uint64_t)h;
    return true;
}

/* The answer to a read that found damage: with the height when it is known. */
#define DAMAGED_TEXT "is damaged in this node's store; repair in progress"

static void damaged_text(char *out, size_t cap, const char *what, uint64_t h)
{
    if (h) snprintf(out, cap, "%s %" PRIu64 " " DAMAGED_TEXT, what, h);
    else snprintf(out, cap, "%s " DAMAGED_TEXT, what);
}

/* Damage found by a read (on the loop): height h goes to the repair queue; with
 * no height known (a read by hash) a scrub finds which one. */
static void damage_found(struct node *n, uint64_t h)
{
    if (h) node_repair_note(n, h, "rpc");
    else node_scrub_soon(n);
}

/* A read of height h (0: not known, e.g. by hash) failed with rc: answers the
 * call. Damage (CAIRN_ECORRUPT) gets its own clear message and is reported to
 * repair. */
static bool store_failed(struct node *n, rpc_call_t *call, cairn_err rc, const char *what,
                         uint64_t h)
{
    if (rc == CAIRN_OK) return false;
    if (rc == CAIRN_ECORRUPT) {
        char text[ERR_TEXT_MAX];
        damaged_text(text, sizeof text, what, h);
        damage_found(n, h);
        fail_call(call, "%s", text);
        return true;
    }
    log_warn("rpc: reading %s %" PRIu64 ": %s", what, h, cairn_strerror(rc));
    fail_call(call, "cannot read %s %" PRIu64 ": %s", what, h, cairn_strerror(rc));
    return true;
}

/* Pagination as CometBFT: page 1.., per_page 1..PER_PAGE_MAX (default 30).
 * false: err says why. */
static bool page_calc(int64_t page, int64_t per, uint64_t total, uint64_t *skip,
                      uint64_t *count, char *err, size_t errlen)
{
    if (per < 1) per = PER_PAGE_DEFAULT;
    if (per > PER_PAGE_MAX) per = PER_PAGE_MAX;
    uint64_t pages = total == 0 ? 1 : (total + (uint64_t)per - 1) / (uint64_t)per;
    if (page < 1 || (uint64_t)page > pages) {
        snprintf(err, errlen, "page should be within [1, %" PRIu64 "] range, given %" PRId64,
                 pages, page);
        return false;
    }
    *skip = (uint64_t)(page - 1) * (uint64_t)per;
    *count = total - *skip < (uint64_t)per ? total - *skip : (uint64_t)per;
    return true;
}

static int64_t page_param(const json_t *params) { return int_param(params, "page", 1); }

static int64_t per_page_param(const json_t *params)
{
    return int_param(params, "per_page", PER_PAGE_DEFAULT);
}

static bool page_args(rpc_call_t *call, const json_t *params, uint64_t total, uint64_t *skip,
                      uint64_t *count)
{
    char err[ERR_TEXT_MAX];
    if (page_calc(page_param(params), per_page_param(params), total, skip, count, err,
                  sizeof err))
        return true;
    fail_call(call, "%s", err);
    return false;
}

/* ------------------------------------------------------------ heavy reads off the loop */

/* A call whose answer may take many store reads runs as a job: its handler
 * checks the params and copies what it needs of node state on the loop
 * (job_new), the work function runs on libuv's thread pool reading only the
 * job and the store (thread-safe, store.h) and leaves a result or an error in
 * the job, and job_done answers the call back on the loop. The call is
 * deferred meanwhile (rpc_call_defer): if it ends first (timeout, server
 * closing), job_cancel marks the job abandoned and the answer is dropped.
 *
 * Invariants:
 *  1. A job is in exactly one place: its connection's queue in r's ring (not
 *     submitted; j->waitq is that queue), r's running list (submitted, job_done
 *     not yet run), or detached (r closed: j->r NULL, job_done frees it).
 *     n_queued and n_running count the first two.
 *  2. n_running <= JOBS_RUNNING_MAX, n_queued <= JOBS_QUEUED_MAX + the number
 *     of connections, and a queue in the ring holds 1..JOBS_CLIENT_QUEUED_MAX
 *     jobs (an empty one is freed).
 *  3. The worker touches only the job's own fields and the store; the store
 *     outlives every job because node_close() runs the loop (which waits for
 *     queued work) before store_close().
 *  4. j->call is non-NULL exactly while the client waits for the answer. */
typedef struct job job;
typedef void (*job_work_cb)(job *j);

typedef struct jobq {
    uint64_t client; /* rpc_call_client() */
    job *head, *tail;
    uint32_t n;
    struct jobq *next; /* in the ring */
} jobq;

struct job {
    uv_work_t req;
    job *next;
    jobq *waitq;       /* while queued */
    node_rpc *r;       /* NULL once the server closed */
    rpc_call_t *call;  /* NULL once the call ended without our answer */
    job_work_cb work;
    bool submitted;
    atomic_bool abandoned; /* nobody waits for the answer: the worker may stop early */
    /* inputs, copied on the loop */
    store_t *store;
    uint64_t h, lo, hi, latest;
    uint64_t skip, count; /* block_search: the page, checked on the loop */
    int64_t page, per_page;
    bool desc, prove;
    uint8_t hash[HASH_BYTES];
    uint8_t app_hash[HASH_BYTES]; /* the node's app hash after block `latest` */
    node_rpc_search_t *q;         /* tx_search, block_search (owned) */
    const char *by_hash;          /* tx_search: points into q */
    valset_t *vs;                 /* validators (owned) */
    uint32_t increments;          /* validators: priority rounds to apply to vs */
    /* outcome, written by work: result (NULL: internal error) unless code != 0;
     * then serialised on the worker too (text, text_len) when memory allows */
    json_t *result;
    char *text;
    size_t text_len;
    int code;
    char data[ERR_TEXT_MAX];
    /* damage the worker found, reported to repair back on the loop */
    bool damaged;
    uint64_t damaged_h; /* 0: height unknown (a read by hash) */
};

static void job_fail(job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void job_fail(job *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->data, sizeof j->data, fmt, ap);
    va_end(ap);
    j->code = RPC_INTERNAL_ERROR;
}

/* store_failed for a job (any thread: logging is thread-safe; damage is
 * reported to repair by job_done, on the loop). */
static bool job_store_failed(job *j, cairn_err rc, const char *what, uint64_t h)
{
    if (rc == CAIRN_OK) return false;
    if (rc == CAIRN_ECORRUPT) {
        damaged_text(j->data, sizeof j->data, what, h);
        j->code = RPC_INTERNAL_ERROR;
        j->damaged = true;
        j->damaged_h = h;
        return true;
    }
    log_warn("rpc: reading %s %" PRIu64 ": %s", what, h, cairn_strerror(rc));
    job_fail(j, "cannot read %s %" PRIu64 ": %s", what, h, cairn_strerror(rc));
    return true;
}

static bool job_page(job *j, uint64_t total, uint64_t *skip, uint64_t *count)
{
    if (page_calc(j->page, j->per_page, total, skip, count, j->data, sizeof j->data))
        return true;
    j->code = RPC_INTERNAL_ERROR;
    return false;
}

static bool job_abandoned(job *j) { return atomic_load(&j->abandoned); }

/* A job for call with a snapshot of the store's heights and the app hash;
 * NULL: the call was answered (out of memory). Owned by the caller until
 * job_start(). */
static job *job_new(node_rpc *r, rpc_call_t *call, job_work_cb work)
{
    job *j = calloc(1, sizeof *j);
    if (!j) {
        fail_call(call, "out of memory");
        return NULL;
    }
    j->r = r;
    j->call = call;
    j->work = work;
    j->req.data = j;
    atomic_init(&j->abandoned, false);
    j->store = r->n->store;
    j->latest = store_height(r->n->store);
    memcpy(j->app_hash, r->n->st.app_hash, HASH_BYTES);
    return j;
}

static void job_free(job *j)
{
    json_decref(j->result);
    free(j->text);
    free(j->q);
    free(j->vs);
    free(j);
}

static void job_unlink(job **head, job *j)
{
    for (job **pp = head; *pp; pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            return;
        }
    CAIRN_ASSERT(!"job not in its list");
}

static void job_work(uv_work_t *req)
{
    job *j = req->data;
    if (job_abandoned(j)) return;
    j->work(j);
    if (j->code || !j->result || job_abandoned(j)) return;
    /* a large answer is also slow to serialise and free: not on the loop either */
    j->text = json_dumps(j->result, JSON_COMPACT);
    if (!j->text) return; /* out of memory: the loop serialises it */
    j->text_len = strlen(j->text);
    json_decref(j->result);
    j->result = NULL;
}

static void jobs_pump(node_rpc *r);

/* Back on the loop; always runs, status UV_ECANCELED if the job never started. */
static void job_done(uv_work_t *req, int status)
{
    job *j = req->data;
    node_rpc *r = j->r;
    if (r) {
        job_unlink(&r->running, j);
        r->n_running--;
    }
    if (r && j->damaged) damage_found(r->n, j->damaged_h);
    rpc_call_t *call = j->call;
    if (call && status != 0) {
        fail_call(call, "the read was cancelled: %s", uv_strerror(status));
    } else if (call && j->code) {
        rpc_call_error(call, j->code, NULL, j->data);
    } else if (call && j->text) {
        rpc_call_reply_text(call, j->text, j->text_len);
        j->text = NULL;
    } else if (call) {
        rpc_call_reply(call, j->result);
        j->result = NULL;
    }
    job_free(j);
    if (r) jobs_pump(r);
}

static void job_submit(node_rpc *r, job *j)
{
    j->submitted = true;
    j->next = r->running;
    r->running = j;
    r->n_running++;
    int rc = uv_queue_work(&r->n->loop, &j->req, job_work, job_done);
    if (rc == 0) return;
    job_unlink(&r->running, j);
    r->n_running--;
    if (j->call) fail_call(j->call, "cannot queue the read: %s", uv_strerror(rc));
    job_free(j);
}

static jobq *jobq_find(node_rpc *r, uint64_t client)
{
    for (jobq *q = r->waiting_head; q; q = q->next)
        if (q->client == client) return q;
    return NULL;
}

static void ring_remove(node_rpc *r, jobq *q)
{
    jobq *prev = NULL;
    for (jobq *k = r->waiting_head; k && k != q; k = k->next) prev = k;
    if (prev) prev->next = q->next;
    else r->waiting_head = q->next;
    if (r->waiting_tail == q) r->waiting_tail = prev;
    q->next = NULL;
}

static void ring_append(node_rpc *r, jobq *q)
{
    q->next = NULL;
    if (r->waiting_tail) r->waiting_tail->next = q;
    else r->waiting_head = q;
    r->waiting_tail = q;
}

/* Takes j out of its connection's queue (freed when it empties). */
static void jobq_take(node_rpc *r, job *j)
{
    jobq *q = j->waitq;
    job *prev = NULL;
    for (job *k = q->head; k && k != j; k = k->next) prev = k;
    if (prev) prev->next = j->next;
    else q->head = j->next;
    if (q->tail == j) q->tail = prev;
    j->next = NULL;
    j->waitq = NULL;
    q->n--;
    r->n_queued--;
    if (q->n == 0) {
        ring_remove(r, q);
        free(q);
    }
}

/* Runs waiting jobs while workers are free, one per connection in turn: the
 * first connection of the ring gives its oldest job and goes to the back. */
static void jobs_pump(node_rpc *r)
{
    while (r->n_running < JOBS_RUNNING_MAX && r->waiting_head) {
        jobq *q = r->waiting_head;
        job *j = q->head;
        if (q->n > 1) { /* it stays in the ring, behind the others */
            ring_remove(r, q);
            ring_append(r, q);
        }
        jobq_take(r, j);
        job_submit(r, j);
    }
}

/* The call ended without our answer: timeout, or the server is closing. */
static void job_cancel(void *ctx, rpc_call_t *call)
{
    (void)call;
    job *j = ctx;
    j->call = NULL;
    atomic_store(&j->abandoned, true);
    if (j->submitted) return; /* job_done frees it */
    jobq_take(j->r, j);
    job_free(j);
}

static void job_busy(job *j, const char *why)
{
    node_rpc *r = j->r;
    if (r->m_busy) METRIC(metrics_counter_add(r->m_busy, NULL, 1));
    fail_call(j->call, BUSY_TEXT ": %s", why);
    job_free(j);
}

/* Queues j (or answers "busy"); j is owned by the job machinery afterwards. */
static void job_start(job *j)
{
    node_rpc *r = j->r;
    uint64_t client = rpc_call_client(j->call);
    jobq *q = jobq_find(r, client);
    if (r->n_running >= JOBS_RUNNING_MAX && r->n_queued >= JOBS_QUEUED_MAX && q) {
        char why[96];
        snprintf(why, sizeof why, "%d heavy reads are running and %d waiting", JOBS_RUNNING_MAX,
                 JOBS_QUEUED_MAX);
        job_busy(j, why);
        return;
    }
    if (q && q->n >= JOBS_CLIENT_QUEUED_MAX) {
        char why[96];
        snprintf(why, sizeof why, "this connection already has %d heavy reads waiting",
                 JOBS_CLIENT_QUEUED_MAX);
        job_busy(j, why);
        return;
    }
    if (!q && !(q = calloc(1, sizeof *q))) {
        fail_call(j->call, "out of memory");
        job_free(j);
        return;
    }
    if (rpc_call_defer(j->call, JOB_TIMEOUT_MS, "timed out waiting for a worker thread",
                       job_cancel, j) != CAIRN_OK) {
        if (!q->n) free(q);
        job_free(j); /* the call was answered with an error */
        return;
    }
    if (!q->n) {
        q->client = client;
        ring_append(r, q);
    }
    if (q->tail) q->tail->next = j;
    else q->head = j;
    q->tail = j;
    q->n++;
    j->waitq = q;
    r->n_queued++;
    jobs_pump(r);
}

/* node_rpc_close, after rpc_free cancelled every call: the queue is empty;
 * running jobs finish (or are cancelled) on their own and free themselves. */
static void jobs_detach(node_rpc *r)
{
    CAIRN_ASSERT(!r->waiting_head && r->n_queued == 0);
    for (job *j = r->running; j; j = j->next) {
        j->r = NULL;
        (void)uv_cancel((uv_req_t *)&j->req);
    }
    r->running = NULL;
    r->n_running = 0;
}

/* ------------------------------------------------------------ tx results */

typedef struct {
    app_result_t res;
    rpc_event ev[APP_EVENTS_MAX];
    rpc_event_attr at[APP_EVENTS_MAX][APP_EVENT_ATTRS_MAX];
    rpc_tx_result r;
} txres_view;

static void txres_fill(txres_view *v)
{
    memset(&v->r, 0, sizeof v->r);
    uint32_t ne = v->res.n_events < APP_EVENTS_MAX ? v->res.n_events : APP_EVENTS_MAX;
    for (uint32_t i = 0; i < ne; i++) {
        const app_event_t *e = &v->res.events[i];
        uint32_t na = e->n_attrs < APP_EVENT_ATTRS_MAX ? e->n_attrs : APP_EVENT_ATTRS_MAX;
        for (uint32_t k = 0; k < na; k++)
            v->at[i][k] = (rpc_event_attr){e->attrs[k].key, e->attrs[k].value, true};
        v->ev[i] = (rpc_event){e->type, v->at[i], na};
    }
    v->r.code = v->res.code;
    v->r.log = v->res.log;
    v->r.events = v->ev;
    v->r.n_events = ne;
}

static cairn_err txres_decode(txres_view *v, const uint8_t *p, size_t n)
{
    CAIRN_TRY(result_record_decode(&v->res, p, n));
    txres_fill(v);
    return CAIRN_OK;
}

static void txres_from(txres_view *v, const app_result_t *res)
{
    v->res = *res;
    txres_fill(v);
}

/* ------------------------------------------------------------ validators */

/* The validator set that signs height h (1..latest+1), in a heap object, once
 * valset_increment_priority(*out, *increments) ran (the caller runs it: up to
 * VALSET_REPLAY_MAX rounds, on the thread pool). The set itself never changes
 * in this version (validator updates stop the node), so only proposer
 * priorities depend on h: exact for the last two heights and within
 * VALSET_REPLAY_MAX heights of genesis, else those of the latest height. */
static cairn_err valset_at(struct node *n, uint64_t h, valset_t **out, uint32_t *increments)
{
    *increments = 0;
    valset_t *vs = malloc(sizeof *vs);
    if (!vs) return CAIRN_ENOMEM;
    if (h == n->st.last_height + 1) *vs = n->st.validators;
    else if (h == n->st.last_height && h > 0) *vs = n->st.last_validators;
    else if (h >= n->genesis.initial_height && h - n->genesis.initial_height <= VALSET_REPLAY_MAX) {
        cairn_err rc = genesis_valset(&n->genesis, vs);
        if (rc) {
            free(vs);
            return rc;
        }
        *increments = (uint32_t)(h - n->genesis.initial_height);
    } else
        *vs = n->st.validators;
    *out = vs;
    return CAIRN_OK;
}

/* ------------------------------------------------------------ info methods */

static void addr_text(char *out, size_t cap, const config_addr_t *a)
{
    char hp[CONFIG_HOST_MAX + 16];
    config_addr_format(hp, sizeof hp, a);
    snprintf(out, cap, "tcp://%s", hp);
}

static json_t *node_info_json(struct node *n)
{
    char p2p_addr[CONFIG_HOST_MAX + 24], rpc_addr[CONFIG_HOST_MAX + 24];
    addr_text(p2p_addr, sizeof p2p_addr, &n->cfg.p2p.listen);
    addr_text(rpc_addr, sizeof rpc_addr, &n->cfg.rpc.listen);
    return json_pack("{s:{s:s,s:s,s:s},s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s}}",
                     "protocol_version", "p2p", "8", "block", JSON_BLOCK_PROTOCOL, "app", "0",
                     "id", n->p2p ? p2p_node_id(n->p2p) : "", "listen_addr", p2p_addr,
                     "network", n->chain_id.id, "version", COMET_VERSION, "channels", "203040",
                     "moniker", n->cfg.node.moniker, "other", "tx_index", "on", "rpc_address",
                     rpc_addr, "cairn_version", CAIRN_VERSION);
}

static void header_info_set(header_info *hi, const header_t *h, const uint8_t *id)
{
    hi->height = h->height;
    hi->id_ok = id || header_hash(h, hi->id) == CAIRN_OK;
    if (id) memcpy(hi->id, id, HASH_BYTES);
    memcpy(hi->app_hash, h->app_hash, HASH_BYTES);
    hi->time_ns = h->time_ns;
}

/* Block h's header info, from the cache or read into it (blocks never change
 * once stored). A damaged block is reported to repair and leaves *out NULL:
 * status keeps answering, it is how clients see the node. false: the call was
 * answered with an error. */
static bool header_info_get(node_rpc *r, rpc_call_t *call, uint64_t h, header_info *cache,
                            const header_info **out)
{
    *out = cache;
    if (cache->height == h) return true;
    block_t b;
    cairn_err rc = store_block_get(r->n->store, h, &b);
    if (rc == CAIRN_ECORRUPT) {
        damage_found(r->n, h);
        *out = NULL;
        return true;
    }
    if (store_failed(r->n, call, rc, "block", h)) return false;
    header_info_set(cache, &b.header, NULL);
    block_free(&b);
    return true;
}

static void status_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)params;
    node_rpc *r = self(ctx);
    struct node *n = r->n;
    uint64_t latest = store_height(n->store), base = store_base_height(n->store);
    json_t *lh = json_string(""), *la = json_string(""), *lt = NULL;
    json_t *eh = json_string(""), *ea = json_string(""), *et = NULL;
    if (latest > 0) {
        /* a damaged tip or base block (being repaired) leaves its fields empty */
        const header_info *b;
        if (!header_info_get(r, call, latest, &r->tip_info, &b)) goto fail;
        if (b && b->id_ok) {
            json_decref(lh);
            lh = json_chain_hex(b->id, HASH_BYTES);
        }
        if (b) {
            json_decref(la); /* as CometBFT: the app hash in the latest header */
            la = json_chain_hex(b->app_hash, HASH_BYTES);
        }
        lt = json_chain_time(b ? b->time_ns : n->st.last_time_ns);
        if (!header_info_get(r, call, base, &r->base_info, &b)) goto fail;
        if (b && b->id_ok) {
            json_decref(eh);
            eh = json_chain_hex(b->id, HASH_BYTES);
        }
        if (b) {
            json_decref(ea);
            ea = json_chain_hex(b->app_hash, HASH_BYTES);
        }
        et = json_chain_time(b ? b->time_ns : n->genesis.genesis_time_ns);
    } else {
        lt = json_chain_time(n->genesis.genesis_time_ns);
        et = json_chain_time(n->genesis.genesis_time_ns);
        json_decref(la);
        la = json_chain_hex(n->st.app_hash, HASH_BYTES);
    }
    int idx = valset_index_of(&n->st.validators, n->val_address);
    int64_t power = idx >= 0 ? n->st.validators.v[idx].power : 0;
    json_t *res = json_pack(
        "{s:o,s:{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b},s:{s:o,s:o,s:o}}", "node_info",
        node_info_json(n), "sync_info", "latest_block_hash", lh, "latest_app_hash", la,
        "latest_block_height", json_chain_u64(latest), "latest_block_time", lt,
        "earliest_block_hash", eh, "earliest_app_hash", ea, "earliest_block_height",
        json_chain_u64(base ? base : 0), "earliest_block_time", et, "catching_up",
        node_catching_up(n), "validator_info", "address",
        json_chain_hex(n->val_address, ADDR_BYTES), "pub_key", json_chain_pub_key(n->val_key.pub),
        "voting_power", json_chain_i64(power));
    rpc_call_reply(call, res);
    return;
fail:
    json_decref(lh);
    json_decref(la);
    json_decref(lt);
    json_decref(eh);
    json_decref(ea);
    json_decref(et);
}

static void net_info_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)params;
    node_rpc *r = self(ctx);
    struct node *n = r->n;
    p2p_peer_t *peers[256];
    size_t np = n->p2p ? p2p_peers(n->p2p, peers, 256) : 0;
    if (np > 256) np = 256;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < np; i++) {
        p2p_stats s;
        p2p_peer_stats_get(peers[i], &s);
        char ip[P2P_ADDR_TEXT_MAX];
        snprintf(ip, sizeof ip, "%s", p2p_peer_remote(peers[i]));
        char *colon = strrchr(ip, ':');
        if (colon) *colon = 0;
        uint64_t sent = 0, recv = 0;
        for (uint32_t k = 0; k < s.n_channels; k++) {
            sent += s.ch[k].bytes_sent;
            recv += s.ch[k].bytes_recv;
        }
        json_t *p = json_pack(
            "{s:{s:{s:s,s:s,s:s},s:s,s:s,s:s,s:s,s:s,s:s,s:{}},s:b,s:{s:o,s:o,s:o,s:i},s:s}",
            "node_info", "protocol_version", "p2p", "8", "block", JSON_BLOCK_PROTOCOL, "app", "0",
            "id", p2p_peer_id(peers[i]), "listen_addr", p2p_peer_remote(peers[i]), "network",
            n->chain_id.id, "version", COMET_VERSION, "channels", "203040", "moniker", "",
            "other", "is_outbound", p2p_peer_outbound(peers[i]), "connection_status",
            "bytes_sent", json_chain_u64(s.wire_bytes_sent), "bytes_recv",
            json_chain_u64(s.wire_bytes_recv), "payload_bytes", json_chain_u64(sent + recv),
            "score", (json_int_t)s.score, "remote_ip", ip);
        if (!p || json_array_append_new(arr, p) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    char listener[CONFIG_HOST_MAX + 40], hp[CONFIG_HOST_MAX + 16];
    config_addr_format(hp, sizeof hp, &n->cfg.p2p.listen);
    snprintf(listener, sizeof listener, "Listener(@%s)", hp);
    rpc_call_reply(call, arr ? json_pack("{s:b,s:[s],s:o,s:o}", "listening", 1, "listeners",
                                         listener, "n_peers", json_chain_u64(np), "peers", arr)
                             : NULL);
}

static void genesis_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)params;
    node_rpc *r = self(ctx);
    char *text = NULL;
    cairn_err rc = genesis_format(&r->n->genesis, false, &text);
    if (rc) {
        fail_call(call, "cannot render the genesis document: %s", cairn_strerror(rc));
        return;
    }
    json_error_t jerr;
    json_t *g = json_loads(text, 0, &jerr);
    free(text);
    rpc_call_reply(call, g ? json_pack("{s:o}", "genesis", g) : NULL);
}

static void abci_info_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)params;
    node_rpc *r = self(ctx);
    app_info_t info;
    app_info(r->n->app, &info);
    rpc_call_reply(call, json_pack("{s:{s:s,s:s,s:s,s:o,s:o}}", "response", "data", APP_NAME,
                                   "version", CAIRN_VERSION, "app_version", "0",
                                   "last_block_height", json_chain_u64(info.height),
                                   "last_block_app_hash", b64(info.app_hash, HASH_BYTES)));
}

/* ------------------------------------------------------------ blocks */

static void block_work(job *j)
{
    block_t b;
    uint8_t id[HASH_BYTES];
    cairn_err rc = store_block_get(j->store, j->h, &b);
    if (job_store_failed(j, rc, "block", j->h)) return;
    rc = header_hash(&b.header, id);
    j->result = rc ? NULL : json_chain_block_result(&b, id);
    block_free(&b);
}

static void header_work(job *j)
{
    block_t b;
    cairn_err rc = store_block_get(j->store, j->h, &b);
    if (job_store_failed(j, rc, "block", j->h)) return;
    j->result = json_pack("{s:o}", "header", json_chain_header(&b.header));
    block_free(&b);
}

/* block, header: one height. */
static void at_height_cb(node_rpc *r, rpc_call_t *call, const json_t *params, job_work_cb work)
{
    uint64_t h;
    if (!height_arg(r, call, params, "height", &h)) return;
    job *j = job_new(r, call, work);
    if (!j) return;
    j->h = h;
    job_start(j);
}

static void block_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    at_height_cb(self(ctx), call, params, block_work);
}

/* hash param (BYTES) of exactly HASH_BYTES; false: answered with an error. */
static bool hash_arg(rpc_call_t *call, const json_t *params, uint8_t out[static HASH_BYTES])
{
    size_t len = 0;
    if (!bytes_param(params, "hash", out, HASH_BYTES, &len) || len != HASH_BYTES) {
        fail_params(call, "hash must be 32 bytes: base64 in JSON, 0x-prefixed hex in a URI");
        return false;
    }
    return true;
}

/* The block j->hash; false: j holds the error. */
static bool block_by_hash_get(job *j, block_t *b, const char *what)
{
    cairn_err rc = store_block_get_by_hash(j->store, j->hash, b, NULL);
    if (rc == CAIRN_ENOT_FOUND) {
        char hex[2 * HASH_BYTES + 1];
        hex_encode_upper(hex, j->hash, HASH_BYTES);
        job_fail(j, "block %s not found", hex);
        return false;
    }
    return !job_store_failed(j, rc, what, 0);
}

static void block_by_hash_work(job *j)
{
    block_t b;
    if (!block_by_hash_get(j, &b, "block by hash at")) return;
    j->result = json_chain_block_result(&b, j->hash);
    block_free(&b);
}

static void header_by_hash_work(job *j)
{
    block_t b;
    if (!block_by_hash_get(j, &b, "header by hash at")) return;
    j->result = json_pack("{s:o}", "header", json_chain_header(&b.header));
    block_free(&b);
}

/* block_by_hash, header_by_hash. */
static void by_hash_cb(node_rpc *r, rpc_call_t *call, const json_t *params, job_work_cb work)
{
    uint8_t id[HASH_BYTES];
    if (!hash_arg(call, params, id)) return;
    job *j = job_new(r, call, work);
    if (!j) return;
    memcpy(j->hash, id, HASH_BYTES);
    job_start(j);
}

static void block_by_hash_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    by_hash_cb(self(ctx), call, params, block_by_hash_work);
}

static void header_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    at_height_cb(self(ctx), call, params, header_work);
}

static void header_by_hash_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    by_hash_cb(self(ctx), call, params, header_by_hash_work);
}

static void blockchain_work(job *j)
{
    json_t *metas = json_array();
    buf_t raw;
    buf_init(&raw, 0);
    for (uint64_t h = j->hi; metas && h >= j->lo && h >= 1 && !job_abandoned(j); h--) {
        uint8_t id[HASH_BYTES];
        cairn_err rc = store_block_get_raw(j->store, h, &raw, id);
        block_t b;
        if (rc == CAIRN_OK) rc = block_decode(&b, raw.data, raw.len);
        if (job_store_failed(j, rc, "block", h)) {
            json_decref(metas);
            buf_deinit(&raw);
            return;
        }
        json_t *m = json_chain_block_meta(&b.header, id, raw.len, b.n_txs);
        block_free(&b);
        if (!m || json_array_append_new(metas, m) != 0) {
            json_decref(metas);
            metas = NULL;
        }
    }
    buf_deinit(&raw);
    j->result = metas ? json_pack("{s:o,s:o}", "last_height", json_chain_u64(j->latest),
                                  "block_metas", metas)
                      : NULL;
}

static void blockchain_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    node_rpc *r = self(ctx);
    struct node *n = r->n;
    uint64_t latest = store_height(n->store), base = store_base_height(n->store);
    int64_t mn = int_param(params, "minHeight", 0), mx = int_param(params, "maxHeight", 0);
    if (mn < 0 || mx < 0) {
        fail_call(call, "heights must be non-negative");
        return;
    }
    if (mn == 0) mn = 1;
    if (mx == 0 || (uint64_t)mx > latest) mx = (int64_t)latest;
    if ((uint64_t)mn < base) mn = (int64_t)base;
    if (mx - BLOCKCHAIN_MAX + 1 > mn) mn = mx - BLOCKCHAIN_MAX + 1;
    if (latest == 0) mn = 1, mx = 0;
    if (mn > mx && latest > 0) {
        fail_call(call, "min height %" PRId64 " can't be greater than max height %" PRId64, mn, mx);
        return;
    }
    job *j = job_new(r, call, blockchain_work);
    if (!j) return;
    j->lo = mn < 1 ? 1 : (uint64_t)mn; /* mn > mx: no heights */
    j->hi = mx < 0 ? 0 : (uint64_t)mx;
    j->latest = latest;
    job_start(j);
}

/* The app hash after block h: in header h+1, or the current one for the tip
 * (the call's snapshot: j->latest is st.last_height, node_int.h invariant 2). */
static cairn_err app_hash_after(job *j, uint64_t h, uint8_t out[static HASH_BYTES])
{
    if (h >= j->latest) {
        memcpy(out, j->app_hash, HASH_BYTES);
        return CAIRN_OK;
    }
    block_t b;
    CAIRN_TRY(store_block_get(j->store, h + 1, &b));
    memcpy(out, b.header.app_hash, HASH_BYTES);
    block_free(&b);
    return CAIRN_OK;
}

static json_t *tx_results_json(const store_results_t *res)
{
    if (res->n_tx == 0) return json_null();
    json_t *arr = json_array();
    txres_view *v = malloc(sizeof *v);
    if (!v) {
        json_decref(arr);
        return NULL;
    }
    for (uint32_t i = 0; arr && i < res->n_tx; i++) {
        json_t *t = txres_decode(v, res->tx[i].p, res->tx[i].len) == CAIRN_OK
                        ? json_chain_tx_result(&v->r)
                        : NULL;
        if (!t || json_array_append_new(arr, t) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    free(v);
    return arr;
}

static void block_results_work(job *j)
{
    uint64_t h = j->h;
    store_results_t res;
    cairn_err rc = store_results_get(j->store, h, &res);
    if (job_store_failed(j, rc, "results of block", h)) return;
    uint8_t ah[HASH_BYTES];
    rc = app_hash_after(j, h, ah);
    if (job_store_failed(j, rc, "block", h + 1)) {
        store_results_free(&res);
        return;
    }
    json_t *txs = tx_results_json(&res);
    store_results_free(&res);
    j->result = txs ? json_pack("{s:o,s:o,s:[],s:[],s:n,s:o}", "height", json_chain_u64(h),
                                "txs_results", txs, "finalize_block_events",
                                "validator_updates", "consensus_param_updates", "app_hash",
                                b64(ah, HASH_BYTES))
                    : NULL;
}

static void block_results_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    at_height_cb(self(ctx), call, params, block_results_work);
}

static void commit_work(job *j)
{
    uint64_t h = j->h;
    block_t b, next;
    cairn_err rc = store_block_get(j->store, h, &b);
    if (job_store_failed(j, rc, "block", h)) return;
    if (h < j->latest) {
        /* the canonical commit: the one block h+1 carries */
        rc = store_block_get(j->store, h + 1, &next);
        if (!job_store_failed(j, rc, "block", h + 1)) {
            j->result = json_chain_signed_header(&b.header, &next.last_commit, true);
            block_free(&next);
        }
    } else {
        commit_t c;
        rc = store_commit_get(j->store, h, &c);
        if (!job_store_failed(j, rc, "commit", h)) {
            j->result = json_chain_signed_header(&b.header, &c, false);
            commit_free(&c);
        }
    }
    block_free(&b);
}

static void commit_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    at_height_cb(self(ctx), call, params, commit_work);
}

/* Replays the proposer priorities (up to VALSET_REPLAY_MAX rounds) off the loop. */
static void validators_work(job *j)
{
    if (j->increments) valset_increment_priority(j->vs, j->increments);
    uint64_t skip, count;
    if (job_page(j, j->vs->count, &skip, &count))
        j->result = json_chain_validators(j->vs, j->h, (uint32_t)skip, (uint32_t)count);
}

static void validators_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    node_rpc *r = self(ctx);
    struct node *n = r->n;
    uint64_t h;
    if (int_param(params, "height", 0) == (int64_t)store_height(n->store) + 1)
        h = store_height(n->store) + 1;
    else if (!height_arg(r, call, params, "height", &h))
        return;
    job *j = job_new(r, call, validators_work);
    if (!j) return;
    cairn_err rc = valset_at(n, h, &j->vs, &j->increments);
    if (rc) {
        fail_call(call, "validator set at height %" PRIu64 ": %s", h, cairn_strerror(rc));
        job_free(j);
        return;
    }
    j->h = h;
    j->page = page_param(params);
    j->per_page = per_page_param(params);
    job_start(j);
}

static void consensus_params_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    node_rpc *r = self(ctx);
    uint64_t h;
    if (!height_arg(r, call, params, "height", &h)) return;
    const genesis_params_t *p = &r->n->genesis.params;
    const char *shape = "{s:o,s:{s:{s:o,s:o},s:{s:o,s:o,s:o},s:{s:[s]},s:{s:o},s:{s:o}}}";
    rpc_call_reply(call, json_pack(shape,
                                   "block_height", json_chain_u64(h), "consensus_params",
                                   "block", "max_bytes", json_chain_i64(p->block_max_bytes),
                                   "max_gas", json_chain_i64(p->block_max_gas), "evidence",
                                   "max_age_num_blocks",
                                   json_chain_i64(p->evidence_max_age_num_blocks),
                                   "max_age_duration",
                                   json_chain_i64(p->evidence_max_age_duration_ns),
                                   "max_bytes", json_chain_i64(p->evidence_max_bytes), "validator",
                                   "pub_key_types", "ed25519", "version", "app",
                                   json_chain_u64(p->app_version), "abci",
                                   "vote_extensions_enable_height",
                                   json_chain_i64(p->vote_extensions_enable_height)));
}

/* ------------------------------------------------------------ transactions */

static json_t *tx_json_at(store_t *st, const uint8_t hash[static HASH_BYTES], uint64_t *h_out,
                          cairn_err *rc_out)
{
    buf_t tx, res;
    buf_init(&tx, 0);
    buf_init(&res, 0);
    uint64_t h = 0;
    uint32_t index = 0;
    json_t *out = NULL;
    txres_view *v = malloc(sizeof *v);
    cairn_err rc = v ? store_tx_get(st, hash, &h, &index, &tx, &res) : CAIRN_ENOMEM;
    if (rc == CAIRN_OK) rc = txres_decode(v, res.data, res.len);
    if (rc == CAIRN_OK) out = json_chain_tx(hash, h, index, &v->r, tx.data, tx.len);
    if (h_out) *h_out = rc == CAIRN_OK ? h : 0;
    if (rc_out) *rc_out = rc;
    free(v);
    buf_deinit(&tx);
    buf_deinit(&res);
    return out;
}

/* Adds /tx's "proof": the audit path of the tx hash in block h's data_hash
 * tree (leaves are the 32-byte tx hashes, as block_data_hash). */
static cairn_err tx_proof_add(store_t *st, json_t *t, uint64_t h)
{
    uint32_t index = (uint32_t)json_integer_value(json_object_get(t, "index"));
    block_t b;
    CAIRN_TRY(store_block_get(st, h, &b));
    cairn_err rc = CAIRN_ENOMEM;
    uint8_t(*leaves)[HASH_BYTES] = calloc(b.n_txs ? b.n_txs : 1, HASH_BYTES);
    merkle_proof *p = malloc(sizeof *p);
    if (!leaves || !p) goto out;
    rc = CAIRN_ECORRUPT;
    if (index >= b.n_txs) goto out;
    for (uint32_t i = 0; i < b.n_txs; i++) {
        uint8_t th[HASH_BYTES];
        tx_hash(th, b.txs[i].p, b.txs[i].len);
        merkle_leaf_hash(leaves[i], th, HASH_BYTES);
    }
    rc = merkle_proof_build(p, (const uint8_t(*)[HASH_BYTES])leaves, b.n_txs, index);
    if (rc) goto out;
    json_t *pj = json_chain_tx_proof(b.header.data_hash, b.txs[index].p, b.txs[index].len,
                                     leaves[index], p);
    rc = pj && json_object_set_new(t, "proof", pj) == 0 ? CAIRN_OK : CAIRN_ENOMEM;
out:
    free(leaves);
    free(p);
    block_free(&b);
    return rc;
}

static void tx_work(job *j)
{
    uint64_t h;
    cairn_err rc = CAIRN_OK;
    json_t *t = tx_json_at(j->store, j->hash, &h, &rc);
    if (!t) {
        char hex[2 * HASH_BYTES + 1];
        hex_encode_upper(hex, j->hash, HASH_BYTES);
        if (rc == CAIRN_ECORRUPT) { /* which height: a scrub finds out */
            char what[2 * HASH_BYTES + 8];
            snprintf(what, sizeof what, "tx (%s)", hex);
            return (void)job_store_failed(j, rc, what, 0);
        }
        job_fail(j, "tx (%s) not found", hex);
        return;
    }
    if (j->prove) {
        rc = tx_proof_add(j->store, t, h);
        if (rc == CAIRN_ECORRUPT) {
            json_decref(t);
            job_store_failed(j, rc, "block", h);
            return;
        }
        if (rc) {
            json_decref(t);
            job_fail(j, "cannot build the proof of tx at height %" PRIu64 ": %s", h,
                     cairn_strerror(rc));
            return;
        }
    }
    j->result = t;
}

static void tx_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    node_rpc *r = self(ctx);
    uint8_t hash[HASH_BYTES];
    if (!hash_arg(call, params, hash)) return;
    job *j = job_new(r, call, tx_work);
    if (!j) return;
    memcpy(j->hash, hash, HASH_BYTES);
    j->prove = json_is_true(json_object_get(params, "prove"));
    job_start(j);
}

/* ------------------------------------------------------------ tx_search queries */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

static bool key_char(char c)
{
    return c == '.' || c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* A decimal int64 filling all of s (optional sign); false on overflow. */
static bool parse_i64(const char *s, const char **end_out, int64_t *out)
{
    const char *p = s;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+') p++;
    if (*p < '0' || *p > '9') return false;
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - 9) / 10) return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX) return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    if (end_out) *end_out = p;
    return true;
}

static bool parse_cond(node_rpc_search_cond *c, const char **pp, const char *s, char *err,
                       size_t errlen)
{
    const char *p = *pp;
    size_t k = 0;
    while (key_char(*p) && k + 1 < sizeof c->key) c->key[k++] = *p++;
    c->key[k] = 0;
    if (k == 0 || key_char(*p)) {
        snprintf(err, errlen, "expected a key of 1..%zu characters at offset %zu",
                 sizeof c->key - 1, (size_t)(p - s));
        return false;
    }
    p = skip_ws(p);
    if (p[0] == '<' && p[1] == '=') c->op = SEARCH_LE, p += 2;
    else if (p[0] == '>' && p[1] == '=') c->op = SEARCH_GE, p += 2;
    else if (p[0] == '<') c->op = SEARCH_LT, p++;
    else if (p[0] == '>') c->op = SEARCH_GT, p++;
    else if (p[0] == '=') c->op = SEARCH_EQ, p++;
    else if (!strncmp(p, "CONTAINS", 8)) c->op = SEARCH_CONTAINS, p += 8;
    else {
        snprintf(err, errlen, "expected an operator (=, <, <=, >, >=, CONTAINS) at offset %zu",
                 (size_t)(p - s));
        return false;
    }
    p = skip_ws(p);
    if (*p == '\'') {
        const char *end = strchr(p + 1, '\'');
        if (!end || (size_t)(end - p - 1) >= sizeof c->str) {
            snprintf(err, errlen, "unterminated or too long string at offset %zu",
                     (size_t)(p - s));
            return false;
        }
        memcpy(c->str, p + 1, (size_t)(end - p - 1));
        c->str[end - p - 1] = 0;
        p = end + 1;
        /* ordering compares numbers, also when quoted (tx.height>'5') */
        if (c->op != SEARCH_EQ && c->op != SEARCH_CONTAINS) {
            const char *e;
            if (!parse_i64(c->str, &e, &c->num) || *e) {
                snprintf(err, errlen, "%s: ordering needs an integer", c->key);
                return false;
            }
            c->is_num = true;
        }
    } else {
        if (c->op == SEARCH_CONTAINS || !parse_i64(p, &p, &c->num)) {
            snprintf(err, errlen, "expected a 'string'%s at offset %zu",
                     c->op == SEARCH_CONTAINS ? "" : " or an integer", (size_t)(p - s));
            return false;
        }
        c->is_num = true;
        snprintf(c->str, sizeof c->str, "%" PRId64, c->num);
    }
    *pp = p;
    return true;
}

bool node_rpc_search_parse(node_rpc_search_t *q, const char *text, char *err, size_t errlen)
{
    memset(q, 0, sizeof *q);
    if (strlen(text) > NODE_RPC_SEARCH_TEXT_MAX) {
        snprintf(err, errlen, "query longer than %d bytes", NODE_RPC_SEARCH_TEXT_MAX);
        return false;
    }
    const char *p = skip_ws(text);
    while (*p) {
        if (q->n == NODE_RPC_SEARCH_CONDS_MAX) {
            snprintf(err, errlen, "at most %d conditions", NODE_RPC_SEARCH_CONDS_MAX);
            return false;
        }
        if (!parse_cond(&q->c[q->n++], &p, text, err, errlen)) return false;
        p = skip_ws(p);
        if (!*p) break;
        if (strncmp(p, "AND", 3) != 0 || (p[3] != ' ' && p[3] != '\t')) {
            snprintf(err, errlen, "expected AND at offset %zu (OR is not supported)",
                     (size_t)(p - text));
            return false;
        }
        p = skip_ws(p + 3);
        if (!*p) {
            snprintf(err, errlen, "a condition must follow AND");
            return false;
        }
    }
    if (q->n == 0) {
        snprintf(err, errlen, "empty query");
        return false;
    }
    return true;
}

static const char *op_text(node_rpc_search_op op)
{
    static const char *const t[] = {"=", "<", "<=", ">", ">=", " CONTAINS "};
    return t[op];
}

void node_rpc_search_format(const node_rpc_search_t *q, char *out, size_t cap)
{
    size_t at = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < q->n && at < cap; i++) {
        const node_rpc_search_cond *c = &q->c[i];
        int w = c->is_num ? snprintf(out + at, cap - at, "%s%s%s%" PRId64, i ? " AND " : "",
                                     c->key, op_text(c->op), c->num)
                          : snprintf(out + at, cap - at, "%s%s%s'%s'", i ? " AND " : "",
                                     c->key, op_text(c->op), c->str);
        if (w < 0) break;
        at += (size_t)w;
    }
}

static bool value_match(const node_rpc_search_cond *c, const char *v)
{
    if (c->op == SEARCH_CONTAINS) return strstr(v, c->str) != NULL;
    if (c->op == SEARCH_EQ && !c->is_num) return strcmp(v, c->str) == 0;
    const char *end;
    int64_t x;
    if (!parse_i64(v, &end, &x) || *end) return false;
    switch (c->op) {
    case SEARCH_EQ: return x == c->num;
    case SEARCH_LT: return x < c->num;
    case SEARCH_LE: return x <= c->num;
    case SEARCH_GT: return x > c->num;
    case SEARCH_GE: return x >= c->num;
    default: return false;
    }
}

static bool attr_match(const node_rpc_search_cond *c, const app_result_t *res)
{
    const char *dot = strchr(c->key, '.');
    if (!dot) return false;
    size_t tl = (size_t)(dot - c->key);
    for (uint32_t e = 0; e < res->n_events && e < APP_EVENTS_MAX; e++) {
        const app_event_t *ev = &res->events[e];
        if (strnlen(ev->type, sizeof ev->type) != tl || strncmp(ev->type, c->key, tl) != 0)
            continue;
        for (uint32_t a = 0; a < ev->n_attrs && a < APP_EVENT_ATTRS_MAX; a++)
            if (!strcmp(ev->attrs[a].key, dot + 1) && value_match(c, ev->attrs[a].value))
                return true;
    }
    return false;
}

bool node_rpc_search_match(const node_rpc_search_t *q, const uint8_t hash[static HASH_BYTES],
                           uint64_t height, const app_result_t *res)
{
    char hex[2 * HASH_BYTES + 1], hs[24];
    hex_encode_upper(hex, hash, HASH_BYTES);
    snprintf(hs, sizeof hs, "%" PRIu64, height);
    for (uint32_t i = 0; i < q->n; i++) {
        const node_rpc_search_cond *c = &q->c[i];
        bool ok;
        if (!strcmp(c->key, "tm.event")) ok = value_match(c, "Tx");
        else if (!strcmp(c->key, "tx.hash"))
            ok = c->op == SEARCH_EQ ? strcasecmp(c->str, hex) == 0 : value_match(c, hex);
        else if (!strcmp(c->key, "tx.height")) ok = value_match(c, hs);
        else ok = attr_match(c, res);
        if (!ok) return false;
    }
    return true;
}

void node_rpc_search_heights(const node_rpc_search_t *q, const char *key, uint64_t *lo,
                             uint64_t *hi)
{
    for (uint32_t i = 0; i < q->n; i++) {
        const node_rpc_search_cond *c = &q->c[i];
        if (strcmp(c->key, key) != 0 || !c->is_num) continue;
        int64_t x = c->num;
        bool lower = c->op == SEARCH_EQ || c->op == SEARCH_GE || c->op == SEARCH_GT;
        bool upper = c->op == SEARCH_EQ || c->op == SEARCH_LE || c->op == SEARCH_LT;
        if (lower) { /* first allowed height: x, or x + 1 for > */
            if (c->op == SEARCH_GT && x == INT64_MAX) x = -1, *hi = 0, *lo = 1;
            else if (c->op == SEARCH_GT) x++;
            if (x > 0 && (uint64_t)x > *lo) *lo = (uint64_t)x;
        }
        if (upper) { /* last allowed height: x, or x - 1 for < */
            if (c->op == SEARCH_LT) x = x <= 0 ? -1 : x - 1;
            if (x < 0) *hi = 0, *lo = 1;
            else if ((uint64_t)x < *hi) *hi = (uint64_t)x;
        }
    }
}

typedef struct {
    uint64_t height;
    uint32_t index;
    uint8_t hash[HASH_BYTES];
} tx_ref;

/* The matches of one tx_search, in block order. */
typedef struct {
    tx_ref *refs; /* TX_SEARCH_MATCH_MAX */
    size_t n;
    txres_view *v; /* scratch */
} search_hits;

static void search_by_hash(store_t *st, const node_rpc_search_t *q, const char *hex,
                           search_hits *out)
{
    uint8_t hash[HASH_BYTES];
    buf_t res;
    buf_init(&res, 0);
    uint64_t h;
    uint32_t index;
    if (strlen(hex) == 2 * HASH_BYTES && hex_decode(hash, HASH_BYTES, hex) == CAIRN_OK &&
        store_tx_get(st, hash, &h, &index, NULL, &res) == CAIRN_OK &&
        result_record_decode(&out->v->res, res.data, res.len) == CAIRN_OK &&
        node_rpc_search_match(q, hash, h, &out->v->res)) {
        out->refs[0] = (tx_ref){h, index, {0}};
        memcpy(out->refs[0].hash, hash, HASH_BYTES);
        out->n = 1;
    }
    buf_deinit(&res);
}

/* Reads blocks lo..hi; false: j holds the error (or the job was abandoned). */
static bool search_scan(job *j, const node_rpc_search_t *q, uint64_t lo, uint64_t hi,
                        search_hits *out)
{
    for (uint64_t h = lo; h <= hi && out->n < TX_SEARCH_MATCH_MAX; h++) {
        if (job_abandoned(j)) return false;
        store_results_t res;
        cairn_err rc = store_results_get(j->store, h, &res);
        if (job_store_failed(j, rc, "results of block", h)) return false;
        block_t b;
        memset(&b, 0, sizeof b);
        rc = res.n_tx ? store_block_get(j->store, h, &b) : CAIRN_OK;
        if (job_store_failed(j, rc, "block", h)) {
            store_results_free(&res);
            return false;
        }
        for (uint32_t i = 0; i < res.n_tx && i < b.n_txs && out->n < TX_SEARCH_MATCH_MAX; i++) {
            uint8_t th[HASH_BYTES];
            tx_hash(th, b.txs[i].p, b.txs[i].len);
            if (result_record_decode(&out->v->res, res.tx[i].p, res.tx[i].len) != CAIRN_OK ||
                !node_rpc_search_match(q, th, h, &out->v->res))
                continue;
            out->refs[out->n] = (tx_ref){h, i, {0}};
            memcpy(out->refs[out->n].hash, th, HASH_BYTES);
            out->n++;
        }
        if (res.n_tx) block_free(&b);
        store_results_free(&res);
    }
    return true;
}

/* {"txs":[...],"total_count"} for one page of the hits. */
static json_t *search_page(store_t *st, const search_hits *hits, uint64_t skip,
                           uint64_t count, bool desc, bool prove)
{
    json_t *txs = json_array();
    for (uint64_t k = 0; txs && k < count; k++) {
        size_t at = desc ? hits->n - 1 - (size_t)(skip + k) : (size_t)(skip + k);
        json_t *t = tx_json_at(st, hits->refs[at].hash, NULL, NULL);
        if (t && prove && tx_proof_add(st, t, hits->refs[at].height) != CAIRN_OK) {
            json_decref(t);
            t = NULL;
        }
        if (!t || json_array_append_new(txs, t) != 0) {
            json_decref(txs);
            txs = NULL;
        }
    }
    return txs ? json_pack("{s:o,s:o}", "txs", txs, "total_count", json_chain_u64(hits->n))
               : NULL;
}

/* order_by: "asc" (default) or "desc"; false: answered with an error. */
static bool order_arg(rpc_call_t *call, const json_t *params, bool *desc)
{
    const char *order = str_param(params, "order_by");
    *desc = order && !strcmp(order, "desc");
    if (order && *order && !*desc && strcmp(order, "asc") != 0) {
        fail_params(call, "order_by must be \"asc\" or \"desc\"");
        return false;
    }
    return true;
}

static bool query_arg(rpc_call_t *call, const json_t *params, node_rpc_search_t *q)
{
    char err[ERR_TEXT_MAX], data[ERR_TEXT_MAX + 32];
    if (node_rpc_search_parse(q, str_param(params, "query"), err, sizeof err)) return true;
    snprintf(data, sizeof data, "bad query: %s", err);
    fail_params(call, data);
    return false;
}

static void tx_search_work(job *j)
{
    search_hits hits = {calloc(TX_SEARCH_MATCH_MAX, sizeof(tx_ref)), 0, malloc(sizeof(txres_view))};
    if (!hits.refs || !hits.v) {
        job_fail(j, "out of memory");
        goto out;
    }
    if (j->by_hash) search_by_hash(j->store, j->q, j->by_hash, &hits);
    else if (j->hi >= j->lo && j->hi > 0 && !search_scan(j, j->q, j->lo, j->hi, &hits))
        goto out;
    uint64_t skip, count;
    if (job_page(j, hits.n, &skip, &count))
        j->result = search_page(j->store, &hits, skip, count, j->desc, j->prove);
out:
    free(hits.refs);
    free(hits.v);
}

static void tx_search_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    node_rpc *r = self(ctx);
    struct node *n = r->n;
    job *j = job_new(r, call, tx_search_work);
    if (!j) return;
    node_rpc_search_t *q = j->q = malloc(sizeof *q);
    if (!q) {
        fail_call(call, "out of memory");
        goto fail;
    }
    j->prove = json_is_true(json_object_get(params, "prove"));
    if (!order_arg(call, params, &j->desc) || !query_arg(call, params, q)) goto fail;
    for (uint32_t i = 0; i < q->n; i++)
        if (!strcmp(q->c[i].key, "tx.hash") && q->c[i].op == SEARCH_EQ) j->by_hash = q->c[i].str;
    uint64_t lo = store_base_height(n->store), hi = j->latest;
    node_rpc_search_heights(q, "tx.height", &lo, &hi);
    if (!j->by_hash && hi >= lo && hi > 0 && hi - lo + 1 > TX_SEARCH_SCAN_MAX) {
        fail_call(call,
                  "a tx_search without tx.hash reads every block it covers: narrow it "
                  "with tx.height conditions to at most %d heights (it covers %" PRIu64 ")",
                  TX_SEARCH_SCAN_MAX, hi - lo + 1);
        goto fail;
    }
    j->lo = lo;
    j->hi = hi;
    j->page = page_param(params);
    j->per_page = per_page_param(params);
    job_start(j);
    return;
fail:
    job_free(j);
}

static void block_search_work(job *j)
{
    json_t *blocks = json_array();
    for (uint64_t k = 0; blocks && k < j->count && !job_abandoned(j); k++) {
        uint64_t h = j->desc ? j->hi - j->skip - k : j->lo + j->skip + k;
        block_t b;
        uint8_t id[HASH_BYTES];
        cairn_err rc = store_block_get(j->store, h, &b);
        if (job_store_failed(j, rc, "block", h)) {
            json_decref(blocks);
            return;
        }
        json_t *one = header_hash(&b.header, id) == CAIRN_OK ? json_chain_block_result(&b, id)
                                                             : NULL;
        block_free(&b);
        if (!one || json_array_append_new(blocks, one) != 0) {
            json_decref(blocks);
            blocks = NULL;
        }
    }
    uint64_t total = j->hi >= j->lo && j->hi > 0 ? j->hi - j->lo + 1 : 0;
    j->result = blocks ? json_pack("{s:o,s:o}", "blocks", blocks, "total_count",
                                   json_chain_u64(total))
                       : NULL;
}

/* block_search: blocks by height only (cairn's blocks carry no events). */
static void block_search_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    struct node *n = self(ctx)->n;
    node_rpc_search_t *q = malloc(sizeof *q);
    bool desc;
    if (!q) {
        fail_call(call, "out of memory");
        return;
    }
    if (!order_arg(call, params, &desc) || !query_arg(call, params, q)) goto out;
    for (uint32_t i = 0; i < q->n; i++) {
        node_rpc_search_cond *c = &q->c[i];
        bool height = !strcmp(c->key, "block.height") && c->op != SEARCH_CONTAINS;
        if (height && !c->is_num) { /* block.height='5' */
            const char *end;
            height = parse_i64(c->str, &end, &c->num) && !*end;
            c->is_num = height;
        }
        if (!height && !(!strcmp(c->key, "tm.event") && c->op == SEARCH_EQ &&
                         !strcmp(c->str, "NewBlock"))) {
            fail_params(call, "block_search supports block.height conditions (and "
                              "tm.event='NewBlock'): cairn's blocks carry no events");
            goto out;
        }
    }
    uint64_t lo = store_base_height(n->store), hi = store_height(n->store);
    node_rpc_search_heights(q, "block.height", &lo, &hi);
    uint64_t total = hi >= lo && hi > 0 ? hi - lo + 1 : 0, skip, count;
    if (!page_args(call, params, total, &skip, &count)) goto out;
    job *j = job_new(self(ctx), call, block_search_work);
    if (!j) goto out;
    j->lo = lo;
    j->hi = hi;
    j->skip = skip;
    j->count = count;
    j->desc = desc;
    job_start(j);
out:
    free(q);
}

static json_t *check_json(const app_result_t *res)
{
    txres_view *v = malloc(sizeof *v);
    if (!v) return NULL;
    txres_from(v, res);
    json_t *j = json_chain_tx_result(&v->r);
    free(v);
    return j;
}

/* broadcast_tx_*: the tx's signature is checked on the thread pool
 * (node_verify_submit), then the tx is admitted on the loop like a peer's. The
 * call stays deferred through both steps; broadcast_tx_commit then waits in
 * r->waiters for the block that holds the tx. */
enum { BCAST_ASYNC, BCAST_SYNC, BCAST_COMMIT };

static void waiter_free(waiter *w)
{
    json_decref(w->check_tx);
    free(w->raw);
    free(w);
}

static void waiter_unlink(waiter *w)
{
    for (waiter **pp = &w->r->waiters; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    waiter_free(w);
}

/* Timeout or server shutdown. A waiter whose signature check is still running
 * is freed by verified_cb, which always runs. */
static void waiter_cancel(void *ctx, rpc_call_t *call)
{
    (void)call;
    waiter *w = ctx;
    if (w->listed) waiter_unlink(w);
    else w->call = NULL;
}

static json_t *empty_tx_result(void)
{
    rpc_tx_result e;
    memset(&e, 0, sizeof e);
    return json_chain_tx_result(&e);
}

/* Admits w's tx and answers (or, for an admitted broadcast_tx_commit, lists w
 * to wait for its block). */
static void admit_finish(waiter *w)
{
    node_rpc *r = w->r;
    rpc_call_t *call = w->call;
    app_result_t res;
    cairn_err rc = node_tx_admit(r->n, w->raw, w->len, &res);
    free(w->raw);
    w->raw = NULL;
    if (rc != CAIRN_OK && rc != CAIRN_EBAD_TX && rc != CAIRN_EBAD_SIGNATURE) {
        if (rc == CAIRN_EDUPLICATE || rc == CAIRN_EEXISTS)
            fail_call(call, "tx already exists in cache");
        else
            fail_call(call, "tx not admitted to the mempool: %s", cairn_strerror(rc));
        waiter_free(w);
        return;
    }
    json_t *check = check_json(&res), *hash = json_chain_hex(w->hash, HASH_BYTES), *out = NULL;
    if (!check || !hash) {
        json_decref(check);
        json_decref(hash);
        rpc_call_reply(call, NULL);
        waiter_free(w);
        return;
    }
    if (w->kind == BCAST_COMMIT && rc == CAIRN_OK) {
        json_decref(hash);
        w->check_tx = check;
        w->listed = true;
        w->next = r->waiters;
        r->waiters = w;
        return;
    }
    if (w->kind == BCAST_ASYNC) /* CometBFT's async form does not report the check */
        out = json_pack("{s:i,s:s,s:s,s:s,s:o}", "code", 0, "data", "", "log", "", "codespace",
                        "", "hash", hash);
    else if (w->kind == BCAST_SYNC)
        out = json_pack("{s:O,s:s,s:O,s:s,s:o}", "code", json_object_get(check, "code"), "data",
                        "", "log", json_object_get(check, "log"), "codespace", "", "hash", hash);
    else /* refused by the check: answered at once, as CometBFT does */
        out = json_pack("{s:O,s:o,s:o,s:s}", "check_tx", check, "tx_result", empty_tx_result(),
                        "hash", hash, "height", "0");
    json_decref(check);
    rpc_call_reply(call, out);
    waiter_free(w);
}

static void verified_cb(void *ctx, bool ok)
{
    (void)ok; /* node_tx_admit decides; a verified signature is in the cache by now */
    waiter *w = ctx;
    if (!w->call) {
        waiter_free(w); /* the call ended (timeout, shutdown): r may be gone */
        return;
    }
    admit_finish(w);
}

static void broadcast_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    node_rpc *r = self(ctx);
    struct node *n = r->n;
    const char *m = rpc_call_method(call);
    int kind = !strcmp(m, "broadcast_tx_commit") ? BCAST_COMMIT
               : !strcmp(m, "broadcast_tx_sync") ? BCAST_SYNC
                                                  : BCAST_ASYNC;
    const char *s = str_param(params, "tx");
    size_t max = n->cfg.mempool.max_tx_bytes;
    waiter *w = calloc(1, sizeof *w);
    if (w) w->raw = malloc(max + 1);
    if (!w || !w->raw) {
        if (w) waiter_free(w);
        fail_call(call, "out of memory");
        return;
    }
    if (!s || base64_decode(w->raw, max, &w->len, s, strlen(s)) != CAIRN_OK) {
        char data[96];
        snprintf(data, sizeof data, "tx must be base64 of at most %zu bytes", max);
        fail_params(call, data);
        waiter_free(w);
        return;
    }
    w->r = r;
    w->call = call;
    w->kind = kind;
    tx_hash(w->hash, w->raw, w->len);
    cairn_err rc = mempool_precheck(n->mempool, w->hash, w->len);
    if (rc != CAIRN_OK) {
        admit_finish(w); /* refused at once */
        return;
    }
    if (rpc_call_defer(call, n->cfg.rpc.broadcast_tx_commit_timeout_ms,
                       kind == BCAST_COMMIT ? "timed out waiting for tx to be included in a block"
                                            : "timed out checking the tx",
                       waiter_cancel, w) != CAIRN_OK) {
        waiter_free(w); /* the call was answered with an error */
        return;
    }
    /* In submission order, even when the signature is already known, so that a
     * client's consecutive nonces are admitted in the order it sent them. */
    if (!node_verify_submit(n, w->raw, w->len, verified_cb, w)) {
        fail_call(call, "node busy: too many transactions waiting for their signature check; "
                        "retry later");
        waiter_free(w);
    }
}

static void check_tx_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    node_rpc *r = self(ctx);
    struct node *n = r->n;
    const char *s = str_param(params, "tx");
    size_t max = n->cfg.mempool.max_tx_bytes, len = 0;
    uint8_t *raw = malloc(max + 1);
    if (!raw) {
        fail_call(call, "out of memory");
        return;
    }
    if (!s || base64_decode(raw, max, &len, s, strlen(s)) != CAIRN_OK) {
        free(raw);
        fail_params(call, "tx must be base64 of at most max_tx_bytes bytes");
        return;
    }
    app_result_t res;
    memset(&res, 0, sizeof res);
    tx_t tx;
    cairn_err rc = CAIRN_OK;
    if (tx_decode(&tx, raw, len) != CAIRN_OK) {
        res.code = APP_CODE_BAD_ENCODING;
    } else if ((rc = tx_verify(&tx, &n->chain_id)) != CAIRN_OK) {
        n->sigs_verified++;
        res.code = rc == CAIRN_EBAD_CHAIN_ID ? APP_CODE_BAD_CHAIN_ID : APP_CODE_BAD_SIGNATURE;
        rc = CAIRN_OK;
    } else {
        n->sigs_verified++;
        rc = app_check_tx(n->app, raw, len, APP_TX_SIG_VERIFIED | APP_TX_DRY_RUN, &res);
    }
    free(raw);
    if (rc) {
        fail_call(call, "check failed: %s", cairn_strerror(rc));
        return;
    }
    if (res.code != APP_CODE_OK && !res.log[0])
        snprintf(res.log, sizeof res.log, "%s", app_code_str(res.code));
    rpc_call_reply(call, check_json(&res));
}

static void visit_tx(void *ctx, const uint8_t *raw, size_t len, const uint8_t hash[HASH_BYTES])
{
    (void)hash;
    json_t *arr = ctx;
    json_array_append_new(arr, b64(raw, len));
}

static void unconfirmed_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    node_rpc *r = self(ctx);
    mempool_t *mp = r->n->mempool;
    bool list = !strcmp(rpc_call_method(call), "unconfirmed_txs");
    int64_t limit = int_param(params, "limit", PER_PAGE_DEFAULT);
    if (limit < 1) limit = PER_PAGE_DEFAULT;
    if (limit > UNCONFIRMED_MAX) limit = UNCONFIRMED_MAX;
    json_t *txs = list ? json_array() : json_null();
    if (list && txs) (void)mempool_visit_from(mp, 0, (size_t)limit, visit_tx, txs);
    size_t shown = list && txs ? json_array_size(txs) : mempool_count(mp);
    rpc_call_reply(call, txs ? json_pack("{s:o,s:o,s:o,s:o}", "n_txs", json_chain_u64(shown),
                                         "total", json_chain_u64(mempool_count(mp)),
                                         "total_bytes", json_chain_u64(mempool_bytes(mp)), "txs",
                                         txs)
                             : NULL);
}

/* ------------------------------------------------------------ abci_query */

static void abci_query_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    node_rpc *r = self(ctx);
    const char *path = str_param(params, "path");
    const char *hex = str_param(params, "data");
    int64_t height = int_param(params, "height", 0);
    bool prove = json_is_true(json_object_get(params, "prove"));
    uint8_t key[ABCI_QUERY_DATA_MAX];
    size_t key_len = 0;
    if (!path || !*path) path = "/account";
    if (hex && hex_decode_var(key, sizeof key, &key_len, hex, strlen(hex)) != CAIRN_OK) {
        char data[96];
        snprintf(data, sizeof data, "data must be hex (the query key), at most %d bytes",
                 (int)ABCI_QUERY_DATA_MAX);
        fail_params(call, data);
        return;
    }
    if (height < 0) {
        fail_call(call, "height must be greater than or equal to 0, but got %" PRId64, height);
        return;
    }
    app_query_result_t q;
    cairn_err rc = app_query(r->n->app, path, key, key_len, (uint64_t)height, prove, &q);
    if (rc) {
        fail_call(call, "query failed: %s", cairn_strerror(rc));
        return;
    }
    json_t *resp = json_pack("{s:i,s:s,s:s,s:s,s:o,s:s}", "code", (json_int_t)q.code, "log", q.log,
                             "info", "", "index", "0", "height",
                             json_chain_u64(q.code == APP_CODE_OK ? q.height : 0), "codespace",
                             q.code == APP_CODE_OK ? "" : "cairn");
    if (resp && q.key) json_object_set_new(resp, "key", b64(q.key, q.key_len));
    if (resp && q.value) json_object_set_new(resp, "value", b64(q.value, q.value_len));
    if (resp && q.proof) {
        json_t *ops = json_pack("{s:[{s:s,s:o,s:o}]}", "ops", "type", PROOF_OP_TYPE, "key",
                                b64(q.key, q.key_len), "data", b64(q.proof, q.proof_len));
        if (!ops || json_object_set_new(resp, "proofOps", ops) != 0) {
            json_decref(resp);
            resp = NULL;
        }
    }
    app_query_result_free(&q);
    rpc_call_reply(call, resp ? json_pack("{s:o}", "response", resp) : NULL);
}

/* ------------------------------------------------------------ events */

/* Whether any WebSocket client subscribed: the server's own gauge says so.
 * Without subscribers, rendering events (a whole block as JSON) is skipped. */
/* Subscribers of this server (not a gauge another listener sharing the metrics
 * registry may overwrite). */
static bool have_subscribers(node_rpc *r) { return rpc_has_subscribers(r->rpc); }

static json_t *results_json(const bytes_view *results, uint32_t n_results, txres_view *v)
{
    json_t *txr = json_array();
    for (uint32_t i = 0; txr && i < n_results; i++) {
        json_t *t = txres_decode(v, results[i].p, results[i].len) == CAIRN_OK
                        ? json_chain_tx_result(&v->r)
                        : NULL;
        if (!t || json_array_append_new(txr, t) != 0) {
            json_decref(txr);
            txr = NULL;
        }
    }
    return txr;
}

static void publish_block_events(node_rpc *r, const block_t *b, const uint8_t id[static HASH_BYTES],
                                 json_t *txr, const char *hs)
{
    json_t *blk = json_pack("{s:o,s:o,s:{s:[],s:O,s:[],s:n,s:o}}", "block", json_chain_block(b),
                            "block_id", json_chain_block_id(id), "result_finalize_block",
                            "events", "tx_results", txr, "validator_updates",
                            "consensus_param_updates", "app_hash",
                            b64(r->n->st.app_hash, HASH_BYTES));
    rpc_attr battr[] = {{"block.height", hs}};
    if (blk) METRIC(rpc_publish(r->rpc, "NewBlock", blk, battr, 1, NULL));
    json_decref(blk);
    json_t *hdr = json_pack("{s:o}", "header", json_chain_header(&b->header));
    if (hdr) METRIC(rpc_publish(r->rpc, "NewBlockHeader", hdr, battr, 1, NULL));
    json_decref(hdr);
}

/* Answers the broadcast_tx_commit calls waiting for tx hash th. */
static void waiters_complete(node_rpc *r, const uint8_t th[static HASH_BYTES], const char *hex,
                             const char *hs, const json_t *res)
{
    for (waiter *w = r->waiters, *next; w; w = next) {
        next = w->next;
        if (memcmp(w->hash, th, HASH_BYTES) != 0) continue;
        rpc_call_t *call = w->call;
        json_t *out = json_pack("{s:O,s:O,s:s,s:s}", "check_tx", w->check_tx, "tx_result", res,
                                "hash", hex, "height", hs);
        waiter_unlink(w);
        rpc_call_reply(call, out);
    }
}

static void publish_tx_event(node_rpc *r, const block_t *b, uint32_t i, const txres_view *v,
                             const char *hex, const char *hs, const json_t *res)
{
    rpc_attr attrs[2 + APP_EVENTS_MAX * APP_EVENT_ATTRS_MAX];
    char keys[APP_EVENTS_MAX * APP_EVENT_ATTRS_MAX][2 * APP_ATTR_KEY_MAX + 2];
    size_t na = 0;
    attrs[na++] = (rpc_attr){"tx.hash", hex};
    attrs[na++] = (rpc_attr){"tx.height", hs};
    for (uint32_t e = 0; e < v->res.n_events && e < APP_EVENTS_MAX; e++)
        for (uint32_t a = 0; a < v->res.events[e].n_attrs && a < APP_EVENT_ATTRS_MAX; a++) {
            snprintf(keys[na - 2], sizeof keys[0], "%s.%s", v->res.events[e].type,
                     v->res.events[e].attrs[a].key);
            attrs[na] = (rpc_attr){keys[na - 2], v->res.events[e].attrs[a].value};
            na++;
        }
    json_t *ev = json_pack("{s:{s:o,s:i,s:o,s:O}}", "TxResult", "height",
                           json_chain_u64(b->header.height), "index", (json_int_t)i, "tx",
                           b64(b->txs[i].p, b->txs[i].len), "result", res);
    if (ev) METRIC(rpc_publish(r->rpc, "Tx", ev, attrs, na, NULL));
    json_decref(ev);
}

/* Events for subscribers and answers for waiting broadcast_tx_commit calls. */
static void publish_block(node_rpc *r, const block_t *b, const uint8_t id[static HASH_BYTES],
                          const bytes_view *results, uint32_t n_results)
{
    bool subs = have_subscribers(r);
    if (!subs && !r->waiters) return;
    char hs[24];
    snprintf(hs, sizeof hs, "%" PRIu64, b->header.height);
    txres_view *v = malloc(sizeof *v);
    json_t *txr = v ? results_json(results, n_results, v) : NULL;
    if (!txr) {
        log_warn("rpc: cannot render the results of block %s (out of memory)", hs);
        free(v);
        return;
    }
    if (subs) publish_block_events(r, b, id, txr, hs);
    for (uint32_t i = 0; i < n_results && i < b->n_txs && (subs || r->waiters); i++) {
        uint8_t th[HASH_BYTES];
        char hex[2 * HASH_BYTES + 1];
        tx_hash(th, b->txs[i].p, b->txs[i].len);
        hex_encode_upper(hex, th, HASH_BYTES);
        const json_t *res = json_array_get(txr, i);
        waiters_complete(r, th, hex, hs, res);
        if (subs && txres_decode(v, results[i].p, results[i].len) == CAIRN_OK)
            publish_tx_event(r, b, i, v, hex, hs, res);
    }
    json_decref(txr);
    free(v);
}

/* ------------------------------------------------------------ repair */

/* cairn's own method (not CometBFT's): heights waiting for repair from peers,
 * what repair did so far, and the last repairs (docs/rpc.md). */
static void repair_status_cb(void *ctx, rpc_call_t *call, const json_t *params)
{
    (void)params;
    struct node *n = self(ctx)->n;
    const node_repair *rp = &n->repair;
    uint64_t now = node_now_ms(n);
    json_t *pending = json_array(), *counts = json_object(), *recent = json_array();
    for (uint32_t i = 0; pending && i < NODE_REPAIR_QUEUE_MAX; i++) {
        const repair_item *it = &rp->q[i];
        if (!it->height) continue;
        json_t *e = json_pack("{s:o,s:s,s:I,s:I,s:s?}", "height", json_chain_u64(it->height),
                              "found_by", it->source, "waiting_ms", (json_int_t)(now - it->queued_ms),
                              "attempts", (json_int_t)it->attempts, "asking",
                              it->peer ? p2p_peer_id(it->peer) : NULL);
        if (!e || json_array_append_new(pending, e) != 0) {
            json_decref(pending);
            pending = NULL;
        }
    }
    for (int o = 0; counts && o < REPAIR_OUT__COUNT; o++)
        if (json_object_set_new(counts, node_repair_outcome_name((repair_outcome)o),
                                json_chain_u64(rp->count[o])) != 0) {
            json_decref(counts);
            counts = NULL;
        }
    for (uint32_t k = 0; recent && k < rp->n_recent; k++) {
        const repair_done *d =
            &rp->recent[(rp->recent_head + NODE_REPAIR_RECENT_MAX - 1 - k) % NODE_REPAIR_RECENT_MAX];
        json_t *e = json_pack("{s:o,s:o,s:s,s:o}", "height", json_chain_u64(d->height),
                              "block_hash", json_chain_hex(d->block_id, HASH_BYTES), "peer",
                              d->peer, "time", json_chain_time(d->time_ns));
        if (!e || json_array_append_new(recent, e) != 0) {
            json_decref(recent);
            recent = NULL;
        }
    }
    if (!pending || !counts || !recent) {
        json_decref(pending);
        json_decref(counts);
        json_decref(recent);
        fail_call(call, "out of memory");
        return;
    }
    rpc_call_reply(call, json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "pending_count",
                                   json_chain_u64(rp->n), "pending", pending, "outcomes", counts,
                                   "recent", recent, "scrub",
                                   json_pack("{s:o,s:o,s:o}", "scrubs_done",
                                             json_chain_u64(n->scrubs_done), "damaged_records",
                                             json_chain_u64(n->scrub_damaged),
                                             "not_repairable_records",
                                             json_chain_u64(rp->state_damaged)),
                                   "state_repair",
                                   json_string("latest-value entries rebuilt from the state "
                                               "tree; tree records reported only")));
}

/* ------------------------------------------------------------ metrics */

static cairn_err metrics_setup(node_rpc *r)
{
    metrics_t *m = rpc_metrics(r->rpc);
    static const char *const ch[] = {"channel"};
    CAIRN_TRY(metrics_register(m, METRIC_GAUGE, "cairn_consensus_height",
                               "Height consensus is working on.", NULL, 0, &r->m_height));
    CAIRN_TRY(metrics_register(m, METRIC_GAUGE, "cairn_consensus_round",
                               "Round of the height in progress.", NULL, 0, &r->m_round));
    CAIRN_TRY(metrics_register(m, METRIC_SUMMARY, "cairn_consensus_block_interval_seconds",
                               "Time between the header times of consecutive blocks.", NULL, 0,
                               &r->m_interval));
    CAIRN_TRY(metrics_register(m, METRIC_COUNTER, "cairn_txs_committed_total",
                               "Transactions in blocks this node committed.", NULL, 0, &r->m_txs));
    CAIRN_TRY(metrics_register(m, METRIC_GAUGE, "cairn_mempool_size",
                               "Transactions waiting in the mempool.", NULL, 0, &r->m_mp_size));
    CAIRN_TRY(metrics_register(m, METRIC_GAUGE, "cairn_mempool_bytes",
                               "Bytes of transactions waiting in the mempool.", NULL, 0,
                               &r->m_mp_bytes));
    CAIRN_TRY(metrics_register(m, METRIC_GAUGE, "cairn_p2p_peers", "Connected peers.", NULL, 0,
                               &r->m_peers));
    CAIRN_TRY(metrics_register(m, METRIC_COUNTER, "cairn_p2p_bytes_sent_total",
                               "Payload bytes sent to peers, by channel.", ch, 1, &r->m_sent));
    CAIRN_TRY(metrics_register(m, METRIC_COUNTER, "cairn_p2p_bytes_recv_total",
                               "Payload bytes received from peers, by channel.", ch, 1,
                               &r->m_recv));
    CAIRN_TRY(metrics_register(m, METRIC_COUNTER, "cairn_signature_verifications_total",
                               "Transaction signatures verified (mempool and blocks).", NULL, 0,
                               &r->m_sigs));
    CAIRN_TRY(metrics_register(m, METRIC_COUNTER, "cairn_sync_blocks_total",
                               "Blocks this node committed, consensus and block sync together.",
                               NULL, 0, &r->m_sync_blocks));
    CAIRN_TRY(metrics_register(m, METRIC_COUNTER, "cairn_blocks_synced_total",
                               "Blocks applied from peers by block sync.", NULL, 0, &r->m_synced));
    CAIRN_TRY(metrics_register(m, METRIC_GAUGE, "cairn_sync_catching_up",
                               "1 while block sync is behind the peers, else 0.", NULL, 0,
                               &r->m_catching_up));
    CAIRN_TRY(metrics_register(m, METRIC_GAUGE, "cairn_store_damaged_records",
                               "Damaged records the last background scrub found (0: intact).",
                               NULL, 0, &r->m_scrub_damaged));
    static const char *const why[] = {"reason"}, *const kind[] = {"kind"};
    CAIRN_TRY(metrics_register(m, METRIC_COUNTER, "cairn_mempool_txs_rejected_total",
                               "Peer transactions not admitted, by reason (signature or check).",
                               why, 1, &r->m_rejected));
    CAIRN_TRY(metrics_register(m, METRIC_COUNTER, "cairn_consensus_msgs_dropped_total",
                               "Consensus messages from peers dropped (bad or unusable), by kind.",
                               kind, 1, &r->m_dropped));
    static const char *const outcome[] = {"outcome"};
    CAIRN_TRY(metrics_register(m, METRIC_COUNTER, "cairn_store_repairs_total",
                               "Repair of damaged store heights from peers, by outcome "
                               "(repaired, bad_answer, unavailable, timeout, failed, dropped).",
                               outcome, 1, &r->m_repairs));
    CAIRN_TRY(metrics_register(m, METRIC_GAUGE, "cairn_store_repair_pending",
                               "Damaged heights waiting for repair from peers.", NULL, 0,
                               &r->m_repair_pending));
    for (int o = 0; o < REPAIR_OUT__COUNT; o++) {
        const char *lv[] = {node_repair_outcome_name((repair_outcome)o)};
        CAIRN_TRY(metrics_counter_add(r->m_repairs, lv, 0));
    }
    CAIRN_TRY(metrics_register(m, METRIC_GAUGE, "cairn_verify_jobs",
                               "Signature verification jobs on the thread pool.", NULL, 0,
                               &r->m_jobs));
    CAIRN_TRY(metrics_register(m, METRIC_GAUGE, "cairn_rpc_heavy_reads",
                               "Heavy RPC reads running on the thread pool or waiting for it.",
                               NULL, 0, &r->m_heavy));
    CAIRN_TRY(metrics_register(m, METRIC_COUNTER, "cairn_rpc_heavy_reads_busy_total",
                               "Heavy RPC reads refused with \"server busy\" (a full queue).",
                               NULL, 0, &r->m_busy));
    /* counters show from the start, at 0 */
    metric_t *zero[] = {r->m_txs, r->m_sigs, r->m_sync_blocks, r->m_synced, r->m_busy};
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
        CAIRN_TRY(metrics_counter_add(zero[i], NULL, 0));
    return CAIRN_OK;
}

static void counter_to(metric_t *m, const char *const *lv, uint64_t now, uint64_t *reported)
{
    if (now > *reported) METRIC(metrics_counter_add(m, lv, (double)(now - *reported)));
    *reported = now;
}

static void metrics_update(node_rpc *r)
{
    struct node *n = r->n;
    if (!r->m_height) return; /* [metrics] enabled = false */
    if (n->cons) {
        METRIC(metrics_gauge_set(r->m_height, NULL, (double)consensus_height(n->cons)));
        METRIC(metrics_gauge_set(r->m_round, NULL, (double)consensus_round(n->cons)));
    }
    counter_to(r->m_txs, NULL, n->txs_committed, &r->rep_txs);
    counter_to(r->m_sigs, NULL, n->sigs_verified, &r->rep_sigs);
    counter_to(r->m_synced, NULL, n->blocks_synced, &r->rep_synced);
    counter_to(r->m_sync_blocks, NULL, n->st.last_height, &r->rep_blocks);
    METRIC(metrics_gauge_set(r->m_mp_size, NULL, (double)mempool_count(n->mempool)));
    METRIC(metrics_gauge_set(r->m_mp_bytes, NULL, (double)mempool_bytes(n->mempool)));
    METRIC(metrics_gauge_set(r->m_catching_up, NULL, node_catching_up(n) ? 1 : 0));
    METRIC(metrics_gauge_set(r->m_scrub_damaged, NULL, (double)n->scrub_damaged));
    METRIC(metrics_gauge_set(r->m_jobs, NULL, (double)n->verify_jobs));
    METRIC(metrics_gauge_set(r->m_repair_pending, NULL, (double)n->repair.n));
    for (int o = 0; o < REPAIR_OUT__COUNT; o++) {
        const char *lv[] = {node_repair_outcome_name((repair_outcome)o)};
        counter_to(r->m_repairs, lv, n->repair.count[o], &r->rep_repairs[o]);
    }
    METRIC(metrics_gauge_set(r->m_heavy, NULL, (double)(r->n_running + r->n_queued)));
    const char *sig[] = {"signature"}, *chk[] = {"check"}, *vote[] = {"vote"},
               *prop[] = {"proposal"};
    counter_to(r->m_rejected, sig, n->txs_rejected_sig, &r->rep_rej_sig);
    counter_to(r->m_rejected, chk, n->txs_rejected, &r->rep_rej);
    counter_to(r->m_dropped, vote, n->votes_dropped, &r->rep_votes);
    counter_to(r->m_dropped, prop, n->proposals_dropped, &r->rep_props);
    if (!n->p2p) return;
    p2p_stats s;
    p2p_stats_get(n->p2p, &s);
    METRIC(metrics_gauge_set(r->m_peers, NULL, (double)(s.peers_inbound + s.peers_outbound)));
    for (uint32_t i = 0; i < s.n_channels && i < P2P_CHANNELS_MAX; i++) {
        uint32_t k = 0;
        while (k < r->n_rep_ch && r->rep_ch[k] != s.channel[i]) k++;
        if (k == r->n_rep_ch) {
            if (k == P2P_CHANNELS_MAX) continue;
            r->rep_ch[r->n_rep_ch++] = s.channel[i];
        }
        char name[8];
        snprintf(name, sizeof name, "0x%02x", s.channel[i]);
        const char *lv[] = {name};
        counter_to(r->m_sent, lv, s.ch[i].bytes_sent, &r->rep_sent[k]);
        counter_to(r->m_recv, lv, s.ch[i].bytes_recv, &r->rep_recv[k]);
    }
}

static void on_timer(uv_timer_t *t) { metrics_update(t->data); }

/* ------------------------------------------------------------ wiring */

typedef struct {
    const char *name;
    rpc_handler_cb cb;
    rpc_param params[RPC_PARAMS_MAX];
    size_t n_params;
} method_def;

#define P_HEIGHT {"height", RPC_PARAM_INT, false}
#define P_HASH {"hash", RPC_PARAM_BYTES, true}
#define P_TX {"tx", RPC_PARAM_BYTES, true}
#define P_PAGE {"page", RPC_PARAM_INT, false}, {"per_page", RPC_PARAM_INT, false}

static const method_def METHODS[] = {
    {"status", status_cb, {{0}}, 0},
    {"net_info", net_info_cb, {{0}}, 0},
    {"genesis", genesis_cb, {{0}}, 0},
    {"abci_info", abci_info_cb, {{0}}, 0},
    {"block", block_cb, {P_HEIGHT}, 1},
    {"block_by_hash", block_by_hash_cb, {P_HASH}, 1},
    {"header", header_cb, {P_HEIGHT}, 1},
    {"header_by_hash", header_by_hash_cb, {P_HASH}, 1},
    {"blockchain", blockchain_cb,
     {{"minHeight", RPC_PARAM_INT, false}, {"maxHeight", RPC_PARAM_INT, false}}, 2},
    {"block_results", block_results_cb, {P_HEIGHT}, 1},
    {"commit", commit_cb, {P_HEIGHT}, 1},
    {"validators", validators_cb, {P_HEIGHT, P_PAGE}, 3},
    {"consensus_params", consensus_params_cb, {P_HEIGHT}, 1},
    {"tx", tx_cb, {P_HASH, {"prove", RPC_PARAM_BOOL, false}}, 2},
    {"tx_search", tx_search_cb,
     {{"query", RPC_PARAM_STRING, true}, {"prove", RPC_PARAM_BOOL, false}, P_PAGE,
      {"order_by", RPC_PARAM_STRING, false}},
     5},
    {"block_search", block_search_cb,
     {{"query", RPC_PARAM_STRING, true}, P_PAGE, {"order_by", RPC_PARAM_STRING, false}}, 4},
    {"broadcast_tx_async", broadcast_cb, {P_TX}, 1},
    {"broadcast_tx_sync", broadcast_cb, {P_TX}, 1},
    {"broadcast_tx_commit", broadcast_cb, {P_TX}, 1},
    {"check_tx", check_tx_cb, {P_TX}, 1},
    {"num_unconfirmed_txs", unconfirmed_cb, {{0}}, 0},
    {"unconfirmed_txs", unconfirmed_cb, {{"limit", RPC_PARAM_INT, false}}, 1},
    {"repair_status", repair_status_cb, {{0}}, 0},
    {"abci_query", abci_query_cb,
     {{"path", RPC_PARAM_STRING, false}, {"data", RPC_PARAM_HEX, false}, P_HEIGHT,
      {"prove", RPC_PARAM_BOOL, false}},
     4},
};

static void timer_closed(uv_handle_t *h) { free(h->data); }

cairn_err node_rpc_open(struct node *n, char *errbuf)
{
    node_rpc *r = calloc(1, sizeof *r);
    if (!r) return CAIRN_ENOMEM;
    r->n = n;
    char addr[CONFIG_HOST_MAX + 16];
    config_addr_format(addr, sizeof addr, &n->cfg.rpc.listen);
    rpc_config rc_cfg;
    rpc_config_default(&rc_cfg);
    rc_cfg.listen_addr = addr;
    rc_cfg.body_bytes_max = n->cfg.rpc.max_body_bytes;
    rc_cfg.batch_response_bytes_max = n->cfg.rpc.max_batch_response_bytes;
    rc_cfg.connections_max = n->cfg.rpc.max_connections;
    rc_cfg.subscriptions_per_client_max = n->cfg.rpc.max_subscriptions_per_client;
    rc_cfg.timeout_broadcast_tx_commit_ms = n->cfg.rpc.broadcast_tx_commit_timeout_ms;
    cairn_err rc = rpc_new(&n->loop, &rc_cfg, &r->rpc);
    if (rc) {
        free(r);
        snprintf(errbuf, NODE_ERR_MAX, "rpc: cannot listen on %s: %s", addr, cairn_strerror(rc));
        return rc;
    }
    for (size_t i = 0; rc == CAIRN_OK && i < sizeof METHODS / sizeof METHODS[0]; i++)
        rc = rpc_method_register(r->rpc, METHODS[i].name, METHODS[i].params, METHODS[i].n_params,
                                 METHODS[i].cb, r);
    if (rc == CAIRN_OK && n->cfg.metrics.enabled) rc = metrics_setup(r);
    if (rc) {
        rpc_free(r->rpc);
        free(r);
        snprintf(errbuf, NODE_ERR_MAX, "rpc: cannot register methods: %s", cairn_strerror(rc));
        return rc;
    }
    if (n->cfg.metrics.enabled && n->cfg.metrics.listen_set) {
        char maddr[CONFIG_HOST_MAX + 16];
        config_addr_format(maddr, sizeof maddr, &n->cfg.metrics.listen);
        rpc_config mc = rc_cfg;
        mc.listen_addr = maddr;
        mc.metrics = rpc_metrics(r->rpc);
        mc.metrics_only = true;
        rc = rpc_new(&n->loop, &mc, &r->metrics_rpc);
        if (rc) {
            rpc_free(r->rpc);
            free(r);
            snprintf(errbuf, NODE_ERR_MAX, "metrics: cannot listen on %s: %s", maddr,
                     cairn_strerror(rc));
            return rc;
        }
        log_info("metrics: /metrics also on %s", maddr);
    }
    r->last_block_time_ns = n->st.last_time_ns;
    r->rep_blocks = n->st.last_height; /* the counter counts blocks since start */
    uv_timer_init(&n->loop, &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, on_timer, 1000, 1000);
    n->rpc = r;
    metrics_update(r);
    log_info("rpc: listening on %s (port %d)", addr, rpc_port(r->rpc));
    return CAIRN_OK;
}

void node_rpc_close(struct node *n)
{
    node_rpc *r = n ? n->rpc : NULL;
    if (!r) return;
    n->rpc = NULL;
    uint32_t running = r->n_running, queued = r->n_queued;
    rpc_free(r->metrics_rpc); /* borrows rpc's registry: goes first */
    rpc_free(r->rpc); /* cancels waiting calls: waiter_cancel, job_cancel free them */
    r->rpc = NULL;
    jobs_detach(r);
    if (running || queued)
        log_info("rpc: closed with %u heavy reads running and %u waiting; their answers are "
                 "dropped", running, queued);
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, timer_closed);
}

void node_rpc_block_committed(struct node *n, const block_t *b, const uint8_t id[static HASH_BYTES],
                              const bytes_view *results, uint32_t n_results)
{
    node_rpc *r = n->rpc;
    if (!r) return;
    if (r->m_interval && b->header.time_ns > r->last_block_time_ns && r->last_block_time_ns > 0)
        METRIC(metrics_summary_observe(r->m_interval, NULL,
                                       (double)(b->header.time_ns - r->last_block_time_ns) / 1e9));
    r->last_block_time_ns = b->header.time_ns;
    header_info_set(&r->tip_info, &b->header, id);
    publish_block(r, b, id, results, n_results);
    metrics_update(r);
}
