/* chain_int.h - helpers shared by the files of src/chain only.
 *
 * The X_write / X_read pairs encode and decode one object inside a larger one
 * with a codec writer/reader (sticky errors); the public X_encode / X_decode
 * functions wrap them. Readers report semantic errors with codec_reader_fail so
 * the first problem found in reading order is the one returned.
 */
#ifndef CAIRN_CHAIN_CHAIN_INT_H
#define CAIRN_CHAIN_CHAIN_INT_H

#include "chain/chain.h"

#define TAG_TX "cairn/tx/v1"
#define TAG_VOTE "cairn/vote/v1"
#define TAG_PROPOSAL "cairn/proposal/v1"

/* Fixed sizes of the encodings (docs/formats.md). */
#define VOTE_ENCODED_BYTES (1 + 1 + 8 + 4 + HASH_BYTES + 8 + ADDR_BYTES + 4 + SIG_BYTES)
#define PROPOSAL_ENCODED_BYTES (1 + 8 + 4 + 4 + HASH_BYTES + 8 + ADDR_BYTES + SIG_BYTES)
#define EVIDENCE_ENCODED_BYTES (1 + 2 * VOTE_ENCODED_BYTES)
#define VALIDATOR_ENCODED_BYTES (PUBKEY_BYTES + 8 + 8)

/* Domain prefix of all sign bytes: raw tag (the tags are prefix-free) then the
 * chain id as a length-prefixed byte string. */
void chain_put_domain(codec_writer *w, const char *tag, const chain_id_t *cid);
/* Finishes an encoder: on error rolls `out` back to `start`. */
cairn_err chain_write_done(codec_writer *w, buf_t *out, size_t start) CAIRN_MUST_CHECK;
/* Reads a chain id (u32 length, 1..CHAIN_ID_MAX printable chars). */
void chain_id_read(codec_reader *r, chain_id_t *cid);
bool chain_id_bytes_valid(const uint8_t *p, size_t n);

void vote_write(codec_writer *w, const vote_t *v);
void vote_read(codec_reader *r, vote_t *v);
cairn_err vote_check(const vote_t *v) CAIRN_MUST_CHECK;

void commit_write(codec_writer *w, const commit_t *c);
/* Allocates c->sigs on success of the reads so far; caller frees on error too. */
void commit_read(codec_reader *r, commit_t *c);
cairn_err commit_check(const commit_t *c) CAIRN_MUST_CHECK;

void evidence_write(codec_writer *w, const evidence_t *e);
void evidence_read(codec_reader *r, evidence_t *e);
cairn_err evidence_check(const evidence_t *e) CAIRN_MUST_CHECK;

void header_write(codec_writer *w, const header_t *h);
void header_read(codec_reader *r, header_t *h);
cairn_err header_check(const header_t *h) CAIRN_MUST_CHECK;

#endif
