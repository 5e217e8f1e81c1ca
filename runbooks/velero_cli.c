#include "runbooks/velero_cli.h"

#include <stdio.h>
#include <string.h>

/* Velero's boolean and optional-boolean flags: they never take the next
 * word as their value (pflag's NoOptDefVal); every other flag does. */
static const char *const bool_flags[] = {
	"wait", "allow-partially-failed", "include-cluster-resources",
	"preserve-nodeports", "restore-volumes", "write-sparse-files",
	"snapshot-volumes", "default-volumes-to-fs-backup",
	"snapshot-move-data", "show-labels", "details", "help",
	"insecure-skip-tls-verify", "confirm", "all", "colorized", "force",
};

static bool is_bool_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof bool_flags / sizeof *bool_flags; i++)
		if (strlen(bool_flags[i]) == len && !strncmp(bool_flags[i], name, len))
			return true;
	return false;
}

static bool word_is(const char *w, const char *a, const char *b)
{
	return !strcmp(w, a) || (b && !strcmp(w, b));
}

/* Records the value of a flag the executor cares about. */
static void note_flag(struct velero_words *vw, const char *name, size_t len,
		      const char *value)
{
#define IS(s) (len == strlen(s) && !strncmp(name, s, len))
	if (IS("from-backup"))
		vw->from_backup = value;
	else if (IS("from-schedule"))
		vw->from_schedule = value;
	else if (IS("output") || IS("o"))
		vw->output = value;
	else if (IS("wait") || IS("w"))
		vw->wait = !value || strcmp(value, "false") != 0;
#undef IS
}

/* The command from the first positional words: NOUN VERB or VERB NOUN. */
static enum velero_cmd command_of(const char *a, const char *b)
{
	static const struct {
		const char *noun, *nouns, *verb;
		enum velero_cmd cmd;
	} table[] = {
		{ "restore", "restores", "create", VELERO_CMD_RESTORE_CREATE },
		{ "backup", "backups", "create", VELERO_CMD_BACKUP_CREATE },
		{ "backup", "backups", "get", VELERO_CMD_BACKUP_GET },
	};
	if (!a || !b)
		return VELERO_CMD_OTHER;
	for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
		if (word_is(a, table[i].noun, table[i].nouns) && !strcmp(b, table[i].verb))
			return table[i].cmd;
		if (!strcmp(a, table[i].verb) && word_is(b, table[i].noun, table[i].nouns))
			return table[i].cmd;
	}
	return VELERO_CMD_OTHER;
}

void velero_words_read(const char *const *w, size_t n, struct velero_words *out)
{
	const char *pos[3] = { NULL, NULL, NULL };
	size_t npos = 0;
	bool flags = true;
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < n; i++) {
		const char *s = w[i];
		if (flags && !strcmp(s, "--")) {
			flags = false;
			continue;
		}
		if (!flags || s[0] != '-' || !s[1]) {
			if (npos < 3)
				pos[npos] = s;
			npos++;
			continue;
		}
		const char *name = s + (s[1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const char *value = eq ? eq + 1 : NULL;
		if (s[1] != '-' && !eq && len > 1) {
			/* -ojson: a shorthand with its value attached */
			value = name + 1;
			len = 1;
		}
		bool boolean = is_bool_flag(name, len) ||
			       (len == 1 && (name[0] == 'w' || name[0] == 'h'));
		if (!value && !boolean && i + 1 < n)
			value = w[++i];
		note_flag(out, name, len, value);
	}
	out->cmd = command_of(pos[0], pos[1]);
	out->literal = pos[0] && pos[1] && !strstr(pos[0], "${") && !strstr(pos[1], "${");
	if (out->cmd == VELERO_CMD_RESTORE_CREATE || out->cmd == VELERO_CMD_BACKUP_CREATE)
		out->name = pos[2];
}

const char *velero_cmd_object(enum velero_cmd c)
{
	switch (c) {
	case VELERO_CMD_RESTORE_CREATE:
		return "restore";
	case VELERO_CMD_BACKUP_CREATE:
		return "backup";
	default:
		return NULL;
	}
}

bool velero_output_json(const struct velero_words *vw)
{
	return vw->output && !strcmp(vw->output, "json");
}

static const char *const phase_names[VELERO_PHASE_COUNT] = {
	[VELERO_PHASE_NEW] = "New",
	[VELERO_PHASE_IN_PROGRESS] = "InProgress",
	[VELERO_PHASE_WAITING] = "WaitingForPluginOperations",
	[VELERO_PHASE_WAITING_PARTIAL] = "WaitingForPluginOperationsPartiallyFailed",
	[VELERO_PHASE_FINALIZING] = "Finalizing",
	[VELERO_PHASE_FINALIZING_PARTIAL] = "FinalizingPartiallyFailed",
	[VELERO_PHASE_COMPLETED] = "Completed",
	[VELERO_PHASE_PARTIALLY_FAILED] = "PartiallyFailed",
	[VELERO_PHASE_FAILED] = "Failed",
	[VELERO_PHASE_FAILED_VALIDATION] = "FailedValidation",
	[VELERO_PHASE_DELETING] = "Deleting",
	[VELERO_PHASE_UNKNOWN] = "Unknown",
};

const char *velero_phase_name(enum velero_phase p)
{
	return (unsigned)p < VELERO_PHASE_COUNT ? phase_names[p] : "Unknown";
}

enum velero_phase velero_phase_parse(const char *text, bool *deleting)
{
	*deleting = false;
	if (!text || !*text)
		return VELERO_PHASE_NEW;
	enum velero_phase best = VELERO_PHASE_UNKNOWN;
	size_t best_len = 0;
	for (int p = 0; p < VELERO_PHASE_UNKNOWN; p++) {
		size_t len = strlen(phase_names[p]);
		if (len > best_len && !strncmp(text, phase_names[p], len) &&
		    (text[len] == '\0' || text[len] == ' '))
			best = (enum velero_phase)p, best_len = len;
	}
	*deleting = best == VELERO_PHASE_DELETING || strstr(text, "(Deleting)") != NULL;
	return best;
}

bool velero_phase_terminal(enum velero_phase p)
{
	return p == VELERO_PHASE_COMPLETED || p == VELERO_PHASE_PARTIALLY_FAILED ||
	       p == VELERO_PHASE_FAILED || p == VELERO_PHASE_FAILED_VALIDATION;
}

bool velero_phase_partial(enum velero_phase p)
{
	return p == VELERO_PHASE_WAITING_PARTIAL ||
	       p == VELERO_PHASE_FINALIZING_PARTIAL ||
	       p == VELERO_PHASE_PARTIALLY_FAILED;
}

int velero_accept_parse(const char *s, unsigned *mask, char *bad,
			size_t bad_len)
{
	*mask = 0;
	for (const char *p = s;; p++) {
		size_t len = strcspn(p, ",");
		int found = -1;
		for (int k = 0; k < VELERO_PHASE_COUNT; k++)
			if (velero_phase_terminal((enum velero_phase)k) &&
			    strlen(phase_names[k]) == len && !strncmp(p, phase_names[k], len))
				found = k;
		if (found < 0) {
			snprintf(bad, bad_len, "%.*s", (int)len, p);
			return -1;
		}
		*mask |= 1u << found;
		p += len;
		if (!*p)
			return 0;
	}
}
