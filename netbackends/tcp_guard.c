/*
 * tcp_guard.c: bound the out-of-order TCP data a guest can make libslirp
 * hold (see tcp_guard.h for why and how). Sequence numbers compare modulo
 * 2^32 (RFC 793), through signed differences.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipframe.h"
#include "tcp_guard.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04

/* One parsed TCP segment. */
struct tcp_seg {
	uint8_t af;
	const uint8_t *src, *dst;	/* addresses: 4 or 16 bytes in the frame */
	uint16_t sport, dport;
	uint32_t seq;
	uint8_t flags;
	uint32_t span;			/* sequence space used: payload + SYN + FIN */
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* seq_after: a is after b in sequence space. */
static bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* tcp_guard_parse: a TCP segment whose headers lie inside the frame (ipframe.h). */
static bool tcp_guard_parse(const uint8_t *f, size_t len, struct tcp_seg *s)
{
	struct ipframe ip;
	size_t doff;

	if (!ipframe_parse(f, len, &ip) || ip.proto != 6 || ip.l4len < 20)
		return false;
	doff = (size_t)(f[ip.l4 + 12] >> 4) * 4;
	if (doff < 20 || doff > ip.l4len)
		return false;
	s->af = ip.af;
	s->src = ip.src;
	s->dst = ip.dst;
	s->sport = be16(f + ip.l4);
	s->dport = be16(f + ip.l4 + 2);
	s->seq = be32(f + ip.l4 + 4);
	s->flags = f[ip.l4 + 13];
	s->span = (uint32_t)(ip.l4len - doff) + !!(s->flags & TH_SYN) + !!(s->flags & TH_FIN);
	return true;
}

int tcp_guard_init(struct tcp_guard *g, unsigned cap)
{
	memset(g, 0, sizeof(*g));
	if (cap == 0)
		return -EINVAL;
	g->flow = calloc(cap, sizeof(g->flow[0]));
	if (!g->flow)
		return -ENOMEM;
	g->cap = cap;
	return 0;
}

void tcp_guard_fini(struct tcp_guard *g)
{
	free(g->flow);
	g->flow = NULL;
	g->n = g->cap = 0;
}

/* tcp_guard_find: the connection (guest side, host side), or NULL. */
static struct tcp_guard_flow *tcp_guard_find(struct tcp_guard *g, uint8_t af,
    const uint8_t *guest, uint16_t gport, const uint8_t *host, uint16_t hport)
{
	size_t alen = af == 4 ? 4 : 16;

	for (unsigned i = 0; i < g->n; i++) {
		struct tcp_guard_flow *f = &g->flow[i];

		if (f->gport == gport && f->hport == hport && f->af == af &&
		    !memcmp(f->guest, guest, alen) && !memcmp(f->host, host, alen))
			return f;
	}
	return NULL;
}

/* tcp_guard_forget: drop an entry (and the out-of-order ranges it counted). */
static void tcp_guard_forget(struct tcp_guard *g, struct tcp_guard_flow *f)
{
	g->ooo_total -= f->nooo;
	*f = g->flow[--g->n];
}

/* tcp_guard_purge: forget connections the host side never answered for long. */
static void tcp_guard_purge(struct tcp_guard *g, uint64_t now_ms)
{
	for (unsigned i = 0; i < g->n; ) {
		struct tcp_guard_flow *f = &g->flow[i];

		if (!f->host_seen && now_ms - f->last_ms > 2 * TCP_GUARD_SYN_TIMEOUT_MS)
			tcp_guard_forget(g, f);
		else
			i++;
	}
}

/* tcp_guard_absorb: the contiguous end moved: ranges it reached are now in order. */
static void tcp_guard_absorb(struct tcp_guard *g, struct tcp_guard_flow *f)
{
	bool moved = true;

	while (moved) {
		moved = false;
		for (unsigned i = 0; i < f->nooo; ) {
			if (!seq_after(f->ooo[i].start, f->next)) {
				if (seq_after(f->ooo[i].end, f->next))
					f->next = f->ooo[i].end;
				f->ooo[i] = f->ooo[--f->nooo];
				g->ooo_total--;
				moved = true;
			} else {
				i++;
			}
		}
	}
}

/* tcp_guard_syn: a SYN or SYN-ACK from the guest opens a connection. */
static bool tcp_guard_syn(struct tcp_guard *g, struct tcp_guard_flow *f,
    const struct tcp_seg *s, uint64_t now_ms)
{
	size_t alen = s->af == 4 ? 4 : 16;

	if (!f) {
		if (g->n == g->cap)
			tcp_guard_purge(g, now_ms);
		if (g->n == g->cap) {
			g->dropped_flows++;
			return false;
		}
		f = &g->flow[g->n++];
		memset(f, 0, sizeof(*f));
		f->af = s->af;
		memcpy(f->guest, s->src, alen);
		memcpy(f->host, s->dst, alen);
		f->gport = s->sport;
		f->hport = s->dport;
	} else {
		/*
		 * A SYN on a connection already followed: a retransmission, or
		 * one libslirp refuses (it resets the connection, which we see,
		 * or drops the SYN and keeps what it holds). Either way nothing
		 * is forgotten here.
		 */
		f->last_ms = now_ms;
		return true;
	}
	f->next = s->seq + s->span;
	f->fin_guest = s->flags & TH_FIN;
	f->last_ms = now_ms;
	return true;
}

bool tcp_guard_guest(struct tcp_guard *g, const uint8_t *frame, size_t len, uint64_t now_ms)
{
	struct tcp_guard_flow *f;
	struct tcp_seg s;
	uint32_t ahead, end;

	if (!tcp_guard_parse(frame, len, &s))
		return true;
	f = tcp_guard_find(g, s.af, s.src, s.sport, s.dst, s.dport);
	if (s.flags & TH_RST) {
		if (f)
			tcp_guard_forget(g, f);
		return true;
	}
	if (s.flags & TH_SYN)
		return tcp_guard_syn(g, f, &s, now_ms);
	/*
	 * No entry: libslirp has no connection that could queue this (it was
	 * reset, or closed both ways), so it answers with a reset at most.
	 */
	if (!f)
		return true;
	f->last_ms = now_ms;
	if (s.span == 0)
		return true;		/* a pure ACK: nothing to queue */
	end = s.seq + s.span;
	if (!seq_after(s.seq, f->next)) {
		/* In order, or a retransmission that reaches past the end. */
		if (seq_after(end, f->next)) {
			f->next = end;
			tcp_guard_absorb(g, f);
		}
		if (s.flags & TH_FIN)
			f->fin_guest = true;
		if (f->fin_guest && f->fin_host)
			tcp_guard_forget(g, f);
		return true;
	}
	ahead = s.seq - f->next;
	if (ahead > TCP_GUARD_WINDOW) {
		g->dropped_far++;
		return false;
	}
	/* Out of order: a range libslirp holds until the gap fills. */
	for (unsigned i = 0; i < f->nooo; i++)
		if (!seq_after(f->ooo[i].start, s.seq) && !seq_after(end, f->ooo[i].end))
			return true;	/* inside one it holds already: it keeps no copy */
	if (f->nooo == TCP_GUARD_OOO_PER_FLOW || g->ooo_total >= TCP_GUARD_OOO_TOTAL) {
		g->dropped_ooo++;
		return false;
	}
	f->ooo[f->nooo].start = s.seq;
	f->ooo[f->nooo].end = end;
	f->nooo++;
	g->ooo_total++;
	return true;
}

void tcp_guard_host(struct tcp_guard *g, const uint8_t *frame, size_t len, uint64_t now_ms)
{
	struct tcp_guard_flow *f;
	struct tcp_seg s;

	if (!tcp_guard_parse(frame, len, &s))
		return;
	f = tcp_guard_find(g, s.af, s.dst, s.dport, s.src, s.sport);
	if (!f)
		return;
	if (s.flags & TH_RST) {
		tcp_guard_forget(g, f);
		return;
	}
	f->host_seen = true;
	f->last_ms = now_ms;
	if (s.flags & TH_FIN)
		f->fin_host = true;
	if (f->fin_guest && f->fin_host)
		tcp_guard_forget(g, f);
}
