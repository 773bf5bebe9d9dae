/* spawn_fork: posix_spawn of /bin/echo, then a fork() child that does NOT exec: in its
 * own copy of the address space it mallocs 10 MiB (over the mmap threshold), maps 10 MiB
 * with mmap, grows the malloc'd block to 20 MiB with realloc (mremap), makes 1,000 small
 * allocations (the main arena, brk), checks every byte it wrote and exits 0. The parent
 * then checks that its own memory is unchanged and that it can still allocate. One line
 * per step; any failure exits 1 with the reason on stderr. */
#define _GNU_SOURCE 1
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

enum { kTen = 10 << 20 };

static int all_bytes(const unsigned char *p, size_t n, unsigned char value) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] != value)
      return 0;
  return 1;
}

static int child_work(void) {
  unsigned char *block = malloc(kTen);
  if (block == NULL) {
    fprintf(stderr, "spawn_fork child: malloc(10 MiB) failed\n");
    return 1;
  }
  memset(block, 0x11, kTen);
  unsigned char *mapped =
      mmap(NULL, kTen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) {
    perror("spawn_fork child: mmap(10 MiB)");
    return 1;
  }
  memset(mapped, 0x22, kTen);
  unsigned char *grown = realloc(block, 2 * kTen);
  if (grown == NULL) {
    fprintf(stderr, "spawn_fork child: realloc to 20 MiB failed\n");
    return 1;
  }
  memset(grown + kTen, 0x33, kTen);
  void *small[1000];
  for (int i = 0; i < 1000; ++i) {
    small[i] = malloc(1024);
    if (small[i] == NULL) {
      fprintf(stderr, "spawn_fork child: small malloc %d failed\n", i);
      return 1;
    }
    memset(small[i], i & 0xff, 1024);
  }
  for (int i = 0; i < 1000; ++i) {
    if (!all_bytes(small[i], 1024, (unsigned char)(i & 0xff))) {
      fprintf(stderr, "spawn_fork child: small block %d changed\n", i);
      return 1;
    }
    free(small[i]);
  }
  if (!all_bytes(grown, kTen, 0x11) || !all_bytes(grown + kTen, kTen, 0x33) ||
      !all_bytes(mapped, kTen, 0x22)) {
    fprintf(stderr, "spawn_fork child: a large block changed\n");
    return 1;
  }
  if (munmap(mapped, kTen) != 0) {
    perror("spawn_fork child: munmap");
    return 1;
  }
  free(grown);
  printf("fork child: 10 MiB malloc, 10 MiB mmap, realloc to 20 MiB, 1000 small blocks ok\n");
  return 0;
}

static int wait_ok(pid_t pid, const char *what) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) {
    perror("spawn_fork: waitpid");
    return 0;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "spawn_fork: %s ended with wait status 0x%x\n", what, (unsigned)status);
    return 0;
  }
  return 1;
}

int main(void) {
  char *const args[] = {"echo", "from posix_spawn", NULL};
  pid_t spawned;
  fflush(stdout);
  int error = posix_spawn(&spawned, "/bin/echo", NULL, NULL, args, environ);
  if (error != 0) {
    fprintf(stderr, "spawn_fork: posix_spawn: %s\n", strerror(error));
    return 1;
  }
  if (!wait_ok(spawned, "/bin/echo from posix_spawn"))
    return 1;

  /* Memory of the parent the child will overwrite in its copy. */
  unsigned char *mine = malloc(kTen);
  if (mine == NULL)
    return 1;
  memset(mine, 0x44, kTen);

  fflush(stdout); /* nothing buffered may be duplicated into the child */
  pid_t child = fork();
  if (child < 0) {
    perror("spawn_fork: fork");
    return 1;
  }
  if (child == 0) {
    memset(mine, 0x55, kTen);
    exit(child_work());
  }
  if (!wait_ok(child, "the fork child"))
    return 1;
  if (!all_bytes(mine, kTen, 0x44)) {
    fprintf(stderr, "spawn_fork: the child's writes reached the parent\n");
    return 1;
  }
  free(mine);
  void *again = malloc(kTen);
  if (again == NULL) {
    fprintf(stderr, "spawn_fork: malloc after the fork failed\n");
    return 1;
  }
  memset(again, 0x66, kTen);
  free(again);
  printf("spawn_fork: ok\n");
  return 0;
}
