/*
 * blkzero.c: zero a byte range of a block device with BLKZEROOUT, which
 * Linux sends to a virtio disk as WRITE_ZEROES when the device offers it
 * (busybox has no tool for it). Static, like busybox, for the test guest.
 * usage: blkzero DEV OFFSET LENGTH   (bytes, multiples of 512)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uint64_t range[2];
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: blkzero DEV OFFSET LENGTH\n");
		return 2;
	}
	range[0] = strtoull(argv[2], NULL, 0);
	range[1] = strtoull(argv[3], NULL, 0);
	fd = open(argv[1], O_WRONLY);
	if (fd < 0 || ioctl(fd, BLKZEROOUT, range) < 0) {
		fprintf(stderr, "blkzero: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}
