/* cmd_scrub.c - `cairn scrub --home DIR`: walk a stopped node's whole store and
 * check every record against the chain (store_scrub), then verify the signatures
 * of every seen commit (the store cannot: it does not know the validators),
 * listing what is damaged. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/cli.h"
#include "node/node_int.h"
#include "store/store.h"

#define SIGS_LISTED 100

/* Seen commits whose signatures do not verify against the validator set of the
 * stored chain state, as the running node's scrub checks them (node.c). The
 * sets are fixed today, so the current set is every height's set. */
typedef struct {
    uint64_t bad;
    uint32_t n_listed;
    uint64_t heights[SIGS_LISTED];
    cairn_err why[SIGS_LISTED];
} sig_report;

static cairn_err check_commit_sigs(store_t *s, sig_report *out)
{
    memset(out, 0, sizeof *out);
    uint64_t top = store_height(s);
    if (top == 0) return CAIRN_OK;
    buf_t raw;
    buf_init(&raw, 0);
    chain_state_t st;
    cairn_err rc = store_chain_state_get(s, &raw);
    if (rc == CAIRN_OK) rc = chain_state_decode(&st, raw.data, raw.len);
    buf_deinit(&raw);
    if (rc) return rc;
    for (uint64_t h = store_base_height(s); h && h <= top; h++) {
        rc = node_seen_commit_check(s, &st.chain_id, &st.validators, h);
        if (rc == CAIRN_OK || rc == CAIRN_ECORRUPT || rc == CAIRN_ENOT_FOUND)
            continue; /* what the store sees is in its own report already */
        if (out->n_listed < SIGS_LISTED) {
            out->heights[out->n_listed] = h;
            out->why[out->n_listed++] = rc;
        }
        out->bad++;
    }
    return CAIRN_OK;
}

/* The application state of the tip (node/state_check.c): lines for what is
 * damaged, appended to `lines` (cap entries); returns how many records. */
static uint64_t check_state(store_t *s, char (*lines)[160], uint32_t cap, uint32_t *n_lines,
                            node_state_report *rep)
{
    store_meta_t meta;
    memset(rep, 0, sizeof *rep);
    *n_lines = 0;
    if (store_meta_get(s, &meta) != CAIRN_OK) return 0; /* empty store: nothing committed */
    cairn_err rc = node_state_check(s, meta.height, meta.app_hash, rep);
    uint64_t bad = 0;
    if (rc) {
        snprintf(lines[(*n_lines)++], 160, "state/%llu: cannot be checked (%s)",
                 (unsigned long long)meta.height, cairn_strerror(rc));
        return 1;
    }
    if (rep->root_bad) {
        snprintf(lines[(*n_lines)++], 160, "state/%llu: the stored root is not the app hash of "
                 "the tip", (unsigned long long)meta.height);
        bad++;
    }
    if (rep->tree_rc != CAIRN_OK) {
        char path[17];
        hex_encode_lower(path, rep->tree_path, 8);
        snprintf(lines[(*n_lines)++], 160, "state/%llu: a tree node on path %s... fails its "
                 "check (%s)", (unsigned long long)meta.height, path,
                 cairn_strerror(rep->tree_rc));
        bad++;
    }
    for (uint32_t i = 0; i < rep->n_listed && *n_lines < cap; i++) {
        char kh[65];
        hex_encode_lower(kh, rep->listed[i], 32);
        snprintf(lines[(*n_lines)++], 160, "state/L/%s: latest-value entry disagrees with the "
                 "state tree", kh);
    }
    return bad + rep->index_bad;
}

static void sig_format(const sig_report *sr, uint32_t i, char *line, size_t cap)
{
    snprintf(line, cap, "commits/%llu: the seen commit's signatures do not verify (%s)",
             (unsigned long long)sr->heights[i], cairn_strerror(sr->why[i]));
}

static const char usage_text[] =
    "usage: cairn scrub [--home DIR] [--json]\n"
    "\n"
    "Walks every height of a node's store (the node must be stopped): each block's\n"
    "hash, its place in the chain, its data and evidence hashes, the commit that\n"
    "finalised it, the transaction index and the checksums of results, state and\n"
    "metadata, and the signatures of every seen commit against the validators.\n"
    "Lists every damaged record (it does not stop at the first) and exits 1 if there\n"
    "is any, 0 if the store is intact.\n";

static bool progress(uint64_t done, uint64_t total, void *ctx)
{
    if (!*(bool *)ctx) fprintf(stderr, "\rscrub: %llu / %llu heights", (unsigned long long)done,
                               (unsigned long long)total);
    return true;
}

int cli_scrub(int argc, char **argv)
{
    const char *home_arg = NULL;
    bool json = false;
    static const struct option opts[] = {{"home", required_argument, NULL, 'H'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'H': home_arg = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
        default: return cli_bad_option("scrub", c, argv);
        }
    }
    if (optind < argc) return cli_usage_error("scrub", "unexpected argument '%s'", argv[optind]);
    char home[CLI_PATH_MAX], path[CLI_PATH_MAX + 16];
    if (!cli_home(home, home_arg)) return cli_usage_error("scrub", "home path too long");
    snprintf(path, sizeof path, "%s/data/store", home);
    log_level_set(LOG_ERROR);
    store_options so;
    store_options_default(&so);
    so.create_if_missing = false;
    store_t *s;
    cairn_err rc = store_open(path, &so, &s);
    if (rc) return cli_fail("scrub", "cannot open the store %s: %s (is the node running?)", path,
                            cairn_strerror(rc));
    store_scrub_report r;
    sig_report sr = {0};
    rc = store_scrub(s, &r, progress, &json);
    if (!json) fprintf(stderr, "\n");
    int out = CLI_EXIT_OK;
    cairn_err sig_rc = rc ? CAIRN_OK : check_commit_sigs(s, &sr);
    char sig_none[160] = "";
    if (sig_rc)
        snprintf(sig_none, sizeof sig_none, "meta/chain_state: unreadable (%s), so commit "
                 "signatures were not checked", cairn_strerror(sig_rc));
    static char state_lines[NODE_STATE_LISTED + 2][160];
    uint32_t n_state = 0;
    node_state_report *st_rep = calloc(1, sizeof *st_rep);
    uint64_t state_bad =
        rc || !st_rep ? 0 : check_state(s, state_lines, NODE_STATE_LISTED + 2, &n_state, st_rep);
    uint64_t damaged = r.damaged + sr.bad + (sig_rc ? 1 : 0) + state_bad;
    if (rc) {
        out = cli_fail("scrub", "the walk could not complete: %s", cairn_strerror(rc));
    } else if (json) {
        json_t *list = json_array();
        for (uint32_t i = 0; i < r.n_entries; i++) {
            char line[256];
            store_damage_format(&r.entries[i], line, sizeof line);
            json_array_append_new(list, json_string(line));
        }
        for (uint32_t i = 0; i < sr.n_listed; i++) {
            char line[256];
            sig_format(&sr, i, line, sizeof line);
            json_array_append_new(list, json_string(line));
        }
        if (sig_rc) json_array_append_new(list, json_string(sig_none));
        for (uint32_t i = 0; i < n_state; i++)
            json_array_append_new(list, json_string(state_lines[i]));
        out = cli_print_json(json_pack(
            "{s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "heights_checked",
            (json_int_t)r.heights_checked, "records_checked", (json_int_t)r.records_checked,
            "damaged", (json_int_t)damaged, "bad_commit_signatures", (json_int_t)sr.bad,
            "state_tree_nodes", (json_int_t)(st_rep ? st_rep->leaves + st_rep->internal : 0),
            "state_index_entries", (json_int_t)(st_rep ? st_rep->index_checked : 0), "entries",
            list));
        if (out == CLI_EXIT_OK && damaged) out = CLI_EXIT_FAIL;
    } else {
        printf("%llu heights and %llu records checked: %s\n", (unsigned long long)r.heights_checked,
               (unsigned long long)r.records_checked, damaged ? "DAMAGE FOUND" : "intact");
        for (uint32_t i = 0; i < r.n_entries; i++) {
            char line[256];
            store_damage_format(&r.entries[i], line, sizeof line);
            printf("  %s\n", line);
        }
        if (r.damaged > r.n_entries)
            printf("  ... and %llu more\n", (unsigned long long)(r.damaged - r.n_entries));
        for (uint32_t i = 0; i < sr.n_listed; i++) {
            char line[256];
            sig_format(&sr, i, line, sizeof line);
            printf("  %s\n", line);
        }
        if (sr.bad > sr.n_listed)
            printf("  ... and %llu more seen commits with bad signatures\n",
                   (unsigned long long)(sr.bad - sr.n_listed));
        if (sig_rc) printf("  %s\n", sig_none);
        for (uint32_t i = 0; i < n_state; i++) printf("  %s\n", state_lines[i]);
        bool other = false;
        for (uint32_t i = 0; i < r.n_entries; i++)
            other |= r.entries[i].cf == STORE_CF_META || r.entries[i].cf == STORE_CF_STATE ||
                     r.entries[i].cf == STORE_CF_EVIDENCE;
        other |= state_bad > 0 && st_rep && (st_rep->root_bad || st_rep->tree_rc != CAIRN_OK);
        if (damaged)
            printf("Started, the node repairs damaged blocks, commits, tx index entries and "
                   "results from its peers, and rebuilds state latest-value entries from the "
                   "state tree, by itself.\n%s",
                   other ? "Damaged meta, state or evidence records are not repaired: move "
                           "data/store away and let block sync rebuild it "
                           "(docs/operations.md).\n"
                         : "");
        if (damaged) out = CLI_EXIT_FAIL;
    }
    free(st_rep);
    store_scrub_report_free(&r);
    store_close(s);
    return out;
}
