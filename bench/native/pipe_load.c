/*
 * pipe_load: a native load generator for the pipe benches (bench:tunnel), doing what
 * bench/forward/load.ts does from a Bun process, for a fraction of the CPU. On a 2-core box
 * the Bun load generator and the Bun targets took most of the CPU, so a tunnel's own cost
 * barely showed in the figures; with this client both contenders get the same cheap load.
 *
 *   pipe_load rtt   --port P --seconds S [--size 64]
 *   pipe_load conns --port P --seconds S [--concurrency 8] [--size 16]
 *   pipe_load bulk  --port P --streams N --bytes B
 *
 * - rtt: one connection (TCP_NODELAY), --size bytes out, wait for all of them back, repeat
 *   for S seconds; each sample from the write to the read that completes the echo.
 * - conns: C slots in one epoll loop, each: non-blocking connect, --size bytes once the
 *   connection is up, wait for the echo, close (FIN), again until S seconds are over; each
 *   sample from connect() to the echo's arrival. A connection refused, reset or closed before
 *   its echo counts as a failure and the slot starts again.
 * - bulk: N connections to the counted sink (bench/tunnel/targets.ts): each announces B in
 *   8 bytes (u64 LE), sends B filler bytes as fast as the socket takes them, and waits for the
 *   sink's 8-byte count; MB/s = all bytes / time until the last count (10^6 bytes).
 *
 * Percentiles as load.ts: sorted samples, the one at floor(n * p). One JSON line on stdout:
 *   rtt/conns: {"perSecond":..,"p50Ms":..,"p90Ms":..,"p99Ms":..,"p999Ms":..,"maxMs":..,
 *               "samples":..,"failures":..}
 *   bulk:      {"mbps":..,"total":..,"seconds":..}
 * Exit status 0 after a run, 2 on bad flags, 3 when it cannot run (bulk: a count that is off).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BLOCK (256 * 1024)
#define MAX_SLOTS 4096

static int port = 0, size = 0, concurrency = 8, streams = 1;
static double seconds = 2;
static uint64_t bytes_each = 0;
static unsigned char block[BLOCK];

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}
static void die(const char *what) {
  perror(what);
  exit(3);
}

/* Latency samples in ns, grown as needed. */
static uint64_t *samples;
static size_t nsamples, capsamples;
static void keep(uint64_t ns) {
  if (nsamples == capsamples) {
    capsamples = capsamples ? capsamples * 2 : 65536;
    samples = realloc(samples, capsamples * sizeof *samples);
    if (!samples) die("realloc");
  }
  samples[nsamples++] = ns;
}
static int by_value(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}
static double percentile_ms(double fraction) {
  if (nsamples == 0) return -1;
  size_t i = (size_t)((double)nsamples * fraction);
  if (i >= nsamples) i = nsamples - 1;
  return samples[i] / 1e6;
}
static void print_latency(uint64_t started, uint64_t failures) {
  double elapsed = (now_ns() - started) / 1e9;
  qsort(samples, nsamples, sizeof *samples, by_value);
  printf("{\"perSecond\":%.3f,\"p50Ms\":%.6f,\"p90Ms\":%.6f,\"p99Ms\":%.6f,\"p999Ms\":%.6f,"
         "\"maxMs\":%.6f,\"samples\":%zu,\"failures\":%llu}\n",
         nsamples / elapsed, percentile_ms(0.5), percentile_ms(0.9), percentile_ms(0.99),
         percentile_ms(0.999), percentile_ms(1.0), nsamples, (unsigned long long)failures);
}

static struct sockaddr_in target(void) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}
static void nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* rtt: blocking calls on one socket; nothing else to wait for. */
static void run_rtt(void) {
  struct sockaddr_in a = target();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
  nodelay(fd);
  unsigned char out[65536], in[65536];
  memset(out, 0x62, (size_t)size);
  uint64_t started = now_ns(), deadline = started + (uint64_t)(seconds * 1e9);
  for (;;) {
    uint64_t sent_at = now_ns();
    if (send(fd, out, (size_t)size, MSG_NOSIGNAL) != size) die("send");
    int got = 0;
    while (got < size) {
      ssize_t n = recv(fd, in, sizeof in, 0);
      if (n <= 0) die("recv");
      got += (int)n;
    }
    uint64_t now = now_ns();
    keep(now - sent_at);
    if (now >= deadline) break;
  }
  print_latency(started, 0);
  close(fd);
}

/* conns: one slot per concurrent connection; the epoll data is the slot's index. */
typedef struct {
  int fd, got, connected;
  uint64_t started;
} Slot;
static Slot slots[MAX_SLOTS];
static int ep;
static uint64_t failures;

static void slot_start(int i) {
  struct sockaddr_in a = target();
  Slot *s = &slots[i];
  s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (s->fd < 0) die("socket");
  nodelay(s->fd);
  s->got = 0;
  s->connected = 0;
  s->started = now_ns();
  /* A connect that fails at once shows as EPOLLHUP: counted and retried in the loop. */
  (void)connect(s->fd, (struct sockaddr *)&a, sizeof a);
  struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)i};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) < 0) die("epoll_ctl");
}

/* Returns 1 when the slot is done with its connection (echo in, or failed). */
static int slot_event(int i, uint32_t events) {
  Slot *s = &slots[i];
  if (!s->connected) {
    int error = 0;
    socklen_t len = sizeof error;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0 || (events & (EPOLLERR | EPOLLHUP))) return -1;
    if (!(events & EPOLLOUT)) return 0;
    s->connected = 1;
    unsigned char out[65536];
    memset(out, 0x63, (size_t)size);
    if (send(s->fd, out, (size_t)size, MSG_NOSIGNAL) != size) return -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
    return 0;
  }
  unsigned char in[65536];
  for (;;) {
    ssize_t n = recv(s->fd, in, sizeof in, 0);
    if (n > 0) {
      s->got += (int)n;
      if (s->got >= size) {
        keep(now_ns() - s->started);
        return 1;
      }
      continue;
    }
    if (n < 0 && errno == EAGAIN) return 0;
    return -1; /* closed or reset before the echo */
  }
}

static void run_conns(void) {
  ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  uint64_t started = now_ns(), deadline = started + (uint64_t)(seconds * 1e9);
  int active = 0;
  for (int i = 0; i < concurrency; i++, active++) slot_start(i);
  struct epoll_event events[MAX_SLOTS];
  while (active > 0) {
    int n = epoll_wait(ep, events, MAX_SLOTS, 1000);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int k = 0; k < n; k++) {
      int i = (int)events[k].data.u32;
      int done = slot_event(i, events[k].events);
      if (done == 0) continue;
      if (done < 0) failures++;
      close(slots[i].fd); /* FIN, as the Bun client's end() */
      slots[i].fd = -1;
      if (now_ns() < deadline) slot_start(i);
      else active--;
    }
  }
  print_latency(started, failures);
}

/* bulk: every stream writes until the kernel refuses, then waits for EPOLLOUT (edge-triggered). */
typedef struct {
  int fd, header_sent, reply_len;
  uint64_t left;
  unsigned char reply[8];
  int done;
} Stream;

static int stream_pump(Stream *s) {
  if (!s->header_sent) {
    unsigned char header[8];
    for (int b = 0; b < 8; b++) header[b] = (unsigned char)(bytes_each >> (8 * b));
    ssize_t n = send(s->fd, header, 8, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == ENOTCONN)) return 0;
    if (n != 8) return -1; /* 8 bytes into an empty send buffer go at once */
    s->header_sent = 1;
  }
  while (s->left > 0) {
    size_t want = s->left < BLOCK ? (size_t)s->left : BLOCK;
    ssize_t n = send(s->fd, block, want, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    s->left -= (uint64_t)n;
  }
  for (;;) {
    ssize_t n = recv(s->fd, s->reply + s->reply_len, 8 - (size_t)s->reply_len, 0);
    if (n > 0) {
      s->reply_len += (int)n;
      if (s->reply_len == 8) return 1;
      continue;
    }
    if (n < 0 && errno == EAGAIN) return 0;
    return -1;
  }
}

static void run_bulk(void) {
  ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  memset(block, 0x61, sizeof block);
  Stream *all = calloc((size_t)streams, sizeof *all);
  struct sockaddr_in a = target();
  uint64_t started = now_ns();
  for (int i = 0; i < streams; i++) {
    all[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (all[i].fd < 0) die("socket");
    all[i].left = bytes_each;
    if (connect(all[i].fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS)
      die("connect");
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = (uint32_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, all[i].fd, &ev) < 0) die("epoll_ctl");
  }
  int open = streams;
  uint64_t total = 0;
  struct epoll_event events[MAX_SLOTS];
  while (open > 0) {
    int n = epoll_wait(ep, events, MAX_SLOTS, 10000);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    if (n == 0) {
      fprintf(stderr, "pipe_load bulk: no progress for 10 s\n");
      exit(3);
    }
    for (int k = 0; k < n; k++) {
      Stream *s = &all[events[k].data.u32];
      if (s->done) continue;
      int r = stream_pump(s);
      if (r == 0) continue;
      if (r < 0) {
        fprintf(stderr, "pipe_load bulk: a stream failed (%s)\n", strerror(errno));
        exit(3);
      }
      uint64_t count = 0;
      for (int b = 7; b >= 0; b--) count = (count << 8) | s->reply[b];
      total += count;
      s->done = 1;
      close(s->fd);
      open--;
    }
  }
  double elapsed = (now_ns() - started) / 1e9;
  if (total != bytes_each * (uint64_t)streams) {
    fprintf(stderr, "pipe_load bulk: sink counted %llu bytes\n", (unsigned long long)total);
    exit(3);
  }
  printf("{\"mbps\":%.3f,\"total\":%llu,\"seconds\":%.6f}\n", total / 1e6 / elapsed,
         (unsigned long long)total, elapsed);
}

static void usage(void) {
  fprintf(stderr,
          "usage: pipe_load rtt|conns|bulk --port P [--seconds S] [--size N] "
          "[--concurrency C] [--streams N --bytes B]\n");
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 2) usage();
  const char *mode = argv[1];
  for (int i = 2; i < argc; i++) {
    if (i + 1 >= argc) usage();
    const char *flag = argv[i], *value = argv[++i];
    if (!strcmp(flag, "--port")) port = atoi(value);
    else if (!strcmp(flag, "--seconds")) seconds = atof(value);
    else if (!strcmp(flag, "--size")) size = atoi(value);
    else if (!strcmp(flag, "--concurrency")) concurrency = atoi(value);
    else if (!strcmp(flag, "--streams")) streams = atoi(value);
    else if (!strcmp(flag, "--bytes")) bytes_each = strtoull(value, NULL, 10);
    else usage();
  }
  signal(SIGPIPE, SIG_IGN);
  if (port <= 0 || port > 65535 || seconds <= 0) usage();
  if (!strcmp(mode, "rtt")) {
    if (size == 0) size = 64;
    if (size < 1 || size > 65536) usage();
    run_rtt();
  } else if (!strcmp(mode, "conns")) {
    if (size == 0) size = 16;
    if (size < 1 || size > 65536 || concurrency < 1 || concurrency > MAX_SLOTS) usage();
    run_conns();
  } else if (!strcmp(mode, "bulk")) {
    if (streams < 1 || streams > MAX_SLOTS || bytes_each == 0) usage();
    run_bulk();
  } else {
    usage();
  }
  return 0;
}
