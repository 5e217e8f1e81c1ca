/* http_spec: the small languages of http action fields.
 *
 * Shared by the checks of `qrh check` (runbooks/validate.c) and the http
 * executor (actions/http*.c), so that what loads is exactly what runs.
 * Everything here is pure: no I/O, no libcurl.
 *
 * Status specs ("200", "2xx", "200,204,3xx"): items separated by commas,
 * no blanks; each a status of three digits from 100 to 599 or a class (a
 * digit from 1 to 5 and "xx").
 *
 * JSON checks (".region=dr", ".items[0].ready", ".lag<5"): a path, then
 * optionally an operator and a value.
 *   path   "." alone is the whole document; otherwise one or more of
 *          ".KEY" (KEY: any characters but . [ ] = ! < > " and blanks, or
 *          a double-quoted string without quotes in it) and "[N]" (an
 *          array index), starting with "." or "[".
 *   op     = or == (equal), != (not equal), < <= > >= (numbers only);
 *          blanks around it are allowed.
 *   value  the rest of the text, without blanks at either end; a value in
 *          double quotes is taken without its quotes.
 * Without an operator the field must exist and be neither null nor false.
 * With one, the field is compared according to its own JSON type: a
 * string as text, a number as a number (the value must be one), true and
 * false with "true" and "false", null with "null"; an object or array
 * only with != (it is never equal to a value). A missing field fails
 * every check but !=.
 *
 * Resolve entries ("svc.example.com:443:10.0.0.5"): HOST:PORT:ADDRESS as
 * CURLOPT_RESOLVE takes them, HOST without ':', PORT 1 to 65535, ADDRESS
 * an IPv4 address or an IPv6 address in brackets (several addresses
 * separated by commas).
 *
 * URLs: an action's url is absolute when it starts with SCHEME://;
 * otherwise it is relative to its target's base URL (http_url_join). */
#ifndef QRH_RUNBOOKS_HTTP_SPEC_H
#define QRH_RUNBOOKS_HTTP_SPEC_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "util/buf.h"

bool http_status_spec_valid(const char *spec);
/* spec must be valid. */
bool http_status_spec_match(const char *spec, long status);

enum json_op {
	JSON_OP_TRUTHY,
	JSON_OP_EQ,
	JSON_OP_NE,
	JSON_OP_LT,
	JSON_OP_LE,
	JSON_OP_GT,
	JSON_OP_GE,
};

#define JSON_PATH_MAX_STEPS 32

struct json_step {
	char *key; /* NULL: an array index */
	long index;
};

struct json_check {
	struct json_step steps[JSON_PATH_MAX_STEPS];
	int n_steps;
	enum json_op op;
	char *value; /* NULL for JSON_OP_TRUTHY */
	char *text;  /* the check as written, for messages */
};

/* 0, or -1 with *why set (a static string). Release with
 * json_check_release, also after a failure. */
int json_check_parse(const char *text, struct json_check *out,
		     const char **why);
void json_check_release(struct json_check *c);
/* True when root passes the check; when it does not, `why` gets one line
 * saying what was found ("'.region' is \"primary\""). */
bool json_check_eval(const struct json_check *c, const cJSON *root,
		     struct buf *why);

/* 0, or -1 with *why set. */
int http_resolve_entry_check(const char *entry, const char **why);

/* "scheme://..." (any scheme) */
bool http_url_is_absolute(const char *url);
/* An absolute URL whose scheme is http or https (any case). */
bool http_url_scheme_ok(const char *url);
/* The URL an action requests: `url` when it is absolute or there is no
 * base; the base when url is NULL; otherwise the base without a trailing
 * '/', then a '/' unless url starts with '/' or '?', then url. */
void http_url_join(const char *base, const char *url, struct buf *out);
/* url without "user:password@" (the form shown in results). */
void http_url_without_userinfo(const char *url, struct buf *out);

#endif
