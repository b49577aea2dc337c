/*
 * blkbench.c: the guest side of bench/blk. Runs inside the guest, linked
 * statically, against a raw block device with O_DIRECT so the guest's page
 * cache never answers for the device.
 *
 *   blkbench DEV seqread  MIB     1 MiB reads from offset 0, MIB in all
 *   blkbench DEV reread   MIB     the same, reported as "reread" (after seqwrite)
 *   blkbench DEV seqwrite MIB     1 MiB writes (timed), then fdatasync (timed apart)
 *   blkbench DEV randread SECS QD 4 KiB reads at random aligned offsets,
 *                                 QD threads each with one read in flight
 *
 * Prints one line: "BENCH <mode> mbps=<MB/s> iops=<ops/s> secs=<elapsed>".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

#define SEQ_BS (1u << 20)
#define RAND_BS 4096u
#define MAX_QD 64

struct bench {
	int fd;
	uint64_t dev_size;
	double deadline;
	uint64_t ops[MAX_QD];
};

struct worker {
	struct bench *b;
	unsigned idx;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *buf_alloc(size_t len)
{
	void *p;

	if (posix_memalign(&p, 4096, len)) {
		perror("blkbench: posix_memalign");
		exit(1);
	}
	memset(p, 0x5a, len);
	return p;
}

static double seq(struct bench *b, int write, uint64_t mib)
{
	uint8_t *buf = buf_alloc(SEQ_BS);
	uint64_t blocks = b->dev_size / SEQ_BS;
	double t0 = now();

	for (uint64_t i = 0; i < mib; i++) {
		off_t off = (off_t)(i % blocks) * SEQ_BS;
		ssize_t n = write ? pwrite(b->fd, buf, SEQ_BS, off) : pread(b->fd, buf, SEQ_BS, off);

		if (n != SEQ_BS) {
			fprintf(stderr, "blkbench: %s at %lld: %s\n", write ? "pwrite" : "pread",
			    (long long)off, n < 0 ? strerror(errno) : "short transfer");
			exit(1);
		}
	}
	/* Like fio's default (end_fsync=0): the writes alone; flush is timed apart. */
	free(buf);
	return now() - t0;
}

static void *rand_worker(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	uint8_t *buf = buf_alloc(RAND_BS);
	uint64_t slots = b->dev_size / RAND_BS;
	uint64_t x = 0x9e3779b97f4a7c15ull * (w->idx + 1);

	while (now() < b->deadline) {
		for (int k = 0; k < 64; k++) {
			/* xorshift64: cheap, and the same sequence for every VMM. */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			if (pread(b->fd, buf, RAND_BS, (off_t)(x % slots) * RAND_BS) != RAND_BS) {
				perror("blkbench: pread");
				exit(1);
			}
			b->ops[w->idx]++;
		}
	}
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	double secs;

	if (argc < 4) {
		fprintf(stderr, "usage: blkbench DEV seqread|seqwrite|reread MIB | randread SECS QD\n");
		return 2;
	}
	b.fd = open(argv[1], (strcmp(argv[2], "seqwrite") ? O_RDONLY : O_RDWR) | O_DIRECT);
	if (b.fd < 0 || ioctl(b.fd, BLKGETSIZE64, &b.dev_size) || b.dev_size < SEQ_BS) {
		fprintf(stderr, "blkbench: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (!strcmp(argv[2], "seqread") || !strcmp(argv[2], "seqwrite") ||
	    !strcmp(argv[2], "reread")) {
		uint64_t mib = strtoull(argv[3], NULL, 0);

		secs = seq(&b, argv[2][3] == 'w', mib);
		printf("BENCH %s mbps=%.1f iops=%.0f secs=%.3f\n", argv[2],
		    mib * (double)SEQ_BS / 1e6 / secs, mib / secs, secs);
		if (argv[2][3] == 'w') {
			double t0 = now();

			if (fdatasync(b.fd)) {
				perror("blkbench: fdatasync");
				return 1;
			}
			secs = now() - t0;
			printf("BENCH flush mbps=0 iops=%.1f secs=%.3f\n", 1 / secs, secs);
		}
		return 0;
	}
	if (!strcmp(argv[2], "randread") && argc == 5) {
		unsigned qd = (unsigned)atoi(argv[4]);
		pthread_t th[MAX_QD];
		struct worker w[MAX_QD];
		uint64_t total = 0;
		double t0 = now();

		if (qd < 1 || qd > MAX_QD)
			qd = 1;
		b.deadline = t0 + atof(argv[3]);
		for (unsigned i = 0; i < qd; i++) {
			w[i] = (struct worker){ &b, i };
			pthread_create(&th[i], NULL, rand_worker, &w[i]);
		}
		for (unsigned i = 0; i < qd; i++) {
			pthread_join(th[i], NULL);
			total += b.ops[i];
		}
		secs = now() - t0;
		printf("BENCH randread-qd%u mbps=%.1f iops=%.0f secs=%.3f\n", qd,
		    total * (double)RAND_BS / 1e6 / secs, total / secs, secs);
		return 0;
	}
	fprintf(stderr, "blkbench: unknown mode '%s'\n", argv[2]);
	return 2;
}
