#ifndef RECLAW_SYSTEM_SHIM_H
#define RECLAW_SYSTEM_SHIM_H

/// Reserves `length` bytes of disk for a file from `offset` without changing its size
/// (fallocate with FALLOC_FL_KEEP_SIZE). Returns 0, or the errno value.
int reclaw_reserve_space(int fd, long long offset, long long length);

/// Returns to the system the memory malloc holds free in every arena (glibc's malloc_trim).
/// Returns 1 when some was returned, 0 when none was, -1 where the C library has no such call.
int reclaw_release_free_memory(void);

/// Caps the number of malloc arenas at `count` (glibc's mallopt M_ARENA_MAX). Returns 0, or -1
/// where the C library has no such setting or refused it.
int reclaw_limit_malloc_arenas(int count);

#endif
