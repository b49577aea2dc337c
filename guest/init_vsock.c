/*
 * init_vsock.c: the agent's connection to ringvm, over virtio-vsock. The
 * guest connects (the host only listens), so ringvm needs no guest CID
 * bookkeeping beyond its device's config, and the host sees the agent the
 * moment it is ready.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "init.h"

#define INIT_VSOCK_STEP_MS 10

/* init_vsock_now_ms: CLOCK_MONOTONIC in milliseconds. */
static uint64_t init_vsock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* init_vsock_try: one attempt; the socket, or -errno. */
static int init_vsock_try(unsigned timeout_ms)
{
	struct sockaddr_vm sa;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r;

	if (s < 0)
		return -errno;	/* EAFNOSUPPORT until the vsock module is in */
	/* A connect that hangs must not outlast our own deadline. */
	setsockopt(s, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, sizeof(tv));
	memset(&sa, 0, sizeof(sa));
	sa.svm_family = AF_VSOCK;
	sa.svm_cid = AGENT_HOST_CID;
	sa.svm_port = AGENT_PORT;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return s;
	r = -errno;
	close(s);
	return r;
}

int init_vsock_connect(unsigned timeout_ms)
{
	const struct timespec step = { 0, INIT_VSOCK_STEP_MS * 1000 * 1000 };
	uint64_t deadline = init_vsock_now_ms() + timeout_ms;

	for (;;) {
		uint64_t now = init_vsock_now_ms();
		unsigned left = now < deadline ? (unsigned)(deadline - now) : 0;
		int r = init_vsock_try(left > 1 ? left : 1);

		if (r >= 0)
			return r;
		/* ENODEV, ECONNRESET, ETIMEDOUT... until the device and ringvm are there. */
		if (init_vsock_now_ms() + INIT_VSOCK_STEP_MS > deadline)
			return r;
		nanosleep(&step, NULL);
	}
}
