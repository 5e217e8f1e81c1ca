/* The plain-mode output queue (tui/outq.h). */
#include "tui/outq.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"

static struct {
	struct loop *loop;
	struct buf q;
	size_t off; /* written so far from q */
	bool watching;
	bool unbounded; /* a regular file or /dev/null: writes do not block */
	bool slow;
	outq_pressure_fn *fn;
	void *arg;
	bool init;
} oq;

static void oq_init(void)
{
	if (oq.init)
		return;
	buf_init(&oq.q, BUF_UNLIMITED);
	oq.init = true;
}

static size_t oq_len(void)
{
	return oq.q.len - oq.off;
}

static void oq_compact(void)
{
	if (oq.off && (oq.off == oq.q.len || oq.off > (1u << 20))) {
		memmove(oq.q.data, oq.q.data + oq.off, oq.q.len - oq.off);
		oq.q.len -= oq.off;
		oq.q.data[oq.q.len] = '\0';
		oq.off = 0;
	}
}

static void oq_pressure(void)
{
	size_t n = oq_len();
	bool want = oq.slow ? n > OUTQ_LOW : n > OUTQ_HIGH;
	if (want != oq.slow && oq.fn) {
		oq.slow = want;
		oq.fn(oq.arg, want);
	}
}

/* One write of what may go without blocking; -1 when stdout is gone. */
static int oq_write_some(void)
{
	size_t n = oq_len();
	if (!oq.unbounded && n > PIPE_BUF)
		n = PIPE_BUF;
	ssize_t w = write(STDOUT_FILENO, oq.q.data + oq.off, n);
	if (w < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	oq.off += (size_t)w;
	return 0;
}

static void on_writable(struct loop *l, int fd, short revents, void *arg)
{
	(void)l;
	(void)fd;
	(void)arg;
	if ((revents & (POLLERR | POLLNVAL)) || oq_write_some() < 0)
		oq.off = oq.q.len; /* stdout is gone: nothing can be written */
	oq_compact();
	oq_pressure();
	if (!oq_len()) {
		loop_fd_remove(oq.loop, STDOUT_FILENO);
		oq.watching = false;
	}
}

static void oq_kick(void)
{
	if (!oq.loop) {
		outq_drain();
		return;
	}
	if (oq.unbounded) {
		while (oq_len() && oq_write_some() == 0)
			;
		oq.off = oq.q.len;
		oq_compact();
		return;
	}
	if (!oq.watching && oq_len() &&
	    loop_fd_add(oq.loop, STDOUT_FILENO, POLLOUT, on_writable, NULL, NULL) == 0)
		oq.watching = true;
	oq_pressure();
}

void outq_attach(struct loop *l, outq_pressure_fn *fn, void *arg)
{
	struct stat st;
	oq_init();
	oq.loop = l;
	oq.fn = fn;
	oq.arg = arg;
	oq.unbounded = fstat(STDOUT_FILENO, &st) == 0 &&
		       (S_ISREG(st.st_mode) || (S_ISCHR(st.st_mode) && !isatty(STDOUT_FILENO)));
}

void outq_add(const void *data, size_t len)
{
	oq_init();
	buf_add(&oq.q, data, len);
	oq_kick();
}

void outq_printf(const char *fmt, ...)
{
	va_list ap;
	oq_init();
	va_start(ap, fmt);
	buf_vaddf(&oq.q, fmt, ap);
	va_end(ap);
	oq_kick();
}

size_t outq_pending(void)
{
	return oq.init ? oq_len() : 0;
}

void outq_drain(void)
{
	oq_init();
	if (oq.watching && oq.loop)
		loop_fd_remove(oq.loop, STDOUT_FILENO);
	oq.watching = false;
	while (oq_len()) {
		ssize_t w = write(STDOUT_FILENO, oq.q.data + oq.off, oq_len());
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };
			poll(&p, 1, 1000);
			continue;
		}
		if (w <= 0)
			break;
		oq.off += (size_t)w;
	}
	oq.off = oq.q.len;
	oq_compact();
	oq.loop = NULL;
	if (oq.slow && oq.fn)
		oq.fn(oq.arg, false);
	oq.slow = false;
}
