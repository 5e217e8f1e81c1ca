/* http_expect: what an http response must be for the action to succeed.
 *
 * A status spec (expect=, or until= when waiting; 2xx when neither is
 * given), and on the body: a substring (contains=), a POSIX extended
 * regular expression (matches=) and JSON field checks (json=, see
 * runbooks/http_spec.h). All must hold. The body is searched as bytes: a
 * NUL in it does not end it. */
#ifndef QRH_ACTIONS_HTTP_EXPECT_H
#define QRH_ACTIONS_HTTP_EXPECT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "runbooks/http_spec.h"
#include "runbooks/model.h"
#include "runbooks/vars.h"
#include "util/buf.h"
#include "util/err.h"

#define HTTP_DEFAULT_STATUS "2xx"

struct http_expect {
	char *status;   /* a valid status spec */
	char *contains;
	char *matches;
	regex_t re;
	bool has_re;
	struct json_check *json;
	size_t n_json;
};

/* From the action's fields, expanded with lookup. -1 with a message for a
 * bad value (after expansion); release also after a failure. */
int http_expect_init(struct http_expect *x, const struct action *a,
		     var_lookup_fn *lookup, void *arg, struct err *e);
void http_expect_release(struct http_expect *x);

/* True when a response with this status and body meets every
 * expectation; otherwise `why` gets what failed, e.g. "503, not 2xx" or
 * "the body does not contain 'region=dr'". */
bool http_expect_check(const struct http_expect *x, long status,
		       const char *body, size_t len, struct buf *why);

/* Appends the expectations in words ("2xx, body contains 'x'"). */
void http_expect_describe(const struct http_expect *x, struct buf *out);

#endif
