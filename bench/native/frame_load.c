/*
 * frame_load: a native load client for seed 003's framed submit/ack protocol (issue 12),
 * written for this project (the peers folder describes a `frame-load` it does not ship).
 *
 *   cc -O2 -o bench/out/native/frame_load bench/native/frame_load.c -lpthread
 *   frame_load --connect 127.0.0.1:8888 --conns 16 --window 64 --ack-cmd 0x81 --duration 5
 *
 * N connections (--conns), each keeping W Submits in flight (--window): it sends W at once,
 * then one more for every ack, all Submits answered by one read leaving in one write. A Submit
 * is `totalLength u32 | 0x02 | ID | payload` with the ID the connection's counter as 8 ASCII
 * digits (%08d, from 00000001, wrapping at 10^8) and --payload bytes of 'x'. Every ack is
 * checked: totalLength 14, commandID --ack-cmd (0x82 the seed's table, 0x81 its Go code), the
 * ID of the oldest unacked Submit (acks keep Submit order), result 0. Each is timed from the
 * write of its Submit to the read that returned it (CLOCK_MONOTONIC), into log-linear buckets
 * of 128 per power of two (within 0.8%, as an HdrHistogram with 2 significant digits).
 *
 * Timeline: --warmup S sending, then the window of --duration S (acks read in it are counted
 * and timed), then no new Submits and up to --drain S for the outstanding acks, which must all
 * arrive. "window-start" and "window-end" go to stderr as they happen; one JSON line to
 * stdout at the end. --threads T spreads the connections over T epoll loops (default 1).
 * Exit status 0 after a run (bad acks are in the JSON), 2 on bad flags, 3 when it cannot run.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_BUF (64 * 1024)
#define ACK_BYTES 14
#define HEADER_BYTES 13 /* totalLength, commandID, ID */
#define MAX_CONNS 8192
#define MAX_THREADS 16

/* Latency buckets: values below 256 ns exact, then 128 buckets per power of two. */
#define SUB_BITS 7
#define SUB_COUNT (1 << SUB_BITS)
#define BUCKETS (2 * SUB_COUNT + 40 * SUB_COUNT)

enum { PH_WARM, PH_RUN, PH_STOP, PH_EXIT };
static int phase = PH_WARM;
static const char *host = "127.0.0.1";
static int port = 8888, nconns = 16, window = 64, payload = 64, ack_cmd = 0x82, nthreads = 1;
static double duration = 5, warmup = 1, drain_cap = 3;

typedef struct {
  uint64_t count, sum_ns, max_ns;
  uint64_t buckets[BUCKETS];
} Hist;

typedef struct {
  int fd, open, thread;
  uint64_t sent, acked; /* Submits written (or queued), acks read */
  char next_id[8];      /* ID of the next Submit */
  char ack_id[8];       /* ID the next ack must carry */
  uint64_t *sent_ns;    /* send time of Submit n at [n % window] */
  unsigned char carry[ACK_BYTES];
  int carry_len;
  char *out; /* Submits not yet taken by the kernel */
  size_t out_len, out_off;
  int want_out; /* EPOLLOUT registered */
} Conn;

typedef struct {
  int id, ep;
  Hist hist;
  uint64_t acks_window, acks_total, bad_id, bad_result, bad_cmd, bad_length, disconnected;
} Worker;

static Conn *conns;
static Worker workers[MAX_THREADS];
static size_t frame_bytes;
static char *frame_template;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}
static double now_s(void) { return now_ns() / 1e9; }
static int get_phase(void) { return __atomic_load_n(&phase, __ATOMIC_ACQUIRE); }
static void die(const char *what) {
  perror(what);
  exit(3);
}

static int bucket_of(uint64_t v) {
  if (v < 2 * SUB_COUNT) return (int)v;
  int e = 63 - __builtin_clzll(v) - SUB_BITS; /* >= 1 */
  int i = 2 * SUB_COUNT + (e - 1) * SUB_COUNT + (int)((v >> e) - SUB_COUNT);
  return i < BUCKETS ? i : BUCKETS - 1;
}
/* The highest value a bucket holds (as HdrHistogram reports percentiles). */
static uint64_t bucket_top(int i) {
  if (i < 2 * SUB_COUNT) return (uint64_t)i;
  int e = (i - 2 * SUB_COUNT) / SUB_COUNT + 1;
  uint64_t low = (uint64_t)(SUB_COUNT + (i - 2 * SUB_COUNT) % SUB_COUNT) << e;
  return low + (1ull << e) - 1;
}
static void record(Hist *h, uint64_t ns) {
  h->count++;
  h->sum_ns += ns;
  if (ns > h->max_ns) h->max_ns = ns;
  h->buckets[bucket_of(ns)]++;
}
static uint64_t percentile(const Hist *h, double p) {
  if (h->count == 0) return 0;
  uint64_t want = (uint64_t)(p / 100.0 * (double)h->count + 0.999999), seen = 0;
  if (want < 1) want = 1;
  for (int i = 0; i < BUCKETS; i++) {
    seen += h->buckets[i];
    if (seen >= want) {
      uint64_t top = bucket_top(i);
      return top < h->max_ns ? top : h->max_ns;
    }
  }
  return h->max_ns;
}

static void id_increment(char *id) {
  for (int i = 7; i >= 0; i--) {
    if (id[i] < '9') {
      id[i]++;
      return;
    }
    id[i] = '0'; /* past 99999999 every digit wraps, like the seed's serial numbers */
  }
}

static int connect_to(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1) die("socket/address");
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) die("connect");
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

/* Appends one Submit (the next ID) to the connection's output, stamping its send time. */
static void queue_submit(Conn *c, uint64_t t) {
  char *f = c->out + c->out_len;
  memcpy(f, frame_template, frame_bytes);
  memcpy(f + 5, c->next_id, 8);
  id_increment(c->next_id);
  c->sent++;
  c->sent_ns[c->sent % (uint64_t)window] = t;
  c->out_len += frame_bytes;
}

static void close_conn(Worker *w, Conn *c) {
  if (!c->open) return;
  c->open = 0;
  w->disconnected++;
  epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
}

/* Writes what is queued; asks for EPOLLOUT when the kernel takes only part of it. */
static void flush_out(Worker *w, Conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      close_conn(w, c);
      return;
    }
    c->out_off += (size_t)n;
  }
  if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
  int want = c->out_len > 0;
  if (want != c->want_out) {
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.u32 = (uint32_t)(c - conns)};
    epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = want;
  }
}

/* One ack at `a` (14 bytes), read at `t`. Returns 0 when the stream cannot be followed. */
static int on_ack(Worker *w, Conn *c, const unsigned char *a, uint64_t t, int counting) {
  uint32_t length = ((uint32_t)a[0] << 24) | ((uint32_t)a[1] << 16) | ((uint32_t)a[2] << 8) | a[3];
  if (length != ACK_BYTES) {
    w->bad_length++;
    return 0;
  }
  if (a[4] != ack_cmd) w->bad_cmd++;
  if (memcmp(a + 5, c->ack_id, 8) != 0) w->bad_id++;
  if (a[13] != 0) w->bad_result++;
  id_increment(c->ack_id);
  c->acked++;
  w->acks_total++;
  if (c->acked > c->sent) { /* an ack for nothing sent: counted as a bad ID above */
    return 1;
  }
  if (counting) {
    w->acks_window++;
    uint64_t s = c->sent_ns[c->acked % (uint64_t)window];
    record(&w->hist, t > s ? t - s : 0);
  }
  return 1;
}

static void on_readable(Worker *w, Conn *c, unsigned char *buf) {
  for (int rounds = 0; rounds < 8; rounds++) {
    ssize_t n = read(c->fd, buf, READ_BUF);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      close_conn(w, c);
      return;
    }
    if (n < 0) return;
    uint64_t t = now_ns();
    int ph = get_phase(), counting = ph == PH_RUN, sending = ph < PH_STOP;
    uint64_t before = c->acked;
    const unsigned char *p = buf, *end = buf + n;
    if (c->carry_len > 0) {
      int take = ACK_BYTES - c->carry_len;
      if (take > n) take = (int)n;
      memcpy(c->carry + c->carry_len, p, (size_t)take);
      c->carry_len += take;
      p += take;
      if (c->carry_len < ACK_BYTES) return;
      c->carry_len = 0;
      if (!on_ack(w, c, c->carry, t, counting)) {
        close_conn(w, c);
        return;
      }
    }
    for (; end - p >= ACK_BYTES; p += ACK_BYTES)
      if (!on_ack(w, c, p, t, counting)) {
        close_conn(w, c);
        return;
      }
    if (p < end) {
      c->carry_len = (int)(end - p);
      memcpy(c->carry, p, (size_t)c->carry_len);
    }
    if (sending) {
      uint64_t acks = c->acked - before;
      for (uint64_t i = 0; i < acks; i++) queue_submit(c, t);
      flush_out(w, c);
    }
    if (n < READ_BUF) return;
  }
}

static void *loop(void *arg) {
  Worker *w = arg;
  unsigned char *buf = malloc(READ_BUF);
  struct epoll_event evs[256];
  w->ep = epoll_create1(0);
  uint64_t t = now_ns();
  for (int i = 0; i < nconns; i++) {
    Conn *c = &conns[i];
    if (c->thread != w->id) continue;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev);
    for (int k = 0; k < window; k++) queue_submit(c, t);
    flush_out(w, c);
  }
  while (get_phase() != PH_EXIT) {
    int n = epoll_wait(w->ep, evs, 256, 10);
    for (int i = 0; i < n; i++) {
      Conn *c = &conns[evs[i].data.u32];
      if (!c->open) continue;
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(w, c, buf);
      if (c->open && (evs[i].events & EPOLLOUT)) flush_out(w, c);
    }
  }
  free(buf);
  return NULL;
}

static uint64_t outstanding(void) {
  uint64_t n = 0;
  for (int i = 0; i < nconns; i++) {
    uint64_t sent = __atomic_load_n(&conns[i].sent, __ATOMIC_RELAXED);
    uint64_t acked = __atomic_load_n(&conns[i].acked, __ATOMIC_RELAXED);
    if (__atomic_load_n(&conns[i].open, __ATOMIC_RELAXED) && sent > acked) n += sent - acked;
  }
  return n;
}

static double arg_num(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) {
    fprintf(stderr, "%s needs a value\n", argv[*i]);
    exit(2);
  }
  char *end;
  double v = strtod(argv[++*i], &end);
  if (*end != 0) {
    fprintf(stderr, "%s: not a number: %s\n", argv[*i - 1], argv[*i]);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--connect") && i + 1 < argc) {
      static char h[256];
      const char *addr = argv[++i], *colon = strrchr(addr, ':');
      if (colon == NULL || colon - addr >= (long)sizeof h) {
        fprintf(stderr, "--connect takes HOST:PORT\n");
        return 2;
      }
      memcpy(h, addr, (size_t)(colon - addr));
      h[colon - addr] = 0;
      host = h;
      port = atoi(colon + 1);
    } else if (!strcmp(a, "--conns")) nconns = (int)arg_num(argc, argv, &i);
    else if (!strcmp(a, "--window")) window = (int)arg_num(argc, argv, &i);
    else if (!strcmp(a, "--payload")) payload = (int)arg_num(argc, argv, &i);
    else if (!strcmp(a, "--ack-cmd") && i + 1 < argc) ack_cmd = (int)strtol(argv[++i], NULL, 0);
    else if (!strcmp(a, "--duration")) duration = arg_num(argc, argv, &i);
    else if (!strcmp(a, "--warmup")) warmup = arg_num(argc, argv, &i);
    else if (!strcmp(a, "--drain")) drain_cap = arg_num(argc, argv, &i);
    else if (!strcmp(a, "--threads")) nthreads = (int)arg_num(argc, argv, &i);
    else {
      fprintf(stderr, "unknown flag %s\n", a);
      return 2;
    }
  }
  if (nconns < 1 || nconns > MAX_CONNS || window < 1 || window > 1 << 20 || payload < 0 ||
      payload > 1 << 20 || ack_cmd < 0 || ack_cmd > 255 || duration <= 0 || warmup < 0 ||
      drain_cap <= 0 || port < 1 || port > 65535 || nthreads < 1 || nthreads > MAX_THREADS) {
    fprintf(stderr, "bad flags\n");
    return 2;
  }
  if (nthreads > nconns) nthreads = nconns;

  frame_bytes = HEADER_BYTES + (size_t)payload;
  frame_template = malloc(frame_bytes);
  frame_template[0] = (char)(frame_bytes >> 24);
  frame_template[1] = (char)(frame_bytes >> 16);
  frame_template[2] = (char)(frame_bytes >> 8);
  frame_template[3] = (char)frame_bytes;
  frame_template[4] = 0x02;
  memset(frame_template + HEADER_BYTES, 'x', (size_t)payload);

  conns = calloc((size_t)nconns, sizeof *conns);
  for (int i = 0; i < nconns; i++) {
    Conn *c = &conns[i];
    c->fd = connect_to();
    c->open = 1;
    c->thread = i % nthreads;
    memcpy(c->next_id, "00000001", 8);
    memcpy(c->ack_id, "00000001", 8);
    c->sent_ns = calloc((size_t)window, sizeof(uint64_t));
    c->out = malloc(frame_bytes * (size_t)window);
  }

  pthread_t th[MAX_THREADS];
  double t0 = now_s();
  for (int i = 0; i < nthreads; i++) {
    workers[i].id = i;
    pthread_create(&th[i], NULL, loop, &workers[i]);
  }
  usleep((useconds_t)(warmup * 1e6));
  double w0 = now_s();
  __atomic_store_n(&phase, PH_RUN, __ATOMIC_RELEASE);
  fputs("window-start\n", stderr);
  while (now_s() < w0 + duration) usleep(2000);
  __atomic_store_n(&phase, PH_STOP, __ATOMIC_RELEASE);
  double w1 = now_s();
  fputs("window-end\n", stderr);
  while (outstanding() > 0 && now_s() < w1 + drain_cap) usleep(1000);
  double drained = now_s() - w1;
  __atomic_store_n(&phase, PH_EXIT, __ATOMIC_RELEASE);
  for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);

  Hist *h = calloc(1, sizeof *h);
  uint64_t acks = 0, acks_total = 0, bad_id = 0, bad_result = 0, bad_cmd = 0, bad_length = 0,
           disconnected = 0, sent = 0, unacked = 0;
  for (int i = 0; i < nthreads; i++) {
    Worker *w = &workers[i];
    acks += w->acks_window;
    acks_total += w->acks_total;
    bad_id += w->bad_id;
    bad_result += w->bad_result;
    bad_cmd += w->bad_cmd;
    bad_length += w->bad_length;
    disconnected += w->disconnected;
    h->count += w->hist.count;
    h->sum_ns += w->hist.sum_ns;
    if (w->hist.max_ns > h->max_ns) h->max_ns = w->hist.max_ns;
    for (int b = 0; b < BUCKETS; b++) h->buckets[b] += w->hist.buckets[b];
  }
  for (int i = 0; i < nconns; i++) {
    sent += conns[i].sent;
    if (conns[i].sent > conns[i].acked) unacked += conns[i].sent - conns[i].acked;
  }
  double win = w1 - w0;
  printf("{\"client\":\"frame-load\",\"conns\":%d,\"window\":%d,\"payload\":%d,\"ackCmd\":%d,"
         "\"threads\":%d,\"windowSec\":%.6f,\"acks\":%llu,\"acksPerSec\":%.1f,"
         "\"submitsTotal\":%llu,\"acksTotal\":%llu,\"unacked\":%llu,\"badId\":%llu,"
         "\"badResult\":%llu,\"badCmd\":%llu,\"badLength\":%llu,\"disconnected\":%llu,"
         "\"latencyUs\":{\"count\":%llu,\"mean\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
         "\"p999\":%.3f,\"max\":%.3f},\"drainSec\":%.3f,\"runSec\":%.3f}\n",
         nconns, window, payload, ack_cmd, nthreads, win, (unsigned long long)acks, acks / win,
         (unsigned long long)sent, (unsigned long long)acks_total, (unsigned long long)unacked,
         (unsigned long long)bad_id, (unsigned long long)bad_result,
         (unsigned long long)bad_cmd, (unsigned long long)bad_length,
         (unsigned long long)disconnected, (unsigned long long)h->count,
         h->count ? h->sum_ns / 1e3 / h->count : 0.0, percentile(h, 50) / 1e3,
         percentile(h, 90) / 1e3, percentile(h, 99) / 1e3, percentile(h, 99.9) / 1e3,
         h->max_ns / 1e3, drained, now_s() - t0);
  return 0;
}
