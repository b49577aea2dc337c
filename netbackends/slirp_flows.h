/*
 * slirp_flows.h: the host sockets a guest makes the user backend hold,
 * counted and capped (issue 7, F-1).
 *
 * libslirp opens one host socket per guest flow (a TCP connection, a UDP
 * source port, a ping) and keeps UDP ones for minutes: a guest sending from
 * thousands of ports could exhaust ringvm's file descriptors. libslirp
 * announces each socket it opens and closes through its register_poll_fd
 * and unregister_poll_fd callbacks, so the count here is exact: a socket
 * registered while a guest frame is being input belongs to that guest flow;
 * one registered at another time (a port forward accepting a connection)
 * belongs to the host side and is not counted against the cap.
 *
 * Before a guest frame reaches libslirp, user_flows_admit() decides: at
 * the cap, a frame that would open a socket (a TCP SYN, UDP from a source
 * port with no socket, an ICMP echo request) is dropped and counted;
 * frames of existing flows always pass.
 */
#ifndef RINGVM_SLIRP_FLOWS_H
#define RINGVM_SLIRP_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The kernel buffers of each host socket libslirp opens, each way: what
 * SO_RCVBUF and SO_SNDBUF are set to (the kernel doubles it, after capping
 * it at net.core.rmem_max / wmem_max). Setting them also stops the kernel's
 * TCP autotuning, which would otherwise grow a socket's buffers up to
 * tcp_rmem[2] + tcp_wmem[2] (6 + 4 MiB by default) for a guest that reads
 * fast and then stops: times sockets=N, gigabytes charged to ringvm
 * (docs/SECURITY.md, "Worst-case memory"). 256 KiB keeps a window of about
 * 200 KiB per connection: full speed on local and LAN paths, about 30
 * Mbit/s per connection over a 50 ms path.
 */
#define USER_SOCK_BUF (256 << 10)

/* Who a guest flow is to libslirp: UDP sockets are found by the guest's address and port. */
struct user_flow_key {
	uint8_t af;			/* 4 or 6; 0 for none */
	uint8_t proto;			/* 6 TCP, 17 UDP, 1 ICMP */
	uint16_t port;			/* the guest's source port (UDP, TCP) */
	uint8_t addr[16];		/* the guest's source address */
};

/* One host socket libslirp holds, by fd number. */
struct user_sock {
	bool live;
	bool guest;			/* opened for a guest flow: counted against the cap */
	struct user_flow_key key;
};

struct user_flows {
	struct user_sock *sock;		/* by fd, grown on demand */
	size_t len;
	unsigned guest;			/* live sockets of guest flows */
	unsigned host;			/* live sockets the host side opened (forwards) */
	unsigned cap;
	unsigned long refused;		/* new guest flows dropped at the cap */
	struct user_flow_key cur;	/* the guest frame being input */
	bool in_input;
};

/* user_flows_init: no socket yet, a cap of `cap` guest sockets. */
void user_flows_init(struct user_flows *fl, unsigned cap);

/* user_flows_fini: release the table. */
void user_flows_fini(struct user_flows *fl);

/*
 * user_flows_admit: decide on one guest Ethernet frame before libslirp
 * sees it. Returns true to pass it (then call user_flows_input_done after
 * slirp_input), false to drop it: it would open a socket beyond the cap.
 */
bool user_flows_admit(struct user_flows *fl, const uint8_t *frame, size_t len);

/* user_flows_input_done: the admitted frame went through libslirp. */
void user_flows_input_done(struct user_flows *fl);

/*
 * user_flows_register, user_flows_unregister: libslirp opened or closed
 * socket `fd`. Calls for fds below 0, repeated registrations and
 * unregistrations of fds never registered (libslirp's port-forward
 * listeners) change nothing. Returns -ENOMEM when the table cannot grow
 * (the socket is then not counted; libslirp's own limits still apply).
 */
int user_flows_register(struct user_flows *fl, int fd);
void user_flows_unregister(struct user_flows *fl, int fd);

/*
 * user_flows_cap_buffers: set socket fd's receive and send buffers to
 * USER_SOCK_BUF (locked: no autotuning). Returns 0 or -errno.
 */
int user_flows_cap_buffers(int fd);

#endif
