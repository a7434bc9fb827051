/*
 * peakrss.c - run a command and report its wall time and peak RSS.
 *
 * usage: peakrss OUTFILE CMD [ARG...]
 * Writes "WALL_NS MAXRSS_KIB" to OUTFILE and exits with CMD's status.
 *
 * Why not measure from Python: a child forked from the Python driver
 * starts with the driver's resident pages, and Linux folds that into the
 * child's ru_maxrss at exec.  Forked from this small program, the child's
 * figure is its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fputs("usage: peakrss OUTFILE CMD [ARG...]\n", stderr);
        return 2;
    }

    long long started = now_ns();
    pid_t pid = fork();
    if (pid < 0)
        return 125;
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        _exit(127);
    }

    int status;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) < 0)
        return 125;
    long long wall = now_ns() - started;

    FILE *out = fopen(argv[1], "w");
    if (!out)
        return 125;
    fprintf(out, "%lld %ld\n", wall, usage.ru_maxrss);
    fclose(out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
