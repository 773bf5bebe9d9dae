/* list_fds: prints the numbers of the open file descriptors, ascending, one per line
 * (the descriptor used to read /proc/self/fd is left out). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

static int ascending(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

int main(void) {
  DIR *dir = opendir("/proc/self/fd");
  if (dir == NULL) {
    perror("list_fds: /proc/self/fd");
    return 1;
  }
  int fds[1024];
  size_t count = 0;
  for (struct dirent *entry; (entry = readdir(dir)) != NULL;) {
    if (entry->d_name[0] == '.')
      continue;
    int fd = atoi(entry->d_name);
    if (fd != dirfd(dir) && count < sizeof fds / sizeof fds[0])
      fds[count++] = fd;
  }
  closedir(dir);
  qsort(fds, count, sizeof fds[0], ascending);
  for (size_t i = 0; i < count; ++i)
    printf("%d\n", fds[i]);
  return 0;
}
