/* fork_exec: fork + execv("/bin/echo"), waitpid; then system("echo from system").
 * Checks both exit statuses and says so; any failure exits 1 with the reason. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  fflush(stdout); /* nothing buffered may be duplicated into the child */
  pid_t child = fork();
  if (child < 0) {
    perror("fork_exec: fork");
    return 1;
  }
  if (child == 0) {
    char *const args[] = {"echo", "from", "exec", NULL};
    execv("/bin/echo", args);
    perror("fork_exec: execv /bin/echo");
    _exit(127);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child) {
    perror("fork_exec: waitpid");
    return 1;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "fork_exec: /bin/echo ended with status 0x%x\n", (unsigned)status);
    return 1;
  }
  status = system("echo from system");
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "fork_exec: system() returned 0x%x\n", (unsigned)status);
    return 1;
  }
  printf("fork_exec: ok\n");
  return 0;
}
