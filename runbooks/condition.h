/* condition: the small expression language of a probe's states, and the
 * paths that name one of a probe's values.
 *
 *   condition := clause { ("and" | "or") clause }     and binds tighter
 *   clause    := path op literal
 *   path      := name { "." name }      name: letters, digits, '_', '-'
 *   op        := = | != | < | <= | > | >= | ~ | !~
 *
 * Blanks may surround the operator; `and` and `or` are words between
 * blanks. A literal runs to the next ` and ` / ` or ` or the end, blanks
 * at its ends dropped, or is written in double quotes (no escapes). It is
 *   - a status pattern: items of three digits or x, separated by commas
 *     (2xx, 200, 200,204, 5xx); only with = and !=: the value, as a whole
 *     number, matches one item (=) or none (!=);
 *   - a number, with an optional duration unit (300, 0.5, 30s, 250ms, 5m,
 *     1h): a value with a duration unit is a number of seconds, or of
 *     milliseconds when the path's last name ends in "_ms"
 *     (lag_seconds>30s, latency_ms>500ms, window_ms>5m);
 *   - anything else is text: = and != compare the value's text exactly,
 *     ~ and !~ ask whether it contains the literal (phase~PartiallyFailed).
 * < <= > >= need a number. A quoted literal is always text.
 *
 * A value is read from a JSON object by its path (first_row.lag reads
 * member "lag" of member "first_row"). Numbers compare as numbers, and so
 * does text that is a number ("3.5", as SQL rows give it); true and false
 * compare as the text "true" and "false". A clause whose value is absent
 * or null never holds, whatever its operator: an unknown is never taken
 * for a yes or a no.
 *
 * Pure functions; the parsed condition owns its strings. */
#ifndef QRH_RUNBOOKS_CONDITION_H
#define QRH_RUNBOOKS_CONDITION_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define COND_MAX_CLAUSES 16
#define COND_PATH_MAX 128
#define COND_MSG_MAX 160

enum cond_op { COND_EQ, COND_NE, COND_LT, COND_LE, COND_GT, COND_GE,
	       COND_HAS, COND_HASNT };

enum cond_lit { COND_LIT_TEXT, COND_LIT_NUMBER, COND_LIT_STATUS };

struct cond_clause {
	bool or_before;  /* joined to the clause before by "or" (else "and") */
	char *path;
	enum cond_op op;
	enum cond_lit lit;
	char *text;      /* the literal as written (unquoted) */
	double number;   /* COND_LIT_NUMBER: in the value's unit */
	bool duration;   /* the number had a duration unit */
};

struct cond {
	struct cond_clause *v;
	size_t n;
};

/* 0 and *out filled, or -1 with msg and *at (the byte offset in s where
 * the problem is). */
int cond_parse(const char *s, struct cond *out, size_t *at,
	       char msg[COND_MSG_MAX]);
void cond_release(struct cond *c);
bool cond_eval(const struct cond *c, const cJSON *values);

/* Is s a well-formed path? */
bool cond_path_valid(const char *s);
/* The value a path names in an object, or NULL (absent or null). */
const cJSON *cond_lookup(const cJSON *values, const char *path);
/* A scalar value as text ("200", "3.5", "true", the string itself);
 * false for objects, arrays and null. */
bool cond_value_text(const cJSON *v, char *out, size_t n);
/* Text that is a decimal number ("3.5", "-2"), read without the locale. */
bool cond_text_number(const char *s, double *out);
/* A scalar value as a number (numbers, and text that is one). */
bool cond_value_number(const cJSON *v, double *out);

#endif
