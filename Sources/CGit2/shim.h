#include <git2.h>
#include <unistd.h>
#include <sys/syscall.h>

/* The calling thread's kernel id, to find it under /proc/self/task. */
static inline int reclaw_gettid(void) { return (int)syscall(SYS_gettid); }
