#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include "system_shim.h"

int reclaw_reserve_space(int fd, long long offset, long long length) {
    if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)length) == 0) return 0;
    return errno;
}
