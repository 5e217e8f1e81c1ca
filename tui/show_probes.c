/* qrh show: the objectives (the RTO clock's start and stop, the RPO and
 * its source) and each probe with its samples and changes of state, all
 * from the report (state/report.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/report.h"
#include "tui/probe_text.h"
#include "tui/sanitize.h"
#include "tui/show.h"
#include "util/clock.h"

static void moment_print(const char *label, const struct fold_moment *m,
			 const struct mark *mark)
{
	char t[RFC3339_MS_LEN], text[QRH_MAX_ID_LEN + 32];
	clock_rfc3339_ms(m->wall_ms, t);
	mark_format(mark, text, sizeof text);
	printf("        %s %s, %s (event %lld)\n", label, t, text, (long long)m->seq);
}

static void objectives_print(const struct run_report *r)
{
	const struct fold_objectives *o = &r->obj;
	struct buf b;
	if (!o->recorded && !r->n_probes)
		return;
	buf_init(&b, BUF_UNLIMITED);
	objectives_verdict(&r->fold, o, &b);
	printf("\nobjectives: %s\n", b.data);
	buf_release(&b);
	if (o->started.seq)
		moment_print("RTO started", &o->started, &o->start);
	if (o->stopped.seq)
		moment_print("RTO stopped", &o->stopped, &o->stop);
	if (o->rpo_seq) {
		char text[QRH_MAX_ID_LEN + 32];
		mark_format(&o->rpo_from, text, sizeof text);
		printf("        RPO measured by %s (%s %lld)\n", text,
		       o->rpo_from.kind == MARK_PROBE ? "sample" : "event", (long long)o->rpo_seq);
	}
}

static void probe_print(const struct report_probe *p)
{
	const struct fold_probe *fp = p->fp;
	char every[32];
	probe_text_ms(fp->interval_ms, every, sizeof every);
	printf("  %s (%s, every %s): %lld samples, %lld skipped, worst lateness %lld ms\n",
	       fp->name, fp->kind, every, (long long)p->samples, (long long)p->skipped,
	       (long long)p->late_worst_ms);
	for (size_t k = 0; k < fp->n_changes; k++) {
		const struct fold_probe_change *ch = &fp->changes[k];
		char t[RFC3339_MS_LEN];
		clock_rfc3339_ms(ch->wall_ms, t);
		printf("        %s %-7s", t, probe_state_name(ch->state));
		if (ch->value) {
			char *clean = sanitize_string(ch->value, strlen(ch->value));
			printf(" %s", clean);
			free(clean);
		}
		printf("\n");
	}
}

void show_probes_print(const struct run_report *r)
{
	objectives_print(r);
	if (!r->n_probes)
		return;
	printf("\nprobes: %zu\n", r->n_probes);
	for (size_t i = 0; i < r->n_probes; i++)
		probe_print(&r->probes[i]);
}
