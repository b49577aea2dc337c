/*
 * test_disk.c: the disk engine when the host fails it (issue 14, S2 and
 * S3). A refused io_uring submission is retried on a backoff timer until
 * the kernel takes it, with the request intact and the loop asleep in
 * between; a failing final fdatasync or close comes back from disk_close,
 * and virtio-blk's teardown then logs one line naming the disk and makes
 * the exit status 1. The failures are injected with the linker's --wrap
 * (tests/unit/virtio.mk), so the product code has no test hooks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <ev.h>
#include <liburing.h>

#include "disk.h"
#include "log.h"
#include "unit.h"
#include "vfake.h"
#include "virtio_blk.h"

static struct unit u = { .file = "disk" };

/* --- injected failures --- */
static int fail_submits;	/* io_uring_submit refuses this many more times */
static unsigned submit_calls;
static int fail_fdatasync;	/* the next fdatasync fails with EIO */
static int fail_close_fd = -1;	/* close of this fd fails with EIO (after closing it) */

int __real_io_uring_submit(struct io_uring *ring);
int __wrap_io_uring_submit(struct io_uring *ring);
int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);
int __real_close(int fd);
int __wrap_close(int fd);

int __wrap_io_uring_submit(struct io_uring *ring)
{
	submit_calls++;
	if (fail_submits > 0) {
		fail_submits--;
		return -EAGAIN;
	}
	return __real_io_uring_submit(ring);
}

int __wrap_fdatasync(int fd)
{
	if (fail_fdatasync) {
		fail_fdatasync = 0;
		errno = EIO;
		return -1;
	}
	return __real_fdatasync(fd);
}

int __wrap_close(int fd)
{
	int r = __real_close(fd);

	if (fd == fail_close_fd && r == 0) {
		fail_close_fd = -1;
		errno = EIO;
		return -1;
	}
	return r;
}

/* --- a disk on a real loop --- */
static unsigned done_n;
static int done_res;

static void on_done(void *owner, uint64_t tag, int res)
{
	(void)owner;
	(void)tag;
	done_n++;
	done_res = res;
}

static void on_drained(void *owner)
{
	(void)owner;
}

/* mkimage: a zeroed image of `len` bytes; returns its path in `path`. */
static int mkimage(char *path, size_t len)
{
	int fd;

	strcpy(path, "/tmp/ringvm-disk-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)len) < 0) {
		__real_close(fd);
		return -1;
	}
	__real_close(fd);
	return 0;
}

/* capture: run fn with stderr captured (vfake.c); its last line, or "", and the count in *n. */
static const char *capture(void (*fn)(void *), void *arg, unsigned *n)
{
	static char last[1024];

	vf_stderr_begin();
	fn(arg);
	*n = vf_stderr_end(last, sizeof(last));
	return last;
}

struct submit_run {
	struct disk *d;
	struct ev_loop *ev;
	unsigned passes;
	double ms;
};

/* submit_and_wait: queue one 4 KiB write of 'A's and run the loop until it is done. */
static void submit_and_wait(void *arg)
{
	struct submit_run *s = arg;
	static char data[4096];
	struct iovec iov = { data, sizeof(data) };
	struct timeval t0, t1;

	memset(data, 'A', sizeof(data));
	gettimeofday(&t0, NULL);
	if (disk_writev(s->d, 1, &iov, 1, 0) == 0)
		disk_submit(s->d);
	/* Each pass sleeps until something is due: the retry timer or the completion. */
	while (done_n == 0 && s->passes < 1000) {
		ev_run(s->ev, EVRUN_ONCE);
		s->passes++;
	}
	gettimeofday(&t1, NULL);
	s->ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_usec - t0.tv_usec) / 1e3;
}

static void test_submit_retry(void)
{
	struct ev_loop *ev = ev_loop_new(EVBACKEND_EPOLL);
	struct submit_run s = { 0 };
	char path[64], got[4096], err[256];
	struct disk d;
	const char *e;
	unsigned lines = 0;
	int fd;

	if (!ev || mkimage(path, 1 << 20) || disk_open(&d, path, DISK_RW, err, sizeof(err)) ||
	    disk_start(&d, ev, DISK_URING, 8, on_done, on_drained, NULL)) {
		UNIT_OK(&u, 0, "S2: set up a disk on io_uring");
		return;
	}
	fail_submits = 5;
	submit_calls = 0;
	s.d = &d;
	s.ev = ev;
	e = capture(submit_and_wait, &s, &lines);
	UNIT_OK(&u, done_n == 1 && done_res == 4096,
	    "S2: a write whose submission the kernel refused 5 times completes, whole");
	UNIT_OK(&u, submit_calls == 6, "S2: it was submitted again after each refusal, then once");
	printf("# S2: %u loop passes, %.1f ms (backoff 1+2+4+8+16 ms)\n", s.passes, s.ms);
	UNIT_OK(&u, s.passes <= 20, "S2: the loop slept between retries (no spin)");
	UNIT_OK(&u, s.ms >= 25, "S2: the retries followed the backoff");
	UNIT_OK(&u, lines == 1 && !strncmp(e, "ringvm: disk: io_uring_submit failed", 36),
	    "S2: the first refusal is logged, once");
	fd = open(path, O_RDONLY);
	UNIT_OK(&u, fd >= 0 && pread(fd, got, sizeof(got), 0) == (ssize_t)sizeof(got) &&
	    got[0] == 'A' && got[4095] == 'A', "S2: the data reached the file");
	if (fd >= 0)
		__real_close(fd);

	/* S3: the final fdatasync fails: disk_close says so. */
	fail_fdatasync = 1;
	UNIT_OK(&u, disk_close(&d) == -EIO, "S3: a failing final fdatasync is returned by disk_close");
	UNIT_OK(&u, disk_open(&d, path, DISK_RW, err, sizeof(err)) == 0, "S3: reopen");
	fail_close_fd = d.img.fd;
	UNIT_OK(&u, disk_close(&d) == -EIO, "S3: a failing final close is returned by disk_close");
	UNIT_OK(&u, disk_open(&d, path, DISK_RO, err, sizeof(err)) == 0 && disk_close(&d) == 0,
	    "S3: a read-only disk closes with 0 (nothing to flush)");
	UNIT_OK(&u, disk_open(&d, path, DISK_RW, err, sizeof(err)) == 0 && disk_close(&d) == 0,
	    "S3: a healthy disk closes with 0");
	ev_loop_destroy(ev);
	unlink(path);
}

struct teardown_run {
	struct vstub_vm *v;
	struct vblk *b;
	int ret;		/* what destroy returned */
};

static void remove_blk(void *arg)
{
	struct teardown_run *t = arg;

	t->ret = vstub_blk_remove(t->v, t->b);
}

static void test_vblk_teardown(void)
{
	static struct vstub_vm v;
	struct teardown_run t;
	char path[64], spec[96], want[160];
	const char *e;
	unsigned lines = 0;

	if (mkimage(path, 1 << 20) || vstub_vm_init(&v, 1 << 20, 0, 0)) {
		UNIT_OK(&u, 0, "S3: set up a VM with a disk");
		return;
	}
	snprintf(spec, sizeof(spec), "%s,aio=sync", path);
	t.v = &v;
	t.b = vstub_blk_add(&v, spec);
	fail_fdatasync = 1;
	e = t.b ? capture(remove_blk, &t, &lines) : "";
	snprintf(want, sizeof(want), "ringvm: disk '%s': the final flush failed; what the guest "
	    "wrote may be lost: Input/output error\n", path);
	UNIT_OK(&u, t.b && lines == 1 && !strcmp(e, want), "S3: teardown names the disk in one line");
	if (strcmp(e, want))
		printf("#   got '%s'\n", e);
	UNIT_OK(&u, t.ret == -EIO,
	    "S3: destroy reports the failed flush, so main exits 1 even after a clean power-off");
	t.b = vstub_blk_add(&v, spec);
	lines = 1;
	if (t.b)
		capture(remove_blk, &t, &lines);
	UNIT_OK(&u, lines == 0 && t.ret == 0,
	    "S3: a clean final flush leaves the status and stderr alone");
	vstub_vm_fini(&v);
	unlink(path);
}

int main(void)
{
	test_submit_retry();
	test_vblk_teardown();
	printf("# disk: %u passed, %u failed\n", u.pass, u.fail);
	return unit_done(&u);
}
