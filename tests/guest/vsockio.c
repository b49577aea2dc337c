/*
 * vsockio.c: the guest's end of the bed's vsock stream tests
 * (tests/bed/cases/vsock.sh), static, in the test initramfs.
 *   vsockio send PORT BYTES     connect to the host (CID 2) port PORT, write
 *                               BYTES of a known pattern, close
 *   vsockio recv PORT DELAY     listen on PORT, accept one connection, sleep
 *                               DELAY seconds before reading (a slow reader),
 *                               read to end of file
 * Each prints "vsockio BYTES SUM" (the bytes moved and their sum mod 2^32).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

static unsigned char pattern(unsigned long long i)
{
	return (unsigned char)(i * 2654435761ull >> 13);
}

int main(int argc, char **argv)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK };
	static unsigned char buf[65536];
	unsigned long long moved = 0, sum = 0;
	int s, c;
	ssize_t n;

	if (argc != 4)
		return 2;
	s = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (s < 0) {
		perror("vsockio: socket");
		return 1;
	}
	a.svm_port = (unsigned)atoi(argv[2]);
	if (!strcmp(argv[1], "send")) {
		unsigned long long want = strtoull(argv[3], NULL, 10);

		a.svm_cid = VMADDR_CID_HOST;
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
			perror("vsockio: connect");
			return 1;
		}
		while (moved < want) {
			size_t k = want - moved < sizeof(buf) ? (size_t)(want - moved) : sizeof(buf);

			for (size_t i = 0; i < k; i++) {
				buf[i] = pattern(moved + i);
				sum += buf[i];
			}
			n = write(s, buf, k);
			if (n <= 0) {
				perror("vsockio: write");
				return 1;
			}
			moved += (unsigned long long)n;
			if ((size_t)n < k)
				for (size_t i = (size_t)n; i < k; i++)
					sum -= buf[i];
		}
		shutdown(s, SHUT_WR);
		while (read(s, buf, sizeof(buf)) > 0)
			;
	} else {
		a.svm_cid = VMADDR_CID_ANY;
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0) {
			perror("vsockio: listen");
			return 1;
		}
		printf("vsockio listening\n");
		fflush(stdout);
		c = accept(s, NULL, NULL);
		if (c < 0) {
			perror("vsockio: accept");
			return 1;
		}
		sleep((unsigned)atoi(argv[3]));
		while ((n = read(c, buf, sizeof(buf))) > 0) {
			for (ssize_t i = 0; i < n; i++)
				sum += buf[i];
			moved += (unsigned long long)n;
		}
	}
	printf("vsockio %llu %llu\n", moved, sum & 0xffffffffull);
	return 0;
}
