#include "actions/sql_recipe.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* ---- rows ---- */

void sql_row_push(struct sql_row *r, const char *name, const char *val)
{
	r->names = xrealloc(r->names, (r->n + 1) * sizeof *r->names);
	r->vals = xrealloc(r->vals, (r->n + 1) * sizeof *r->vals);
	r->names[r->n] = xstrdup(name);
	r->vals[r->n] = xstrdup_or_null(val);
	r->n++;
}

void sql_row_release(struct sql_row *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->names[i]);
		free(r->vals[i]);
	}
	free(r->names);
	free(r->vals);
	memset(r, 0, sizeof *r);
}

const char *sql_row_get(const struct sql_row *r, const char *name,
			bool *found)
{
	for (size_t i = 0; r && i < r->n; i++) {
		if (!strcmp(r->names[i], name)) {
			*found = true;
			return r->vals[i];
		}
	}
	*found = false;
	return NULL;
}

/* ---- the recipes ---- */

enum kind { LAG, PROMOTE, RPO };

struct recipe {
	enum kind kind;
	int stage;
	char wait_s[24];
	/* promote */
	int64_t promote_ms;
	char promote_returned[8];
	/* rpo */
	char *sql;
	char *ack_path;
	char *table;
	struct buf ids; /* "{1,2,...}" */
	size_t acked;
	char *last_id, *last_at;
};

static const char lag_sql[] =
	"select pg_is_in_recovery() as in_recovery,\n"
	"       r.pid as receiver_pid,\n"
	"       r.status as receiver_status,\n"
	"       pg_last_wal_receive_lsn() as receive_lsn,\n"
	"       pg_last_wal_replay_lsn() as replay_lsn,\n"
	"       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) as lag_bytes,\n"
	"       extract(epoch from now() - pg_last_xact_replay_timestamp()) as replay_age,\n"
	"       pg_last_xact_replay_timestamp() as replay_timestamp\n"
	"  from (select 1) as one left join pg_stat_wal_receiver as r on true";

static const char in_recovery_sql[] = "select pg_is_in_recovery() as in_recovery";
static const char promote_sql[] = "select pg_promote(true, $1::int) as promoted";

/* The marker table's newest row and the acknowledged ids it lacks. $1 is
 * the array of acknowledged ids, $2 the time of the last one (a
 * timestamp, or seconds since the epoch). */
static const char rpo_sql_fmt[] =
	"with acked(id) as (select unnest($1::bigint[])),\n"
	"     newest as (select id, at from %s order by id desc limit 1),\n"
	"     lost as (select a.id from acked as a\n"
	"              where not exists (select 1 from %s as m where m.id = a.id))\n"
	"select (select id from newest) as last_surviving_id,\n"
	"       (select at from newest) as last_surviving_at,\n"
	"       (select count(*) from lost) as rows_lost,\n"
	"       (select min(id) from lost) as first_lost_id,\n"
	"       (select max(id) from lost) as last_lost_id,\n"
	"       case when not exists (select 1 from lost) then 0\n"
	"            else greatest(0, round(1000 * extract(epoch from\n"
	"                 (case when $2 ~ '^[0-9]+([.][0-9]+)?$' then to_timestamp($2::float8)\n"
	"                       else $2::timestamptz end) - (select at from newest))))\n"
	"       end as window_ms";

static enum kind kind_of(const char *name)
{
	return !strcmp(name, "lag") ? LAG : !strcmp(name, "promote") ? PROMOTE : RPO;
}

/* "schema"."table", each part quoted (the name was checked when loaded) */
static char *quoted_table(const char *name)
{
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	buf_addc(&b, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '.')
			buf_adds(&b, "\".\"");
		else if (*p == '"')
			buf_adds(&b, "\"\"");
		else
			buf_addc(&b, *p);
	}
	buf_addc(&b, '"');
	return buf_detach(&b, NULL);
}

static char *rpo_sql(const char *table)
{
	char *q = quoted_table(table ? table : "rpo_marker");
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	buf_addf(&b, rpo_sql_fmt, q, q);
	free(q);
	return buf_detach(&b, NULL);
}

/* One `id<TAB>timestamp` line; a line without a newline at the end of the
 * file may be torn by a writer killed mid-write, and is not counted. */
static int read_ack_line(struct recipe *rc, char *line, size_t lineno,
			 struct err *e)
{
	char *tab = strchr(line, '\t');
	if (tab)
		*tab = '\0';
	char *end;
	errno = 0;
	long long id = strtoll(line, &end, 10);
	if (end == line || *end || errno || id < 0)
		return err_set(e, "%s:%zu: not an acknowledged id (id<TAB>timestamp)", rc->ack_path,
			       lineno);
	buf_addf(&rc->ids, "%s%lld", rc->acked ? "," : "", id);
	rc->acked++;
	if (!rc->last_id || id >= strtoll(rc->last_id, NULL, 10)) {
		free(rc->last_id);
		free(rc->last_at);
		rc->last_id = xstrdup(line);
		rc->last_at = tab && tab[1] ? xstrdup(tab + 1) : NULL;
	}
	return 0;
}

static int read_acks(struct recipe *rc, struct err *e)
{
	FILE *f = fopen(rc->ack_path, "re");
	if (!f)
		return err_errno(e, "cannot read ack_file '%s'", rc->ack_path);
	buf_addc(&rc->ids, '{');
	char *line = NULL;
	size_t cap = 0, lineno = 0, total = 0;
	ssize_t n;
	int rc_ = 0;
	while (rc_ == 0 && (n = getline(&line, &cap, f)) > 0) {
		lineno++;
		total += (size_t)n;
		if (total > RECIPE_ACK_MAX_BYTES || lineno > RECIPE_ACK_MAX_LINES) {
			rc_ = err_set(e, "ack_file '%s' is too large (at most %u lines, %u MiB)",
				      rc->ack_path, RECIPE_ACK_MAX_LINES, RECIPE_ACK_MAX_BYTES >> 20);
			break;
		}
		if (line[n - 1] != '\n')
			break; /* torn */
		line[--n] = '\0';
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (!n || line[0] == '#')
			continue;
		rc_ = read_ack_line(rc, line, lineno, e);
	}
	if (rc_ == 0 && ferror(f))
		rc_ = err_errno(e, "cannot read ack_file '%s'", rc->ack_path);
	free(line);
	fclose(f);
	buf_addc(&rc->ids, '}');
	return rc_;
}

struct recipe *recipe_new(const struct action *a, var_lookup_fn *lookup,
			  void *lookup_arg, struct err *e)
{
	struct recipe *rc = xcalloc(1, sizeof *rc);
	rc->kind = kind_of(a->recipe);
	int64_t wait = a->within_ms >= 1000 ? a->within_ms / 1000 : RECIPE_PROMOTE_WAIT_S;
	snprintf(rc->wait_s, sizeof rc->wait_s, "%lld", (long long)wait);
	if (rc->kind != RPO)
		return rc;
	struct buf path;
	buf_init(&path, 4096);
	if (vars_expand(a->ack_file ? a->ack_file : "", lookup, lookup_arg, &path, e) < 0) {
		buf_release(&path);
		free(rc);
		return NULL;
	}
	rc->ack_path = buf_detach(&path, NULL);
	buf_init(&rc->ids, BUF_UNLIMITED);
	rc->table = xstrdup(a->marker_table ? a->marker_table : "rpo_marker");
	rc->sql = rpo_sql(rc->table);
	if (read_acks(rc, e) < 0) {
		recipe_free(rc);
		return NULL;
	}
	return rc;
}

void recipe_describe(const struct action *a, var_lookup_fn *lookup,
		     void *lookup_arg, struct buf *out)
{
	enum kind k = kind_of(a->recipe);
	if (k == LAG) {
		buf_addf(out, "recipe=lag: replica lag in seconds and bytes\n%s", lag_sql);
	} else if (k == PROMOTE) {
		int64_t wait = a->within_ms >= 1000 ? a->within_ms / 1000 : RECIPE_PROMOTE_WAIT_S;
		buf_addf(out, "recipe=promote: promote the replica, waiting up to %lld s\n%s\n"
			      "select pg_promote(true, %lld) as promoted\n%s",
			 (long long)wait, in_recovery_sql, (long long)wait, in_recovery_sql);
	} else {
		struct buf path;
		struct err e;
		buf_init(&path, 4096);
		if (vars_expand(a->ack_file ? a->ack_file : "", lookup, lookup_arg, &path, &e) < 0)
			buf_adds(&path, a->ack_file ? a->ack_file : "");
		char *sql = rpo_sql(a->marker_table);
		buf_addf(out, "recipe=rpo: acknowledged ids of %s missing from %s\n%s", path.data,
			 a->marker_table ? a->marker_table : "rpo_marker", sql);
		free(sql);
		buf_release(&path);
	}
}

void recipe_first(struct recipe *rc, struct recipe_stmt *st)
{
	memset(st, 0, sizeof *st);
	rc->stage = 0;
	if (rc->kind == LAG) {
		st->sql = lag_sql;
	} else if (rc->kind == PROMOTE) {
		st->sql = in_recovery_sql;
	} else {
		st->sql = rc->sql;
		st->n = 2;
		st->values[0] = rc->ids.data;
		st->values[1] = rc->last_at;
	}
}

/* ---- outcomes ---- */

static bool is_true(const char *v)
{
	return v && (!strcmp(v, "t") || !strcmp(v, "true"));
}

/* Adds name = text to the row and the matching JSON value to `values`:
 * a number, a boolean, a string or null. */
enum vtype { V_NUM, V_BOOL, V_STR };

static void put(struct recipe_outcome *o, const char *name, const char *text,
		enum vtype t)
{
	if (!o->values)
		o->values = cJSON_CreateObject();
	sql_row_push(&o->row, name, t == V_BOOL && text ? (is_true(text) ? "true" : "false") : text);
	if (!text)
		cJSON_AddNullToObject(o->values, name);
	else if (t == V_NUM)
		cJSON_AddNumberToObject(o->values, name, strtod(text, NULL));
	else if (t == V_BOOL)
		cJSON_AddBoolToObject(o->values, name, is_true(text));
	else
		cJSON_AddStringToObject(o->values, name, text);
}

static const char *col(const struct sql_row *r, const char *name)
{
	bool found;
	return sql_row_get(r, name, &found);
}

static void lag_outcome(const struct sql_row *r, struct recipe_outcome *o)
{
	const char *in_rec = col(r, "in_recovery");
	const char *pid = col(r, "receiver_pid"), *status = col(r, "receiver_status");
	const char *bytes = col(r, "lag_bytes"), *age = col(r, "replay_age");
	bool streaming = pid && (!status || !strcmp(status, "streaming"));
	double b = bytes ? strtod(bytes, NULL) : 0;
	char bytes_text[32], secs[32];
	snprintf(bytes_text, sizeof bytes_text, "%.0f", b > 0 ? b : 0);
	bool caught_up = bytes && b <= 0;
	/* caught up: nothing received is left to replay, however long ago the
	 * last transaction was (an idle primary sends none) */
	if (caught_up || !age)
		snprintf(secs, sizeof secs, "0");
	else
		snprintf(secs, sizeof secs, "%.3f", strtod(age, NULL) > 0 ? strtod(age, NULL) : 0);
	const char *lag_secs = caught_up || age ? secs : NULL;
	put(o, "in_recovery", in_rec, V_BOOL);
	put(o, "streaming", streaming ? "t" : "f", V_BOOL);
	put(o, "caught_up", caught_up ? "t" : "f", V_BOOL);
	put(o, "lag_seconds", is_true(in_rec) ? lag_secs : NULL, V_NUM);
	put(o, "lag_bytes", bytes ? bytes_text : NULL, V_NUM);
	put(o, "receive_lsn", col(r, "receive_lsn"), V_STR);
	put(o, "replay_lsn", col(r, "replay_lsn"), V_STR);
	put(o, "replay_timestamp", col(r, "replay_timestamp"), V_STR);
	o->status = ACTION_FAILED;
	if (!is_true(in_rec)) {
		snprintf(o->summary, sizeof o->summary,
			 "not a replica: the node is not in recovery (a primary, or already promoted)");
	} else if (!streaming) {
		snprintf(o->summary, sizeof o->summary,
			 "replica not streaming (wal receiver %s), replayed up to %s", pid ? status : "not running",
			 col(r, "replay_lsn") ? col(r, "replay_lsn") : "?");
	} else if (caught_up) {
		o->status = ACTION_OK;
		snprintf(o->summary, sizeof o->summary, "replica caught up (0 bytes to replay, streaming)");
	} else {
		o->status = ACTION_OK;
		if (lag_secs)
			snprintf(o->summary, sizeof o->summary, "replica lag %s s, %s bytes to replay", secs,
				 bytes_text);
		else
			snprintf(o->summary, sizeof o->summary,
				 "replica lag %s bytes to replay (no transaction replayed yet: seconds unknown)",
				 bytes_text);
	}
}

static int promote_next(struct recipe *rc, const struct sql_row *r,
			int64_t took_ms, struct recipe_stmt *st,
			struct recipe_outcome *o)
{
	const char *v = r && r->n ? r->vals[0] : NULL;
	if (rc->stage == 0 && !is_true(v)) {
		put(o, "promoted", "f", V_BOOL);
		put(o, "already_primary", "t", V_BOOL);
		put(o, "in_recovery", "f", V_BOOL);
		o->status = ACTION_OK;
		snprintf(o->summary, sizeof o->summary,
			 "already a primary: the node is not in recovery, nothing was promoted");
		return 0;
	}
	if (rc->stage == 0) {
		rc->stage = 1;
		st->sql = promote_sql;
		st->n = 1;
		st->values[0] = rc->wait_s;
		return 1;
	}
	if (rc->stage == 1) {
		rc->stage = 2;
		rc->promote_ms = took_ms;
		snprintf(rc->promote_returned, sizeof rc->promote_returned, "%s", is_true(v) ? "t" : "f");
		st->sql = in_recovery_sql;
		return 1;
	}
	bool still = is_true(v);
	char ms[32];
	snprintf(ms, sizeof ms, "%lld", (long long)rc->promote_ms);
	put(o, "promoted", still ? "f" : "t", V_BOOL);
	put(o, "already_primary", "f", V_BOOL);
	put(o, "in_recovery", still ? "t" : "f", V_BOOL);
	put(o, "pg_promote_returned", rc->promote_returned, V_BOOL);
	put(o, "promote_ms", ms, V_NUM);
	put(o, "wait_seconds", rc->wait_s, V_NUM);
	bool returned = is_true(rc->promote_returned);
	if (still) {
		o->status = ACTION_FAILED;
		snprintf(o->summary, sizeof o->summary,
			 "not promoted: still in recovery after pg_promote (which returned %s%s)",
			 returned ? "true" : "false",
			 returned ? "" : ": not finished within the wait, or the signal failed");
	} else {
		o->status = ACTION_OK;
		snprintf(o->summary, sizeof o->summary, "promoted in %lld ms%s", (long long)rc->promote_ms,
			 returned ? "" : " (pg_promote returned false, but the node is out of recovery)");
	}
	return 0;
}

static void rpo_outcome(struct recipe *rc, const struct sql_row *r,
			struct recipe_outcome *o)
{
	char acked[32];
	snprintf(acked, sizeof acked, "%zu", rc->acked);
	const char *lost = col(r, "rows_lost"), *window = col(r, "window_ms");
	const char *first = col(r, "first_lost_id"), *last = col(r, "last_lost_id");
	const char *surv = col(r, "last_surviving_id");
	put(o, "rows_lost", lost, V_NUM);
	put(o, "window_ms", window, V_NUM);
	put(o, "acked", acked, V_NUM);
	put(o, "last_acked_id", rc->last_id, V_NUM);
	put(o, "last_acked_at", rc->last_at, V_STR);
	put(o, "last_surviving_id", surv, V_NUM);
	put(o, "last_surviving_at", col(r, "last_surviving_at"), V_STR);
	put(o, "first_lost_id", first, V_NUM);
	put(o, "last_lost_id", last, V_NUM);
	put(o, "marker_table", rc->table, V_STR);
	put(o, "ack_file", rc->ack_path, V_STR);
	o->status = ACTION_OK;
	long long n = lost ? strtoll(lost, NULL, 10) : 0;
	if (!rc->acked)
		snprintf(o->summary, sizeof o->summary,
			 "rpo: no acknowledged write in the ack file, nothing to lose");
	else if (!n)
		snprintf(o->summary, sizeof o->summary,
			 "rpo: 0 of %zu acknowledged rows lost (the last, %s, survived)", rc->acked,
			 rc->last_id);
	else
		snprintf(o->summary, sizeof o->summary,
			 "rpo: %lld of %zu acknowledged rows lost (ids %s to %s), window %s ms", n, rc->acked,
			 first ? first : "?", last ? last : "?",
			 window ? window : "unknown (no surviving row)");
}

int recipe_next(struct recipe *rc, const struct sql_row *first,
		int64_t took_ms, struct recipe_stmt *st,
		struct recipe_outcome *out)
{
	memset(st, 0, sizeof *st);
	memset(out, 0, sizeof *out);
	if (rc->kind == PROMOTE)
		return promote_next(rc, first, took_ms, st, out);
	struct sql_row none = { 0 };
	if (rc->kind == LAG)
		lag_outcome(first ? first : &none, out);
	else
		rpo_outcome(rc, first ? first : &none, out);
	return 0;
}

void recipe_outcome_release(struct recipe_outcome *o)
{
	sql_row_release(&o->row);
	cJSON_Delete(o->values);
	o->values = NULL;
}

bool recipe_read_only(const struct recipe *rc)
{
	return rc->kind != PROMOTE;
}

bool recipe_effect_sent(const struct recipe *rc)
{
	return rc->kind == PROMOTE && rc->stage >= 1;
}

void recipe_free(struct recipe *rc)
{
	if (!rc)
		return;
	free(rc->sql);
	free(rc->ack_path);
	free(rc->table);
	if (rc->kind == RPO)
		buf_release(&rc->ids);
	free(rc->last_id);
	free(rc->last_at);
	free(rc);
}
