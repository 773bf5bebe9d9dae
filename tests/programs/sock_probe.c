/* sock_probe: a stranger at a space's Unix socket, for the security tests.
 *
 *   sock_probe connect PATH   connects to the SOCK_SEQPACKET socket PATH. If connect fails:
 *                             "connect: <strerror>\n", exit 1. Otherwise "connected\n", then
 *                             the first datagram the peer sends as "reply: <bytes>\n"
 *                             (printable ASCII as is, anything else as \xNN) and "eof\n" once
 *                             the peer closes; exit 0 (10 s at most, else exit 3).
 *   sock_probe serve PATH     listens on PATH (mode 0777), accepts one connection (30 s at
 *                             most), prints "peer uid U\n", then "datagram N bytes, M fds\n"
 *                             for the first datagram it receives, or "eof\n" if the peer
 *                             closes without sending anything; exit 0.
 * `serve` prints "listening\n" once it accepts connections, so a test can start the other
 * side then. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int fill_address(struct sockaddr_un *address, const char *path) {
  memset(address, 0, sizeof *address);
  address->sun_family = AF_UNIX;
  if (strlen(path) >= sizeof address->sun_path) {
    fprintf(stderr, "sock_probe: path too long: %s\n", path);
    return -1;
  }
  strcpy(address->sun_path, path);
  return 0;
}

/* Waits until `fd` is readable; 0 on timeout. */
static int wait_readable(int fd, int timeout_ms) {
  struct pollfd entry = {fd, POLLIN, 0};
  int ready;
  do
    ready = poll(&entry, 1, timeout_ms);
  while (ready < 0 && errno == EINTR);
  return ready > 0;
}

static void print_escaped(const unsigned char *bytes, size_t length) {
  for (size_t i = 0; i < length; ++i) {
    if (bytes[i] >= 0x20 && bytes[i] < 0x7f && bytes[i] != '\\')
      putchar(bytes[i]);
    else
      printf("\\x%02x", bytes[i]);
  }
}

static int probe_connect(const char *path) {
  struct sockaddr_un address;
  if (fill_address(&address, path) != 0)
    return 2;
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    perror("sock_probe: socket");
    return 2;
  }
  if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
    printf("connect: %s\n", strerror(errno));
    return 1;
  }
  printf("connected\n");
  fflush(stdout);
  int replies = 0;
  for (;;) {
    if (!wait_readable(fd, 10000)) {
      printf("timeout\n");
      return 3;
    }
    unsigned char buffer[65536];
    ssize_t got = recv(fd, buffer, sizeof buffer, 0);
    if (got < 0) {
      printf("recv: %s\n", strerror(errno));
      return 1;
    }
    if (got == 0) {
      printf("eof\n");
      return 0;
    }
    if (replies++ == 0) {
      printf("reply: ");
      print_escaped(buffer, (size_t)got);
      printf("\n");
      fflush(stdout);
    }
  }
}

static int probe_serve(const char *path) {
  struct sockaddr_un address;
  if (fill_address(&address, path) != 0)
    return 2;
  int listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (listener < 0) {
    perror("sock_probe: socket");
    return 2;
  }
  unlink(path);
  umask(0);
  if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 4) != 0) {
    printf("bind: %s\n", strerror(errno));
    return 1;
  }
  printf("listening\n");
  fflush(stdout);
  if (!wait_readable(listener, 30000)) {
    printf("timeout\n");
    return 3;
  }
  int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0) {
    printf("accept: %s\n", strerror(errno));
    return 1;
  }
  struct ucred peer;
  socklen_t length = sizeof peer;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) == 0)
    printf("peer uid %u\n", (unsigned)peer.uid);
  if (!wait_readable(fd, 30000)) {
    printf("timeout\n");
    return 3;
  }
  unsigned char buffer[65536];
  union {
    struct cmsghdr header;
    char space[CMSG_SPACE(sizeof(int) * 16)];
  } control;
  struct iovec vector = {buffer, sizeof buffer};
  struct msghdr message;
  memset(&message, 0, sizeof message);
  message.msg_iov = &vector;
  message.msg_iovlen = 1;
  message.msg_control = control.space;
  message.msg_controllen = sizeof control.space;
  ssize_t got = recvmsg(fd, &message, MSG_CMSG_CLOEXEC);
  if (got < 0) {
    printf("recvmsg: %s\n", strerror(errno));
    return 1;
  }
  if (got == 0) {
    printf("eof\n");
    return 0;
  }
  size_t fds = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c != NULL; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      fds += (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
  }
  printf("datagram %zd bytes, %zu fds\n", got, fds);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "connect") == 0)
    return probe_connect(argv[2]);
  if (argc == 3 && strcmp(argv[1], "serve") == 0)
    return probe_serve(argv[2]);
  fprintf(stderr, "usage: sock_probe connect|serve PATH\n");
  return 2;
}
