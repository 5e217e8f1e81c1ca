/* sql_recipe: the built-in Postgres measurements of the sql action.
 *
 * recipe=lag      on a replica: lag in seconds and in bytes (received but
 *                 not replayed). Caught up when nothing received is left
 *                 to replay, whatever the age of the last replayed
 *                 transaction (an idle primary writes nothing). Fails on a
 *                 node that is not in recovery, or whose WAL receiver is
 *                 not streaming.
 * recipe=promote  pg_is_in_recovery(); if it is, pg_promote(true, N) and
 *                 pg_is_in_recovery() again: promoted only when the node
 *                 is out of recovery afterwards, since pg_promote's false
 *                 means a timeout but also a failed signal. A node already
 *                 out of recovery is reported as such, and not promoted.
 * recipe=rpo      the acknowledged ids of a writer's log (ack_file, one
 *                 `id<TAB>timestamp` line per acknowledged commit) against
 *                 the marker table on the promoted node: rows lost, and the
 *                 window between the newest surviving row and the last
 *                 acknowledged write.
 *
 * A recipe is a short sequence of statements on one connection; sql.c
 * runs them and hands back each one's first row. */
#ifndef QRH_ACTIONS_SQL_RECIPE_H
#define QRH_ACTIONS_SQL_RECIPE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "actions/action.h"
#include "util/buf.h"

#define RECIPE_ACK_MAX_BYTES (64u << 20)
#define RECIPE_ACK_MAX_LINES 2000000u
#define RECIPE_PROMOTE_WAIT_S 60

/* The names and text values of one row (vals[i] NULL for SQL NULL). */
struct sql_row {
	size_t n;
	char **names;
	char **vals;
};

void sql_row_push(struct sql_row *r, const char *name, const char *val);
void sql_row_release(struct sql_row *r);
/* NULL when the row has no such column; *found says which. */
const char *sql_row_get(const struct sql_row *r, const char *name,
			bool *found);

/* The statement to run next: values[i] is $(i+1), NULL for SQL NULL. */
struct recipe_stmt {
	const char *sql;
	int n;
	const char *values[2];
};

/* What a recipe concluded. */
struct recipe_outcome {
	enum action_status status;
	char summary[ACTION_SUMMARY_MAX];
	struct sql_row row; /* for expect, capture_col and the display */
	cJSON *values;      /* added to the action's values */
};

struct recipe;

/* Reads what the recipe needs before it runs (the ack file). */
struct recipe *recipe_new(const struct action *a, var_lookup_fn *lookup,
			  void *lookup_arg, struct err *e);
/* What it will run, for the operator. */
void recipe_describe(const struct action *a, var_lookup_fn *lookup,
		     void *lookup_arg, struct buf *out);
void recipe_first(struct recipe *rc, struct recipe_stmt *st);
/* After a statement succeeded, with its first row (NULL: no row) and how
 * long it took: 1 with *st filled to run another, or 0 with *out filled. */
int recipe_next(struct recipe *rc, const struct sql_row *first,
		int64_t took_ms, struct recipe_stmt *st,
		struct recipe_outcome *out);
void recipe_outcome_release(struct recipe_outcome *o);
/* A read-only recipe: a lost connection means it failed, not that
 * something unknown happened. */
bool recipe_read_only(const struct recipe *rc);
/* It has sent a statement whose effect a cancel cannot take back (the
 * promotion signal of pg_promote). */
bool recipe_effect_sent(const struct recipe *rc);
void recipe_free(struct recipe *rc);

#endif
