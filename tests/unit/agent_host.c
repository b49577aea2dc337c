/*
 * agent_host.c: the test double of ringvm's side of the agent protocol
 * (agent_host.h), a small poll loop over one socketpair.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent_host.h"

#define AHOST_BUF_MAX (64u << 20)
#define AHOST_AGENT_FD 10		/* where the agent finds its end */

static int64_t ahost_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ahost_append: add n bytes to b; false past AHOST_BUF_MAX or out of memory. */
static bool ahost_append(struct ahost_buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		if (cap > AHOST_BUF_MAX || !(p = realloc(b->data, cap)))
			return false;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, d, n);
	b->len += n;
	return true;
}

bool ahost_has(const struct ahost_buf *b, const char *s)
{
	return b->len && memmem(b->data, b->len, s, strlen(s)) != NULL;
}

void ahost_queue(struct ahost *h, const void *frame, ssize_t n)
{
	if (n < 0 || !ahost_append(&h->tx, frame, (size_t)n))
		h->proto_fault = true;	/* a test bug: make it fail loudly */
}

void ahost_exec(struct ahost *h, const struct agent_exec *e)
{
	ahost_queue(h, h->scratch, agent_encode_exec(h->scratch, sizeof(h->scratch), e));
}

void ahost_stdin(struct ahost *h, const void *data, size_t len, bool eof)
{
	h->in_data = data;
	h->in_len = len;
	h->in_eof = eof;
}

/* ahost_msg: take one guest->host message. */
static void ahost_msg(struct ahost *h, const struct agent_msg *m)
{
	struct agent_error er;

	if (h->got_exit || h->got_error) {
		h->proto_fault = true;	/* nothing may follow EXIT or ERROR */
		return;
	}
	switch (m->type) {
	case AGENT_STDOUT:
	case AGENT_STDERR:
		if (!ahost_append(m->type == AGENT_STDOUT ? &h->out : &h->err, m->payload, m->len))
			h->proto_fault = true;
		if (h->on_output)
			h->on_output(h);
		return;
	case AGENT_EXIT:
		h->got_exit = agent_decode_exit(m, &h->exit) == 0;
		h->proto_fault |= !h->got_exit;
		return;
	case AGENT_ERROR:
		h->got_error = agent_decode_error(m, &er) == 0;
		h->proto_fault |= !h->got_error;
		if (h->got_error) {
			h->error_code = er.code;
			snprintf(h->error_msg, sizeof(h->error_msg), "%s", er.msg);
		}
		return;
	}
	h->proto_fault = true;		/* a second HELLO */
}

/* ahost_read: one read, every complete message handled; 0, or -errno / -ECONNRESET at EOF. */
static int ahost_read(struct ahost *h)
{
	ssize_t n = read(h->fd, h->scratch, sizeof(h->scratch));
	const uint8_t *p = h->scratch;
	size_t left;
	struct agent_msg m;
	int r;

	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	left = (size_t)n;
	while ((r = agent_parse(&h->parser, &p, &left, &m)) == 1)
		ahost_msg(h, &m);
	if (r < 0)
		h->proto_fault = true;
	return r < 0 ? r : 0;
}

/* ahost_refill: frame more stdin once everything queued went out. */
static void ahost_refill(struct ahost *h)
{
	uint8_t *buf = h->scratch;
	size_t cap = sizeof(h->scratch);

	if (h->tx_off < h->tx.len)
		return;
	h->tx.len = h->tx_off = 0;
	if (h->in_len) {
		size_t n = h->in_len < AGENT_MAX_PAYLOAD ? h->in_len : AGENT_MAX_PAYLOAD;

		ahost_queue(h, buf, agent_encode_stdin(buf, cap, h->in_data, n));
		h->in_data += n;
		h->in_len -= n;
	} else if (h->in_eof) {
		ahost_queue(h, buf, agent_encode_stdin_eof(buf, cap));
		h->in_eof = false;
	}
}

struct ahost *ahost_start(const char *bin)
{
	struct ahost *h = calloc(1, sizeof(*h));
	int sv[2];
	int64_t end;

	if (h)
		h->fd = h->log_fd = -1;
	if (!h || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("ahost_start");
		free(h);
		return NULL;
	}
	/* Its diagnostics (and any sanitizer report) go to a memory file. */
	h->log_fd = memfd_create("ringvm-init-log", MFD_CLOEXEC);
	h->pid = fork();
	if (h->pid == 0) {
		if (h->log_fd >= 0)
			dup2(h->log_fd, 2);
		if (dup2(sv[1], AHOST_AGENT_FD) < 0)
			_exit(127);
		execl(bin, bin, "--agent-fd", "10", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	h->fd = sv[0];
	fcntl(h->fd, F_SETFL, O_NONBLOCK);
	agent_parser_init(&h->parser, AGENT_DIR_TO_HOST);
	if (h->pid < 0) {
		ahost_free(h);
		return NULL;
	}
	/* HELLO comes first; nothing else may. */
	for (end = ahost_now_ms() + 5000; ahost_now_ms() < end; ) {
		struct pollfd p = { .fd = h->fd, .events = POLLIN };
		const uint8_t *d = h->scratch;
		size_t left;
		struct agent_msg m;
		ssize_t n;
		int r;

		poll(&p, 1, 100);
		n = read(h->fd, h->scratch, 1);	/* byte by byte: nothing past HELLO is consumed */
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN)
				break;
			continue;
		}
		left = 1;
		r = agent_parse(&h->parser, &d, &left, &m);
		if (r < 0)
			break;
		if (r == 1) {
			if (agent_decode_hello(&m, &h->hello))
				break;
			return h;
		}
	}
	fprintf(stderr, "ahost_start: no HELLO from %s\n", bin);
	ahost_free(h);
	return NULL;
}

int ahost_run(struct ahost *h, int timeout_ms)
{
	int64_t end = ahost_now_ms() + timeout_ms;
	int r = 0;

	/* Until the agent closes its end: EXIT or ERROR, then end of file. */
	while (ahost_now_ms() < end) {
		struct pollfd p = { .fd = h->fd, .events = POLLIN };

		if (h->stop)
			return -ECANCELED;	/* the hook wants the session as it is */

		ahost_refill(h);
		if (h->tx_off < h->tx.len)
			p.events |= POLLOUT;
		if (poll(&p, 1, (int)(end - ahost_now_ms() > 0 ? end - ahost_now_ms() : 0)) < 0 &&
		    errno != EINTR)
			break;
		if (p.revents & POLLIN && (r = ahost_read(h)))
			break;
		if (p.revents & POLLOUT) {
			ssize_t n = send(h->fd, h->tx.data + h->tx_off, h->tx.len - h->tx_off,
			    MSG_NOSIGNAL);

			if (n > 0)
				h->tx_off += (size_t)n;
			else if (n < 0 && errno != EAGAIN)
				h->tx_off = h->tx.len;	/* the agent is gone; drop the rest */
		}
		if (p.revents & (POLLHUP | POLLERR) && !(p.revents & POLLIN)) {
			r = -ECONNRESET;
			break;
		}
	}
	if (r == 0)
		r = -ETIMEDOUT;
	ahost_wait(h, r == -ETIMEDOUT ? 0 : 5000);
	if (r == -ECONNRESET && (h->got_exit || h->got_error))
		return 0;
	return r;
}

int ahost_wait(struct ahost *h, int timeout_ms)
{
	int64_t end = ahost_now_ms() + timeout_ms;
	const struct timespec ms = { 0, 1000000 };

	if (h->pid <= 0)
		return h->agent_status;
	while (waitpid(h->pid, &h->agent_status, WNOHANG) == 0) {
		if (ahost_now_ms() >= end) {
			kill(h->pid, SIGKILL);
			waitpid(h->pid, &h->agent_status, 0);
			h->agent_status = -1;
			break;
		}
		nanosleep(&ms, NULL);
	}
	h->pid = 0;
	return h->agent_status;
}

bool ahost_clean(struct ahost *h)
{
	char log[65536];
	ssize_t n = h->log_fd >= 0 ? pread(h->log_fd, log, sizeof(log) - 1, 0) : 0;

	if (n < 0)
		n = 0;
	log[n] = '\0';
	return !strstr(log, "Sanitizer") && !strstr(log, "runtime error");
}

void ahost_free(struct ahost *h)
{
	char log[4096];
	ssize_t n;

	if (!h)
		return;
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	if (h->pid > 0)
		ahost_wait(h, 0);
	if (h->log_fd >= 0 && getenv("AHOST_VERBOSE") &&
	    (n = pread(h->log_fd, log, sizeof(log) - 1, 0)) > 0) {
		log[n] = '\0';
		fprintf(stderr, "# agent said: %s", log);
	}
	if (h->log_fd >= 0)
		close(h->log_fd);
	free(h->out.data);
	free(h->err.data);
	free(h->tx.data);
	free(h);
}
