/* results.h - the stored result of one transaction (opaque to the store): what
 * clients read back through /tx, /block_results and events.
 * Encoding: app_result_encode (version u8 | code u32) | log bytes | u32 n_events |
 * per event: type bytes | u32 n_attrs | per attr: key bytes | value bytes.
 * Only the first part is consensus-critical (it is what the results hash covers).
 */
#ifndef CAIRN_NODE_RESULTS_H
#define CAIRN_NODE_RESULTS_H

#include "app/app.h"
#include "base/bytes.h"

cairn_err result_record_encode(const app_result_t *res, buf_t *out) CAIRN_MUST_CHECK;
cairn_err result_record_decode(app_result_t *res, const uint8_t *p, size_t n) CAIRN_MUST_CHECK;

#endif
