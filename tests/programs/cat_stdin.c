/* cat_stdin: copies stdin to stdout byte for byte (binary safe, partial writes handled). */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
  static char buffer[1 << 16];
  for (;;) {
    ssize_t got = read(0, buffer, sizeof buffer);
    if (got == 0)
      return 0;
    if (got < 0) {
      if (errno == EINTR)
        continue;
      perror("cat_stdin: read");
      return 1;
    }
    for (ssize_t done = 0; done < got;) {
      ssize_t put = write(1, buffer + done, (size_t)(got - done));
      if (put < 0) {
        if (errno == EINTR)
          continue;
        perror("cat_stdin: write");
        return 1;
      }
      done += put;
    }
  }
}
