/* Lint for shell scripts: an unquoted $VAR is split into words and
 * globbed by the shell, which is how a value with a space in it deletes the
 * wrong directory. This is a scanner for the common cases (quotes,
 * backslashes, comments, here-documents, assignments), not a shell parser:
 * it only warns. */
#include <string.h>

#include "runbooks/vars.h"
#include "util/xalloc.h"

enum qstate { Q_NONE, Q_SINGLE, Q_DOUBLE };

#define LINT_NEST_MAX 16

struct scan {
	const char *s;
	size_t i;
	struct srcpos pos;
	enum qstate q;
	/* $( ... ) starts a new quoting context, even inside "..." */
	enum qstate outer[LINT_NEST_MAX];
	int depth;
	int word_start;    /* at the start of a shell word */
	int in_assignment; /* the word so far is NAME= */
	char heredoc[64];  /* pending here-document delimiter */
};

static int name_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

static void advance(struct scan *sc)
{
	if (sc->s[sc->i] == '\n') {
		sc->pos.line++;
		sc->pos.col = 1;
	} else {
		sc->pos.col++;
	}
	sc->i++;
}

/* Skips lines up to and including the here-document's delimiter line. */
static void skip_heredoc(struct scan *sc, unsigned base_col)
{
	size_t dl = strlen(sc->heredoc);
	while (sc->s[sc->i]) {
		const char *line = sc->s + sc->i;
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		const char *t = line;
		while (*t == '\t')
			t++;
		int done = (size_t)(line + n - t) == dl && !memcmp(t, sc->heredoc, dl);
		sc->i += n + (nl ? 1 : 0);
		sc->pos.line += nl ? 1 : 0;
		sc->pos.col = base_col;
		if (done)
			break;
	}
	sc->heredoc[0] = '\0';
}

static void note_heredoc(struct scan *sc)
{
	size_t j = sc->i + 2;
	if (sc->s[j] == '-')
		j++;
	while (sc->s[j] == ' ')
		j++;
	if (sc->s[j] == '\'' || sc->s[j] == '"')
		j++;
	size_t k = 0;
	while (name_char(sc->s[j], 0) && k < sizeof sc->heredoc - 1)
		sc->heredoc[k++] = sc->s[j++];
	sc->heredoc[k] = '\0';
}

static void check_dollar(struct scan *sc, const struct action *a,
			 struct diags *d)
{
	const char *p = sc->s + sc->i + 1;
	int braced = *p == '{';
	if (braced)
		p++;
	if (!name_char(*p, 1) || sc->in_assignment)
		return;
	size_t n = 0;
	while (name_char(p[n], 0))
		n++;
	diag_warn(d, a->lang ? sc->pos : a->pos,
		  "unquoted $%.*s in %s script: write \"$%.*s\" so a value with spaces or * stays one word",
		  (int)n, p, action_kind_name(a->kind), (int)n, p);
}

void vars_lint_shell(const struct action *a, struct diags *d)
{
	if (!a->body)
		return;
	struct scan sc = { .s = a->body, .pos = a->body_pos, .word_start = 1 };
	unsigned base_col = a->body_pos.col;
	if (!a->lang) /* JSON: no position inside the string */
		sc.pos = a->pos;
	while (sc.s[sc.i]) {
		char c = sc.s[sc.i];
		if (sc.q == Q_SINGLE) {
			if (c == '\'')
				sc.q = Q_NONE;
		} else if (sc.q == Q_DOUBLE) {
			if (c == '\\' && sc.s[sc.i + 1])
				advance(&sc);
			else if (c == '"')
				sc.q = Q_NONE;
			else if (c == '$' && sc.s[sc.i + 1] == '(' && sc.depth < LINT_NEST_MAX) {
				sc.outer[sc.depth++] = Q_DOUBLE;
				sc.q = Q_NONE;
				advance(&sc);
			}
		} else if (c == '\\' && sc.s[sc.i + 1]) {
			advance(&sc);
		} else if (c == '\'') {
			sc.q = Q_SINGLE;
		} else if (c == '"') {
			sc.q = Q_DOUBLE;
		} else if (c == '#' && sc.word_start) {
			while (sc.s[sc.i + 1] && sc.s[sc.i + 1] != '\n')
				advance(&sc);
		} else if (c == '<' && sc.s[sc.i + 1] == '<' && sc.s[sc.i + 2] != '<') {
			note_heredoc(&sc);
		} else if (c == '$' && sc.s[sc.i + 1] == '(' && sc.depth < LINT_NEST_MAX) {
			sc.outer[sc.depth++] = Q_NONE;
			advance(&sc);
		} else if (c == ')' && sc.depth > 0) {
			sc.q = sc.outer[--sc.depth];
		} else if (c == '$') {
			check_dollar(&sc, a, d);
		} else if (c == '=' && !sc.in_assignment) {
			/* NAME=$X: assignments are not split */
			size_t k = sc.i;
			while (k > 0 && name_char(sc.s[k - 1], 0))
				k--;
			sc.in_assignment = k < sc.i && name_char(sc.s[k], 1) &&
					   (k == 0 || strchr(" \t\n;&|(", sc.s[k - 1]));
		}
		int space = c == ' ' || c == '\t' || c == '\n' || c == ';' ||
			    c == '|' || c == '&';
		if (space && sc.q == Q_NONE) {
			sc.word_start = 1;
			sc.in_assignment = 0;
		} else {
			sc.word_start = 0;
		}
		if (c == '\n' && sc.q == Q_NONE && sc.heredoc[0]) {
			advance(&sc);
			skip_heredoc(&sc, base_col);
			continue;
		}
		advance(&sc);
		if (c == '\n')
			sc.pos.col = base_col;
	}
}
