/*
 * nats_reqrep: request/reply load for a NATS server (issue 21): R requester
 * connections, each with one request in flight, and one responder connection.
 *
 *   cc -O2 -o bench/out/native/nats_reqrep bench/native/nats_reqrep.c -lpthread
 *   nats_reqrep --port 4222 --requesters 50 --msg-size 80 --duration 5
 *
 * The responder sends CONNECT, `SUB req 1`, PING and waits for the PONG; each
 * requester i the same with `SUB _INBOX.<i> 1`. Then every requester writes
 * `PUB req _INBOX.<i> SIZE\r\n<payload>\r\n` and, when the reply's MSG is all
 * in, times the round trip and sends the next one (nats.js `request` with a
 * per-connection inbox, without its mux). The responder answers each request
 * with `PUB <reply> SIZE\r\n<payload>\r\n`, all answers of one read in one
 * write. Requesters run on one epoll thread, the responder on another.
 * Round trips completed inside the window are counted and timed (exact
 * percentiles: every one is kept and sorted). After the window no new request
 * is sent; those in flight may take --drain s. A reply of the wrong size, an
 * -ERR or an unknown line counts as malformed. One JSON line on stdout;
 * "window-start" and "window-end" on stderr as they happen.
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

#define READ_BUF (256 * 1024)

enum { PH_WARM, PH_RUN, PH_STOP, PH_EXIT };
static int phase = PH_WARM;
static const char *host = "127.0.0.1";
static int port = 4222, nreq = 50, msg_size = 80;
static double duration = 5, warmup = 1, drain_cap = 3;

/* One connection's reading state: a control line split across reads, and the payload left. */
typedef struct {
  int fd;
  char ctl[512];
  size_t ctl_len;
  uint64_t msg_left; /* payload + CRLF still to come of the current MSG */
  char reply[256];   /* the responder: the current MSG's reply subject */
  size_t reply_len;
} Conn;

typedef struct {
  Conn c;
  int id, in_flight;
  double sent_at;
  char *pub; /* this requester's PUB req _INBOX.<i> SIZE\r\n<payload>\r\n */
  size_t pub_len;
} Requester;

static Requester *reqs;
static Conn responder;
static uint64_t done_total, answered;
static _Atomic uint64_t malformed; /* both threads count */
static uint32_t *lat_ns; /* window round trips, ns */
static size_t lat_len, lat_cap;
static char *payload;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}
static int get_phase(void) { return __atomic_load_n(&phase, __ATOMIC_ACQUIRE); }
static void die(const char *what) { perror(what); exit(3); }

static int connect_nats(const char *sub) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1) die("socket/address");
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) die("connect");
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char hello[256], buf[8192];
  int len = snprintf(hello, sizeof hello,
                     "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB %s 1\r\nPING\r\n", sub);
  if (write(fd, hello, (size_t)len) != len) die("nats hello");
  size_t have = 0;
  for (;;) { /* INFO, then the PONG: the server has registered the SUB */
    ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
    if (n <= 0) die("nats handshake");
    have += (size_t)n;
    buf[have] = 0;
    if (strstr(buf, "PONG\r\n")) break;
    if (have > sizeof buf / 2) { memmove(buf, buf + have - 64, 64); have = 64; }
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EAGAIN || errno == EINTR) continue; /* small writes: the buffer frees at once */
      die("write");
    }
    p += w;
    n -= (size_t)w;
  }
}

/*
 * Walks one read of a connection: calls on_msg(conn, ctx) when a MSG (payload and CRLF) is all
 * in, after its control line was seen (the responder keeps the reply subject from it).
 */
typedef void (*MsgFn)(Conn *c, void *ctx);
static void parse(Conn *c, const char *p, const char *end, MsgFn on_msg, void *ctx) {
  while (p < end) {
    if (c->msg_left > 0) {
      uint64_t take = (uint64_t)(end - p) < c->msg_left ? (uint64_t)(end - p) : c->msg_left;
      p += take;
      c->msg_left -= take;
      if (c->msg_left == 0) on_msg(c, ctx);
      continue;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t part = (size_t)((nl == NULL ? end : nl) - p);
    if (c->ctl_len + part >= sizeof c->ctl) { malformed++; c->ctl_len = 0; part = 0; }
    memcpy(c->ctl + c->ctl_len, p, part);
    c->ctl_len += part;
    if (nl == NULL) return;
    p = nl + 1;
    size_t len = c->ctl_len;
    c->ctl_len = 0;
    if (len > 0 && c->ctl[len - 1] == '\r') len--;
    char *line = c->ctl;
    line[len] = 0;
    if (len >= 4 && !memcmp(line, "MSG ", 4)) { /* MSG subject sid [reply] size */
      char *f[5], *save = NULL;
      int nf = 0; /* strtok_r: both threads parse */
      for (char *t = strtok_r(line + 4, " ", &save); t && nf < 5; t = strtok_r(NULL, " ", &save))
        f[nf++] = t;
      if (nf < 3 || nf > 4 || atoi(f[nf - 1]) != msg_size) { malformed++; continue; }
      c->reply_len = nf == 4 ? strlen(f[2]) : 0;
      if (nf == 4) memcpy(c->reply, f[2], c->reply_len);
      c->msg_left = (uint64_t)msg_size + 2;
    } else if (len == 4 && !memcmp(line, "PING", 4)) {
      write_all(c->fd, "PONG\r\n", 6);
    } else if (!(len == 4 && !memcmp(line, "PONG", 4)) && !(len == 3 && !memcmp(line, "+OK", 3)) &&
               !(len >= 5 && !memcmp(line, "INFO ", 5))) {
      malformed++;
      if (malformed == 1) fprintf(stderr, "nats: unexpected line: %.200s\n", line);
    }
  }
}

/* The responder's output of one read: every answer, written at once. */
static char *answers;
static size_t answers_len, answers_cap;

static void on_request(Conn *c, void *ctx) {
  (void)ctx;
  if (c->reply_len == 0) { malformed++; return; }
  size_t need = answers_len + c->reply_len + 32 + (size_t)msg_size;
  if (need > answers_cap) {
    answers_cap = need * 2;
    answers = realloc(answers, answers_cap);
  }
  char *q = answers + answers_len;
  memcpy(q, "PUB ", 4);
  memcpy(q + 4, c->reply, c->reply_len);
  q += 4 + c->reply_len;
  q += sprintf(q, " %d\r\n", msg_size);
  memcpy(q, payload, (size_t)msg_size);
  memcpy(q + msg_size, "\r\n", 2);
  answers_len = (size_t)(q + msg_size + 2 - answers);
  answered++;
}

static void *responder_loop(void *arg) {
  (void)arg;
  char *buf = malloc(READ_BUF);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN}, out;
  epoll_ctl(ep, EPOLL_CTL_ADD, responder.fd, &ev);
  while (get_phase() != PH_EXIT) {
    if (epoll_wait(ep, &out, 1, 10) <= 0) continue;
    for (int rounds = 0; rounds < 8; rounds++) {
      ssize_t n = read(responder.fd, buf, READ_BUF);
      if (n == 0) die("the server closed the responder");
      if (n < 0) break;
      answers_len = 0;
      parse(&responder, buf, buf + n, on_request, NULL);
      if (answers_len > 0) write_all(responder.fd, answers, answers_len);
      if (n < READ_BUF) break;
    }
  }
  return NULL;
}

static void send_request(Requester *r) {
  r->sent_at = now_s();
  r->in_flight = 1;
  write_all(r->c.fd, r->pub, r->pub_len);
}

static void on_reply(Conn *c, void *ctx) {
  Requester *r = ctx;
  (void)c;
  if (!r->in_flight) { malformed++; return; }
  double rtt = now_s() - r->sent_at;
  r->in_flight = 0;
  __atomic_add_fetch(&done_total, 1, __ATOMIC_RELEASE);
  int ph = get_phase();
  if (ph == PH_RUN) {
    if (lat_len == lat_cap) {
      lat_cap = lat_cap ? lat_cap * 2 : 1 << 20;
      lat_ns = realloc(lat_ns, lat_cap * sizeof *lat_ns);
    }
    lat_ns[lat_len++] = rtt * 1e9 > 4e9 ? 4000000000u : (uint32_t)(rtt * 1e9);
  }
  if (ph <= PH_RUN) send_request(r);
}

static void *requester_loop(void *arg) {
  (void)arg;
  char *buf = malloc(READ_BUF);
  int ep = epoll_create1(0);
  struct epoll_event evs[256];
  for (int i = 0; i < nreq; i++) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, reqs[i].c.fd, &ev);
    send_request(&reqs[i]);
  }
  while (get_phase() != PH_EXIT) {
    int n = epoll_wait(ep, evs, 256, 10);
    for (int k = 0; k < n; k++) {
      Requester *r = &reqs[evs[k].data.u32];
      ssize_t got = read(r->c.fd, buf, READ_BUF);
      if (got == 0) die("the server closed a requester");
      if (got > 0) parse(&r->c, buf, buf + got, on_reply, r);
    }
  }
  return NULL;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}
static double pct_ms(double q) {
  if (lat_len == 0) return -1;
  size_t i = (size_t)(q * (double)(lat_len - 1) + 0.5);
  return lat_ns[i] / 1e6;
}

static double arg_num(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) { fprintf(stderr, "%s needs a value\n", argv[*i]); exit(2); }
  return atof(argv[++*i]);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--host") && i + 1 < argc) host = argv[++i];
    else if (!strcmp(a, "--port")) port = (int)arg_num(argc, argv, &i);
    else if (!strcmp(a, "--requesters")) nreq = (int)arg_num(argc, argv, &i);
    else if (!strcmp(a, "--msg-size")) msg_size = (int)arg_num(argc, argv, &i);
    else if (!strcmp(a, "--duration")) duration = arg_num(argc, argv, &i);
    else if (!strcmp(a, "--warmup")) warmup = arg_num(argc, argv, &i);
    else if (!strcmp(a, "--drain")) drain_cap = arg_num(argc, argv, &i);
    else { fprintf(stderr, "unknown flag %s\n", a); return 2; }
  }
  if (nreq < 1 || nreq > 4000 || msg_size < 1 || msg_size > 65536 || duration <= 0) {
    fprintf(stderr, "bad flags\n");
    return 2;
  }
  payload = malloc((size_t)msg_size);
  memset(payload, 'x', (size_t)msg_size);
  responder.fd = connect_nats("req");
  reqs = calloc((size_t)nreq, sizeof *reqs);
  for (int i = 0; i < nreq; i++) {
    Requester *r = &reqs[i];
    char inbox[32];
    sprintf(inbox, "_INBOX.%d", i);
    r->id = i;
    r->c.fd = connect_nats(inbox);
    r->pub = malloc(64 + (size_t)msg_size);
    int head = sprintf(r->pub, "PUB req %s %d\r\n", inbox, msg_size);
    memcpy(r->pub + head, payload, (size_t)msg_size);
    memcpy(r->pub + head + msg_size, "\r\n", 2);
    r->pub_len = (size_t)head + (size_t)msg_size + 2;
  }
  pthread_t th[2];
  double t0 = now_s();
  pthread_create(&th[0], NULL, responder_loop, NULL);
  pthread_create(&th[1], NULL, requester_loop, NULL);
  usleep((useconds_t)(warmup * 1e6));
  double w0 = now_s();
  uint64_t d0 = __atomic_load_n(&done_total, __ATOMIC_ACQUIRE);
  __atomic_store_n(&phase, PH_RUN, __ATOMIC_RELEASE);
  fputs("window-start\n", stderr);
  while (now_s() < w0 + duration) usleep(2000);
  __atomic_store_n(&phase, PH_STOP, __ATOMIC_RELEASE);
  double w1 = now_s();
  uint64_t d1 = __atomic_load_n(&done_total, __ATOMIC_ACQUIRE);
  fputs("window-end\n", stderr);
  double s0 = now_s();
  int pending = 1;
  while (pending && now_s() < s0 + drain_cap) { /* the requests in flight get their replies */
    usleep(1000);
    pending = 0;
    for (int i = 0; i < nreq; i++) pending += __atomic_load_n(&reqs[i].in_flight, __ATOMIC_ACQUIRE);
  }
  __atomic_store_n(&phase, PH_EXIT, __ATOMIC_RELEASE);
  pthread_join(th[0], NULL);
  pthread_join(th[1], NULL);
  qsort(lat_ns, lat_len, sizeof *lat_ns, cmp_u32);
  double sum = 0;
  for (size_t i = 0; i < lat_len; i++) sum += lat_ns[i];
  double win = w1 - w0;
  printf("{\"client\":\"nats-reqrep\",\"requesters\":%d,\"msgSize\":%d,\"windowSec\":%.6f,"
         "\"requests\":%llu,\"requestRate\":%.1f,\"timed\":%zu,\"avgMs\":%.4f,\"p50Ms\":%.4f,"
         "\"p90Ms\":%.4f,\"p99Ms\":%.4f,\"p999Ms\":%.4f,\"maxMs\":%.4f,\"answered\":%llu,"
         "\"unanswered\":%d,\"malformed\":%llu,\"runSec\":%.3f}\n",
         nreq, msg_size, win, (unsigned long long)(d1 - d0), (double)(d1 - d0) / win, lat_len,
         lat_len ? sum / (double)lat_len / 1e6 : -1, pct_ms(0.5), pct_ms(0.9), pct_ms(0.99),
         pct_ms(0.999), pct_ms(1.0), (unsigned long long)answered, pending,
         (unsigned long long)malformed, now_s() - t0);
  return 0;
}
