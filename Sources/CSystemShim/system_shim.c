#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include "system_shim.h"

int reclaw_reserve_space(int fd, long long offset, long long length) {
    if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)length) == 0) return 0;
    return errno;
}

int reclaw_release_free_memory(void) {
#ifdef __GLIBC__
    return malloc_trim(0);
#else
    return -1;
#endif
}

int reclaw_limit_malloc_arenas(int count) {
#ifdef __GLIBC__
    return mallopt(M_ARENA_MAX, count) == 1 ? 0 : -1;
#else
    return -1;
#endif
}
