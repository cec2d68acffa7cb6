/*
 * xvchan-demo: the smallest complete use of the xvchan API, and the
 * program behind scripts/demo.
 *
 *   xvchan-demo server CLIENT_DOMID   (in the server's domain)
 *   xvchan-demo client SERVER_DOMID   (in the client's domain)
 *
 * Both ends send a greeting line and then --mib MiB of a verifiable byte
 * pattern while reading the other end's greeting and pattern at the same
 * time (a writer thread beside the reading thread, as the API allows).
 * Then each half-closes, reads to end of stream and closes.  Every step is
 * printed on stdout, prefixed with the role.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xvchan.h>

#define PORT "demo"
#define BLOCK 65536

static const char *role;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Byte i of the stream a role sends: cheap to make, cheap to check. */
static unsigned char pattern(unsigned int tag, uint64_t i)
{
	uint64_t x = ((i >> 3) ^ tag) * 0x9e3779b97f4a7c15ull;

	return (unsigned char)(x >> ((i & 7) * 8));
}

struct sender {
	struct xvchan *vc;
	unsigned int tag;
	uint64_t bytes;
	const char *greeting;
	int err;
};

static void *send_all(void *arg)
{
	struct sender *s = arg;
	static unsigned char block[BLOCK];
	size_t len = strlen(s->greeting);
	uint64_t sent = 0;
	ssize_t n;

	n = xvchan_write(s->vc, s->greeting, len);
	if (n < 0) {
		s->err = (int)n;
		return NULL;
	}
	while (sent < s->bytes) {
		size_t chunk = s->bytes - sent < BLOCK ? (size_t)(s->bytes - sent) : BLOCK;

		for (size_t i = 0; i < chunk; i++)
			block[i] = pattern(s->tag, sent + i);
		n = xvchan_write(s->vc, block, chunk);
		if (n < 0) {
			s->err = (int)n;
			return NULL;
		}
		sent += chunk;
	}
	/* Half-close: the peer reads everything, then end of stream. */
	s->err = xvchan_shutdown(s->vc);
	return NULL;
}

static int usage(FILE *out, int status)
{
	fputs("Usage: xvchan-demo server CLIENT_DOMID [MIB]\n"
	      "       xvchan-demo client SERVER_DOMID [MIB]\n"
	      "\n"
	      "Connects to the other domain over the vchan port \"" PORT "\", sends a\n"
	      "greeting and MIB (default 64) MiB of a verifiable pattern while\n"
	      "receiving and checking the peer's, half-closes, and closes once\n"
	      "the peer has finished too.  Both ends must be given the same MIB:\n"
	      "each expects exactly that much from the other, and exits 1 if the\n"
	      "amount differs.  scripts/demo runs a server in simulated domain 1\n"
	      "and a client in domain 2.\n", out);
	return status;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return (errno || end == s || *end || s[0] == '-' || *out > max) ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct sender sender = { 0 };
	struct xvchan_config cfg;
	struct xvchan *vc;
	unsigned long peer, mib = 64;
	static unsigned char buf[BLOCK];
	char greeting[80], desc[512], heard[80] = "";
	size_t heard_len = 0, greeting_len;
	uint64_t received = 0, expected;
	bool miscounted = false;
	pthread_t writer;
	double t0;
	int server, err;

	if (argc == 2 && !strcmp(argv[1], "--help"))
		return usage(stdout, 0);
	if (argc < 3 || argc > 4 || parse_uint(argv[2], XVCHAN_DOMID_MAX, &peer) ||
	    (argc == 4 && parse_uint(argv[3], 1ul << 20, &mib)))
		return usage(stderr, 2);
	server = !strcmp(argv[1], "server");
	if (!server && strcmp(argv[1], "client"))
		return usage(stderr, 2);
	role = server ? "server" : "client";

	xvchan_config_init(&cfg);
	cfg.connect_timeout_ms = 30000;
	t0 = now_s();
	if (server) {
		printf("[%s] serving domain %lu on port \"%s\"; waiting for it to connect\n",
		       role, peer, PORT);
		fflush(stdout);
		err = xvchan_server(&vc, (unsigned int)peer, PORT, XVCHAN_DEFAULT_RING_SIZE,
				    XVCHAN_DEFAULT_RING_SIZE, &cfg);
	} else {
		printf("[%s] looking for domain %lu's port \"%s\"\n", role, peer, PORT);
		fflush(stdout);
		err = xvchan_client(&vc, (unsigned int)peer, PORT, &cfg);
	}
	if (err < 0) {
		fprintf(stderr, "[%s] cannot connect: %s\n", role, xvchan_strerror(err));
		return 1;
	}
	xvchan_describe(vc, desc, sizeof(desc));
	printf("[%s] connected in %.1f ms: %s\n", role, (now_s() - t0) * 1e3, desc);

	greeting_len = (size_t)snprintf(greeting, sizeof(greeting),
					"hello from the %s\n", role);
	/* The server sends pattern 1, the client pattern 2. */
	sender = (struct sender){ .vc = vc, .tag = server ? 1 : 2,
				  .bytes = (uint64_t)mib << 20, .greeting = greeting };
	t0 = now_s();
	err = pthread_create(&writer, NULL, send_all, &sender);
	if (err) {
		fprintf(stderr, "[%s] pthread_create: %s\n", role, strerror(err));
		xvchan_close(vc);
		return 1;
	}

	/* The peer's greeting first, one line; then its pattern to the end. */
	unsigned int peer_tag = server ? 2 : 1;
	for (;;) {
		ssize_t n = xvchan_read(vc, buf, sizeof(buf));
		size_t i = 0;

		if (n == 0)
			break;
		if (n < 0) {
			fprintf(stderr, "[%s] read: %s\n", role, xvchan_strerror((int)n));
			err = (int)n;
			break;
		}
		while (i < (size_t)n && (heard_len == 0 || heard[heard_len - 1] != '\n')) {
			if (heard_len + 1 >= sizeof(heard)) {
				fprintf(stderr, "[%s] greeting too long\n", role);
				err = -EPROTO;
				break;
			}
			heard[heard_len++] = (char)buf[i++];
		}
		for (; i < (size_t)n; i++, received++)
			if (buf[i] != pattern(peer_tag, received)) {
				fprintf(stderr, "[%s] byte %" PRIu64 " is wrong\n", role, received);
				err = -EPROTO;
				break;
			}
		if (err)
			break;
	}
	pthread_join(writer, NULL);
	double secs = now_s() - t0;

	if (sender.err < 0) {
		fprintf(stderr, "[%s] write: %s\n", role, xvchan_strerror(sender.err));
		err = sender.err;
	}
	/* The peer sends what it was given, the same MIB as ours: a stream
	 * that ends short (or runs long) was not what we set out to verify. */
	expected = (uint64_t)mib << 20;
	if (!err && received != expected) {
		fprintf(stderr, "[%s] received %" PRIu64 " bytes of pattern, expected %" PRIu64
			" (%lu MiB: give both ends the same MIB)\n",
			role, received, expected, mib);
		miscounted = true;
	}
	if (!err)
		printf("[%s] sent \"%.*s\" and %lu MiB, half-closed\n", role,
		       (int)(greeting_len - 1), greeting, mib);
	if (!err && !miscounted)
		/* No rate: checking each byte dominates here; xvchan-bench
		 * measures the vchan. */
		printf("[%s] received \"%.*s\" and %.1f MiB, every byte verified, then end of stream, in %.2f s\n",
		       role, heard_len ? (int)heard_len - 1 : 0, heard,
		       received / 1048576.0, secs);
	int close_err = xvchan_close(vc);

	if (!err)
		err = close_err;
	printf("[%s] %s\n", role, err ? xvchan_strerror(err) :
	       miscounted ? "closed, but not the amount expected" : "closed cleanly");
	return err || miscounted ? 1 : 0;
}
