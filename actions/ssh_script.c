#include "actions/ssh_script.h"

#include <string.h>
#include <sys/random.h>

enum { SCAN_SEARCH, SCAN_STATUS, SCAN_FOUND };
#define STATUS_DIGITS_MAX 5

void ssh_quote(struct buf *out, const char *s)
{
	buf_addc(out, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_adds(out, "'\\''");
		else
			buf_addc(out, *s);
	}
	buf_addc(out, '\'');
}

bool ssh_env_name_ok(const char *name, size_t len)
{
	if (!len || (name[0] >= '0' && name[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static void add_exports(struct buf *out, const char *const *env)
{
	for (const char *const *e = env; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq || !ssh_env_name_ok(*e, (size_t)(eq - *e)))
			continue;
		buf_adds(out, "export ");
		buf_add(out, *e, (size_t)(eq - *e));
		buf_addc(out, '=');
		ssh_quote(out, eq + 1);
		buf_addc(out, '\n');
	}
}

void ssh_program_build(const struct ssh_program *p, struct buf *out)
{
	add_exports(out, p->env);
	buf_adds(out, "qrh_main() {\nqrh_script=");
	ssh_quote(out, p->script);
	buf_adds(out, "\n"
		      "exec 3<&0\n"
		      "( set -e; eval \"$qrh_script\" ) </dev/null 3<&- &\n"
		      "qrh_pid=$!\n");
	/* the watchdog: stdin ends when the channel closes. It reads with
	 * the shell's own `read`, not a child process: sshd may give stdin
	 * and stdout one socketpair, so a child left reading stdin after
	 * the watchdog is killed would keep stdout from ending. */
	buf_addf(out, "( trap '' TERM; while read -r qrh_line <&3; do :; done; kill -TERM 0; sleep %d; kill -KILL 0 ) </dev/null >/dev/null 2>&1 &\n",
		 p->grace_s < 1 ? 1 : p->grace_s);
	buf_addf(out, "qrh_watch=$!\n"
		      "exec 3<&-\n"
		      "wait \"$qrh_pid\"\n"
		      "qrh_rc=$?\n"
		      "kill -KILL \"$qrh_watch\" 2>/dev/null\n"
		      "printf '%%s %%s\\n' '%s%s' \"$qrh_rc\" >&2\n"
		      "exit \"$qrh_rc\"\n"
		      "}\n"
		      "qrh_main\n",
		 SSH_MARKER_PREFIX, p->nonce);
}

int ssh_nonce(char nonce[SSH_NONCE_HEX + 1])
{
	unsigned char raw[SSH_NONCE_HEX / 2];
	static const char hex[] = "0123456789abcdef";
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return -1;
	for (size_t i = 0; i < sizeof raw; i++) {
		nonce[2 * i] = hex[raw[i] >> 4];
		nonce[2 * i + 1] = hex[raw[i] & 15];
	}
	nonce[SSH_NONCE_HEX] = '\0';
	return 0;
}

void ssh_sentinel_init(struct ssh_sentinel *s, const char *nonce)
{
	memset(s, 0, sizeof *s);
	memcpy(s->marker, SSH_MARKER_PREFIX, sizeof SSH_MARKER_PREFIX - 1);
	memcpy(s->marker + sizeof SSH_MARKER_PREFIX - 1, nonce, SSH_NONCE_HEX);
	s->marker[SSH_MARKER_LEN - 1] = ' ';
	s->marker[SSH_MARKER_LEN] = '\0';
	buf_init(&s->hold, BUF_UNLIMITED);
	s->state = SCAN_SEARCH;
}

void ssh_sentinel_release(struct ssh_sentinel *s)
{
	buf_release(&s->hold);
}

/* The length of the longest end of data[0..len) that begins the marker. */
static size_t partial_marker(const struct ssh_sentinel *s, const char *data,
			     size_t len)
{
	size_t k = len < SSH_MARKER_LEN - 1 ? len : SSH_MARKER_LEN - 1;
	for (; k > 0; k--)
		if (!memcmp(data + len - k, s->marker, k))
			return k;
	return 0;
}

/* Reads status digits from data; returns how many bytes it used. */
static size_t read_status(struct ssh_sentinel *s, const char *data,
			  size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		char c = data[i];
		if (c == '\n' && s->hold.len > 0) {
			s->status = 0;
			for (size_t k = 0; k < s->hold.len; k++)
				s->status = s->status * 10 + (s->hold.data[k] - '0');
			buf_reset(&s->hold);
			s->state = SCAN_FOUND;
			return i + 1;
		}
		if (c >= '0' && c <= '9' && s->hold.len < STATUS_DIGITS_MAX) {
			buf_addc(&s->hold, c);
			continue;
		}
		/* not our line after all: it is output */
		buf_adds(out, s->marker);
		buf_add(out, s->hold.data, s->hold.len);
		buf_reset(&s->hold);
		s->state = SCAN_SEARCH;
		return i;
	}
	return len;
}

/* Searches hold (which has the new bytes appended) for the marker. */
static void search(struct ssh_sentinel *s, struct buf *out)
{
	const char *at = memmem(s->hold.data, s->hold.len, s->marker, SSH_MARKER_LEN);
	if (!at) {
		size_t keep = partial_marker(s, s->hold.data, s->hold.len);
		buf_add(out, s->hold.data, s->hold.len - keep);
		memmove(s->hold.data, s->hold.data + s->hold.len - keep, keep);
		s->hold.len = keep;
		s->hold.data[keep] = '\0';
		return;
	}
	size_t before = (size_t)(at - s->hold.data);
	size_t rest_off = before + SSH_MARKER_LEN;
	struct buf rest;
	buf_init(&rest, BUF_UNLIMITED);
	buf_add(&rest, s->hold.data + rest_off, s->hold.len - rest_off);
	buf_add(out, s->hold.data, before);
	buf_reset(&s->hold);
	s->state = SCAN_STATUS;
	ssh_sentinel_feed(s, rest.data, rest.len, out);
	buf_release(&rest);
}

void ssh_sentinel_feed(struct ssh_sentinel *s, const char *in, size_t n,
		       struct buf *out)
{
	while (n > 0) {
		if (s->state == SCAN_FOUND) {
			buf_add(out, in, n);
			return;
		}
		if (s->state == SCAN_STATUS) {
			size_t used = read_status(s, in, n, out);
			in += used;
			n -= used;
			continue;
		}
		buf_add(&s->hold, in, n);
		search(s, out);
		return;
	}
}

void ssh_sentinel_finish(struct ssh_sentinel *s, struct buf *out)
{
	if (s->state == SCAN_STATUS)
		buf_adds(out, s->marker);
	if (s->state != SCAN_FOUND)
		buf_add(out, s->hold.data, s->hold.len);
	buf_reset(&s->hold);
	if (s->state == SCAN_STATUS)
		s->state = SCAN_SEARCH;
}

bool ssh_sentinel_found(const struct ssh_sentinel *s, int *status)
{
	if (s->state != SCAN_FOUND)
		return false;
	*status = s->status;
	return true;
}
