/*
 * pipe_target: the echo and counted-sink targets of bench:tunnel as one native process (one
 * thread, one epoll loop), the same behaviour as bench/tunnel/targets.ts for a fraction of
 * its CPU, so that on a 2-core box the targets take less of what the tunnels compete for:
 *
 * - echo: every byte back; while the kernel does not take them the connection is not read
 *   (TCP pushes back on the sender); FIN for FIN once everything is back, then close;
 * - counted sink: the first 8 bytes (u64 LE) announce how many follow; once that many have
 *   arrived it answers with the count (8 bytes LE) and closes.
 *
 *   pipe_target            # prints {"echo":PORT,"sink":PORT} once both listen on 127.0.0.1
 *
 * Runs until killed (SIGTERM). Exit status 3 when it cannot start.
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_BUF (256 * 1024)
#define MAX_FD 65536

enum { ECHO = 1, SINK = 2 };

/* Per connection, indexed by fd. `pending` holds echo bytes the kernel has not taken yet. */
typedef struct {
  int kind, eof;
  unsigned char *pending;
  size_t pending_len, pending_off;
  int header_len;
  unsigned char header[8];
  uint64_t left, received;
} Conn;

static Conn conns[MAX_FD];
static unsigned char buf[READ_BUF];
static int ep, echo_listener, sink_listener;

static void die(const char *what) {
  perror(what);
  exit(3);
}

static int listen_any(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (listen(fd, 4096) < 0) die("listen");
  socklen_t len = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &len);
  *port = ntohs(a.sin_port);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
  return fd;
}

static void drop(int fd) {
  Conn *c = &conns[fd];
  free(c->pending);
  memset(c, 0, sizeof *c);
  close(fd); /* also leaves the epoll set */
}

/* Writes what waits; returns 1 when nothing waits any more, 0 when the kernel is full, -1 on error. */
static int flush_pending(int fd, Conn *c) {
  while (c->pending_off < c->pending_len) {
    ssize_t n = send(fd, c->pending + c->pending_off, c->pending_len - c->pending_off,
                     MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    c->pending_off += (size_t)n;
  }
  c->pending_len = c->pending_off = 0;
  return 1;
}

/* Edge-triggered: reads until EAGAIN unless echo bytes wait for the kernel. */
static void serve_echo(int fd) {
  Conn *c = &conns[fd];
  for (;;) {
    int flushed = flush_pending(fd, c);
    if (flushed < 0) return drop(fd);
    if (flushed == 0) return; /* EPOLLOUT brings us back */
    if (c->eof) {
      shutdown(fd, SHUT_WR);
      return drop(fd);
    }
    ssize_t n = recv(fd, buf, READ_BUF, 0);
    if (n == 0) {
      c->eof = 1;
      continue;
    }
    if (n < 0) {
      if (errno == EAGAIN) return;
      return drop(fd);
    }
    ssize_t w = send(fd, buf, (size_t)n, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN) return drop(fd);
    if (w < 0) w = 0;
    if (w < n) {
      c->pending = realloc(c->pending, (size_t)(n - w));
      if (!c->pending) die("realloc");
      memcpy(c->pending, buf + w, (size_t)(n - w));
      c->pending_len = (size_t)(n - w);
      c->pending_off = 0;
    }
  }
}

static void serve_sink(int fd) {
  Conn *c = &conns[fd];
  for (;;) {
    ssize_t n = recv(fd, buf, READ_BUF, 0);
    if (n == 0) return drop(fd); /* closed before the announced bytes: nothing to answer */
    if (n < 0) {
      if (errno == EAGAIN) return;
      return drop(fd);
    }
    ssize_t at = 0;
    while (c->header_len < 8 && at < n) {
      c->header[c->header_len++] = buf[at++];
      if (c->header_len == 8) {
        c->left = 0;
        for (int b = 7; b >= 0; b--) c->left = (c->left << 8) | c->header[b];
      }
    }
    uint64_t body = (uint64_t)(n - at);
    c->received += body;
    if (c->header_len == 8) c->left -= body < c->left ? body : c->left;
    if (c->header_len == 8 && c->left == 0) {
      unsigned char count[8];
      for (int b = 0; b < 8; b++) count[b] = (unsigned char)(c->received >> (8 * b));
      send(fd, count, 8, MSG_NOSIGNAL); /* 8 bytes into an idle send buffer go at once */
      return drop(fd);
    }
  }
}

static void accept_all(int listener, int kind) {
  for (;;) {
    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
    if (fd < 0) return; /* EAGAIN, or a connection gone before accept */
    if (fd >= MAX_FD) {
      close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conns[fd].kind = kind;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
  }
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max < MAX_FD ? r.rlim_max : MAX_FD;
    setrlimit(RLIMIT_NOFILE, &r);
  }
  ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  int echo_port, sink_port;
  echo_listener = listen_any(&echo_port);
  sink_listener = listen_any(&sink_port);
  printf("{\"echo\":%d,\"sink\":%d}\n", echo_port, sink_port);
  fflush(stdout);
  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(ep, events, 256, -1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int k = 0; k < n; k++) {
      int fd = events[k].data.fd;
      if (fd == echo_listener) accept_all(fd, ECHO);
      else if (fd == sink_listener) accept_all(fd, SINK);
      else if (conns[fd].kind == ECHO) serve_echo(fd);
      else if (conns[fd].kind == SINK) serve_sink(fd);
    }
  }
}
