/*
 * agent_proto.h: the wire protocol between ringvm (the host) and
 * ringvm-init (the guest agent, PID 1 of a `ringvm -- COMMAND` guest).
 * Shared by both programs; the codec is src/agent.c.
 *
 * Transport: one AF_VSOCK SOCK_STREAM connection that the guest opens to
 * the host (CID AGENT_HOST_CID, port AGENT_PORT). In ringvm-init's test
 * mode (`ringvm-init --agent-fd N`) the same bytes run over any stream fd.
 *
 * Framing: every message is an 8-byte header and `len` payload bytes.
 *
 *	offset 0  u8  type      one of enum agent_type
 *	offset 1  u8  reserved[3], sent as 0; a receiver rejects anything else
 *	offset 4  u32 len       payload bytes, 0..AGENT_MAX_PAYLOAD
 *
 * All integers are little-endian and unaligned in the stream. Strings are
 * NUL-terminated and counted in `len`. A receiver rejects (as a protocol
 * error, after which the connection is dead) a frame with an unknown type,
 * a type that does not travel in its direction, non-zero reserved bytes,
 * `len` over AGENT_MAX_PAYLOAD, or a payload size the type does not allow.
 * Bit 7 of the type gives the direction: set for host->guest messages.
 *
 * The session, in order:
 *  1. guest->host HELLO, first and once, as soon as the agent connected.
 *  2. host->guest EXEC, once, after HELLO: the command to run. Any other
 *     host message before it is a protocol error.
 *  3. host->guest STDIN / STDIN_EOF / WINCH, any number, after EXEC, while
 *     the connection is up. STDIN_EOF is sent at most once and no STDIN may
 *     follow it. The guest stops reading the connection while the
 *     command's stdin is full (back-pressure); it discards STDIN data once
 *     the command's stdin is closed.
 *     guest->host STDOUT / STDERR, any number, as the command writes.
 *  4. guest->host exactly one of EXIT or ERROR, last. The guest then
 *     syncs (already done before EXIT) and powers off; it sends nothing more.
 * The host closing the connection before the end aborts the session: the
 * guest kills the command and powers off.
 *
 * Versions: HELLO carries AGENT_VERSION. A host that does not speak the
 * guest's version must not send EXEC; it reports the mismatch and stops the
 * VM. The HELLO layout below is fixed for version 1; a later version may
 * lengthen HELLO but keeps `version` as its first field, so any host can
 * read it. Everything else in this file is version 1.
 */
#ifndef RINGVM_AGENT_PROTO_H
#define RINGVM_AGENT_PROTO_H

#define AGENT_VERSION 1
#define AGENT_HOST_CID 2		/* VMADDR_CID_HOST */
#define AGENT_PORT 1025			/* the host listens, the guest connects */

#define AGENT_HDR_LEN 8
#define AGENT_MAX_PAYLOAD 65536		/* largest `len` of any frame */
#define AGENT_MAX_FRAME (AGENT_HDR_LEN + AGENT_MAX_PAYLOAD)

#define AGENT_TO_GUEST 0x80		/* direction bit of enum agent_type */

enum agent_type {
	/*
	 * guest->host HELLO, len 12 in version 1:
	 *   u32 version  AGENT_VERSION of the guest
	 *   u64 boot_ns  CLOCK_BOOTTIME when the agent connected (boot cost)
	 */
	AGENT_HELLO = 0x01,
	/* guest->host STDOUT: len >= 1 bytes the command wrote to stdout (in
	 * tty mode everything the terminal shows). Binary-safe. */
	AGENT_STDOUT = 0x02,
	/* guest->host STDERR: len >= 1 bytes the command wrote to stderr;
	 * never sent in tty mode. */
	AGENT_STDERR = 0x03,
	/*
	 * guest->host EXIT, len 8, sent once the command exited, its output was
	 * drained to end of file and sync() ran:
	 *   i32 status  exit status 0..255, or -1 when a signal killed it
	 *   i32 signal  the signal that killed it, or 0
	 */
	AGENT_EXIT = 0x04,
	/*
	 * guest->host ERROR, len >= 5: the command could not run (or the
	 * session failed); sent instead of EXIT.
	 *   u32 code     AGENT_ERR_* (also the exit status ringvm should give)
	 *   char msg[]   NUL-terminated text, no other NUL in it
	 */
	AGENT_ERROR = 0x05,

	/*
	 * host->guest EXEC, len >= AGENT_EXEC_FIXED_LEN:
	 *   u32 flags    AGENT_EXEC_*; unknown bits are refused
	 *   u32 uid, gid the command's credentials (no supplementary groups)
	 *   u16 rows, cols  initial window size in tty mode (0: leave unset)
	 *   u32 argc     >= 1
	 *   u32 envc     0 means the default environment (AGENT_DEFAULT_ENV)
	 * then exactly 2 + argc + envc NUL-terminated strings and nothing else:
	 *   hostname ("" keeps the guest's), cwd ("" means "/"),
	 *   argv[0..argc-1] (argv[0] is the file, looked up on the command's
	 *   PATH, or AGENT_DEFAULT_PATH when it has none, unless it holds a
	 *   '/'; no /bin/sh fallback on ENOEXEC), env[0..envc-1] ("NAME=value").
	 */
	AGENT_EXEC = 0x81,
	/* host->guest STDIN: len >= 1 bytes for the command's stdin. */
	AGENT_STDIN = 0x82,
	/* host->guest STDIN_EOF, len 0: close the command's stdin (in tty mode:
	 * type the terminal's EOF character, as a keyboard would). */
	AGENT_STDIN_EOF = 0x83,
	/* host->guest WINCH, len 4: u16 rows, u16 cols; ignored without tty. */
	AGENT_WINCH = 0x84,
};

/* EXEC flags. */
#define AGENT_EXEC_TTY 0x1u		/* run under a pseudo-terminal */
#define AGENT_EXEC_NET_USER 0x2u	/* configure eth0 for ringvm's user network */
#define AGENT_EXEC_FLAGS (AGENT_EXEC_TTY | AGENT_EXEC_NET_USER)

#define AGENT_HELLO_LEN 12
#define AGENT_EXIT_LEN 8
#define AGENT_WINCH_LEN 4
#define AGENT_EXEC_FIXED_LEN 24

/*
 * Pointers an EXEC decoder needs at most: every string takes at least its
 * NUL, so argc + envc <= payload - fixed part - 2, plus two NULL ends.
 */
#define AGENT_EXEC_MAX_VEC (AGENT_MAX_PAYLOAD - AGENT_EXEC_FIXED_LEN)

/* ERROR codes: the shell's conventions for a command that did not run. */
#define AGENT_ERR_AGENT 125		/* bad EXEC, cwd or user change failed, fork failed... */
#define AGENT_ERR_NOEXEC 126		/* found but not executable: EACCES, ENOEXEC... */
#define AGENT_ERR_NOTFOUND 127		/* not found: ENOENT */

/* The environment of a command whose EXEC has envc 0. */
#define AGENT_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define AGENT_DEFAULT_ENV { "PATH=" AGENT_DEFAULT_PATH, "HOME=/root", "TERM=linux" }

/* The user network (AGENT_EXEC_NET_USER): libslirp's default addresses. */
#define AGENT_NET_ADDR "10.0.2.15"
#define AGENT_NET_PREFIX 24
#define AGENT_NET_GATEWAY "10.0.2.2"
#define AGENT_NET_DNS "10.0.2.3"

#endif
