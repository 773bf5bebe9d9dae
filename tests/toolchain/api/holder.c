/* Roles for api_test.sh, one program:
 *   owner    allocates 1 MiB, fills it, publishes it as "buffer", waits until
 *            "holder-ready" appears, then exits (its slot must stay while held)
 *   holder   finds "buffer", holds it, publishes "holder-ready", waits for
 *            stdin to close, then checks the buffer (its owner has ended by
 *            then) and releases it
 *   locker   takes the registry lock as a program dying inside tp_publish
 *            would, and kills itself with SIGKILL
 *   publisher publishes NAME (argv[2]) and prints the status */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>
#include <threadprocs/tp.h>

#define SIZE (1 << 20)
static const int64_t kMinute = 60000000000LL;

static int owner(void) {
  unsigned char* buf = malloc(SIZE);
  for (int i = 0; i < SIZE; ++i) buf[i] = (unsigned char)(i * 31);
  int rc = tp_publish("buffer", buf);
  if (rc != TP_OK) { fprintf(stderr, "owner: publish: %s\n", tp_strerror(rc)); return 1; }
  void* ready;
  rc = tp_wait("holder-ready", kMinute, &ready);
  if (rc != TP_OK) { fprintf(stderr, "owner: wait: %s\n", tp_strerror(rc)); return 1; }
  printf("owner: the holder holds my buffer; exiting\n");
  return 0; /* the buffer is not freed: the slot goes when the holder lets go */
}

static int holder(void) {
  void* p;
  int rc = tp_wait("buffer", kMinute, &p);
  if (rc != TP_OK) { fprintf(stderr, "holder: wait: %s\n", tp_strerror(rc)); return 1; }
  if ((rc = tp_hold(p)) != TP_OK) { fprintf(stderr, "holder: hold: %s\n", tp_strerror(rc)); return 1; }
  static int marker;
  if ((rc = tp_publish("holder-ready", &marker)) != TP_OK) { fprintf(stderr, "holder: publish: %s\n", tp_strerror(rc)); return 1; }
  printf("holder: holding slot %d\n", tp_owner(p));
  fflush(stdout);
  char c;
  while (read(0, &c, 1) > 0) {
  }
  const unsigned char* buf = p;
  int bad = 0;
  for (int i = 0; i < SIZE; ++i) bad += buf[i] != (unsigned char)(i * 31);
  printf("holder: read the ended owner's buffer: %d bad bytes\n", bad);
  if ((rc = tp_release(p)) != TP_OK) { fprintf(stderr, "holder: release: %s\n", tp_strerror(rc)); return 1; }
  rc = tp_release(p);
  printf("holder: released; a second release says: %s\n", tp_strerror(rc));
  return bad == 0 ? 0 : 1;
}

static int locker(void) {
  struct tp_control_header* h = (struct tp_control_header*)getauxval(AT_TP_CONTROL);
  uint32_t tag = TP_OWNER_TAG(getauxval(AT_TP_SLOT_INDEX)), free_word = 0;
  if (!h || !__atomic_compare_exchange_n(&h->registry_lock, &free_word, tag, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
    fprintf(stderr, "locker: cannot take the registry lock\n");
    return 1;
  }
  printf("locker: holding the registry lock, dying\n");
  fflush(stdout);
  raise(SIGKILL);
  return 1;
}

int main(int argc, char** argv) {
  if (argc > 1 && !strcmp(argv[1], "owner")) return owner();
  if (argc > 1 && !strcmp(argv[1], "holder")) return holder();
  if (argc > 1 && !strcmp(argv[1], "locker")) return locker();
  if (argc > 2 && !strcmp(argv[1], "publisher")) {
    static int x;
    int rc = tp_publish(argv[2], &x);
    printf("publisher: %s: %s\n", argv[2], rc == TP_OK ? "published" : tp_strerror(rc));
    return rc == TP_OK ? 0 : 1;
  }
  fprintf(stderr, "usage: holder owner|holder|locker|publisher NAME\n");
  return 2;
}
