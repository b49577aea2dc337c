/*
 * slirp.c: the "user" network backend: libslirp's user-mode TCP/IP stack
 * (NAT, DHCP, DNS forwarding, port forwards), run inside the VM's libev
 * loop with no extra thread and no lock. Needs no privilege.
 *
 * How libslirp is driven (libev's documented way to embed a poll-style
 * library): an ev_prepare watcher asks slirp which sockets it wants
 * (slirp_pollfds_fill) and keeps one ev_io watcher per socket; an ev_check
 * watcher hands the readiness those watchers saw back to slirp
 * (slirp_pollfds_poll). slirp's TCP timers become one ev_timer that is armed
 * only while slirp has timer work, so an idle stack causes no wakeups; its
 * own timers (IPv6 router advertisements) are ev_timers too. While any TCP
 * socket exists (a hostfwd listener counts) slirp's slow timer wakes the
 * loop twice a second, as in QEMU; with ipv6=on a router advertisement
 * goes out every 200-600 s.
 *
 * slirp pushes frames to the guest through a callback and cannot be told to
 * wait, so frames the device cannot take go into a queue capped at
 * NET_RXQ_MAX_FRAMES frames and NET_RXQ_MAX_BYTES bytes; beyond it they are
 * dropped and counted (HOSTILE.md N7, seed XSA-300). While the queue is full
 * slirp's sockets are not read at all, so host peers are pushed back by
 * their own socket buffers instead of being read and dropped.
 *
 * Functions here are prefixed user_ (the backend's name): libslirp owns the
 * slirp_ prefix.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>

#include <ev.h>
#include <slirp/libslirp.h>

#include "log.h"
#include "netbackend.h"
#include "slirp_flows.h"
#include "slirp_opts.h"
#include "tcp_guard.h"

#define USER_ETH_HLEN 14
/*
 * slirp_pollfds_fill never asks for more than 1000 ms, even with no timer
 * work at all; it asks for 499 ms (slow TCP/IP timers) or 2 ms (delayed
 * ACKs) when it has some. A timeout of 1000 ms or more therefore means
 * "idle": no timer is armed and the loop sleeps until a socket or the guest
 * wakes it.
 */
#define USER_IDLE_TIMEOUT_MS 1000
/*
 * Connections accepted through port forwards that the TCP guard follows
 * beyond the guest's own (sockets=N); and the fds ringvm keeps for itself
 * (KVM, vCPUs, eventfds, disks, io_uring) when it sizes RLIMIT_NOFILE.
 */
#define USER_FWD_CONNS 64
#define USER_OWN_FDS 256

/* The watcher for one host socket slirp polls, indexed by its fd number. */
struct user_fdw {
	ev_io io;
	struct user *u;
	int fd;
	int want;		/* EV_READ|EV_WRITE asked for in this round */
	int armed;		/* the events io is started with; 0 when stopped */
	int got;		/* events seen since the last slirp_pollfds_poll */
	struct user_fdw *next_ready;	/* the ready list, while got != 0 */
	unsigned round;		/* the fill round that last asked for this fd */
	bool listed;		/* in user.active */
};

/* One of slirp's own timers (timer_new_opaque). */
struct user_timer {
	ev_timer t;
	struct user *u;
	SlirpTimerId id;
	void *cb_opaque;
	struct user_timer *next;
};

struct user_frame {
	uint8_t *buf;
	size_t len;
};

struct user {
	struct net_backend *nb;
	Slirp *slirp;
	unsigned mtu;
	struct log_once frag_log;	/* IPv4 fragments dropped before libslirp */
	struct tcp_guard guard;		/* bounds what guest TCP makes libslirp hold */
	struct log_once guard_log;
	struct user_flows flows;	/* the host sockets the guest holds, capped (F-1) */
	struct log_once flows_log;
	bool refill;		/* slirp ran since the last slirp_pollfds_fill */
	struct user_fdw *ready;	/* watchers that saw events since the last poll */
	ev_prepare prepare;	/* slirp_pollfds_fill */
	ev_check check;		/* slirp_pollfds_poll */
	ev_timer poll_timer;	/* slirp's TCP timers; armed only when it has work */
	bool poll_due;		/* poll_timer fired or guest input came since the last poll */
	unsigned round;		/* counts fill rounds */
	struct user_fdw **fdw;	/* by fd; bounded by the highest fd (RLIMIT_NOFILE) */
	size_t fdw_len;
	int *active;		/* fds with listed watchers */
	size_t nactive, active_cap;
	struct user_timer *timers;
	/* The RX queue: a ring of frames the device could not take yet. */
	struct user_frame q[NET_RXQ_MAX_FRAMES];
	unsigned q_head, q_count;
	size_t q_bytes;
	bool rx_on;		/* the device takes frames (false until rx_resume) */
	bool draining;		/* inside user_rx_resume */
	uint8_t *tx_buf;	/* NET_FRAME_MAX: slirp_input takes a flat frame */
	struct log_once guest_err;
	struct log_once fd_err;
};


static uint64_t user_now_ms(const struct user *u);

/* --- the RX queue (slirp to guest) --- */

/* user_rxq_full: no room for one more frame of the largest size slirp sends. */
static bool user_rxq_full(const struct user *u)
{
	return u->q_count == NET_RXQ_MAX_FRAMES ||
	    u->q_bytes + u->mtu + USER_ETH_HLEN > NET_RXQ_MAX_BYTES;
}

/* user_deliver: offer one frame to the device. Returns false on -EAGAIN (rx stops). */
static bool user_deliver(struct user *u, const uint8_t *buf, size_t len)
{
	struct net_backend *nb = u->nb;
	int r = nb->rx ? nb->rx(nb->owner, buf, len) : -EAGAIN;

	if (r == -EAGAIN) {
		u->rx_on = false;
		return false;
	}
	nb->stats.rx_frames++;
	nb->stats.rx_bytes += len;
	return true;
}

/*
 * user_send_packet: slirp's send_packet: a frame for the guest. Delivered
 * at once when the device takes frames and nothing is queued before it;
 * queued otherwise, within NET_RXQ_MAX_FRAMES and NET_RXQ_MAX_BYTES; dropped
 * and counted beyond. Returns len, as slirp expects ("sent or dropped").
 */
static ssize_t user_send_packet(const void *buf, size_t len, void *opaque)
{
	struct user *u = opaque;
	struct user_frame *f;

	/* Bounds the device relies on; slirp should never break them. */
	if (len < USER_ETH_HLEN || len > NET_FRAME_MAX) {
		u->nb->stats.rx_dropped++;
		return (ssize_t)len;
	}
	/* The guard follows the host side too: a reset or FIN ends a connection. */
	tcp_guard_host(&u->guard, buf, len, user_now_ms(u));
	if (u->rx_on && u->q_count == 0 && user_deliver(u, buf, len))
		return (ssize_t)len;
	/* The caps are what keeps a flood the guest never drains from growing (N7). */
	if (u->q_count == NET_RXQ_MAX_FRAMES || u->q_bytes + len > NET_RXQ_MAX_BYTES) {
		u->nb->stats.rx_dropped++;
		return (ssize_t)len;
	}
	f = &u->q[(u->q_head + u->q_count) % NET_RXQ_MAX_FRAMES];
	f->buf = malloc(len);
	if (!f->buf) {
		u->nb->stats.rx_dropped++;
		return (ssize_t)len;
	}
	memcpy(f->buf, buf, len);
	f->len = len;
	u->q_count++;
	u->q_bytes += len;
	return (ssize_t)len;
}

/* user_rxq_pop: free the oldest queued frame. */
static void user_rxq_pop(struct user *u)
{
	struct user_frame *f = &u->q[u->q_head];

	u->q_bytes -= f->len;
	free(f->buf);
	f->buf = NULL;
	f->len = 0;
	u->q_head = (u->q_head + 1) % NET_RXQ_MAX_FRAMES;
	u->q_count--;
	/* Room again: sockets may be read (user_add_poll), so fill anew. */
	u->refill = true;
}

/* --- libslirp callbacks --- */

static void user_guest_error(const char *msg, void *opaque)
{
	struct user *u = opaque;

	log_guest(&u->guest_err, "user: guest error: %s", msg);
}

/* user_clock_ns: slirp's clock: CLOCK_MONOTONIC in nanoseconds. */
static int64_t user_clock_ns(void *opaque)
{
	struct timespec ts;

	(void)opaque;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * user_now_ms: the loop's time of this iteration in milliseconds, for the
 * TCP guard, which asks for every frame each way: libev keeps it, so no
 * clock read per frame (its timeouts are minutes; a loop iteration is not).
 */
static uint64_t user_now_ms(const struct user *u)
{
	return (uint64_t)(ev_now(u->nb->ev) * 1000.);
}

static void user_on_timer(struct ev_loop *ev, ev_timer *w, int revents)
{
	struct user_timer *t = w->data;

	(void)ev;
	(void)revents;
	slirp_handle_timer(t->u->slirp, t->id, t->cb_opaque);
	t->u->refill = true;
}

/* user_timer_new: one of slirp's own timers (IPv6 router advertisements), unarmed. */
static void *user_timer_new(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct user *u = opaque;
	struct user_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->u = u;
	t->id = id;
	t->cb_opaque = cb_opaque;
	ev_timer_init(&t->t, user_on_timer, 0., 0.);
	t->t.data = t;
	t->next = u->timers;
	u->timers = t;
	return t;
}

static void user_timer_free(void *timer, void *opaque)
{
	struct user *u = opaque;
	struct user_timer *t = timer, **pp;

	if (!t)
		return;
	ev_timer_stop(u->nb->ev, &t->t);
	for (pp = &u->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	free(t);
}

/* user_timer_mod: arm a timer to fire at `expire_ms` on user_clock_ns's scale. */
static void user_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct user *u = opaque;
	struct user_timer *t = timer;
	int64_t delay_ms;

	if (!t)
		return;
	delay_ms = expire_ms - user_clock_ns(u) / 1000000;
	ev_timer_stop(u->nb->ev, &t->t);
	ev_timer_set(&t->t, delay_ms > 0 ? (double)delay_ms / 1000. : 0., 0.);
	ev_timer_start(u->nb->ev, &t->t);
}

/* user_fdw_find: the watcher slot for fd, or NULL when none was made. */
static struct user_fdw *user_fdw_find(struct user *u, int fd)
{
	if (fd < 0 || (size_t)fd >= u->fdw_len)
		return NULL;
	return u->fdw[fd];
}

/*
 * user_forget_fd: stop watching fd. libev must not keep polling a closed
 * fd: its number may come back as another socket, which then has to be
 * registered with the kernel afresh (ev_io_set does that on restart).
 */
static void user_forget_fd(struct user *u, int fd)
{
	struct user_fdw *w = user_fdw_find(u, fd);

	if (!w)
		return;
	ev_io_stop(u->nb->ev, &w->io);
	w->armed = 0;
	w->got = 0;
}

/*
 * user_register_fd: slirp opened socket fd: count it (F-1), bound its
 * kernel buffers (USER_SOCK_BUF); a stale watcher goes.
 */
static void user_register_fd(int fd, void *opaque)
{
	struct user *u = opaque;
	int r;

	user_forget_fd(u, fd);
	if (user_flows_register(&u->flows, fd))
		log_guest(&u->fd_err, "user: out of memory counting sockets");
	if (fd >= 0 && (r = user_flows_cap_buffers(fd)) < 0)
		log_guest(&u->fd_err, "user: cannot bound a socket's buffers: %s", strerror(-r));
}

/* user_unregister_fd: slirp is closing socket fd. */
static void user_unregister_fd(int fd, void *opaque)
{
	struct user *u = opaque;

	user_forget_fd(u, fd);
	user_flows_unregister(&u->flows, fd);
}

/* user_notify: slirp runs only in this thread, so the loop is awake already. */
static void user_notify(void *opaque)
{
	(void)opaque;
}

static const SlirpCb user_callbacks = {
	.send_packet = user_send_packet,
	.guest_error = user_guest_error,
	.clock_get_ns = user_clock_ns,
	.timer_free = user_timer_free,
	.timer_mod = user_timer_mod,
	.register_poll_fd = user_register_fd,
	.unregister_poll_fd = user_unregister_fd,
	.notify = user_notify,
	.timer_new_opaque = user_timer_new,
};

/* --- the loop: fds, prepare and check --- */

/*
 * user_on_fd: record readiness for the check watcher, which runs after
 * every fd callback of the iteration (it has the lowest priority); slirp
 * acts on it there. Only ready watchers are listed, so the check costs
 * nothing per socket when none is ready.
 */
static void user_on_fd(struct ev_loop *ev, ev_io *io, int revents)
{
	struct user_fdw *w = io->data;

	(void)ev;
	if (!w->got) {
		w->next_ready = w->u->ready;
		w->u->ready = w;
	}
	w->got |= revents;
	/* libev stopped a watcher it could not register; start it again next round. */
	if (revents & EV_ERROR) {
		w->armed = 0;
		w->u->refill = true;
	}
}

/* user_fdw_get: the watcher for fd, made on first use. NULL when out of memory. */
static struct user_fdw *user_fdw_get(struct user *u, int fd)
{
	struct user_fdw *w;

	if ((size_t)fd >= u->fdw_len) {
		size_t len = u->fdw_len ? u->fdw_len : 16;
		struct user_fdw **n;

		while (len <= (size_t)fd)
			len *= 2;
		/* An array of pointers: active ev_io watchers must never move. */
		n = realloc(u->fdw, len * sizeof(*n));
		if (!n)
			return NULL;
		memset(n + u->fdw_len, 0, (len - u->fdw_len) * sizeof(*n));
		u->fdw = n;
		u->fdw_len = len;
	}
	if (!u->fdw[fd]) {
		w = calloc(1, sizeof(*w));
		if (!w)
			return NULL;
		w->u = u;
		w->fd = fd;
		ev_io_init(&w->io, user_on_fd, fd, EV_READ);
		w->io.data = w;
		u->fdw[fd] = w;
	}
	return u->fdw[fd];
}

/*
 * user_add_poll: slirp_pollfds_fill's callback: slirp wants `events` on fd
 * this round. Returns the index slirp passes to user_get_revents (the fd),
 * or -1 when the fd is not watched this round.
 */
static int user_add_poll(int fd, int events, void *opaque)
{
	struct user *u = opaque;
	struct user_fdw *w;
	int want = 0;

	/*
	 * Nothing read from a host socket can reach a guest whose queue is
	 * full: leave the data in the kernel (bounded by its socket buffers)
	 * rather than read it only to drop it (HOSTILE.md N7, S1).
	 */
	if ((events & SLIRP_POLL_IN) && !user_rxq_full(u))
		want |= EV_READ;
	if (events & SLIRP_POLL_OUT)
		want |= EV_WRITE;
	/* PRI, ERR and HUP have no libev event; epoll reports them as read/write readiness. */
	if (fd < 0 || want == 0)
		return -1;
	w = user_fdw_get(u, fd);
	if (w && !w->listed && u->nactive == u->active_cap) {
		size_t cap = u->active_cap ? u->active_cap * 2 : 16;
		int *n = realloc(u->active, cap * sizeof(*n));

		if (!n) {
			w = NULL;
		} else {
			u->active = n;
			u->active_cap = cap;
		}
	}
	if (!w) {
		log_guest(&u->fd_err, "user: out of memory watching a socket; it stalls");
		return -1;
	}
	if (w->round != u->round) {
		w->round = u->round;
		w->want = 0;
	}
	w->want |= want;
	if (!w->listed) {
		w->listed = true;
		u->active[u->nactive++] = fd;
	}
	return fd;
}

/* user_get_revents: slirp_pollfds_poll's callback: what fd `idx` saw. */
static int user_get_revents(int idx, void *opaque)
{
	struct user_fdw *w = user_fdw_find(opaque, idx);
	int r = 0;

	if (!w)
		return 0;
	if (w->got & EV_READ)
		r |= SLIRP_POLL_IN;
	if (w->got & EV_WRITE)
		r |= SLIRP_POLL_OUT;
	if (w->got & EV_ERROR)
		r |= SLIRP_POLL_ERR;
	return r;
}

/*
 * user_on_prepare: before the loop sleeps: ask slirp which sockets it
 * wants, start, change or stop their watchers, and arm poll_timer only when
 * slirp has timer work.
 */
static void user_on_prepare(struct ev_loop *ev, ev_prepare *pw, int revents)
{
	struct user *u = pw->data;
	uint32_t timeout = UINT32_MAX;
	size_t keep = 0;

	(void)revents;
	/*
	 * Guest input arrived after this iteration's check ran: let slirp send
	 * what it held back (frames waiting for the guest's ARP reply leave only
	 * from slirp_pollfds_poll) before the loop sleeps.
	 */
	if (u->poll_due) {
		u->poll_due = false;
		slirp_pollfds_poll(u->slirp, 0, user_get_revents, u);
		u->refill = true;
	}
	/*
	 * Refill only when slirp ran since the last fill (or the RX queue's
	 * room changed): otherwise its wishes and its timers are as they
	 * were, and a loop iteration woken by anything else (a vCPU exit, a
	 * disk completion) costs the same with no socket and with thousands
	 * (F-1).
	 */
	if (!u->refill)
		return;
	u->refill = false;
	u->round++;
	slirp_pollfds_fill(u->slirp, &timeout, user_add_poll, u);
	for (size_t i = 0; i < u->nactive; i++) {
		int fd = u->active[i];
		struct user_fdw *w = u->fdw[fd];

		if (w->round != u->round || w->want == 0) {
			ev_io_stop(ev, &w->io);
			w->armed = 0;
			w->got = 0;
			w->listed = false;
			continue;
		}
		if (w->armed != w->want) {
			ev_io_stop(ev, &w->io);
			ev_io_set(&w->io, fd, w->want);
			ev_io_start(ev, &w->io);
			w->armed = w->want;
		}
		u->active[keep++] = fd;
	}
	u->nactive = keep;
	if (timeout >= USER_IDLE_TIMEOUT_MS) {
		ev_timer_stop(ev, &u->poll_timer);
	} else {
		double after = (double)timeout / 1000.;

		/* Never push an armed deadline back, or a busy loop would starve slirp's timers. */
		if (!ev_is_active(&u->poll_timer) || ev_timer_remaining(ev, &u->poll_timer) > after) {
			ev_timer_stop(ev, &u->poll_timer);
			ev_timer_set(&u->poll_timer, after, 0.);
			ev_timer_start(ev, &u->poll_timer);
		}
	}
}

static void user_on_poll_timer(struct ev_loop *ev, ev_timer *w, int revents)
{
	struct user *u = w->data;

	(void)ev;
	(void)revents;
	u->poll_due = true;
}

/* user_poll: let slirp act on the listed readiness; then the list is empty. */
static void user_poll(struct user *u)
{
	u->poll_due = false;
	slirp_pollfds_poll(u->slirp, 0, user_get_revents, u);
	u->refill = true;
	while (u->ready) {
		struct user_fdw *w = u->ready;

		u->ready = w->next_ready;
		w->next_ready = NULL;
		w->got = 0;
	}
}

/*
 * user_on_check: after the loop woke and every other callback of the
 * iteration ran (lowest priority): when a socket was ready or slirp's
 * timer is due, let slirp act. Otherwise slirp is not called, and nothing
 * is walked: the cost does not depend on how many sockets slirp holds.
 */
static void user_on_check(struct ev_loop *ev, ev_check *cw, int revents)
{
	struct user *u = cw->data;

	(void)revents;
	if (ev_clear_pending(ev, &u->poll_timer))
		u->poll_due = true;
	if (u->poll_due || u->ready)
		user_poll(u);
}

/* --- the backend ops --- */

/* user_free: release everything; slirp first, since its cleanup calls back into us. */
static void user_free(struct user *u)
{
	struct ev_loop *ev = u->nb->ev;

	if (u->slirp)
		slirp_cleanup(u->slirp);
	u->slirp = NULL;
	ev_prepare_stop(ev, &u->prepare);
	ev_check_stop(ev, &u->check);
	ev_timer_stop(ev, &u->poll_timer);
	for (size_t fd = 0; fd < u->fdw_len; fd++) {
		if (u->fdw[fd]) {
			ev_io_stop(ev, &u->fdw[fd]->io);
			free(u->fdw[fd]);
		}
	}
	free(u->fdw);
	free(u->active);
	while (u->timers)
		user_timer_free(u->timers, u);
	while (u->q_count)
		user_rxq_pop(u);
	free(u->tx_buf);
	tcp_guard_fini(&u->guard);
	if (u->flows.refused)
		log_warnx("user: %lu new guest flows dropped at the cap of %u host sockets",
		    u->flows.refused, u->flows.cap);
	user_flows_fini(&u->flows);
	free(u);
}

/*
 * user_reserve_fds: make RLIMIT_NOFILE hold the guest's sockets on top of
 * what ringvm needs itself and the port forwards, raising the soft limit
 * toward the hard one when needed, so that a guest at its cap never makes
 * one of ringvm's own opens fail. Returns 0, or -EMFILE with a reason.
 */
static int user_reserve_fds(unsigned sockets, char *err, size_t errlen)
{
	rlim_t need = (rlim_t)USER_OWN_FDS + USER_HOSTFWD_MAX + USER_FWD_CONNS + sockets;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
			snprintf(err, errlen, "sockets=%u needs %llu file descriptors; the limit "
			    "is %llu (ulimit -n, or a smaller sockets=)", sockets,
			    (unsigned long long)need, (unsigned long long)rl.rlim_max);
			return -EMFILE;
		}
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			snprintf(err, errlen, "cannot raise the file descriptor limit to %llu: %s",
			    (unsigned long long)need, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* user_start_slirp: create the stack from o and add the forwards. */
static int user_start_slirp(struct user *u, const struct user_opts *o, char *err, size_t errlen)
{
	SlirpConfig cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.version = 4;		/* timer_new_opaque */
	cfg.restricted = o->restricted;
	cfg.in_enabled = true;
	cfg.vnetwork = o->net;
	cfg.vnetmask = o->mask;
	cfg.vhost = o->host;
	cfg.vdhcp_start = o->dhcp;
	cfg.vnameserver = o->dns;
	cfg.in6_enabled = o->ipv6;
	/* IPv6 as QEMU: fec0::/64, host fec0::2, DNS fec0::3. */
	inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
	cfg.vprefix_len = 64;
	inet_pton(AF_INET6, "fec0::2", &cfg.vhost6);
	inet_pton(AF_INET6, "fec0::3", &cfg.vnameserver6);
	cfg.vhostname = o->hostname[0] ? o->hostname : NULL;
	cfg.if_mtu = o->mtu;
	cfg.if_mru = o->mtu;
	/* tcp_emu parses guest payloads and has a CVE history (HOSTILE.md N9). */
	cfg.enable_emu = false;
	/* No TFTP server and no boot file: less guest-reachable parsing. */
	cfg.tftp_path = NULL;
	cfg.bootfile = NULL;
	u->slirp = slirp_new(&cfg, &user_callbacks, u);
	if (!u->slirp) {
		snprintf(err, errlen, "user: cannot create the slirp stack");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < o->nfwd; i++) {
		const struct user_fwd *f = &o->fwd[i];
		char a[INET_ADDRSTRLEN];
		int e;

		errno = 0;
		if (slirp_add_hostfwd(u->slirp, f->udp, f->host_addr, f->host_port,
		    f->guest_addr, f->guest_port) == 0)
			continue;
		e = errno ? errno : EADDRINUSE;
		inet_ntop(AF_INET, &f->host_addr, a, sizeof(a));
		snprintf(err, errlen, "hostfwd %s %s:%d: cannot listen: %s",
		    f->udp ? "udp" : "tcp", a, f->host_port, strerror(e));
		return -e;
	}
	return 0;
}

/* user_check: the options alone; ports are bound by user_open. */
static int user_check(const char *opts, char *err, size_t errlen)
{
	struct user_opts o;

	return user_parse(opts, &o, err, errlen);
}

/*
 * user_open: parse the options, start slirp and its loop watchers. Returns
 * 0, or -errno with a reason in err (-EINVAL: bad options; -EADDRINUSE and
 * others: a hostfwd could not listen).
 */
static int user_open(struct net_backend *nb, struct ev_loop *ev, const char *opts,
    char *err, size_t errlen)
{
	struct user_opts *o;
	struct user *u;
	int r;

	nb->ev = ev;
	nb->priv = NULL;
	nb->vnet_hdr_len = 0;
	o = malloc(sizeof(*o));
	if (!o) {
		snprintf(err, errlen, "user: out of memory");
		return -ENOMEM;
	}
	r = user_parse(opts ? opts : "", o, err, errlen);
	if (r < 0) {
		free(o);
		return r;
	}
	r = user_reserve_fds(o->sockets, err, errlen);
	if (r < 0) {
		free(o);
		return r;
	}
	/* The guest's flows, what port forwards accept, and their listeners' spare. */
	nb->runtime_fds = o->sockets + USER_FWD_CONNS + USER_HOSTFWD_MAX;
	/* libslirp reads the host's DNS server from here when the guest asks 10.0.2.3. */
	nb->runtime_path = "/etc/resolv.conf";
	u = calloc(1, sizeof(*u));
	if (!u || !(u->tx_buf = malloc(NET_FRAME_MAX)) ||
	    tcp_guard_init(&u->guard, o->sockets + USER_FWD_CONNS)) {
		if (u)
			free(u->tx_buf);
		free(u);
		free(o);
		snprintf(err, errlen, "user: out of memory");
		return -ENOMEM;
	}
	u->nb = nb;
	u->mtu = o->mtu;
	nb->mtu = o->mtu;
	nb->link_up = true;
	user_flows_init(&u->flows, o->sockets);
	u->refill = true;
	ev_prepare_init(&u->prepare, user_on_prepare);
	u->prepare.data = u;
	/* Fill last, after other prepare watchers may have fed slirp frames. */
	ev_set_priority(&u->prepare, EV_MINPRI);
	ev_check_init(&u->check, user_on_check);
	u->check.data = u;
	/* After the fd callbacks of the iteration, which only list readiness. */
	ev_set_priority(&u->check, EV_MINPRI);
	ev_timer_init(&u->poll_timer, user_on_poll_timer, 0., 0.);
	u->poll_timer.data = u;
	r = user_start_slirp(u, o, err, errlen);
	free(o);
	if (r < 0) {
		user_free(u);
		return r;
	}
	ev_prepare_start(ev, &u->prepare);
	ev_check_start(ev, &u->check);
	nb->priv = u;
	return 0;
}

/*
 * user_send: hand one guest frame to slirp (copied flat first). Never
 * -EAGAIN: slirp takes or drops everything at once.
 */
static int user_send(struct net_backend *nb, const struct iovec *iov, int iovcnt, size_t len)
{
	struct user *u = nb->priv;
	size_t off = 0;

	/* Check, don't trust, the caller's bounds: tx_buf holds NET_FRAME_MAX. */
	if (len < USER_ETH_HLEN || len > NET_FRAME_MAX) {
		nb->stats.tx_dropped++;
		return 0;
	}
	for (int i = 0; i < iovcnt && off < len; i++) {
		size_t n = iov[i].iov_len < len - off ? iov[i].iov_len : len - off;

		memcpy(u->tx_buf + off, iov[i].iov_base, n);
		off += n;
	}
	if (off != len) {
		nb->stats.tx_dropped++;
		return 0;
	}
	/*
	 * IPv4 fragments never reach libslirp: Debian's libslirp 4.7.0 crashes
	 * (SIGBUS in its reassembly path) on a lone trailing fragment a guest
	 * can send (found by tests/fuzz/fuzz_slirp.c). At this link's MTU a
	 * guest fragments only UDP datagrams larger than the MTU.
	 */
	if (len >= USER_ETH_HLEN + 20 && u->tx_buf[12] == 0x08 && u->tx_buf[13] == 0x00 &&
	    ((u->tx_buf[USER_ETH_HLEN + 6] & 0x3f) || u->tx_buf[USER_ETH_HLEN + 7])) {
		nb->stats.tx_dropped++;
		log_guest(&u->frag_log, "user: guest sent IPv4 fragments; dropped (not "
		    "passed to libslirp)");
		return 0;
	}
	/* A new flow beyond sockets=N would be one host socket too many (F-1). */
	if (!user_flows_admit(&u->flows, u->tx_buf, len)) {
		nb->stats.tx_dropped++;
		log_guest(&u->flows_log, "user: the guest holds %u host sockets (sockets=%u); "
		    "new flows are dropped", u->flows.guest, u->flows.cap);
		return 0;
	}
	/*
	 * libslirp keeps every out-of-order TCP segment, uncapped, and walks
	 * them on each insert (issue 14, C1): the guard passes a few per
	 * connection.
	 */
	if (!tcp_guard_guest(&u->guard, u->tx_buf, len, user_now_ms(u))) {
		user_flows_input_done(&u->flows);
		nb->stats.tx_dropped++;
		log_guest(&u->guard_log, "user: guest TCP segment dropped (out of order beyond "
		    "%d per connection or %d in all, or more than %u connections)",
		    TCP_GUARD_OOO_PER_FLOW, TCP_GUARD_OOO_TOTAL, u->guard.cap);
		return 0;
	}
	nb->stats.tx_frames++;
	nb->stats.tx_bytes += len;
	slirp_input(u->slirp, u->tx_buf, (int)len);
	user_flows_input_done(&u->flows);
	/* Poll before the loop sleeps again, as QEMU's loop does after each event. */
	u->poll_due = true;
	return 0;
}

/* user_rx_flush: the device was reset: the queued frames were for the old driver. */
static void user_rx_flush(struct net_backend *nb)
{
	struct user *u = nb->priv;

	if (!u)
		return;
	nb->stats.rx_dropped += u->q_count;
	while (u->q_count)
		user_rxq_pop(u);
	u->rx_on = false;	/* until the new driver's buffers: rx_resume */
}

/*
 * user_rx_resume: the device has guest buffers: deliver queued frames in
 * order until it says -EAGAIN again. Socket reads resume at the next
 * prepare, once the queue has room.
 */
static void user_rx_resume(struct net_backend *nb)
{
	struct user *u = nb->priv;

	if (!u)
		return;
	u->rx_on = true;
	/* A resume from inside rx() must not deliver out of order. */
	if (u->draining)
		return;
	u->draining = true;
	while (u->q_count && u->rx_on) {
		struct user_frame *f = &u->q[u->q_head];

		if (!user_deliver(u, f->buf, f->len))
			break;
		user_rxq_pop(u);
	}
	u->draining = false;
}

static void user_close(struct net_backend *nb)
{
	if (!nb->priv)
		return;
	user_free(nb->priv);
	nb->priv = NULL;
}

const struct net_backend_ops net_user_ops = {
	.name = "user",
	.summary = "user-mode TCP/IP, no privilege needed",
	.help = "    hostfwd=tcp|udp:[HOSTADDR]:PORT-[GUESTADDR]:PORT  forward (repeatable)\n"
	    "    restrict=on|off  keep the guest from the host and outside (default off)\n"
	    "    net=ADDR/PREFIX  the guest network (default 10.0.2.0/24)\n"
	    "    ipv6=on|off      IPv6 too (default on)\n"
	    "    hostname=NAME    the host name DHCP offers the guest\n"
	    "    mtu=BYTES        the link MTU, 1280 to 65521 (default 16384)\n"
	    "    sockets=N        host sockets the guest's flows may hold (default 256)\n",
	.open = user_open,
	.check = user_check,
	.send = user_send,
	.rx_resume = user_rx_resume,
	.rx_flush = user_rx_flush,
	.set_offload = NULL,
	.close = user_close,
};
