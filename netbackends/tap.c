/*
 * tap.c: the "tap" network backend: Ethernet frames to and from a Linux TAP
 * interface through /dev/net/tun, in the loop thread. With vnet_hdr=on the
 * kernel and the guest exchange virtio-net headers, so checksum and
 * segmentation offloads pass through untouched.
 *
 * Flow control (HOSTILE.md N7, N8): the read watcher runs only while the
 * device has guest buffers; a frame the device refuses is kept in the one
 * receive buffer and nothing more is read until rx_resume(). A write that
 * would block arms a write watcher and reports -EAGAIN; tx_ready() follows
 * when the fd is writable again. Nothing is queued on the host side.
 *
 * Options: ifname=NAME attaches to an existing interface (the usual way, no
 * privilege needed when the interface belongs to the user); without it a
 * new interface with a kernel-chosen name is created, which needs
 * CAP_NET_ADMIN. fd=N uses a TAP descriptor a privileged parent opened and
 * attached (as libvirt does), so ringvm itself needs no privilege and opens
 * nothing; the descriptor's own IFF_VNET_HDR then decides vnet_hdr (without
 * it: no offloads). vnet_hdr=on|off (default on).
 *
 * Inherited descriptors: tap_inherited_fd (the ops' inherited_fd hook) gives
 * the N of fd=N from the option string, so that whoever closes stray
 * inherited descriptors at start keeps it. Through the device table:
 * devinst_inherited_fds(cfg, ...) lists every instance's (src/devinst.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include <ev.h>

#include "log.h"
#include "netbackend.h"
#include "tap_opts.h"

/* Every checksum and segmentation offload: TAP with IFF_VNET_HDR carries them all. */
#define TAP_OFFLOADS (1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_GUEST_CSUM | \
	1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_HOST_TSO6 | \
	1ull << VIRTIO_NET_F_HOST_ECN | 1ull << VIRTIO_NET_F_GUEST_TSO4 | \
	1ull << VIRTIO_NET_F_GUEST_TSO6 | 1ull << VIRTIO_NET_F_GUEST_ECN)

#define TAP_ETH_HLEN 14		/* the shortest frame worth passing on */
#define TAP_VNET_HDR_LEN 12	/* struct virtio_net_hdr_mrg_rxbuf (virtio 1.0) */
#define TAP_RX_BUDGET 64	/* frames read per wakeup (HOSTILE.md S1) */

/* The hint printed when an interface is missing or not the user's. */
#define TAP_HINT "create it with 'ip tuntap add %s mode tap user $USER'"

struct tap {
	struct net_backend *nb;
	int fd;
	char ifname[IFNAMSIZ];	/* given or chosen by the kernel */
	ev_io rx_watcher;	/* EV_READ; active only while the guest has buffers */
	ev_io tx_watcher;	/* EV_WRITE; active only after a write said EAGAIN */
	uint8_t *rx_buf;	/* one frame: vnet header + NET_FRAME_MAX */
	size_t rx_buf_len;
	size_t rx_pending;	/* bytes of a frame the device refused; 0 if none */
	bool rx_dead;		/* a hard read error stopped receiving for good */
	struct log_once tx_err;	/* host write errors: one line, then counted */
};

/*
 * tap_check_up: ENETDOWN when the interface exists but is administratively
 * down; frames written to it would vanish without a trace. 0 otherwise
 * (including when the flags cannot be read: the attach itself succeeded).
 */
static int tap_check_up(const char *ifname)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (s < 0)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP))
		r = -ENETDOWN;
	close(s);
	return r;
}

/*
 * tap_attach: open /dev/net/tun and attach to (or create) the interface.
 * Returns 0 with t->fd and t->ifname set, or -errno with a reason in err.
 */
static int tap_attach(struct tap *t, const struct tap_opts *o, char *err, size_t errlen)
{
	struct ifreq ifr;
	int e;

	/* Attach, don't administer: a named interface must exist already. */
	if (o->ifname[0] && if_nametoindex(o->ifname) == 0) {
		snprintf(err, errlen, "tap '%s': no such interface (" TAP_HINT ")",
		    o->ifname, o->ifname);
		return -ENOENT;
	}
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		e = errno;
		snprintf(err, errlen, "tap '%s': cannot open /dev/net/tun: %s",
		    o->ifname[0] ? o->ifname : "(new)", strerror(e));
		return -e;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (o->vnet_hdr ? IFF_VNET_HDR : 0);
	memcpy(ifr.ifr_name, o->ifname, strlen(o->ifname));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		if (!o->ifname[0])
			snprintf(err, errlen, "tap: cannot create an interface: %s (needs "
			    "CAP_NET_ADMIN; or " TAP_HINT " and use ifname=tap0)",
			    strerror(e), "tap0");
		else if (e == EPERM || e == EACCES)
			snprintf(err, errlen, "tap '%s': cannot attach: %s (" TAP_HINT ")",
			    o->ifname, strerror(e), o->ifname);
		else if (e == EINVAL)
			snprintf(err, errlen, "tap '%s': cannot attach: %s (is it a tun or "
			    "multi_queue interface? it must be a plain tap)",
			    o->ifname, strerror(e));
		else if (e == EBUSY)
			snprintf(err, errlen, "tap '%s': cannot attach: %s (another "
			    "process has it open)", o->ifname, strerror(e));
		else
			snprintf(err, errlen, "tap '%s': cannot attach: %s", o->ifname,
			    strerror(e));
		return -e;
	}
	memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ - 1);
	t->ifname[IFNAMSIZ - 1] = '\0';
	return 0;
}

/*
 * tap_adopt: take over the descriptor fd=N names, checked again as at
 * parse time (it may have changed since): non-blocking (the loop must never
 * wait on it; the flag is the open file's, so the parent sees it too) and
 * close-on-exec (it must not leak into anything ringvm starts). Returns 0
 * with t->fd and t->ifname set, or -errno with a reason in err.
 */
static int tap_adopt(struct tap *t, struct tap_opts *o, char *err, size_t errlen)
{
	struct tap_fd_info info;
	int fl, r = tap_opts_probe_fd(o, &info, err, errlen);

	if (r < 0)
		return r;
	fl = fcntl(o->fd, F_GETFL);
	if (fl < 0 || fcntl(o->fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(o->fd, F_SETFD, FD_CLOEXEC) < 0) {
		r = -errno;
		snprintf(err, errlen, "fd %d: cannot make it non-blocking and close-on-exec: %s",
		    o->fd, strerror(-r));
		return r;
	}
	t->fd = o->fd;
	memcpy(t->ifname, info.ifname, IFNAMSIZ);
	return 0;
}

/*
 * tap_setup: the attached descriptor's state: the interface must be up
 * (unless ringvm created it), the header size set, offloads off.
 * Returns 0 or -errno with a reason in err.
 */
static int tap_setup(struct tap *t, const struct tap_opts *o, char *err, size_t errlen)
{
	int e;

	if ((o->ifname[0] || o->fd >= 0) && tap_check_up(t->ifname) < 0) {
		snprintf(err, errlen, "tap '%s': interface is down (bring it up with "
		    "'ip link set %s up')", t->ifname, t->ifname);
		return -ENETDOWN;
	}
	if (o->vnet_hdr) {
		int sz = TAP_VNET_HDR_LEN;

		if (ioctl(t->fd, TUNSETVNETHDRSZ, &sz) < 0) {
			e = errno;
			snprintf(err, errlen, "tap '%s': cannot set the virtio-net header "
			    "size: %s", t->ifname, strerror(e));
			return -e;
		}
	}
	/*
	 * No offloads until the guest negotiates them: a persistent interface
	 * may keep the offloads a previous user enabled, and the kernel would
	 * then hand us frames the guest did not agree to take.
	 */
	if (ioctl(t->fd, TUNSETOFFLOAD, 0UL) < 0) {
		e = errno;
		snprintf(err, errlen, "tap '%s': cannot reset offloads: %s", t->ifname,
		    strerror(e));
		return -e;
	}
	return 0;
}

/*
 * tap_offer: hand the `len` bytes in rx_buf to the device. Returns false when
 * the device has no guest buffer: the frame stays in rx_pending.
 */
static bool tap_offer(struct tap *t, size_t len)
{
	struct net_backend *nb = t->nb;
	int r;

	/* Runts cannot carry an Ethernet header; the device must never parse one. */
	if (len < nb->vnet_hdr_len + TAP_ETH_HLEN) {
		nb->stats.rx_dropped++;
		return true;
	}
	/* The kernel leaves num_buffers (bytes 10-11) unwritten: never pass on stale bytes. */
	if (nb->vnet_hdr_len == TAP_VNET_HDR_LEN)
		memset(t->rx_buf + 10, 0, 2);
	r = nb->rx ? nb->rx(nb->owner, t->rx_buf, len) : -EAGAIN;
	if (r == -EAGAIN) {
		t->rx_pending = len;
		return false;
	}
	nb->stats.rx_frames++;
	nb->stats.rx_bytes += len - nb->vnet_hdr_len;
	return true;
}

/*
 * tap_on_readable: read and offer up to TAP_RX_BUDGET frames. Stops the
 * watcher when the device refuses one (no spinning on a readable fd the
 * guest cannot drain) or when the fd fails for good.
 */
static void tap_on_readable(struct ev_loop *ev, ev_io *w, int revents)
{
	struct tap *t = w->data;

	(void)revents;
	for (unsigned i = 0; i < TAP_RX_BUDGET; i++) {
		ssize_t n = read(t->fd, t->rx_buf, t->rx_buf_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/*
			 * The interface was deleted or the fd broke: the fd stays
			 * "readable" forever, so stop watching it instead of spinning.
			 */
			if (n == 0)
				errno = EIO;
			log_warn("tap '%s': read failed; receiving stopped", t->ifname);
			t->rx_dead = true;
			ev_io_stop(ev, w);
			return;
		}
		if (!tap_offer(t, (size_t)n)) {
			ev_io_stop(ev, w);
			return;
		}
	}
	/* Budget spent: the level-triggered watcher brings us back next iteration. */
}

/* tap_on_writable: the fd can take frames again; tell the device once. */
static void tap_on_writable(struct ev_loop *ev, ev_io *w, int revents)
{
	struct tap *t = w->data;

	(void)revents;
	ev_io_stop(ev, w);
	if (t->nb->tx_ready)
		t->nb->tx_ready(t->nb->owner);
}

/* tap_check: the options alone; the interface is looked at by tap_open. */
static int tap_check(const char *opts, char *err, size_t errlen)
{
	struct tap_opts o;
	struct tap_fd_info info;
	int r = tap_opts_parse(opts, &o, err, errlen);

	/* fd=N: judged now, before anything is opened (it is inherited, not opened). */
	if (r == 0 && o.fd >= 0 && (r = tap_opts_probe_fd(&o, &info, err, errlen)) < 0)
		r = -EINVAL;
	return r;
}

/*
 * tap_open: parse the options, attach, allocate the receive buffer. Returns
 * 0, or -errno with a reason in err (-EINVAL: bad options; -ENOENT: no such
 * interface; -ENETDOWN: interface down; -EPERM: not allowed).
 */
static int tap_open(struct net_backend *nb, struct ev_loop *ev, const char *opts,
    char *err, size_t errlen)
{
	struct tap_opts o;
	struct tap *t;
	int r;

	nb->ev = ev;
	nb->priv = NULL;
	nb->vnet_hdr_len = 0;
	r = tap_opts_parse(opts ? opts : "", &o, err, errlen);
	if (r < 0)
		return r;
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "tap: out of memory");
		return -ENOMEM;
	}
	t->nb = nb;
	t->fd = -1;
	/* fd=N: o.vnet_hdr follows the descriptor's IFF_VNET_HDR once adopted. */
	r = o.fd >= 0 ? tap_adopt(t, &o, err, errlen) : tap_attach(t, &o, err, errlen);
	if (r == 0)
		r = tap_setup(t, &o, err, errlen);
	if (r < 0)
		goto fail;
	t->rx_buf_len = (o.vnet_hdr ? TAP_VNET_HDR_LEN : 0) + NET_FRAME_MAX;
	t->rx_buf = calloc(1, t->rx_buf_len);
	if (!t->rx_buf) {
		snprintf(err, errlen, "tap: out of memory");
		r = -ENOMEM;
		goto fail;
	}
	nb->vnet_hdr_len = o.vnet_hdr ? TAP_VNET_HDR_LEN : 0;
	nb->link_up = true;
	/* The kernel takes and gives every offload, given headers to say what was done. */
	nb->features = o.vnet_hdr ? TAP_OFFLOADS : 0;
	ev_io_init(&t->rx_watcher, tap_on_readable, t->fd, EV_READ);
	t->rx_watcher.data = t;
	ev_io_init(&t->tx_watcher, tap_on_writable, t->fd, EV_WRITE);
	t->tx_watcher.data = t;
	nb->priv = t;
	if (!o.ifname[0] && o.fd < 0)
		log_warnx("tap: using interface %s", t->ifname);
	return 0;
fail:
	if (t->fd >= 0)
		close(t->fd);
	free(t->rx_buf);
	free(t);
	return r;
}

/*
 * tap_send: write one frame (with its virtio-net header when vnet_hdr is
 * on). Returns 0 when it was written or dropped (counted), -EAGAIN when the
 * interface's queue is full; tx_ready() follows.
 */
static int tap_send(struct net_backend *nb, const struct iovec *iov, int iovcnt, size_t len)
{
	struct tap *t = nb->priv;
	ssize_t n;

	/* Only whole Ethernet frames: the caller's bounds are checked, not trusted. */
	if (len < nb->vnet_hdr_len + TAP_ETH_HLEN || len > nb->vnet_hdr_len + NET_FRAME_MAX) {
		nb->stats.tx_dropped++;
		return 0;
	}
	/* Already waiting for room: keep frames in order behind the one that blocked. */
	if (ev_is_active(&t->tx_watcher))
		return -EAGAIN;
	do
		n = writev(t->fd, iov, iovcnt);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		ev_io_start(nb->ev, &t->tx_watcher);
		return -EAGAIN;
	}
	if (n < 0) {
		/* EIO (interface down), EINVAL (a header the kernel rejects), ...: drop. */
		nb->stats.tx_dropped++;
		log_guest(&t->tx_err, "tap '%s': write failed: %s; dropping frames",
		    t->ifname, strerror(errno));
		return 0;
	}
	nb->stats.tx_frames++;
	nb->stats.tx_bytes += len - nb->vnet_hdr_len;
	return 0;
}

/*
 * tap_rx_resume: the guest posted buffers. Offer the frame the device
 * refused last, then read again (unless that frame is refused once more).
 */
/*
 * tap_rx_flush: the device was reset: the frame it refused was for the old
 * driver. The kernel's queue is the wire: what waits there goes to the new
 * driver.
 */
static void tap_rx_flush(struct net_backend *nb)
{
	struct tap *t = nb->priv;

	if (!t || !t->rx_pending)
		return;
	t->rx_pending = 0;
	nb->stats.rx_dropped++;
}

static void tap_rx_resume(struct net_backend *nb)
{
	struct tap *t = nb->priv;

	if (!t || t->rx_dead)
		return;
	if (t->rx_pending) {
		size_t len = t->rx_pending;

		t->rx_pending = 0;
		if (!tap_offer(t, len))
			return;
	}
	if (!ev_is_active(&t->rx_watcher))
		ev_io_start(nb->ev, &t->rx_watcher);
}

/*
 * tap_set_offload: pass the receive offloads the driver accepted to the
 * kernel as TUN_F_* bits. Returns 0 or -errno; -EINVAL for any offload
 * without vnet_hdr (the kernel could not tell the guest how to finish the
 * checksum or segmentation).
 */
static int tap_set_offload(struct net_backend *nb, uint64_t guest_features)
{
	struct tap *t = nb->priv;
	unsigned tun_flags = 0;

	if (!t)
		return -EBADF;
	if (guest_features & 1ull << VIRTIO_NET_F_GUEST_CSUM)
		tun_flags |= TUN_F_CSUM;
	if (guest_features & 1ull << VIRTIO_NET_F_GUEST_TSO4)
		tun_flags |= TUN_F_TSO4;
	if (guest_features & 1ull << VIRTIO_NET_F_GUEST_TSO6)
		tun_flags |= TUN_F_TSO6;
	if (guest_features & 1ull << VIRTIO_NET_F_GUEST_ECN)
		tun_flags |= TUN_F_TSO_ECN;
	if (tun_flags && nb->vnet_hdr_len == 0)
		return -EINVAL;
	if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)tun_flags) < 0)
		return -errno;
	return 0;
}

/* tap_close: stop both watchers and release the fd; a created interface goes away. */
static void tap_close(struct net_backend *nb)
{
	struct tap *t = nb->priv;

	if (!t)
		return;
	ev_io_stop(nb->ev, &t->rx_watcher);
	ev_io_stop(nb->ev, &t->tx_watcher);
	close(t->fd);
	free(t->rx_buf);
	free(t);
	nb->priv = NULL;
}

/* tap_inherited_fd: the N of fd=N in `opts`, or -1 (none, or options that do not parse). */
static int tap_inherited_fd(const char *opts)
{
	struct tap_opts o;
	char err[160];

	return tap_opts_parse(opts ? opts : "", &o, err, sizeof(err)) < 0 ? -1 : o.fd;
}

const struct net_backend_ops net_tap_ops = {
	.name = "tap",
	.summary = "a TAP interface",
	.help = "    ifname=NAME      attach to this existing interface (else create one)\n"
	    "    fd=N             use this inherited, attached TAP descriptor instead\n"
	    "    vnet_hdr=on|off  pass virtio-net headers, for offloads (default on)\n",
	.open = tap_open,
	.check = tap_check,
	.send = tap_send,
	.rx_resume = tap_rx_resume,
	.rx_flush = tap_rx_flush,
	.set_offload = tap_set_offload,
	.close = tap_close,
	.inherited_fd = tap_inherited_fd,
};
