/* msg.h - the messages nodes exchange on the p2p channels (docs/p2p.md).
 *
 * Every message is one p2p frame on its channel: a u8 kind then its fields in the
 * canonical encoding (codec.h). Decoders are strict (unknown kinds, oversize
 * lengths, trailing bytes rejected) and borrow byte strings from the frame.
 * Pure: no I/O.
 */
#ifndef CAIRN_NODE_MSG_H
#define CAIRN_NODE_MSG_H

#include <stdint.h>

#include "base/bytes.h"
#include "base/error.h"
#include "chain/chain.h"

enum msg_channel {
    CH_CONSENSUS = 0x20,
    CH_MEMPOOL = 0x30,
    CH_SYNC = 0x40,
    CH_REPAIR = 0x50,
};

enum msg_kind {
    /* consensus */
    MSG_PROPOSAL = 0x01,  /* proposal + the full block it proposes */
    MSG_VOTE = 0x02,
    MSG_ROUND_STATE = 0x03, /* where the sender is: height, round, step */
    /* mempool */
    MSG_TXS = 0x11,
    /* sync and repair */
    MSG_STATUS = 0x21,        /* base and latest height the sender can serve */
    MSG_BLOCK_REQUEST = 0x22, /* height */
    MSG_BLOCK_RESPONSE = 0x23, /* block + the commit that finalised it */
    MSG_NO_BLOCK = 0x24,       /* height the sender cannot serve */
    /* repair (CH_REPAIR): a node rewriting a damaged height of its store */
    MSG_REPAIR_REQUEST = 0x31,  /* height */
    MSG_REPAIR_RESPONSE = 0x32, /* block + a commit for it + its results record */
    MSG_REPAIR_NONE = 0x33,     /* height + why the sender cannot serve it */
};

/* Why a repair request is not served (MSG_REPAIR_NONE). */
enum msg_repair_reason {
    REPAIR_NONE_NOT_STORED = 1, /* outside the sender's base..height */
    REPAIR_NONE_DAMAGED = 2,    /* the sender's own copy fails its checks */
    REPAIR_NONE_BUSY = 3,       /* too many requests, or it does not fit a frame */
};

#define MSG_RESULTS_BYTES_MAX (8u * 1024 * 1024) /* a results record in a repair */

#define MSG_TXS_MAX 1000 /* transactions per gossip batch */

typedef struct {
    uint8_t kind;
    union {
        struct {
            const uint8_t *proposal;
            uint32_t proposal_len;
            const uint8_t *block;
            uint32_t block_len;
        } proposal;
        struct {
            const uint8_t *vote;
            uint32_t vote_len;
        } vote;
        struct {
            uint64_t height;
            uint32_t round;
            uint8_t step;
        } round_state;
        struct {
            uint32_t count;
            bytes_view txs[MSG_TXS_MAX];
        } txs;
        struct {
            uint64_t base;
            uint64_t height;
        } status;
        struct {
            uint64_t height;
        } request; /* also MSG_NO_BLOCK */
        struct {
            uint64_t height;
            const uint8_t *block;
            uint32_t block_len;
            const uint8_t *commit;
            uint32_t commit_len;
        } response;
        struct {
            uint64_t height;
            const uint8_t *block;
            uint32_t block_len;
            const uint8_t *commit;
            uint32_t commit_len;
            const uint8_t *results; /* the store's results record (store.h) */
            uint32_t results_len;
        } repair; /* MSG_REPAIR_RESPONSE; MSG_REPAIR_REQUEST uses request */
        struct {
            uint64_t height;
            uint8_t reason; /* enum msg_repair_reason */
        } repair_none;
    } u;
} msg_t;

/* Appends the encoding of m to out. */
cairn_err msg_encode(const msg_t *m, buf_t *out) CAIRN_MUST_CHECK;
/* Borrows from p; msg_t is large (the tx batch), keep it off small stacks. */
cairn_err msg_decode(msg_t *m, const uint8_t *p, size_t n) CAIRN_MUST_CHECK;

#endif
