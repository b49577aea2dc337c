/*
 * none.c: the "none" network backend: a NIC with nothing behind it. Every
 * frame the guest sends is taken and counted as dropped; nothing is ever
 * delivered. It holds no fd, no watcher and no memory.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "netbackend.h"

/*
 * none_check: accept only the empty option string. Returns 0, or -EINVAL
 * with "unknown option '...'" in err.
 */
static int none_check(const char *opts, char *err, size_t errlen)
{
	if (opts && opts[0] != '\0') {
		/* Name the first option only; the rest may be long. */
		snprintf(err, errlen, "unknown option '%.*s'", (int)strcspn(opts, ","), opts);
		return -EINVAL;
	}
	return 0;
}

/* none_open: as none_check; there is nothing to open. */
static int none_open(struct net_backend *nb, struct ev_loop *ev, const char *opts,
    char *err, size_t errlen)
{
	nb->ev = ev;
	nb->vnet_hdr_len = 0;
	nb->priv = NULL;
	nb->link_up = false;	/* no peer: the guest sees the link down */
	return none_check(opts, err, errlen);
}

/* none_send: take the frame and count it as dropped. Never -EAGAIN. */
static int none_send(struct net_backend *nb, const struct iovec *iov, int iovcnt, size_t len)
{
	(void)iov;
	(void)iovcnt;
	(void)len;
	nb->stats.tx_dropped++;
	return 0;
}

/* none_rx_resume: nothing is ever queued, so nothing to deliver. */
static void none_rx_resume(struct net_backend *nb)
{
	(void)nb;
}

/* none_close: nothing to release. */
static void none_close(struct net_backend *nb)
{
	nb->priv = NULL;
}

const struct net_backend_ops net_none_ops = {
	.name = "none",
	.summary = "a device with no link",
	.help = NULL,
	.open = none_open,
	.check = none_check,
	.send = none_send,
	.rx_resume = none_rx_resume,
	.set_offload = NULL,
	.close = none_close,
};
