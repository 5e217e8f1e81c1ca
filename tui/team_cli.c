/* team_cli.c: see tui/team_cli.h. Front-end state: one link per process. */
#include "tui/team_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/outq.h"
#include "util/clock.h"
#include "util/xalloc.h"

#define STATUS_EVERY_MS 500

static char *config_line(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char path[4096];
	if (xdg && *xdg == '/')
		snprintf(path, sizeof path, "%s/qrh/team.conf", xdg);
	else if (home && *home)
		snprintf(path, sizeof path, "%s/.config/qrh/team.conf", home);
	else
		return NULL;
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *line = NULL, *found = NULL;
	size_t cap = 0;
	ssize_t n;
	while (!found && (n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
			line[--n] = '\0';
		char *p = line + strspn(line, " \t");
		if (*p && *p != '#')
			found = xstrdup(p);
	}
	free(line);
	fclose(f);
	return found;
}

char *team_conninfo(const char *cli)
{
	if (cli && *cli)
		return xstrdup(cli);
	const char *env = getenv("QRH_TEAM");
	if (env && *env)
		return xstrdup(env);
	return config_line();
}

static struct {
	struct loop *loop;
	struct team_link *link;
	uint64_t timer;
	char last[160];
} status;

static void on_status(struct loop *l, uint64_t id, void *arg)
{
	(void)id;
	(void)arg;
	struct team_link_view v;
	char now[160], when[RFC3339_MS_LEN];
	team_link_view(status.link, &v);
	team_link_describe(&v, now, sizeof now);
	/* "behind" changes with every event: say it when it starts only */
	bool same_kind = !strncmp(now, status.last, 10) && strstr(now, "behind") &&
			 strstr(status.last, "behind");
	if (strcmp(now, status.last) && !same_kind) {
		clock_rfc3339_ms(clock_wall_ms(), when);
		outq_printf("%s %s%s%s\n", when, now,
			    v.status == TEAM_LINK_UNREACHABLE && *v.error ? ": " : "",
			    v.status == TEAM_LINK_UNREACHABLE ? v.error : "");
		snprintf(status.last, sizeof status.last, "%s", now);
	}
	status.timer = loop_timer_add(l, STATUS_EVERY_MS, on_status, NULL);
}

void team_status_start(struct loop *l, struct team_link *t)
{
	status.loop = l;
	status.link = t;
	status.last[0] = '\0';
	status.timer = loop_timer_add(l, STATUS_EVERY_MS, on_status, NULL);
}

void team_status_stop(void)
{
	if (status.timer)
		loop_timer_cancel(status.loop, status.timer);
	status.timer = 0;
}

static void on_drain_tick(struct loop *l, uint64_t id, void *arg)
{
	(void)id;
	(void)arg;
	loop_stop(l);
}

#define DRAIN_DOWN_MS 6000

void team_drain(struct loop *l, struct team_link *t, bool quiet)
{
	const char *env = getenv("QRH_TEAM_DRAIN");
	int64_t limit = env && *env ? strtoll(env, NULL, 10) * 1000 : 10000;
	int64_t start = clock_mono_ns();
	struct team_link_view v;
	team_link_flush(t);
	while ((clock_mono_ns() - start) / 1000000 < limit) {
		team_link_view(t, &v);
		/* a database that is down gets one reconnect (backoff <= 5 s) */
		if (team_link_synced(t) || (v.status == TEAM_LINK_UNREACHABLE &&
					    (clock_mono_ns() - start) / 1000000 >= DRAIN_DOWN_MS))
			break;
		uint64_t tick = loop_timer_add(l, 50, on_drain_tick, NULL);
		loop_run(l);
		loop_timer_cancel(l, tick);
	}
	char line[160];
	team_link_view(t, &v);
	team_link_describe(&v, line, sizeof line);
	if (!quiet || !team_link_synced(t))
		fprintf(stderr, "qrh: %s%s\n", line, team_link_synced(t) ? "" :
			"; the rest waits in the local journal and goes with the next "
			"qrh run --team, qrh resume --team or qrh team sync");
}

/* ---- the central copy, mirrored ---- */

#include <dirent.h>
#include <unistd.h>

#include "state/journal_team.h"
#include "state/team_pull.h"

char *team_run_ref(const char *run, struct journal *local)
{
	struct err e;
	char uuid[UUID_TEXT_LEN + 1];
	if (run && *run && strspn(run, "0123456789") == strlen(run) && local &&
	    journal_run_uuid(local, strtoll(run, NULL, 10), uuid, &e) == 1)
		return xstrdup(uuid);
	return xstrdup(run ? run : "");
}

struct mirror_wait {
	bool done, failed;
	char msg[ERR_MSG_MAX];
};

static void mirror_caught_up(void *arg)
{
	((struct mirror_wait *)arg)->done = true;
}

static void mirror_failed(void *arg, const char *msg)
{
	struct mirror_wait *w = arg;
	w->failed = true;
	snprintf(w->msg, sizeof w->msg, "%s", msg);
}

static int mirror_make(struct loop *l, const char *conninfo, const char *ref,
		       struct team_mirror *m, struct team_pull **pull, struct err *e)
{
	static const struct team_pull_cb cb = { .caught_up = mirror_caught_up,
						.failed = mirror_failed };
	const char *tmp = getenv("TMPDIR");
	char tmpl[4096], path[4200];
	memset(m, 0, sizeof *m);
	*pull = NULL;
	snprintf(tmpl, sizeof tmpl, "%s/qrh-team.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl))
		return err_set(e, "cannot make a directory for the copy: %s", strerror(errno));
	m->dir = xstrdup(tmpl);
	snprintf(path, sizeof path, "%s/central.db", m->dir);
	m->j = journal_open(path, e);
	struct mirror_wait w = { 0 };
	struct team_pull *p = m->j ? team_pull_new(l, conninfo, ref, m->j, &cb, &w, e) : NULL;
	int64_t start = clock_mono_ns();
	while (p && !w.done && !w.failed && (clock_mono_ns() - start) / 1000000000 < 60) {
		uint64_t tick = loop_timer_add(l, 100, on_drain_tick, NULL);
		loop_run(l);
		loop_timer_cancel(l, tick);
	}
	int rc = 0;
	if (!p) {
		rc = -1;
	} else if (!w.done) {
		rc = err_set(e, "%s", w.failed ? w.msg : *team_pull_trouble(p) ?
			     team_pull_trouble(p) : "the team database did not answer within 60 s");
	} else {
		m->run_id = team_pull_run_id(p);
		snprintf(m->uuid, sizeof m->uuid, "%s", team_pull_uuid(p));
	}
	if (rc < 0) {
		team_pull_free(p);
		team_mirror_close(m);
		return -1;
	}
	*pull = p;
	return 0;
}

static void pull_nothing(void *arg)
{
	(void)arg;
}

static void pull_failed_quietly(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

int team_mirror_follow(const char *conninfo, const char *run, struct loop *l,
		       struct team_mirror *m, struct team_pull **pull, struct err *e)
{
	static const struct team_pull_cb quiet = { .caught_up = pull_nothing,
						   .failed = pull_failed_quietly };
	if (mirror_make(l, conninfo, run, m, pull, e) < 0)
		return -1;
	team_pull_bind(*pull, &quiet, NULL);
	return 0;
}

int team_mirror_open(const char *conninfo, const char *run, struct journal *local,
		     struct team_mirror *m, struct err *e)
{
	struct loop *l = loop_new(e);
	struct team_pull *p = NULL;
	char *ref = team_run_ref(run, local);
	int rc = l ? mirror_make(l, conninfo, ref, m, &p, e) : -1;
	free(ref);
	team_pull_free(p);
	loop_free(l);
	return rc;
}

void team_mirror_close(struct team_mirror *m)
{
	journal_close(m->j);
	m->j = NULL;
	if (!m->dir)
		return;
	DIR *d = opendir(m->dir);
	struct dirent *de;
	char path[4400];
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", m->dir, de->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(m->dir);
	free(m->dir);
	m->dir = NULL;
}
