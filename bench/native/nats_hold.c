/*
 * nats_hold: many idle NATS connections holding many subscriptions (issue 21),
 * to read a server's memory with them registered.
 *
 *   cc -O2 -o bench/out/native/nats_hold bench/native/nats_hold.c
 *   nats_hold --port 4222 --conns 10000 --subs-per-conn 10 --wave 256 --duration 5
 *
 * Connections open in waves of --wave: each connection of a wave is opened and
 * sends CONNECT, its --subs-per-conn `SUB h.<conn>.<k> <k+1>` and a PING; then
 * the client reads each one's INFO and PONG, so every SUB of the wave is
 * registered before the next wave starts (nats-server and our relay answer a
 * PING after the lines before it). With all registered it says "window-start"
 * on stderr, stays idle --duration s, says "window-end" (the caller reads the
 * server's /proc then), PINGs every connection once more and waits for every
 * PONG (all still open and served). One JSON line on stdout. Needs
 * `ulimit -n` above --conns (the caller raises it).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host = "127.0.0.1";
static int port = 4222, nconns = 10000, per_conn = 10, wave = 256;
static double duration = 5;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}
static void die(const char *what) { perror(what); exit(3); }

/* Blocking read until `marker` (the PONG); answers a server PING on the way. */
static void read_until(int fd, const char *marker) {
  char buf[4096];
  size_t have = 0;
  for (;;) {
    ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
    if (n <= 0) die("waiting for PONG");
    have += (size_t)n;
    buf[have] = 0;
    if (strstr(buf, "-ERR")) { fprintf(stderr, "server said: %.200s\n", buf); exit(3); }
    if (strstr(buf, marker)) return;
    if (have > sizeof buf / 2) { memmove(buf, buf + have - 64, 64); have = 64; }
  }
}

static int open_conn(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1) die("socket/address");
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) die("connect");
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
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
    else if (!strcmp(a, "--conns")) nconns = (int)arg_num(argc, argv, &i);
    else if (!strcmp(a, "--subs-per-conn")) per_conn = (int)arg_num(argc, argv, &i);
    else if (!strcmp(a, "--wave")) wave = (int)arg_num(argc, argv, &i);
    else if (!strcmp(a, "--duration")) duration = arg_num(argc, argv, &i);
    else { fprintf(stderr, "unknown flag %s\n", a); return 2; }
  }
  if (nconns < 1 || per_conn < 1 || per_conn > 1000 || wave < 1 || duration < 0) {
    fprintf(stderr, "bad flags\n");
    return 2;
  }
  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < (rlim_t)nconns + 64) { /* raise the soft limit up to the hard one */
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < (rlim_t)nconns + 64) {
      fprintf(stderr, "ulimit -n %llu is too low for %d connections\n",
              (unsigned long long)lim.rlim_cur, nconns);
      return 2;
    }
  }
  int *fds = malloc(sizeof *fds * (size_t)nconns);
  char *hello = malloc(128 + (size_t)per_conn * 48);
  double t0 = now_s();
  for (int start = 0; start < nconns; start += wave) {
    int end = start + wave < nconns ? start + wave : nconns;
    for (int c = start; c < end; c++) {
      fds[c] = open_conn();
      size_t len = (size_t)sprintf(hello, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n");
      for (int k = 0; k < per_conn; k++) len += (size_t)sprintf(hello + len, "SUB h.%d.%d %d\r\n", c, k, k + 1);
      len += (size_t)sprintf(hello + len, "PING\r\n");
      if (write(fds[c], hello, len) != (ssize_t)len) die("write");
    }
    for (int c = start; c < end; c++) read_until(fds[c], "PONG\r\n");
  }
  double connected = now_s() - t0;
  fputs("window-start\n", stderr);
  usleep((useconds_t)(duration * 1e6));
  fputs("window-end\n", stderr);
  int confirmed = 0;
  for (int c = 0; c < nconns; c++)
    if (write(fds[c], "PING\r\n", 6) == 6) confirmed++;
  for (int c = 0; c < nconns; c++) read_until(fds[c], "PONG\r\n");
  printf("{\"client\":\"nats-hold\",\"conns\":%d,\"subsPerConn\":%d,\"subscriptions\":%d,"
         "\"wave\":%d,\"connectSec\":%.3f,\"idleSec\":%.3f,\"confirmed\":%d}\n",
         nconns, per_conn, nconns * per_conn, wave, connected, duration, confirmed);
  return 0;
}
