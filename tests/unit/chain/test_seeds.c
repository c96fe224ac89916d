/* The fuzz seed corpora tests/fuzz/corpus/<type>/seed-<n>: real encodings made
 * here from fixed keys (Ed25519 is deterministic, so the bytes are too).
 *
 *   CAIRN_WRITE_SEEDS=1 build/tests/unit/chain/test_seeds   (re)writes them;
 *   without it the test checks that every committed seed is byte-identical to
 *   what the encoders produce now and that it decodes and re-encodes to
 *   itself. Run from the repository root (scripts/test.sh does). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fixture.h"

#define CORPUS "tests/fuzz/corpus"

static bool writing;
static chain_id_t cid;
static valset_t vs;

static void write_or_check(const char *type, int n, const buf_t *b)
{
    char path[256];
    snprintf(path, sizeof path, CORPUS "/%s/seed-%d", type, n);
    if (writing) {
        char dir[128];
        snprintf(dir, sizeof dir, CORPUS "/%s", type);
        mkdir(CORPUS, 0755);
        assert_true(mkdir(dir, 0755) == 0 || errno == EEXIST);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(b->data, 1, b->len, f), b->len);
        assert_int_equal(fclose(f), 0);
        return;
    }
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("missing seed %s (run from the repo root; CAIRN_WRITE_SEEDS=1 makes it)", path);
    uint8_t *got = malloc(b->len + 1);
    size_t n_read = fread(got, 1, b->len + 1, f);
    fclose(f);
    assert_int_equal(n_read, b->len);
    assert_memory_equal(got, b->data, b->len);
    free(got);
}

typedef cairn_err (*roundtrip_fn)(const uint8_t *p, size_t n, buf_t *out);

static cairn_err rt_tx(const uint8_t *p, size_t n, buf_t *out)
{
    tx_t v;
    CAIRN_TRY(tx_decode(&v, p, n));
    return tx_encode(&v, out);
}
static cairn_err rt_vote(const uint8_t *p, size_t n, buf_t *out)
{
    vote_t v;
    CAIRN_TRY(vote_decode(&v, p, n));
    return vote_encode(&v, out);
}
static cairn_err rt_proposal(const uint8_t *p, size_t n, buf_t *out)
{
    proposal_t v;
    CAIRN_TRY(proposal_decode(&v, p, n));
    return proposal_encode(&v, out);
}
static cairn_err rt_header(const uint8_t *p, size_t n, buf_t *out)
{
    header_t v;
    CAIRN_TRY(header_decode(&v, p, n));
    return header_encode(&v, out);
}
static cairn_err rt_evidence(const uint8_t *p, size_t n, buf_t *out)
{
    evidence_t v;
    CAIRN_TRY(evidence_decode(&v, p, n));
    return evidence_encode(&v, out);
}
static cairn_err rt_valset(const uint8_t *p, size_t n, buf_t *out)
{
    valset_t v;
    CAIRN_TRY(valset_decode(&v, p, n));
    return valset_encode(&v, out);
}
static cairn_err rt_commit(const uint8_t *p, size_t n, buf_t *out)
{
    commit_t v;
    CAIRN_TRY(commit_decode(&v, p, n));
    cairn_err rc = commit_encode(&v, out);
    commit_free(&v);
    return rc;
}
static cairn_err rt_block(const uint8_t *p, size_t n, buf_t *out)
{
    block_t v;
    CAIRN_TRY(block_decode(&v, p, n));
    cairn_err rc = block_encode(&v, out);
    block_free(&v);
    return rc;
}

/* Every file in the corpus directory decodes and re-encodes to itself. */
static void check_dir(const char *type, roundtrip_fn rt, int min_files)
{
    if (writing) return;
    char dir[128];
    snprintf(dir, sizeof dir, CORPUS "/%s", type);
    DIR *d = opendir(dir);
    if (!d) fail_msg("missing corpus %s (run from the repo root)", dir);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static uint8_t data[1 << 20];
        size_t n = fread(data, 1, sizeof data, f);
        fclose(f);
        buf_t out;
        buf_init(&out, 0);
        cairn_err rc = rt(data, n, &out);
        if (rc != CAIRN_OK) fail_msg("%s: %s", path, cairn_errname(rc));
        assert_int_equal(out.len, n);
        assert_memory_equal(out.data, data, n);
        buf_deinit(&out);
        files++;
    }
    closedir(d);
    assert_true(files >= min_files);
}

static int setup(void **state)
{
    if (fx_setup(state)) return -1;
    const char *w = getenv("CAIRN_WRITE_SEEDS");
    writing = w && strcmp(w, "1") == 0;
    if (chain_id_set(&cid, "cairn-devnet") != CAIRN_OK) return -1;
    const int64_t powers[] = {10, 20, 30, 40};
    fx_valset(&vs, powers, 4);
    return 0;
}

static void tx_seeds(void **s)
{
    (void)s;
    for (int i = 0; i < 3; i++) {
        keypair_t kp;
        fx_key(&kp, i);
        tx_t tx;
        memset(&tx, 0, sizeof tx);
        tx.version = CHAIN_VERSION;
        tx.type = (uint8_t)(TX_TRANSFER + i);
        memcpy(tx.sender, kp.pub, PUBKEY_BYTES);
        tx.nonce = (uint64_t)i;
        tx.fee = 5;
        memset(tx.to, 0x33, ADDR_BYTES);
        tx.amount = 250;
        tx.key = (const uint8_t *)"color";
        tx.key_len = 5;
        tx.value = (const uint8_t *)"blue";
        tx.value_len = 4;
        assert_int_equal(tx_sign(&tx, &cid, &kp), CAIRN_OK);
        buf_t b;
        buf_init(&b, 0);
        assert_int_equal(tx_encode(&tx, &b), CAIRN_OK);
        write_or_check("tx", i + 1, &b);
        buf_deinit(&b);
    }
    check_dir("tx", rt_tx, 3);
}

static void vote_seeds(void **s)
{
    (void)s;
    uint8_t bid[HASH_BYTES];
    memset(bid, 0x5b, HASH_BYTES);
    vote_t v;
    buf_t b;
    fx_vote(&v, &cid, &vs, 0, VOTE_PREVOTE, 3, 0, bid);
    buf_init(&b, 0);
    assert_int_equal(vote_encode(&v, &b), CAIRN_OK);
    write_or_check("vote", 1, &b);
    buf_deinit(&b);
    fx_vote(&v, &cid, &vs, 2, VOTE_PRECOMMIT, 3, 1, NULL);
    buf_init(&b, 0);
    assert_int_equal(vote_encode(&v, &b), CAIRN_OK);
    write_or_check("vote", 2, &b);
    buf_deinit(&b);
    check_dir("vote", rt_vote, 2);
}

static void proposal_seeds(void **s)
{
    (void)s;
    keypair_t kp;
    fx_key_of(&kp, &vs, 0);
    for (int i = 0; i < 2; i++) {
        proposal_t p;
        memset(&p, 0, sizeof p);
        p.height = 3;
        p.round = (uint32_t)(i * 2);
        p.pol_round = i ? 1 : -1;
        memset(p.block_id, 0x5b + i, HASH_BYTES);
        p.time_ns = 1700000000000000000LL + i;
        key_address(p.proposer, kp.pub);
        buf_t b;
        buf_init(&b, 0);
        assert_int_equal(proposal_sign_bytes(&p, &cid, &b), CAIRN_OK);
        key_sign(p.sig, &kp, b.data, b.len);
        buf_reset(&b);
        assert_int_equal(proposal_encode(&p, &b), CAIRN_OK);
        write_or_check("proposal", i + 1, &b);
        buf_deinit(&b);
    }
    check_dir("proposal", rt_proposal, 2);
}

static void commit_seeds(void **s)
{
    (void)s;
    commit_t empty;
    memset(&empty, 0, sizeof empty);
    buf_t b;
    buf_init(&b, 0);
    assert_int_equal(commit_encode(&empty, &b), CAIRN_OK);
    write_or_check("commit", 1, &b);
    buf_deinit(&b);
    uint8_t bid[HASH_BYTES];
    memset(bid, 0x5b, HASH_BYTES);
    const uint8_t flags[] = {COMMIT_FOR_BLOCK, COMMIT_NIL, COMMIT_ABSENT, COMMIT_FOR_BLOCK};
    commit_t c;
    fx_commit(&c, &cid, &vs, 3, 1, bid, flags);
    buf_init(&b, 0);
    assert_int_equal(commit_encode(&c, &b), CAIRN_OK);
    write_or_check("commit", 2, &b);
    buf_deinit(&b);
    commit_free(&c);
    check_dir("commit", rt_commit, 2);
}

static void make_header(header_t *h, uint64_t height)
{
    memset(h, 0, sizeof *h);
    h->version = CHAIN_VERSION;
    h->chain_id = cid;
    h->height = height;
    h->time_ns = 1700000000000000000LL + (int64_t)height * 1000000000LL;
    if (height > 1) memset(h->last_block_id, 0x5b, HASH_BYTES);
    assert_int_equal(valset_hash(&vs, h->validators_hash), CAIRN_OK);
    memcpy(h->next_validators_hash, h->validators_hash, HASH_BYTES);
    memset(h->app_hash, 0xaa, HASH_BYTES);
    memcpy(h->results_hash, HASH_EMPTY, HASH_BYTES);
    memcpy(h->proposer, vs.v[0].address, ADDR_BYTES);
}

static void header_seeds(void **s)
{
    (void)s;
    for (int i = 0; i < 2; i++) {
        header_t h;
        make_header(&h, i ? 4 : 1);
        buf_t b;
        buf_init(&b, 0);
        assert_int_equal(header_encode(&h, &b), CAIRN_OK);
        write_or_check("header", i + 1, &b);
        buf_deinit(&b);
    }
    check_dir("header", rt_header, 2);
}

static void evidence_seeds(void **s)
{
    (void)s;
    for (int i = 0; i < 2; i++) {
        evidence_t e;
        fx_evidence(&e, &cid, &vs, (uint32_t)i + 1, 3, (uint32_t)i);
        buf_t b;
        buf_init(&b, 0);
        assert_int_equal(evidence_encode(&e, &b), CAIRN_OK);
        write_or_check("evidence", i + 1, &b);
        buf_deinit(&b);
    }
    check_dir("evidence", rt_evidence, 2);
}

static void valset_seeds(void **s)
{
    (void)s;
    const int64_t one[] = {1};
    valset_t v1;
    fx_valset(&v1, one, 1);
    valset_t v4 = vs;
    valset_increment_priority(&v4, 7);
    const valset_t *sets[] = {&v1, &vs, &v4};
    for (int i = 0; i < 3; i++) {
        buf_t b;
        buf_init(&b, 0);
        assert_int_equal(valset_encode(sets[i], &b), CAIRN_OK);
        write_or_check("valset", i + 1, &b);
        buf_deinit(&b);
    }
    check_dir("valset", rt_valset, 3);
}

static void block_seeds(void **s)
{
    (void)s;
    header_t h;
    make_header(&h, 1);
    commit_t empty;
    memset(&empty, 0, sizeof empty);
    block_t blk;
    assert_int_equal(block_assemble(&blk, &h, NULL, 0, NULL, 0, &empty), CAIRN_OK);
    buf_t b;
    buf_init(&b, 0);
    assert_int_equal(block_encode(&blk, &b), CAIRN_OK);
    write_or_check("block", 1, &b);
    buf_deinit(&b);
    block_free(&blk);

    make_header(&h, 4);
    buf_t raw[2];
    bytes_view txs[2];
    for (int i = 0; i < 2; i++) {
        fx_tx(&raw[i], &cid, i, (uint64_t)i + 1);
        txs[i].p = raw[i].data;
        txs[i].len = raw[i].len;
    }
    evidence_t ev;
    fx_evidence(&ev, &cid, &vs, 1, 3, 0);
    const uint8_t flags[] = {COMMIT_FOR_BLOCK, COMMIT_FOR_BLOCK, COMMIT_NIL, COMMIT_FOR_BLOCK};
    commit_t c;
    fx_commit(&c, &cid, &vs, 3, 0, h.last_block_id, flags);
    assert_int_equal(block_assemble(&blk, &h, txs, 2, &ev, 1, &c), CAIRN_OK);
    buf_init(&b, 0);
    assert_int_equal(block_encode(&blk, &b), CAIRN_OK);
    write_or_check("block", 2, &b);
    buf_deinit(&b);
    block_free(&blk);
    commit_free(&c);
    for (int i = 0; i < 2; i++) buf_deinit(&raw[i]);
    check_dir("block", rt_block, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tx_seeds),       cmocka_unit_test(vote_seeds),
        cmocka_unit_test(proposal_seeds), cmocka_unit_test(commit_seeds),
        cmocka_unit_test(header_seeds),   cmocka_unit_test(evidence_seeds),
        cmocka_unit_test(valset_seeds),   cmocka_unit_test(block_seeds),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
