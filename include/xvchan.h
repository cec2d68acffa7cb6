/*
 * xvchan: a byte stream between two Xen domains over shared memory.
 *
 * Wire-compatible with Xen's libxenvchan and MirageOS's ocaml-vchan; the API
 * is MirageOS's Vchan flow: one side is the server (it shares the pages and
 * publishes them in xenstore), the other the client (it looks them up, maps
 * them and connects). Once connected both sides are equal: each reads the
 * bytes the other writes.
 *
 * Conventions for every function below:
 * - Errors are negative errno values (e.g. -EPIPE); 0 or a count means
 *   success. errno is never the error channel; nothing is printed.
 *   xvchan_strerror() names every code this API returns.
 * - struct xvchan is opaque: create with xvchan_server()/xvchan_client(),
 *   destroy with xvchan_close(). It belongs to the process that created
 *   it: a fork() child cannot use it (grant mappings and event channels
 *   are per process).
 * - Threads: one thread may read (xvchan_read) while another writes
 *   (xvchan_write, xvchan_writev, xvchan_shutdown) on the same endpoint.
 *   Two readers or two writers at once are not allowed, nor any call
 *   concurrent with xvchan_close(). In blocking mode the two threads share
 *   the one event channel safely: whichever thread consumes an event wakes
 *   the other, so neither can steal the other's wake-up. In non-blocking
 *   mode see xvchan_fd() for the rule with two threads.
 * - Signals: a blocking call interrupted by a signal handler goes on
 *   waiting, as with SA_RESTART (its timeout still counts from the
 *   start); it never returns -EINTR. A program that must stop on a
 *   signal gives the endpoint a signalfd as its cancel_fd (see struct
 *   xvchan_config), or uses non-blocking mode, or a timeout and a flag
 *   its handler sets. No function here may be called from a signal
 *   handler.
 * - A peer that closes or dies ends the connection through its live byte
 *   in shared memory. A peer *domain* destroyed (`xl destroy`) runs
 *   nothing on its way out, so that byte never changes and no event
 *   comes. Two witnesses remain, and an endpoint whose peer is another
 *   domain follows one, set up the first time a blocking call sleeps
 *   after the connect or xvchan_fd() is first called, and kept until
 *   xvchan_close():
 *   - xenstore (@releaseDomain), watched on a xenstore connection of its
 *     own (no thread: the watch speaks xenstore's wire protocol itself).
 *     This needs the privilege to ask xenstore about other domains: dom0
 *     has it; a guest is refused (C xenstored 4.17, XSA-115), as it is
 *     when over xenstored's watch quota (128 per guest domain), and the
 *     connection is then closed at once.
 *   - Failing that, the endpoint's own event-channel port, which Xen
 *     leaves unbound when it closes the destroyed domain's end: its
 *     status is asked (EVTCHNOP_status, a hypercall through libxencall
 *     and /dev/xen/privcmd) every half second while a call sleeps or the
 *     descriptor is polled. Not where the peer is dom0, which is never
 *     destroyed. Linux's privcmd refuses a guest's hypercalls unless the
 *     guest's kernel runs it with xen_privcmd.unrestricted=1 (kernels
 *     since 2024, Debian 12's 6.1 among them; a locked-down kernel
 *     ignores the parameter).
 *   Once the connected peer's domain is gone, reads return what is still
 *   in the ring and then 0, writes -EPIPE, and close stops waiting,
 *   within a second (as for a closed peer). Where neither witness is
 *   available (a refused hypercall, no privcmd device) the endpoint
 *   silently goes without.
 *
 * Error codes returned by this API (xvchan_strerror() gives the wording):
 *   -EINVAL       bad argument (port name, domid, ring size, NULL pointer,
 *                 zero-length read, bad iovec, unknown config flag,
 *                 non-zero reserved config word)
 *   -ENOMEM       out of memory
 *   -ETIMEDOUT    a configured timeout expired (connect, I/O or close)
 *   -EADDRINUSE   server: the xenstore path is already published
 *   -ECONNREFUSED client: the published server is not waiting for a client
 *                 (closed, or died and left its xenstore entry behind)
 *   -EAGAIN       non-blocking mode: no progress possible now; or
 *                 xvchan_server(): its xenstore publication conflicted
 *                 with other writers at every try (try again later)
 *   -ECANCELED    the config's cancel_fd became readable while the call
 *                 had to wait (blocking mode; xvchan_client() in both)
 *   -EBADF        the config's cancel_fd is not an open descriptor: at
 *                 set-up, or closed since, found by the next wait
 *   -EPIPE        write: the peer closed the vchan (or died)
 *   -ESHUTDOWN    write after this side's own xvchan_shutdown()
 *   -EPROTO       the peer violated the vchan protocol (impossible index,
 *                 bad ring order, grant list, malformed xenstore entry);
 *                 sticky: every later read/write returns it too (but
 *                 a read that has returned end of stream keeps
 *                 returning 0: the stream had ended before the lie)
 *   -EACCES       xenstore or grant permissions refused the operation
 *   -ENOENT, -ENODEV, -ENXIO  a Xen interface (grant, event channel or
 *                 xenstore device/socket) is unavailable on this host
 *   -ENOSPC, -EMFILE          out of grant or event-channel resources
 *   other         passed through unchanged from the Xen libraries
 *                 (xvchan_strerror() falls back to strerror() for them)
 */
#ifndef XVCHAN_H
#define XVCHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xvchan;

/** Smallest and largest ring in bytes (2^10 and 2^20, the wire's orders). */
#define XVCHAN_RING_MIN ((size_t)1 << 10)
#define XVCHAN_RING_MAX ((size_t)1 << 20)

/** Highest valid domain id (DOMID_FIRST_RESERVED - 1). */
#define XVCHAN_DOMID_MAX 32751u

/**
 * Ring size for tools to offer as their default: ocaml-vchan's xencat uses
 * --buffer-size 65536 for both rings (its library's own default is 1024).
 * The library itself has no default: a size of 0 is -EINVAL.
 */
#define XVCHAN_DEFAULT_RING_SIZE ((size_t)65536)

/** Flags in struct xvchan_config.flags. */
enum xvchan_flags {
	/**
	 * Non-blocking: xvchan_server() returns as soon as the rings are
	 * published (before a client connects); read/write/writev return
	 * -EAGAIN instead of sleeping; xvchan_close() does not wait for the
	 * peer. Drive the endpoint with poll() on xvchan_fd().
	 * xvchan_client() still waits for the server (connect timeout).
	 */
	XVCHAN_NONBLOCK = 1u << 0,
};

/**
 * Options for xvchan_server()/xvchan_client(). Always fill with
 * xvchan_config_init() first, then change fields: new fields get safe
 * defaults there. Passing NULL instead of a config means the defaults.
 *
 * Timeouts are in milliseconds; a negative value means no limit, 0 means
 * "do not wait at all" (fail with -ETIMEDOUT unless ready right now).
 */
struct xvchan_config {
	/** OR of enum xvchan_flags. Default 0 (blocking). Unknown: -EINVAL. */
	unsigned int flags;
	/**
	 * Server (blocking mode): how long to wait for the client to connect.
	 * Client: how long to wait for the server to appear in xenstore.
	 * Default -1 (no limit), like ocaml-vchan.
	 */
	int connect_timeout_ms;
	/**
	 * xvchan_close(): how long to keep draining while waiting for the
	 * peer to close or shut down too. Default 5000. When it expires the
	 * endpoint is torn down anyway (the peer then sees a close).
	 */
	int close_timeout_ms;
	/**
	 * Blocking read/write/writev: longest sleep without any progress
	 * before -ETIMEDOUT. Default -1 (no limit).
	 */
	int io_timeout_ms;
	/**
	 * Before sleeping on the event channel, poll the ring for up to this
	 * many microseconds (catches a peer that answers quickly without the
	 * cost of an event and its wake-up). 0 disables spinning. Default 200.
	 * This is a ceiling: each direction adapts its own budget from how
	 * long its waits last. A wait that ended within spin_us grows the
	 * budget to twice that wait (up to spin_us); a longer one (an idle
	 * or busy peer) halves it, down to no spinning at all, so an idle
	 * peer costs one budget, then nothing.
	 * The spin yields the CPU between looks (a peer just woken often waits
	 * for this very CPU). Blocking calls only (a non-blocking call never
	 * sleeps, so it never spins), and never past the io timeout. A
	 * spinning read that finds the ring empty, when this endpoint sent
	 * nothing since it last did, first waits 1 us without yielding: it
	 * has caught up with a streaming writer, and taking each small
	 * message as it lands would slow both ends.
	 */
	unsigned int spin_us;
	/**
	 * Explicit xenstore directory for ring-ref and event-channel instead
	 * of the MirageOS default
	 * "/local/domain/<server>/data/vchan/<client>/<port>". When set,
	 * the port argument is ignored (it may be NULL). Copied by the call;
	 * the caller keeps ownership. Default NULL.
	 */
	const char *path;
	/**
	 * A descriptor that stops this endpoint's waits, or -1 (the
	 * default; any other negative value is -EINVAL). Blocking mode
	 * polls it, for reading, wherever a call would sleep: the server
	 * pausing between tries of a xenstore publication that conflicted
	 * and waiting for its client, the client waiting for its server
	 * to publish, a read waiting for data, a write or reserve for
	 * room, xvchan_close() for its peer. Once it is readable (or reports an
	 * error or hang-up) such a wait ends with -ECANCELED: a server or
	 * client being set up is torn down (the server's xenstore entry
	 * removed); xvchan_close() stops waiting, closes as it does after
	 * its timeout, and returns -ECANCELED. A call that can make
	 * progress without sleeping still makes it, and a write that ends
	 * this way may have written some bytes, as on a timeout.
	 * The library never reads it, so it stays readable until the caller
	 * drains it: one write to an eventfd (or a pipe) from any thread
	 * stops every wait of the endpoint, in both its threads, from then
	 * on; a signalfd stops them on a signal (block the signal in every
	 * thread first). It is checked with fcntl() at set-up (-EBADF) and
	 * must stay open until xvchan_close() returns (a wait that finds it
	 * closed fails with -EBADF); the endpoint does not take ownership.
	 * Non-blocking mode looks at it only in xvchan_client(), whose
	 * wait for its server is the same in both modes; its other calls
	 * never sleep (but for a conflicting publication's pauses).
	 */
	int cancel_fd;
	/**
	 * Room for the options of later versions. A caller compiled
	 * against this header passes a struct of this size, and
	 * xvchan_config_init() of a later library fills exactly this much:
	 * new options are carved out of this space, each with 0 meaning
	 * its default, so the struct's size and layout stay as they are.
	 * Must be all zero (xvchan_config_init() clears it); any other
	 * value is -EINVAL, so that a caller who skipped the init gets an
	 * error, never an option it did not ask for.
	 */
	uint64_t reserved[6];
};

/** Fill @cfg with the defaults documented in struct xvchan_config. */
void xvchan_config_init(struct xvchan_config *cfg);

/**
 * Become the server of a vchan for client domain @client_domid.
 *
 * Shares the control page and ring pages with @client_domid, binds an
 * unbound event channel for it, and publishes ring-ref and event-channel at
 * the xenstore path (MirageOS default from @port, or @cfg->path) readable by
 * the client only.
 *
 * Ring sizes: @read_size is the ring the client writes and this side reads,
 * @write_size the one this side writes. Each must be 1..XVCHAN_RING_MAX:
 * 0 or a larger size is -EINVAL, never silently capped. A size that is
 * not a power of two is accepted and rounded up to the next power of two,
 * at least XVCHAN_RING_MIN. Then, as libxenvchan does, a ring may be grown
 * to fit inside the control page instead of using extra pages (e.g. two
 * 1024-byte requests give a 1024 and a 2048 ring, sharing no extra page).
 * The final sizes are never smaller than requested; xvchan_ring_sizes()
 * returns them.
 *
 * Grants: a server shares its control page (which holds rings of 1 and 2
 * KiB) and one page per 4 KiB of each larger ring: 513 for two 1 MiB
 * rings. Linux lends a domain xen_gntalloc.limit pages at once (module
 * parameter, 1024 by default), all its processes together; past it the
 * server fails with -ENOSPC. So a Linux domain has one server with two
 * 1 MiB rings at a time, or, say, a thousand with in-page rings.
 *
 * Blocking mode: returns once the client has connected, or -ETIMEDOUT after
 * @cfg->connect_timeout_ms (the path is then unpublished and everything
 * freed). Non-blocking mode: returns right after publishing; until a client
 * connects, reads and writes return -EAGAIN and the client's connect makes
 * xvchan_fd() readable.
 *
 * @param out           receives the endpoint on success; untouched on error
 * @param client_domid  0..XVCHAN_DOMID_MAX (may equal this domain's id)
 * @param port          [A-Za-z0-9_-]+, at most the xs layer's limit; NULL
 *                      allowed only with @cfg->path
 * @return 0, -EINVAL, -EBADF, -EADDRINUSE, -ETIMEDOUT, -ECANCELED,
 *         -ENOMEM, -EACCES, -EAGAIN (the xenstore publication conflicted
 *         with other writers at every one of its tries, about 2 s), or a
 *         Xen library error (-ENOENT, -ENODEV, -ENOSPC, ...)
 */
int xvchan_server(struct xvchan **out, unsigned int client_domid,
		  const char *port, size_t read_size, size_t write_size,
		  const struct xvchan_config *cfg);

/**
 * Become the client of the vchan served by domain @server_domid.
 *
 * Waits (xenstore watch, up to @cfg->connect_timeout_ms) until the server
 * has published, maps the control page read-write, the ring it writes
 * read-write and the ring it reads read-only, binds the event channel,
 * marks itself connected and notifies the server. Returns connected, also
 * in non-blocking mode.
 *
 * @return 0, -EINVAL, -EBADF, -ETIMEDOUT (no server in time), -ECANCELED
 *         (cancel_fd readable while waiting for it), -ECONNREFUSED
 *         (server not waiting for a client: it has, or had, one already;
 *         or Xen refuses the published event channel or grant: a dead
 *         server's stale entry), -EPROTO (malformed xenstore entry or
 *         control page), -ENOMEM, -EACCES, or a Xen library error
 */
int xvchan_client(struct xvchan **out, unsigned int server_domid,
		  const char *port, const struct xvchan_config *cfg);

/**
 * Read up to @len bytes.
 *
 * The room a read frees goes back to the writer in batches, as TCP's
 * window updates do: once a quarter of the ring (16 KiB at most) has been
 * read, when a read finds the ring empty while the writer waits for room,
 * before a read sleeps or returns -EAGAIN, before a write, writev or
 * reserve on this endpoint sleeps for room or returns -EAGAIN (unless
 * another thread is inside xvchan_read() then), and at close. Until then,
 * up to that much that the caller has read stays unavailable to the
 * peer's writes, as if those reads had not happened yet: a caller that
 * reads and then waits for the peer by other means than this endpoint's
 * calls holds it back (docs/protocol.md).
 *
 * @return the number of bytes read (at least 1); 0 for end of stream, once
 *         the peer has shut down, closed or died (its process, or its
 *         domain destroyed: see the conventions above) AND every byte it wrote
 *         before that has been read (data written just before a close is
 *         never lost); -EAGAIN (non-blocking, nothing to read yet);
 *         -ETIMEDOUT (blocking, io timeout); -ECANCELED (blocking,
 *         cancel_fd); -EPROTO; -EINVAL (@len 0 or NULL pointers)
 */
ssize_t xvchan_read(struct xvchan *x, void *buf, size_t len);

/**
 * Write @len bytes.
 *
 * Blocking mode: returns @len once every byte is in the ring (the peer
 * reads them even if this side closes right after). Non-blocking mode:
 * returns the number of bytes that fit (at least 1), or -EAGAIN.
 *
 * @return bytes written; 0 only when @len is 0; -EPIPE once the peer has
 *         closed, died (or its domain was destroyed) or (old peer) ended
 *         the connection; -ESHUTDOWN after
 *         xvchan_shutdown() or when this side ended the connection;
 *         -EAGAIN; -ETIMEDOUT (blocking, io timeout: some bytes may have
 *         been written); -ECANCELED (blocking, cancel_fd: likewise);
 *         -EPROTO; -EINVAL
 */
ssize_t xvchan_write(struct xvchan *x, const void *buf, size_t len);

/**
 * Gather write: like xvchan_write() on the concatenation of @iov[0..@iovcnt).
 * @iovcnt must be 0..IOV_MAX and the total length fit in ssize_t (-EINVAL).
 */
ssize_t xvchan_writev(struct xvchan *x, const struct iovec *iov, int iovcnt);

/**
 * Free space of the send ring handed out in place, for zero-copy writes:
 * up to two segments, the second one non-empty only where the space wraps
 * around the end of the ring.
 */
struct xvchan_segs {
	void *ptr[2];
	size_t len[2];
};

/**
 * Zero-copy write, step 1: the send ring's free space, to be filled in
 * place and published with xvchan_write_commit(). Saves the copy that
 * xvchan_write() makes from the caller's buffer.
 *
 * Blocking mode: waits (spin, then the event channel, up to the io
 * timeout) until at least one byte is free. Non-blocking mode: -EAGAIN
 * when the ring is full. Nothing is visible to the peer before the commit;
 * a new reserve replaces the previous one, and a write or xvchan_shutdown()
 * ends it (the write's bytes go where the segments are). The segments stay
 * valid until the next commit, reserve, write or close. They are shared
 * memory: the peer can read them, and a hostile peer can even overwrite
 * them, at any time, so write there but never read back from them.
 * Writer-thread call, like xvchan_write().
 *
 * @return the free bytes, len[0] + len[1] (at least 1); -EPIPE, -ESHUTDOWN,
 *         -EAGAIN, -ETIMEDOUT, -ECANCELED, -EPROTO as xvchan_write();
 *         -EINVAL (NULL
 *         pointers)
 */
ssize_t xvchan_write_reserve(struct xvchan *x, struct xvchan_segs *segs);

/**
 * Zero-copy write, step 2: publish the first @n bytes of the segments of
 * the last xvchan_write_reserve() (len[0] bytes of ptr[0] first, then
 * ptr[1]) and wake the peer if it waits for data. Ends the reservation,
 * even for @n = 0.
 *
 * @return 0; -EINVAL (@x NULL, or @n more than the last reserve returned,
 *         or no reserve since the last commit or write); -ESHUTDOWN
 *         (xvchan_shutdown() since the reserve: nothing is published);
 *         -EPIPE (published, but the peer is gone without reading them,
 *         as for xvchan_write()); -EPROTO
 */
int xvchan_write_commit(struct xvchan *x, size_t n);

/**
 * Half-close, like shutdown(SHUT_WR): tells the peer no more data comes.
 * Bytes already written stay in the ring and are read by the peer before it
 * sees end of stream. This side can go on reading, and the peer can go on
 * writing, until it shuts down or closes too. Never blocks.
 *
 * Against an old peer (libxenvchan, ocaml-vchan: no half-close extension
 * advertised, see docs/protocol.md) a half-close cannot be expressed on the
 * wire: it ends the whole connection (this side's live byte is cleared), so
 * the peer reads what was written and then sees the end; reads here return
 * what is already in the ring, then 0. Call it from the writer thread.
 * Calling it twice is harmless.
 *
 * @return 0, or -EINVAL (NULL)
 */
int xvchan_shutdown(struct xvchan *x);

/**
 * Close and free the endpoint (MirageOS close). Always frees @x, even on
 * error.
 *
 * Shuts down this side's writing, then keeps reading and discarding
 * incoming data (so a peer blocked on a full ring can finish its write)
 * until the peer has shut down, closed or died (its domain destroyed too,
 * see the conventions above), or @cfg->close_timeout_ms expires; then
 * marks this side gone, unmaps and unshares, closes the event channel and
 * (server) removes the whole xenstore path. Non-blocking mode
 * does not wait for the peer.
 *
 * @return 0; -ETIMEDOUT when the peer did not finish in time,
 *         -ECANCELED when cancel_fd ended the wait, -EPROTO when it broke
 *         the protocol, before close or while draining (freed in every
 *         case);
 *         NULL is a no-op returning 0
 */
int xvchan_close(struct xvchan *x);

/**
 * The one pollable descriptor of this endpoint, for poll()/select()/epoll
 * with POLLIN/EPOLLIN, level-triggered (no EPOLLET). It is an epoll
 * descriptor (watching the event channel and an internal eventfd), so
 * only readability means anything. Valid until xvchan_close(); never
 * close, read or write it. The first call also sets up the look at the
 * peer domain's destruction (see the conventions above; it talks to
 * xenstore once), which then makes the descriptor readable too: a
 * @releaseDomain for some other domain, or a guest's half-second tick to
 * ask its port's status, is one more spurious wake-up (the next call that
 * returns -EAGAIN consumes it).
 *
 * Contract (non-blocking mode): a call that returns -EAGAIN (xvchan_read,
 * or a write: xvchan_write, xvchan_writev, xvchan_write_reserve) has
 * armed a wake-up request for its direction (read: data, the peer's
 * shutdown or close; write: space, the peer's close; either: the peer's
 * domain destroyed, where it can be watched; either, for a non-blocking
 * server: the client's connect). From then until that
 * direction's next call, the descriptor becomes (or stays) readable as
 * soon as the peer made that call able to progress, even when calls of
 * the other direction consumed events meanwhile. Any call of that
 * direction on the endpoint that does not return -EAGAIN (data, 0, any
 * error; xvchan_shutdown() for writes) withdraws its request.
 *
 * So a single poll loop works like this: call each direction it uses until
 * it returns -EAGAIN (or is finished); then poll the descriptor; when it
 * is readable, call again every direction whose last call returned -EAGAIN
 * (each makes progress or returns -EAGAIN and re-arms). Readable does not
 * by itself mean a call will succeed: one event covers both directions,
 * so a wake-up may be for the other one. The descriptor stays readable
 * until a call of a waiting direction has seen what made it so; a loop
 * that stops calling the endpoint (both directions finished) should stop
 * polling it.
 *
 * Two threads (one reading, one writing) may both poll the descriptor: an
 * event one thread's call consumes while the other's -EAGAIN is
 * outstanding is handed on, so neither loses its wake-up. But both wake
 * for either direction, and the descriptor stays readable until the
 * thread it is meant for calls again, so the other one may find it
 * readable and get -EAGAIN again meanwhile. Blocking mode, where two
 * threads share the event channel internally, avoids that.
 *
 * Blocking mode needs no descriptor, but may poll it too: then any
 * blocking call that waited (a blocking xvchan_server() too) may return
 * with the descriptor still readable. Where wake-ups are slow, such a
 * call leaves the event it woke for to the endpoint's next wait, of
 * either thread, to take, so that its own work comes first. That is one
 * more spurious wake-up, after which a call may block.
 *
 * @return the descriptor (>= 0), or -EINVAL (@x NULL)
 */
int xvchan_fd(const struct xvchan *x);

/**
 * Final ring sizes in bytes, as this side sees them (see xvchan_server()
 * for rounding). Either pointer may be NULL.
 * @return 0, or -EINVAL (@x NULL)
 */
int xvchan_ring_sizes(const struct xvchan *x, size_t *read_size,
		      size_t *write_size);

/**
 * Describe the endpoint for logs, in the spirit of MirageOS's sexp_of_t:
 * role, own and peer domid, port or path, ring sizes, live bytes and
 * indices, flags. Always NUL-terminates when @len > 0 (truncating like
 * snprintf). The format is for humans and may change. It reads the ring
 * positions without synchronisation: call it while no other thread is in
 * read/write if the indices must be exact.
 * @return the length the full description needs (excluding the NUL), like
 *         snprintf, or -EINVAL (@x NULL, or @buf NULL with @len > 0)
 */
int xvchan_describe(const struct xvchan *x, char *buf, size_t len);

/**
 * A static message for @err (negative errno as returned here; a positive
 * value is read as its negation), with the vchan meaning for the codes this
 * API returns (e.g. -EPIPE "peer closed the vchan"), strerror()'s text for
 * any other. Never NULL.
 */
const char *xvchan_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
