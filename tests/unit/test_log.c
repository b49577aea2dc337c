/*
 * test_log.c: guest-fault logging (src/log.c): one line per episode, a new
 * episode after log_guest_rearm (a device reset), and a rate limit per site
 * that holds a fault-reset storm to LOG_GUEST_BURST lines per window and
 * says how many episodes it held back (issue 7, O-3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "unit.h"

static struct unit u = { .file = "log" };

static char got[65536];

/* run: call fn with stderr in a temporary file; returns the lines it wrote. */
static unsigned run(void (*fn)(struct log_once *), struct log_once *o)
{
	char path[] = "/tmp/ringvm-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;
	unsigned lines = 0;

	fflush(stderr);
	dup2(fd, 2);
	fn(o);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, got, sizeof(got) - 1, 0);
	got[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	for (char *p = got; *p; p++)
		lines += *p == '\n';
	return lines;
}

static void one_episode(struct log_once *o)
{
	for (int i = 0; i < 1000; i++)
		log_guest(o, "dev: cause A");
}

static void two_episodes(struct log_once *o)
{
	log_guest(o, "dev: cause A");
	log_guest(o, "dev: cause A");
	log_guest_rearm(o);
	log_guest(o, "dev: cause B");
	log_guest(o, "dev: cause B");
}

static void storm(struct log_once *o)
{
	for (int i = 0; i < 100000; i++) {
		log_guest(o, "dev: cause %d", i);
		log_guest_rearm(o);
	}
}

static void after_window(struct log_once *o)
{
	o->window -= LOG_GUEST_WINDOW_S;	/* as if the window had passed */
	log_guest(o, "dev: cause C");
}

int main(void)
{
	struct log_once o = { 0 };

	UNIT_OK(&u, run(one_episode, &o) == 1 && !strcmp(got, "ringvm: dev: cause A\n") && o.count == 1000,
	    "one episode: 1000 events, one line, all counted");
	memset(&o, 0, sizeof(o));
	UNIT_OK(&u, run(two_episodes, &o) == 2 && strstr(got, "cause A\n") && strstr(got, "cause B\n"),
	    "fault, reset, fault: two lines, each naming its cause");
	memset(&o, 0, sizeof(o));
	UNIT_OK(&u, run(storm, &o) == LOG_GUEST_BURST && o.count == 100000 &&
	    o.held == 100000 - LOG_GUEST_BURST,
	    "100000 fault-reset cycles: LOG_GUEST_BURST lines, the rest held back and counted");
	UNIT_OK(&u, run(after_window, &o) == 1 &&
	    strstr(got, "cause C (and 99995 earlier episodes not logged)"),
	    "the next window's first line says how many episodes were held back");
	printf("# log: %u passed, %u failed\n", u.pass, u.fail);
	return unit_done(&u);
}
