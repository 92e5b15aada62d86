/*
 * sat_client: an independent native saturation client for line relays
 * (publishers -> pub port, subscribers <- sub port) and nats-server.
 *
 *   cc -O2 -o bench/out/native/sat_client bench/native/sat_client.c -lpthread
 *   sat_client --pub-port 7001 --sub-port 7002 --pub 4 --sub 16 --duration 5
 *
 * Publishers write the bench's messages (`pubId,seq,timestampNs,` padded with
 * 'x' to --msg-size, the last byte '\n') as fast as the socket accepts, N per
 * write (default: as many as fit 64 KiB). Subscribers count '\n' with memchr
 * and, on the first whole line of every read, check the line's length and the
 * publisher's sequence: with one publisher exactly (seq must equal the last
 * sample's plus the lines counted since), with several monotonically per
 * publisher. After the window the publishers stop at a message boundary and
 * the client waits until every subscriber has everything (or --drain S), so
 * the final counts give exact loss. One JSON line on stdout; "window-start"
 * and "window-end" on stderr as they happen (for the caller's /proc samples).
 *
 * --loopback: no relay; one publisher writes straight into one subscriber over
 * one loopback TCP connection (the kernel's and this client's ceiling).
 * --threads 1: one epoll loop for everything; 2: publishers and subscribers
 * on separate threads (default). --protocol nats: PUB/MSG framing on the pub
 * port, subject "b": publishers write `PUB b SIZE\r\n<message>\r\n`, subscribers
 * send CONNECT {"verbose":false} + SUB + PING and wait for the PONG (so the server
 * has registered them) before any publisher connects. A subscriber counts a MSG
 * only once its payload and CRLF are all in, checks every MSG's size and, on the
 * first whole MSG of every read, its message like a line; server PINGs are
 * answered, -ERR and unknown lines count as malformed (the first is printed).
 * --framing frame: seed 003's frames on both ports (issue 12, our relay with
 * --framing frame). Each message is Submit(ID, payload): totalLength, 0x02, the
 * publisher's seq as 8 digits (%08d), and the --msg-size bytes of the line
 * message as payload. Publishers also read their SubmitAcks (command --ack-cmd,
 * 0x82 by default, 0x81 for --frame-codes article) and check each one's ID
 * order and result; subscribers walk the frames by their length, check the
 * first whole frame of every read (command, length, ID = seq, the line's
 * fields) and count frames instead of newlines.
 * --subjects N (with --protocol nats; issue 21): N subscribers, subscriber i
 * subscribes to its own subject `s.<i>`, and each publisher cycles through
 * them: every write is whole cycles (`PUB s.0 SIZE`, `PUB s.1 SIZE`, ...), so
 * each message reaches one subscriber, and subscriber i sees every N-th seq
 * (the sequence check steps by N).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
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
#include <fcntl.h>

#define READ_BUF (256 * 1024)
#define MAX_FDS 4096

enum { PH_WARM, PH_RUN, PH_STOP_PUB, PH_EXIT };
static int phase = PH_WARM;
static const char *pub_host = "127.0.0.1", *sub_host = "127.0.0.1";
static int sub_port_given = 0;
static int pub_port = 7001, sub_port = 7002, npub = 1, nsub = 1, msg_size = 80;
static int per_write = 0, nthreads = 2, nats = 0, loopback = 0, loop_pub_fd = -1,
           sub_listen_fd = -1, frames = 0, ack_cmd = 0x82, subjects = 0;
/* --subjects: where each message of a publisher's batch starts (its PUB line), per_write + 1 entries */
static size_t *msg_at;
#define FRAME_HEAD 13 /* totalLength, commandID, ID */
#define ACK_BYTES 14
static double duration = 5, warmup = 1, drain_cap = 3;

typedef struct {
  int fd, id;
  char *buf;
  size_t len, off;
  uint64_t seq, sent; /* sent: whole messages written */
  char seq_txt[24];   /* seq in decimal, incremented in place */
  size_t seq_len;
  int done; /* finished its last batch after the window (read by main) */
  /* --framing frame */
  char id_txt[8];   /* the next Submit's ID */
  char ack_id[8];   /* the ID the next ack must carry */
  unsigned char ack_carry[ACK_BYTES];
  int ack_carry_len;
  uint64_t acks;    /* acks read (read by main) */
} Pub;
typedef struct {
  int fd, at_line_start, open;
  uint64_t lines, bytes, sample_seq, sample_line;
  uint64_t *last_seq; /* per publisher, 0 = none yet (seqs start at 1) */
  /* --framing frame: bytes of the current frame still to come, and a split length field */
  uint64_t frame_left;
  unsigned char len_part[4];
  int len_part_len;
  /* --protocol nats: bytes of the current MSG's payload + CRLF still to come (0: at a control
   * line), and a control line split across reads */
  uint64_t msg_left;
  char ctl[1024];
  size_t ctl_len;
  /* --protocol nats: this subscription's MSG line, "MSG <subject> 1 SIZE\r\n" (the fast path) */
  char msg_line[48];
  size_t msg_line_len;
} Sub;

static Pub *pubs;
static Sub *subs;
static uint64_t lost_gaps, duplicated, reordered, malformed, sampled, disconnected, bad_acks;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}
static int get_phase(void) { return __atomic_load_n(&phase, __ATOMIC_ACQUIRE); }
static void die(const char *what) { perror(what); exit(3); }

static int connect_to(const char *host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1) die("socket/address");
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) die("connect");
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}
static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* Blocking read until `marker` has been seen (the NATS handshake). */
static void read_until(int fd, const char *marker) {
  char buf[8192];
  size_t have = 0;
  for (;;) {
    ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
    if (n <= 0) die("nats handshake");
    have += n;
    buf[have] = 0;
    if (strstr(buf, marker)) return;
    if (have > sizeof buf / 2) { memmove(buf, buf + have - 64, 64); have = 64; }
  }
}

static size_t put_uint(char *p, uint64_t v) {
  char tmp[24];
  size_t n = 0;
  do { tmp[n++] = '0' + v % 10; v /= 10; } while (v);
  for (size_t i = 0; i < n; i++) p[i] = tmp[n - 1 - i];
  return n;
}

/* The next 8-digit frame ID (wraps after 99999999, like seed 003's serial numbers). */
static void id_increment(char *id) {
  for (int i = 7; i >= 0; i--) {
    if (id[i] < '9') { id[i]++; return; }
    id[i] = '0';
  }
}

/* Frame size on the wire: the line itself, or NATS "PUB b SIZE\r\n" + line + "\r\n". */
static size_t head_len;
static char head[32];

/* Refills a publisher's buffer with its next batch, all stamped with one time. */
static void fill(Pub *p) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  uint64_t ns = (uint64_t)t.tv_sec * 1000000000ull + t.tv_nsec;
  size_t frame = head_len + msg_size + (nats ? 2 : 0);
  char stamp[24];
  size_t stamp_len = put_uint(stamp, ns);
  stamp[stamp_len++] = ',';
  char id[16];
  size_t id_len = put_uint(id, p->id);
  id[id_len++] = ',';
  char *q = p->buf;
  for (int i = 0; i < per_write; i++, q += frame) {
    size_t at = head_len; /* where the message starts, after its PUB line */
    if (subjects) { /* PUB lines differ in length: each message's place was computed at setup */
      q = p->buf + msg_at[i];
      at = msg_at[i + 1] - msg_at[i] - (size_t)msg_size - 2;
    }
    char *m = q + at; /* padding and newline were written once, at setup */
    size_t d = p->seq_len; /* ++seq in decimal: no division per message */
    while (d > 0 && p->seq_txt[d - 1] == '9') p->seq_txt[--d] = '0';
    if (d > 0) p->seq_txt[d - 1]++;
    else { memmove(p->seq_txt + 1, p->seq_txt, p->seq_len++); p->seq_txt[0] = '1'; }
    p->seq++;
    size_t fields = id_len + p->seq_len + 1 + stamp_len;
    if (fields > (size_t)msg_size - 1) { fprintf(stderr, "msg-size too small\n"); exit(2); }
    memcpy(m, id, id_len);
    memcpy(m + id_len, p->seq_txt, p->seq_len);
    m[id_len + p->seq_len] = ',';
    memcpy(m + id_len + p->seq_len + 1, stamp, stamp_len); /* one stamp per batch, like the bench */
    if (frames) { /* Submit: the header (length and command written at setup), ID = seq */
      memcpy(q + 5, p->id_txt, 8);
      id_increment(p->id_txt);
    }
  }
  p->len = subjects ? msg_at[per_write] : frame * per_write;
  p->off = 0;
}

/* Writes until EAGAIN; returns 1 when the publisher is finished (stopping). */
static int pub_write(Pub *p, int ep) {
  for (int rounds = 0; rounds < 64; rounds++) {
    if (p->off == p->len) {
      p->sent += per_write;
      __atomic_store_n(&p->sent, p->sent, __ATOMIC_RELEASE);
      if (get_phase() >= PH_STOP_PUB) {
        if (frames) { /* keep reading its acks */
          struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (1ull << 32) | (uint64_t)(p - pubs)};
          epoll_ctl(ep, EPOLL_CTL_MOD, p->fd, &ev);
        } else {
          epoll_ctl(ep, EPOLL_CTL_DEL, p->fd, NULL);
        }
        __atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
        return 1;
      }
      fill(p);
    }
    ssize_t n = write(p->fd, p->buf + p->off, p->len - p->off);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return 0;
      die("publisher write");
    }
    p->off += n;
    if (p->off < p->len) return 0;
  }
  return 0;
}

static uint64_t parse_field(const char **pp, const char *end, int *ok) {
  const char *p = *pp;
  uint64_t v = 0;
  int digits = 0;
  while (p < end && *p >= '0' && *p <= '9') { v = v * 10 + (*p++ - '0'); digits++; }
  if (p >= end || *p != ',' || digits == 0) *ok = 0;
  *pp = p + 1;
  return v;
}

/* Checks the line at [line, nl] (nl = its '\n'); `index` = lines before it on this socket. */
static void sample(Sub *s, const char *line, const char *nl, uint64_t index) {
  int ok = 1;
  const char *p = line;
  sampled++;
  if (nl - line + 1 != msg_size) { malformed++; return; }
  uint64_t id = parse_field(&p, nl, &ok), seq = parse_field(&p, nl, &ok);
  if (!ok || id >= (uint64_t)npub) { malformed++; return; }
  uint64_t last = s->last_seq[id];
  if (npub == 1 && last != 0) {
    /* with --subjects a subscriber gets every N-th message of the publisher */
    uint64_t expect = s->sample_seq + (index - s->sample_line) * (uint64_t)(subjects ? subjects : 1);
    if (seq > expect) lost_gaps += seq - expect;
    else if (seq < expect) duplicated += expect - seq;
  } else if (last != 0 && seq <= last) {
    reordered++;
  }
  s->last_seq[id] = seq;
  s->sample_seq = seq;
  s->sample_line = index;
}

static uint32_t be32(const unsigned char *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* One ack of publisher p: command, ID order, result. */
static void on_ack(Pub *p, const unsigned char *a) {
  if (be32(a) != ACK_BYTES || a[4] != ack_cmd || memcmp(a + 5, p->ack_id, 8) != 0 || a[13] != 0)
    bad_acks++;
  id_increment(p->ack_id);
  __atomic_store_n(&p->acks, p->acks + 1, __ATOMIC_RELEASE);
}

/* --framing frame: reads a publisher's SubmitAcks (14 bytes each). */
static void pub_read_acks(Pub *p, char *rbuf) {
  for (int rounds = 0; rounds < 4; rounds++) {
    ssize_t n = read(p->fd, rbuf, READ_BUF);
    if (n == 0) die("the relay closed a publisher");
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      die("publisher read");
    }
    const unsigned char *q = (const unsigned char *)rbuf, *end = q + n;
    if (p->ack_carry_len > 0) {
      int take = ACK_BYTES - p->ack_carry_len;
      if (take > n) take = (int)n;
      memcpy(p->ack_carry + p->ack_carry_len, q, (size_t)take);
      p->ack_carry_len += take;
      q += take;
      if (p->ack_carry_len < ACK_BYTES) return;
      on_ack(p, p->ack_carry);
      p->ack_carry_len = 0;
    }
    for (; end - q >= ACK_BYTES; q += ACK_BYTES) on_ack(p, q);
    if (q < end) {
      p->ack_carry_len = (int)(end - q);
      memcpy(p->ack_carry, q, (size_t)p->ack_carry_len);
    }
    if (n < READ_BUF) return;
  }
}

/* Checks a whole Submit frame at f (`len` bytes); `index` = frames before it on this socket. */
static void sample_frame(Sub *s, const char *f, uint32_t len, uint64_t index) {
  if (len != FRAME_HEAD + (uint32_t)msg_size || f[4] != 0x02) {
    sampled++;
    malformed++;
    return;
  }
  const char *line = f + FRAME_HEAD, *nl = f + len - 1;
  uint64_t before = malformed;
  sample(s, line, nl, index);
  if (malformed != before) return;
  /* The ID must be the seq the line carries (the relay passes a frame on byte for byte). */
  uint64_t seq = s->sample_seq % 100000000ull;
  for (int i = 12; i >= 5; i--, seq /= 10)
    if (f[i] != (char)('0' + seq % 10)) { malformed++; return; }
}

/* --framing frame: counts the Submit frames of one read, checking the first whole one. */
static void sub_read_frames(Sub *s, const char *buf, ssize_t n) {
  const char *p = buf, *end = buf + n;
  uint64_t before = s->lines, count = 0;
  int checked = 0;
  while (p < end) {
    if (s->frame_left > 0) { /* the rest of a frame that began in an earlier read */
      uint64_t take = (uint64_t)(end - p) < s->frame_left ? (uint64_t)(end - p) : s->frame_left;
      p += take;
      s->frame_left -= take;
      if (s->frame_left == 0) count++;
      continue;
    }
    uint32_t len;
    if (s->len_part_len > 0 || end - p < 4) { /* a length field split across reads */
      while (s->len_part_len < 4 && p < end) s->len_part[s->len_part_len++] = (unsigned char)*p++;
      if (s->len_part_len < 4) break;
      len = be32(s->len_part);
      s->len_part_len = 0;
      if (len < FRAME_HEAD) { malformed++; len = FRAME_HEAD; }
      s->frame_left = len - 4;
      continue;
    }
    len = be32((const unsigned char *)p);
    if (len < FRAME_HEAD) { malformed++; len = FRAME_HEAD; }
    if ((uint64_t)(end - p) < len) { /* continues in the next read */
      s->frame_left = len - (uint64_t)(end - p);
      p = end;
      break;
    }
    if (!checked) {
      sample_frame(s, p, len, before + count);
      checked = 1;
    }
    count++;
    p += len;
  }
  __atomic_store_n(&s->lines, before + count, __ATOMIC_RELEASE);
}

static int err_printed;

/* Appends part of a control line that continues in the next read (kept up to ctl's size). */
static void ctl_keep(Sub *s, const char *p, size_t n) {
  if (s->ctl_len + n > sizeof s->ctl) { malformed++; n = sizeof s->ctl - s->ctl_len; }
  memcpy(s->ctl + s->ctl_len, p, n);
  s->ctl_len += n;
}

/* One server control line (CRLF stripped) other than our fast-path MSG line. */
static void nats_line(Sub *s, const char *line, size_t len) {
  if (len >= 4 && !memcmp(line, "MSG ", 4)) { /* MSG subject sid [reply] size: size is last */
    uint64_t size = 0, scale = 1;
    size_t at = len;
    while (at > 4 && line[at - 1] >= '0' && line[at - 1] <= '9') {
      size += (uint64_t)(line[at - 1] - '0') * scale;
      scale *= 10;
      at--;
    }
    if (scale == 1) { malformed++; return; }
    if (size != (uint64_t)msg_size) malformed++;
    s->msg_left = size + 2;
  } else if (len == 4 && !memcmp(line, "PING", 4)) {
    if (write(s->fd, "PONG\r\n", 6) != 6) die("nats pong");
  } else if ((len == 4 && !memcmp(line, "PONG", 4)) || (len == 3 && !memcmp(line, "+OK", 3)) ||
             (len >= 5 && !memcmp(line, "INFO ", 5))) {
    /* nothing to do */
  } else {
    malformed++;
    if (!err_printed++) fprintf(stderr, "nats: unexpected line: %.*s\n", (int)(len > 200 ? 200 : len), line);
  }
}

/* --protocol nats: counts the whole MSGs of one read, checking the first one whole in it. */
static void sub_read_nats(Sub *s, const char *buf, ssize_t n) {
  const char *p = buf, *end = buf + n;
  uint64_t before = s->lines, count = 0;
  int checked = 0;
  while (p < end) {
    if (s->msg_left > 0) { /* the rest of a MSG that began earlier: counted once it is all in */
      uint64_t take = (uint64_t)(end - p) < s->msg_left ? (uint64_t)(end - p) : s->msg_left;
      p += take;
      s->msg_left -= take;
      if (s->msg_left == 0) count++;
      continue;
    }
    if (s->ctl_len == 0 && (size_t)(end - p) >= s->msg_line_len &&
        !memcmp(p, s->msg_line, s->msg_line_len)) {
      const char *payload = p + s->msg_line_len;
      if (end - payload < msg_size + 2) { /* continues in the next read */
        s->msg_left = (uint64_t)(msg_size + 2) - (uint64_t)(end - payload);
        break;
      }
      if (!checked) {
        sample(s, payload, payload + msg_size - 1, before + count);
        checked = 1;
      }
      if (payload[msg_size - 1] != '\n' || payload[msg_size] != '\r' || payload[msg_size + 1] != '\n')
        malformed++;
      count++;
      p = payload + msg_size + 2;
      continue;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL) { ctl_keep(s, p, (size_t)(end - p)); break; }
    const char *line = p;
    size_t len = (size_t)(nl - p);
    if (s->ctl_len > 0) {
      ctl_keep(s, p, len);
      line = s->ctl;
      len = s->ctl_len;
      s->ctl_len = 0;
    }
    p = nl + 1;
    if (len > 0 && line[len - 1] == '\r') len--;
    nats_line(s, line, len);
  }
  __atomic_store_n(&s->lines, before + count, __ATOMIC_RELEASE);
}

static void sub_read(Sub *s, char *rbuf, int ep) {
  for (int rounds = 0; rounds < 4; rounds++) {
    ssize_t n = read(s->fd, rbuf, READ_BUF);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      disconnected++;
      s->open = 0;
      epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
      return;
    }
    if (n < 0) return;
    if (frames || nats) {
      if (frames) sub_read_frames(s, rbuf, n);
      else sub_read_nats(s, rbuf, n);
      s->bytes += n;
      if (n < READ_BUF) return;
      continue;
    }
    const char *p = rbuf, *end = rbuf + n, *first = s->at_line_start ? rbuf : NULL;
    uint64_t before = s->lines, lines = 0;
    const char *nl;
    while ((nl = memchr(p, '\n', end - p)) != NULL) {
      if (lines == 0) {
        if (first != NULL) sample(s, first, nl, before);
        else if (nl + 1 < end) {
          const char *nl2 = memchr(nl + 1, '\n', end - nl - 1);
          if (nl2 != NULL) sample(s, nl + 1, nl2, before + 1);
        }
      }
      lines++;
      p = nl + 1;
    }
    s->at_line_start = end[-1] == '\n';
    s->bytes += n;
    __atomic_store_n(&s->lines, before + lines, __ATOMIC_RELEASE);
    if (n < READ_BUF) return;
  }
}

static uint64_t total_sent(void) {
  uint64_t t = 0;
  for (int i = 0; i < npub; i++) t += __atomic_load_n(&pubs[i].sent, __ATOMIC_ACQUIRE);
  return t;
}
static uint64_t total_acks(void) {
  uint64_t t = 0;
  for (int i = 0; i < npub; i++) t += __atomic_load_n(&pubs[i].acks, __ATOMIC_ACQUIRE);
  return t;
}
static uint64_t total_received(void) {
  uint64_t t = 0;
  for (int i = 0; i < nsub; i++) t += __atomic_load_n(&subs[i].lines, __ATOMIC_ACQUIRE);
  return t;
}

/* One epoll loop over publishers (tag 1) and/or subscribers (tag 2). */
static void *loop(void *arg) {
  int want = (int)(intptr_t)arg; /* bit 1: publishers, bit 2: subscribers */
  int ep = epoll_create1(0), live_pubs = 0;
  char *rbuf = malloc(READ_BUF);
  struct epoll_event evs[256], ev;
  if (want & 1)
    for (int i = 0; i < npub; i++, live_pubs++) {
      ev.events = EPOLLOUT | (frames ? EPOLLIN : 0);
      ev.data.u64 = (1ull << 32) | i;
      epoll_ctl(ep, EPOLL_CTL_ADD, pubs[i].fd, &ev);
    }
  if (want & 2)
    for (int i = 0; i < nsub; i++) {
      ev.events = EPOLLIN;
      ev.data.u64 = (2ull << 32) | i;
      epoll_ctl(ep, EPOLL_CTL_ADD, subs[i].fd, &ev);
    }
  while (get_phase() != PH_EXIT) {
    if (want == 1 && live_pubs == 0 && !frames) break; /* frames: acks still to read */
    int n = epoll_wait(ep, evs, 256, 10);
    for (int i = 0; i < n; i++) {
      uint32_t idx = (uint32_t)evs[i].data.u64;
      if ((evs[i].data.u64 >> 32) == 1) {
        if (evs[i].events & EPOLLIN) pub_read_acks(&pubs[idx], rbuf);
        if ((evs[i].events & EPOLLOUT) && !pubs[idx].done) live_pubs -= pub_write(&pubs[idx], ep);
      } else {
        sub_read(&subs[idx], rbuf, ep);
      }
    }
    /* Publishers with a full socket get no event; finish them here when stopping. */
    if ((want & 1) && get_phase() >= PH_STOP_PUB)
      for (int i = 0; i < npub; i++)
        if (!pubs[i].done && pubs[i].off == pubs[i].len) live_pubs -= pub_write(&pubs[i], ep);
  }
  return NULL;
}

static double arg_num(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) { fprintf(stderr, "%s needs a value\n", argv[*i]); exit(2); }
  return atof(argv[++*i]);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--pub-host")) pub_host = argv[++i];
    else if (!strcmp(a, "--sub-host")) sub_host = argv[++i];
    else if (!strcmp(a, "--pub-port")) pub_port = (int)arg_num(argc, argv, &i);
    else if (!strcmp(a, "--sub-port")) { sub_port = (int)arg_num(argc, argv, &i); sub_port_given = 1; }
    else if (!strcmp(a, "--pub")) npub = (int)arg_num(argc, argv, &i);
    else if (!strcmp(a, "--sub")) nsub = (int)arg_num(argc, argv, &i);
    else if (!strcmp(a, "--msg-size")) msg_size = (int)arg_num(argc, argv, &i);
    else if (!strcmp(a, "--duration")) duration = arg_num(argc, argv, &i);
    else if (!strcmp(a, "--warmup")) warmup = arg_num(argc, argv, &i);
    else if (!strcmp(a, "--drain")) drain_cap = arg_num(argc, argv, &i);
    else if (!strcmp(a, "--msgs-per-write")) per_write = (int)arg_num(argc, argv, &i);
    else if (!strcmp(a, "--threads")) nthreads = (int)arg_num(argc, argv, &i);
    else if (!strcmp(a, "--protocol")) nats = !strcmp(argv[++i], "nats");
    else if (!strcmp(a, "--loopback")) loopback = 1;
    else if (!strcmp(a, "--framing") && i + 1 < argc) frames = !strcmp(argv[++i], "frame");
    else if (!strcmp(a, "--ack-cmd") && i + 1 < argc) ack_cmd = (int)strtol(argv[++i], NULL, 0);
    else if (!strcmp(a, "--subjects")) subjects = (int)arg_num(argc, argv, &i);
    else { fprintf(stderr, "unknown flag %s\n", a); return 2; }
  }
  if (npub < 1 || nsub < 1 || npub + nsub > MAX_FDS || msg_size < 40 || duration <= 0 ||
      (nthreads != 1 && nthreads != 2) || (frames && (nats || loopback)) || subjects < 0 ||
      (subjects > 0 && (!nats || loopback || nsub != subjects))) {
    fprintf(stderr, "bad flags\n");
    return 2;
  }
  if (nats) {
    head_len = (size_t)sprintf(head, "PUB b %d\r\n", msg_size);
    /* One NATS server has one port; two (cluster nodes) are given apart. */
    if (!sub_port_given) sub_port = pub_port;
  }
  if (frames) { /* totalLength and Submit; the 8 ID bytes are written per message */
    uint32_t total = FRAME_HEAD + (uint32_t)msg_size;
    head[0] = (char)(total >> 24); head[1] = (char)(total >> 16);
    head[2] = (char)(total >> 8); head[3] = (char)total; head[4] = 0x02;
    memset(head + 5, '0', 8);
    head_len = FRAME_HEAD;
  }
  size_t frame = head_len + msg_size + (nats ? 2 : 0);
  if (per_write <= 0) per_write = (int)(65536 / frame) > 0 ? (int)(65536 / frame) : 1;
  if (subjects) { /* whole cycles per write: the smallest number of them near 64 KiB, at least one */
    int cycles = (int)(65536 / (frame * (size_t)subjects));
    per_write = subjects * (cycles > 0 ? cycles : 1);
    msg_at = malloc(sizeof *msg_at * (size_t)(per_write + 1));
    msg_at[0] = 0;
    for (int k = 0; k < per_write; k++) {
      char h[32];
      msg_at[k + 1] = msg_at[k] + (size_t)sprintf(h, "PUB s.%d %d\r\n", k % subjects, msg_size) +
                      (size_t)msg_size + 2;
    }
  }

  if (loopback) { /* no relay: one publisher's stream straight into one subscriber */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 1) ||
        getsockname(lfd, (struct sockaddr *)&a, &alen))
      die("loopback listen");
    npub = nsub = 1;
    nats = 0;
    loop_pub_fd = connect_to("127.0.0.1", ntohs(a.sin_port));
    sub_port = -1;
    sub_listen_fd = lfd;
  }
  subs = calloc(nsub, sizeof *subs);
  pubs = calloc(npub, sizeof *pubs);
  for (int i = 0; i < nsub; i++) {
    Sub *s = &subs[i];
    s->fd = loopback ? accept(sub_listen_fd, NULL, NULL) : connect_to(sub_host, sub_port);
    s->at_line_start = 1;
    s->open = 1;
    s->last_seq = calloc(npub, sizeof(uint64_t));
    if (nats) {
      char subject[16], hello[128];
      if (subjects) sprintf(subject, "s.%d", i);
      else strcpy(subject, "b");
      s->msg_line_len = (size_t)sprintf(s->msg_line, "MSG %s 1 %d\r\n", subject, msg_size);
      int len = sprintf(hello, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB %s 1\r\nPING\r\n",
                        subject);
      if (write(s->fd, hello, (size_t)len) != len) die("nats sub");
      read_until(s->fd, "PONG\r\n");
    }
    set_nonblock(s->fd);
  }
  usleep(200 * 1000); /* let the relay register every subscriber before anything is sent */
  for (int i = 0; i < npub; i++) {
    Pub *p = &pubs[i];
    p->fd = loopback ? loop_pub_fd : connect_to(pub_host, pub_port);
    p->id = i;
    p->seq_txt[0] = '0';
    p->seq_len = 1;
    memcpy(p->id_txt, "00000001", 8);
    memcpy(p->ack_id, "00000001", 8);
    if (nats) {
      read_until(p->fd, "\r\n");
      const char *hello = "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n";
      if (write(p->fd, hello, strlen(hello)) < 0) die("nats pub");
    }
    set_nonblock(p->fd);
    p->buf = malloc(subjects ? msg_at[per_write] : frame * per_write);
    for (int k = 0; k < per_write; k++) {
      char *q = p->buf + (subjects ? msg_at[k] : k * frame);
      if (subjects) head_len = (size_t)sprintf(head, "PUB s.%d %d\r\n", k % subjects, msg_size);
      memcpy(q, head, head_len);
      memset(q + head_len, 'x', msg_size - 1);
      q[head_len + msg_size - 1] = '\n';
      if (nats) memcpy(q + head_len + msg_size, "\r\n", 2);
    }
    fill(p);
  }

  pthread_t th[2];
  double t0 = now_s();
  if (nthreads == 1) pthread_create(&th[0], NULL, loop, (void *)(intptr_t)3);
  else {
    pthread_create(&th[0], NULL, loop, (void *)(intptr_t)1);
    pthread_create(&th[1], NULL, loop, (void *)(intptr_t)2);
  }
  usleep((useconds_t)(warmup * 1e6));
  double w0 = now_s();
  uint64_t sent0 = total_sent(), recv0 = total_received(), acks0 = total_acks();
  __atomic_store_n(&phase, PH_RUN, __ATOMIC_RELEASE);
  fputs("window-start\n", stderr);
  while (now_s() < w0 + duration) usleep(2000);
  double w1 = now_s();
  uint64_t sent1 = total_sent(), recv1 = total_received(), acks1 = total_acks();
  fputs("window-end\n", stderr);
  __atomic_store_n(&phase, PH_STOP_PUB, __ATOMIC_RELEASE);
  for (;;) { /* each publisher finishes its last batch, so no message is cut */
    int done = 1;
    for (int i = 0; i < npub; i++) done &= __atomic_load_n(&pubs[i].done, __ATOMIC_ACQUIRE);
    if (done || now_s() > w1 + drain_cap) break;
    usleep(1000);
  }
  double d0 = now_s();
  /* --subjects: each message has one subscriber */
  uint64_t fanout = subjects ? 1 : (uint64_t)nsub;
  uint64_t sent_total = total_sent(), expected = sent_total * fanout;
  while ((total_received() < expected || (frames && total_acks() < sent_total)) &&
         now_s() < d0 + drain_cap)
    usleep(1000);
  double drained = now_s() - d0;
  __atomic_store_n(&phase, PH_EXIT, __ATOMIC_RELEASE);
  for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);

  uint64_t recv_total = total_received(), bytes = 0, lines = 0;
  for (int i = 0; i < nsub; i++) { bytes += subs[i].bytes; lines += subs[i].lines; }
  /* Every byte is part of a whole message once drained: anything else was mangled. */
  if (!nats && bytes != lines * (uint64_t)(msg_size + (frames ? FRAME_HEAD : 0))) malformed++;
  uint64_t acks_total = total_acks();
  uint64_t lost = recv_total < expected ? expected - recv_total : 0;
  uint64_t extra = recv_total > expected ? recv_total - expected : 0;
  double win = w1 - w0;
  printf("{\"client\":\"native\",\"threads\":%d,\"protocol\":\"%s\",\"pubs\":%d,\"subs\":%d,"
         "\"msgSize\":%d,\"msgsPerWrite\":%d,\"windowSec\":%.6f,\"sent\":%llu,\"received\":%llu,"
         "\"sentRate\":%.1f,\"receivedRate\":%.1f,\"expectedReceived\":%llu,\"sentTotal\":%llu,"
         "\"receivedTotal\":%llu,\"expectedTotal\":%llu,\"lost\":%llu,\"duplicated\":%llu,"
         "\"sequenceGaps\":%llu,\"reordered\":%llu,\"malformed\":%llu,\"sampled\":%llu,"
         "\"disconnected\":%llu,\"drainSec\":%.3f,\"runSec\":%.3f,\"complete\":%s,"
         "\"framing\":\"%s\",\"acks\":%llu,\"acksTotal\":%llu,\"badAcks\":%llu,"
         "\"unacked\":%llu,\"subjects\":%d}\n",
         nthreads, nats ? "nats" : "line", npub, nsub, msg_size, per_write, win,
         (unsigned long long)(sent1 - sent0), (unsigned long long)(recv1 - recv0),
         (sent1 - sent0) / win, (recv1 - recv0) / win, (unsigned long long)((sent1 - sent0) * fanout),
         (unsigned long long)sent_total, (unsigned long long)recv_total,
         (unsigned long long)expected, (unsigned long long)lost,
         (unsigned long long)(extra + duplicated), (unsigned long long)lost_gaps,
         (unsigned long long)reordered, (unsigned long long)malformed,
         (unsigned long long)sampled, (unsigned long long)disconnected, drained, now_s() - t0,
         recv_total == expected ? "true" : "false", frames ? "frame" : "line",
         (unsigned long long)(acks1 - acks0), (unsigned long long)acks_total,
         (unsigned long long)bad_acks,
         (unsigned long long)(frames && sent_total > acks_total ? sent_total - acks_total : 0),
         subjects);
  return 0;
}
