/* One sample of a probe: values, state, value shown (state/probe_sample.h). */
#include "state/probe_sample.h"

#include <string.h>

int probe_conds_parse(const struct probe *p, struct probe_conds *out,
		      char msg[COND_MSG_MAX])
{
	const char *text[PROBE_STATE_COUNT] = { [PROBE_OK] = p->ok, [PROBE_WARN] = p->warn,
						[PROBE_FAIL] = p->fail };
	memset(out, 0, sizeof *out);
	for (int s = 0; s < PROBE_STATE_COUNT; s++) {
		size_t at;
		if (!text[s])
			continue;
		if (cond_parse(text[s], &out->c[s], &at, msg) < 0) {
			probe_conds_release(out);
			return -1;
		}
		out->has[s] = true;
	}
	return 0;
}

void probe_conds_release(struct probe_conds *pc)
{
	for (int s = 0; s < PROBE_STATE_COUNT; s++)
		cond_release(&pc->c[s]);
	memset(pc, 0, sizeof *pc);
}

static void add_number(cJSON *o, const char *key, double v)
{
	if (!cJSON_GetObjectItemCaseSensitive(o, key))
		cJSON_AddNumberToObject(o, key, v);
}

static void add_string(cJSON *o, const char *key, const char *v)
{
	if (!cJSON_GetObjectItemCaseSensitive(o, key))
		cJSON_AddStringToObject(o, key, v);
}

/* The scalar members of a JSON object line, where the action said nothing. */
static void add_line_members(cJSON *o, const char *line)
{
	cJSON *j = line[0] == '{' ? cJSON_Parse(line) : NULL;
	const cJSON *m;
	if (cJSON_IsObject(j)) {
		cJSON_ArrayForEach(m, j)
		{
			if (m->string && !cJSON_GetObjectItemCaseSensitive(o, m->string) &&
			    (cJSON_IsNumber(m) || cJSON_IsString(m) || cJSON_IsBool(m)))
				cJSON_AddItemToObject(o, m->string, cJSON_Duplicate(m, 0));
		}
	}
	cJSON_Delete(j);
}

bool probe_kind_has_line(enum action_kind kind)
{
	return kind == ACTION_SH || kind == ACTION_EXEC || kind == ACTION_SSH;
}

cJSON *probe_sample_values(enum action_kind kind, const struct action_result *res,
			   const cJSON *action_values, const char *line,
			   int64_t latency_ms)
{
	cJSON *o = cJSON_IsObject(action_values) ? cJSON_Duplicate(action_values, 1)
						 : cJSON_CreateObject();
	add_string(o, "result", action_status_name(res->status));
	add_string(o, "summary", res->summary);
	add_number(o, "latency_ms", (double)latency_ms);
	if ((action_kind_is_process(kind) || kind == ACTION_SSH) && res->exit_code >= 0)
		add_number(o, "exit", res->exit_code);
	if (line) {
		add_string(o, "line", line);
		add_line_members(o, line);
	}
	return o;
}

static bool answered(enum action_status s)
{
	return s == ACTION_OK || s == ACTION_FAILED;
}

enum probe_state probe_sample_state(const struct probe_conds *pc,
				    const cJSON *values,
				    enum action_status result)
{
	static const enum probe_state order[] = { PROBE_FAIL, PROBE_WARN, PROBE_OK };
	for (size_t i = 0; i < sizeof order / sizeof *order; i++)
		if (pc->has[order[i]] && cond_eval(&pc->c[order[i]], values))
			return order[i];
	if (!answered(result))
		return PROBE_UNKNOWN;
	if (pc->has[PROBE_OK])
		return PROBE_FAIL;
	return result == ACTION_OK ? PROBE_OK : PROBE_FAIL;
}

/* The first member of an object (an sql row's first column). */
static const cJSON *first_member(const cJSON *o)
{
	return cJSON_IsObject(o) ? o->child : NULL;
}

static const cJSON *kind_value(enum action_kind kind, const cJSON *values)
{
	const cJSON *v = NULL;
	switch (kind) {
	case ACTION_HTTP:
		v = cond_lookup(values, "status");
		break;
	case ACTION_SQL:
		v = first_member(cond_lookup(values, "first_row"));
		break;
	case ACTION_VELERO:
		v = cond_lookup(values, "phase");
		break;
	case ACTION_SH:
	case ACTION_EXEC:
	case ACTION_SSH: {
		const cJSON *line = cond_lookup(values, "line");
		v = cJSON_IsString(line) && *line->valuestring ? line : cond_lookup(values, "exit");
		break;
	}
	default:
		break;
	}
	return v && !cJSON_IsNull(v) ? v : NULL;
}

/* text into out (n bytes), cut without splitting a UTF-8 character. */
static void copy_cut(char *out, size_t n, const char *text)
{
	size_t len = strlen(text);
	if (len >= n) {
		len = n - 1;
		while (len && ((unsigned char)text[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(out, text, len);
	out[len] = '\0';
}

bool probe_sample_shown(const struct probe *p, const cJSON *values, char *out,
			size_t n)
{
	char text[1024];
	const cJSON *v = p->value ? cond_lookup(values, p->value)
				  : kind_value(p->action.kind, values);
	if (!v && !p->value)
		v = cond_lookup(values, "result");
	if (!v || !cond_value_text(v, text, sizeof text))
		return false;
	copy_cut(out, n, text);
	return true;
}
