/* head_anchor: putting a run's journal head somewhere the journal's
 * owner cannot rewrite it — a file (a ticket system's inbox, a log that
 * is shipped away) or a chat webhook. `qrh verify --head` later proves
 * the journal still extends it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/journal.h"
#include "state/notify.h"
#include "tui/cli.h"
#include "util/buf.h"
#include "util/clock.h"

static void head_line(struct buf *b, int64_t run, const struct journal_head *h, bool live)
{
	char t[RFC3339_MS_LEN];

	clock_rfc3339_ms(clock_wall_ms(), t);
	buf_addf(b, "%lld:%lld:%s %s%s", (long long)run, (long long)h->seq,
		 h->seq ? h->hash : "none", t, live ? " in-progress" : "");
}

int head_file_append(const char *path, int64_t run, const struct journal_head *h,
		     bool live, struct err *e)
{
	struct buf b;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	int rc = 0;

	if (fd < 0)
		return err_errno(e, "cannot open '%s' to append the head", path);
	buf_init(&b, 512);
	head_line(&b, run, h, live);
	buf_addc(&b, '\n');
	if (write(fd, b.data, b.len) != (ssize_t)b.len || fsync(fd) < 0)
		rc = err_errno(e, "cannot append the head to '%s'", path);
	if (close(fd) < 0 && rc == 0)
		rc = err_errno(e, "cannot append the head to '%s'", path);
	buf_release(&b);
	return rc;
}

struct wait {
	char why[256];
	bool failed;
};

static void on_failed(void *arg, const char *what, const char *step_id, int attempts,
		      const char *why)
{
	struct wait *w = arg;
	(void)what;
	(void)step_id;
	w->failed = true;
	snprintf(w->why, sizeof w->why, "%s (after %d attempt%s)", why, attempts,
		 attempts == 1 ? "" : "s");
}

int head_notify_send(const char *spec, int64_t run, const struct journal_head *h,
		     bool live, struct err *e)
{
	bool literal = false;
	char *url = var_value_read(spec, true, &literal, e);
	struct wait w = { "", false };
	struct loop *l;
	struct notifier *n;
	struct buf text;

	if (!url)
		return err_prefix(e, "--head-notify");
	if (literal)
		cli_error("qrh: warning: the webhook URL was given on the command line, where ps "
			  "and /proc show it to others: use --head-notify @env:VAR or @FILE");
	l = loop_new(e);
	n = l ? notifier_new(l, url, NULL, on_failed, &w, e) : NULL;
	explicit_bzero(url, strlen(url));
	free(url);
	if (!n) {
		loop_free(l);
		return -1;
	}
	buf_init(&text, 1024);
	buf_addf(&text, "qrh run %lld: journal head ", (long long)run);
	head_line(&text, run, h, live);
	buf_adds(&text, " (anchor it: qrh verify --head RUN:SEQ:HASH proves the journal still extends it)");
	notifier_send(n, "head", NULL, text.data);
	buf_release(&text);
	while (notifier_pending(n))
		if (loop_run_once(l, 1000) < 0 && errno != EINTR)
			break;
	notifier_free(n);
	loop_free(l);
	if (w.failed)
		return err_set(e, "the head was not posted to the webhook: %s", w.why);
	return 0;
}
