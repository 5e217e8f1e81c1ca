/* outq: what plain mode prints, written to stdout through the event loop so
 * that a slow reader (a pipe to `tee`, a stalled terminal) never blocks the
 * loop: steps, background actions and timers go on while the output waits.
 *
 * Bytes are queued in order; a writer drains the queue when stdout is
 * writable, at most PIPE_BUF bytes per readiness for pipes and terminals
 * (which then never block) and freely for regular files and /dev/null.
 * When the queue holds more than OUTQ_HIGH bytes the owner is told to slow
 * down (back-pressure on the tasks that produce output); below OUTQ_LOW it
 * is told to go on. outq_drain writes everything, blocking: for the end of
 * the run. The front end's own state (one stdout per process). */
#ifndef QRH_TUI_OUTQ_H
#define QRH_TUI_OUTQ_H

#include <stdbool.h>
#include <stddef.h>

#include "util/loop.h"

#define OUTQ_HIGH (4u << 20)
#define OUTQ_LOW (1u << 20)

typedef void outq_pressure_fn(void *arg, bool slow_down);

/* Starts queueing for fd 1 on loop l; before this, outq_add writes at once. */
void outq_attach(struct loop *l, outq_pressure_fn *fn, void *arg);
void outq_add(const void *data, size_t len);
void outq_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
size_t outq_pending(void);
/* Writes everything queued, blocking; then stops using the loop. */
void outq_drain(void);

#endif
