#include <git2.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/syscall.h>
/* The calling thread's kernel id, to find it under /proc/self/task. */
static inline int reclaw_gettid(void) { return (int)syscall(SYS_gettid); }
#else
/* No /proc/self/task: the fetch watchdog then relies on libgit2's callbacks alone. */
static inline int reclaw_gettid(void) { return 0; }
#endif
