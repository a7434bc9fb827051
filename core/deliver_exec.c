/*
 * deliver_exec.c - starting the application: PATH lookup, execve in place,
 * or a supervised child that gets our signals.
 *
 * No shell is ever involved: argv goes to execve as it is, and a file
 * without a #! line is "not executable" (126) rather than run by sh.
 *
 * Signal forwarding needs the child's pid in a handler, hence the one
 * file-scope variable below; it is set while signals are blocked and
 * cleared before the handlers are restored.
 *
 * Caveats:
 *  - A signal the kernel sends to the whole foreground process group
 *    (Ctrl-C, terminal hangup) already reaches the child, so it is not
 *    forwarded a second time; signals sent with kill(2) to azconjur alone
 *    are.  See forward_signal().
 *  - SIGKILL cannot be caught: a supervised child outlives a killed
 *    azconjur, and its temporary files stay until the reboot of the
 *    memory file system.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deliver.h"
#include "harden.h"

static const int forwarded[] = {SIGINT,  SIGTERM, SIGHUP,
                                SIGQUIT, SIGUSR1, SIGUSR2};
#define NFORWARDED (sizeof forwarded / sizeof *forwarded)

static volatile sig_atomic_t child_pid; /* 0 when no child runs */

static const char *const scrubbed[] = {"IDENTITY_HEADER", "MSI_SECRET",
                                       "CONJUR_AUTHN_API_KEY",
                                       "CONJUR_AUTHN_JWT_TOKEN"};

int az_env_scrubbed(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof scrubbed / sizeof *scrubbed; i++) {
        if (strlen(scrubbed[i]) == n && memcmp(scrubbed[i], name, n) == 0)
            return 1;
    }
    return 0;
}

static int cannot_run(az_error *err, const char *name, int e)
{
    if (e == ENOENT || e == ENOTDIR)
        return az_fail(err, AZ_EXIT_NOTFOUND, "exec", 0,
                       "cannot run '%s': no such file", name);
    return az_fail(err, AZ_EXIT_NOEXEC, "exec", 0, "cannot run '%s': %s", name,
                   e == ENOEXEC ? "not an executable format (a script needs "
                                  "a #! line; no shell is used)"
                                : strerror(e));
}

/* 1: executable regular file; 0: absent; -1: present but not runnable. */
static int probe(const char *file)
{
    struct stat st;

    if (stat(file, &st) != 0)
        return 0;
    if (S_ISREG(st.st_mode) && access(file, X_OK) == 0)
        return 1;
    return -1;
}

int az_exec_resolve(const char *name, const char *path_env, char *out,
                    size_t cap, az_error *err)
{
    if (!*name)
        return az_fail(err, AZ_EXIT_NOTFOUND, "exec", 0,
                       "cannot run '': empty command name");
    if (strchr(name, '/')) {
        if (snprintf(out, cap, "%s", name) >= (int)cap)
            return cannot_run(err, name, ENAMETOOLONG);
        return 0;
    }

    const char *p = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
    int seen_unrunnable = 0;
    while (*p) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 0 && n + 1 + strlen(name) < cap) {
            snprintf(out, cap, "%.*s/%s", (int)n, p, name);
            int found = probe(out);
            if (found > 0)
                return 0;
            seen_unrunnable |= found < 0;
        }
        p += n + (end ? 1 : 0);
    }

    if (seen_unrunnable)
        return az_fail(err, AZ_EXIT_NOEXEC, "exec", 0,
                       "cannot run '%s': found in PATH but not executable",
                       name);
    return az_fail(err, AZ_EXIT_NOTFOUND, "exec", 0,
                   "cannot run '%s': command not found in PATH", name);
}

int az_exec_replace(const char *path, char *const argv[], char *const envp[],
                    az_error *err)
{
    fflush(NULL);
    az_fd_cloexec_ours();
    execve(path, argv, envp);
    return cannot_run(err, path, errno);
}

/*
 * Forward a signal to the child, unless the kernel generated it for the
 * terminal's process group (si_code SI_KERNEL): the child, in the same
 * group, got its own copy.
 */
static void forward_signal(int sig, siginfo_t *info, void *ctx)
{
    (void)ctx;
    int saved = errno;
    pid_t pid = (pid_t)child_pid;

    if (pid > 0 && (!info || info->si_code != SI_KERNEL))
        kill(pid, sig);
    errno = saved;
}

/* In the child: default signal handling, then execve; report errno. */
static void run_child(int report_fd, const sigset_t *oldmask, const char *path,
                      char *const argv[], char *const envp[])
{
    struct sigaction dfl;

    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (size_t i = 0; i < NFORWARDED; i++)
        sigaction(forwarded[i], &dfl, NULL);
    sigprocmask(SIG_SETMASK, oldmask, NULL);
    az_fd_cloexec_ours();

    execve(path, argv, envp);

    int e = errno;
    ssize_t w = write(report_fd, &e, sizeof e);
    (void)w;
    _exit(127);
}

/* Wait for pid, retrying after interruptions; the 128+N convention. */
static int wait_child(pid_t pid)
{
    int st;

    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return 1;
    }
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

/* Did execve in the child fail?  Returns its errno, or 0 once it ran. */
static int exec_error(int fd)
{
    int e = 0;
    ssize_t r;

    do {
        r = read(fd, &e, sizeof e);
    } while (r < 0 && errno == EINTR);
    return r == (ssize_t)sizeof e ? e : 0;
}

int az_exec_supervise(const char *path, char *const argv[], char *const envp[],
                      int *status, az_error *err)
{
    int report[2];
    sigset_t block, oldmask;
    struct sigaction fwd, old[NFORWARDED];

    if (pipe2(report, O_CLOEXEC) != 0)
        return az_fail(err, AZ_EXIT_RUNTIME, "exec", 0, "cannot run '%s': %s",
                       path, strerror(errno));

    /* handlers in place before the child exists; signals held until
       child_pid is known */
    sigemptyset(&block);
    for (size_t i = 0; i < NFORWARDED; i++)
        sigaddset(&block, forwarded[i]);
    sigprocmask(SIG_BLOCK, &block, &oldmask);
    memset(&fwd, 0, sizeof fwd);
    fwd.sa_sigaction = forward_signal;
    fwd.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&fwd.sa_mask);
    for (size_t i = 0; i < NFORWARDED; i++)
        sigaction(forwarded[i], &fwd, &old[i]);

    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(report[0]);
        run_child(report[1], &oldmask, path, argv, envp);
    }
    int fork_errno = errno;
    close(report[1]);
    if (pid > 0)
        child_pid = pid;
    sigprocmask(SIG_SETMASK, &oldmask, NULL);

    int e = pid > 0 ? exec_error(report[0]) : fork_errno;
    close(report[0]);
    int code = pid > 0 ? wait_child(pid) : 0;

    sigprocmask(SIG_BLOCK, &block, NULL);
    child_pid = 0;
    for (size_t i = 0; i < NFORWARDED; i++)
        sigaction(forwarded[i], &old[i], NULL);
    sigprocmask(SIG_SETMASK, &oldmask, NULL);

    if (pid < 0)
        return az_fail(err, AZ_EXIT_RUNTIME, "exec", 0, "cannot start '%s': %s",
                       path, strerror(fork_errno));
    if (e)
        return cannot_run(err, path, e);
    *status = code;
    return 0;
}
