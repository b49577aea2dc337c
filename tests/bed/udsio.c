/*
 * udsio.c: the host's end of the bed's vsock stream tests
 * (tests/bed/cases/vsock.sh), over ringvm's AF_UNIX convention.
 *   udsio listen PATH DELAY       listen on PATH (ringvm's SOCK_PORT), accept
 *                                 one connection, sleep DELAY seconds (a slow
 *                                 reader), read to end of file
 *   udsio connect PATH PORT BYTES connect to PATH (ringvm's SOCK), send
 *                                 "CONNECT PORT\n", expect "OK N\n", write
 *                                 BYTES of the pattern vsockio.c checks, close
 * Each prints "udsio BYTES SUM", as vsockio.c does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static unsigned char pattern(unsigned long long i)
{
	return (unsigned char)(i * 2654435761ull >> 13);
}

int main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	static unsigned char buf[65536];
	unsigned long long moved = 0, sum = 0;
	int s, c;
	ssize_t n;

	if (argc < 4)
		return 2;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", argv[2]);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (!strcmp(argv[1], "listen")) {
		unlink(a.sun_path);
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0) {
			perror("udsio: listen");
			return 1;
		}
		c = accept(s, NULL, NULL);
		if (c < 0)
			return 1;
		/* The guest is up and sending: the test samples ringvm's memory from here. */
		printf("udsio accepted\n");
		fflush(stdout);
		sleep((unsigned)atoi(argv[3]));
		while ((n = read(c, buf, sizeof(buf))) > 0) {
			for (ssize_t i = 0; i < n; i++)
				sum += buf[i];
			moved += (unsigned long long)n;
		}
	} else {
		unsigned long long want = argc > 4 ? strtoull(argv[4], NULL, 10) : 0;
		char line[64];
		size_t got = 0;

		if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
			perror("udsio: connect");
			return 1;
		}
		n = snprintf(line, sizeof(line), "CONNECT %s\n", argv[3]);
		if (write(s, line, (size_t)n) != n)
			return 1;
		/* The reply, a byte at a time: the guest's bytes may follow it. */
		while (got < sizeof(line) - 1 && read(s, line + got, 1) == 1 && line[got] != '\n')
			got++;
		line[got] = '\0';
		if (strncmp(line, "OK ", 3)) {
			fprintf(stderr, "udsio: reply '%s'\n", line);
			return 1;
		}
		while (moved < want) {
			size_t k = want - moved < sizeof(buf) ? (size_t)(want - moved) : sizeof(buf);

			for (size_t i = 0; i < k; i++)
				buf[i] = pattern(moved + i);
			n = write(s, buf, k);
			if (n <= 0)
				return 1;
			for (ssize_t i = 0; i < n; i++)
				sum += buf[i];
			moved += (unsigned long long)n;
		}
		shutdown(s, SHUT_WR);
		while (read(s, buf, sizeof(buf)) > 0)
			;
	}
	printf("udsio %llu %llu\n", moved, sum & 0xffffffffull);
	return 0;
}
