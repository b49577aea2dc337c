/*
 * memload.c: the guest's side of the bed's worst-case memory test
 * (tests/bed/cases/mem.sh): load that makes ringvm hold as much as the
 * guest can, and keeps it there. Static, in the test initramfs.
 *   memload tcp ADDR PORT N    N TCP connections to ADDR:PORT; write to
 *                              each until it blocks, never read; hold
 *   memload vsock PORT N       the same over vsock to the host (CID 2)
 *   memload vlisten PORT N     accept N vsock connections on PORT, never
 *                              read; hold
 *   memload disk DEV THREADS   THREADS threads of O_DIRECT 64 KiB reads and
 *                              writes at random places of DEV, forever
 * Progress lines on stdout: "memload MODE connected=C failed=F" once every
 * connection is up or failed, "memload MODE stalled bytes=B" once no write
 * went through for 3 s (everything is full), "memload vlisten accepted=N",
 * "memload disk DEV threads=N". Then it holds until killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/fs.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>

#define MEMLOAD_MAX_CONNS 4096
#define MEMLOAD_CHUNK 65536
#define MEMLOAD_QUIET_S 3	/* no write went through for this long: everything is full */

static double memload_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* memload_connect: a non-blocking stream socket connecting to `a`; -1 on failure. */
static int memload_connect(int af, const struct sockaddr *a, socklen_t alen)
{
	int s = socket(af, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (s < 0)
		return -1;
	if (af == AF_VSOCK) {
		/*
		 * The default is 2 s: ringvm's loop answers every request, but
		 * in the nested bed, with 256 TCP connections and eight disks
		 * starting beside, a storm of requests can take longer.
		 */
		struct timeval tv = { .tv_sec = 120 };

		setsockopt(s, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, sizeof(tv));
	}
	if (connect(s, a, alen) < 0 && errno != EINPROGRESS) {
		close(s);
		return -1;
	}
	return s;
}

/*
 * memload_fill: open n connections to `a`, write to each until it blocks,
 * never read; report, then hold for ever.
 */
static int memload_fill(const char *mode, int af, const struct sockaddr *a, socklen_t alen,
    unsigned n)
{
	static struct pollfd p[MEMLOAD_MAX_CONNS];
	static char up[MEMLOAD_MAX_CONNS];
	static uint8_t buf[MEMLOAD_CHUNK];
	unsigned long long bytes = 0;
	unsigned connected = 0, failed = 0;
	int first_err = 0;	/* errno of the first connection that failed, for the report */
	double last = memload_now();
	int said_up = 0, said_full = 0;

	memset(buf, 'm', sizeof(buf));
	for (unsigned i = 0; i < n; i++) {
		p[i].fd = memload_connect(af, a, alen);
		p[i].events = POLLOUT;
		if (p[i].fd < 0 && !first_err)
			first_err = errno;
		failed += p[i].fd < 0;
	}
	for (;;) {
		int r = poll(p, n, 1000);

		for (unsigned i = 0; r > 0 && i < n; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			if (!up[i]) {
				int e = 0;
				socklen_t el = sizeof(e);

				getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR, &e, &el);
				if (e || (p[i].revents & (POLLERR | POLLHUP))) {
					if (!first_err)
						first_err = e ? e : EPIPE;
					close(p[i].fd);
					p[i].fd = -1;
					failed++;
					continue;
				}
				up[i] = 1;
				connected++;
			}
			for (;;) {
				ssize_t w = write(p[i].fd, buf, sizeof(buf));

				if (w > 0) {
					bytes += (unsigned long long)w;
					last = memload_now();
					continue;
				}
				if (w < 0 && errno != EAGAIN && errno != EINTR) {
					close(p[i].fd);
					p[i].fd = -1;
					failed++;
				}
				break;
			}
		}
		if (!said_up && connected + failed >= n) {
			printf("memload %s connected=%u failed=%u%s%s\n", mode, connected, failed,
			    first_err ? " first_error=" : "", first_err ? strerror(first_err) : "");
			fflush(stdout);
			said_up = 1;
		}
		if (said_up && !said_full && memload_now() - last >= MEMLOAD_QUIET_S) {
			printf("memload %s stalled bytes=%llu\n", mode, bytes);
			fflush(stdout);
			said_full = 1;
		}
	}
	return 0;
}

/* memload_vlisten: accept n vsock connections on `port`, never read, hold. */
static int memload_vlisten(unsigned port, unsigned n)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port };
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, (int)n) < 0) {
		perror("memload: vlisten");
		return 1;
	}
	printf("memload vlisten ready\n");
	fflush(stdout);
	for (unsigned i = 0; i < n; i++) {
		if (accept(s, NULL, NULL) < 0)
			return 1;
		printf("memload vlisten accepted=%u\n", i + 1);
		fflush(stdout);
	}
	for (;;)
		pause();
}

struct memload_disk {
	int fd;
	uint64_t blocks;	/* 64 KiB blocks on the device */
	unsigned seed;
};

/* memload_disk_thread: O_DIRECT 64 KiB reads and writes at random blocks, forever. */
static void *memload_disk_thread(void *arg)
{
	struct memload_disk *d = arg;
	void *buf;

	if (posix_memalign(&buf, 4096, MEMLOAD_CHUNK))
		return NULL;
	memset(buf, 'd', MEMLOAD_CHUNK);
	for (unsigned long i = 0;; i++) {
		off_t off = (off_t)(rand_r(&d->seed) % d->blocks) * MEMLOAD_CHUNK;

		if (i & 1)
			pwrite(d->fd, buf, MEMLOAD_CHUNK, off);
		else
			pread(d->fd, buf, MEMLOAD_CHUNK, off);
	}
	return NULL;
}

static int memload_disk(const char *dev, unsigned threads)
{
	uint64_t size = 0;
	int fd = open(dev, O_RDWR | O_DIRECT);

	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) < 0 || size < MEMLOAD_CHUNK) {
		perror("memload: disk");
		return 1;
	}
	for (unsigned i = 0; i < threads; i++) {
		struct memload_disk *d = calloc(1, sizeof(*d));
		pthread_t t;

		if (!d)
			return 1;
		d->fd = fd;
		d->blocks = size / MEMLOAD_CHUNK;
		d->seed = i * 7919u + 1;
		if (pthread_create(&t, NULL, memload_disk_thread, d))
			return 1;
	}
	printf("memload disk %s threads=%u\n", dev, threads);
	fflush(stdout);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	unsigned n;

	if (argc == 5 && !strcmp(argv[1], "tcp")) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])) };

		n = (unsigned)atoi(argv[4]);
		if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1 || n == 0 || n > MEMLOAD_MAX_CONNS)
			return 2;
		return memload_fill("tcp", AF_INET, (struct sockaddr *)&a, sizeof(a), n);
	}
	if (argc == 4 && !strcmp(argv[1], "vsock")) {
		struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST,
		    .svm_port = (unsigned)atoi(argv[2]) };

		n = (unsigned)atoi(argv[3]);
		if (n == 0 || n > MEMLOAD_MAX_CONNS)
			return 2;
		return memload_fill("vsock", AF_VSOCK, (struct sockaddr *)&a, sizeof(a), n);
	}
	if (argc == 4 && !strcmp(argv[1], "vlisten"))
		return memload_vlisten((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "disk"))
		return memload_disk(argv[2], (unsigned)atoi(argv[3]));
	fprintf(stderr, "usage: memload tcp ADDR PORT N | vsock PORT N | vlisten PORT N | "
	    "disk DEV THREADS\n");
	return 2;
}
