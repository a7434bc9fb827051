/*
 * harden.h - process-wide protections applied before anything else runs.
 */
#ifndef AZ_HARDEN_H
#define AZ_HARDEN_H

/*
 * No core dumps (RLIMIT_CORE 0) and not dumpable (PR_SET_DUMPABLE 0), so a
 * crash or a debugger attach by another user cannot lift secrets out of
 * memory.  Returns 0, or -1 if either call failed (the caller warns).
 */
int az_harden_process(void);

/*
 * Remember which descriptors above stderr the process was started with
 * (systemd socket activation, a parent's pipes).  Call once, first thing.
 */
void az_fd_note_inherited(void);

/*
 * Mark close-on-exec every descriptor above stderr that we opened
 * ourselves (libcurl's sockets and wakeup pair, files), so a child started
 * with execve gets what we inherited and nothing of ours.
 */
void az_fd_cloexec_ours(void);

#endif
