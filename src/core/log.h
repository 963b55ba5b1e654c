/*
 * Logging: stderr or syslog, levels, and rate-limited lines for per-packet faults. Every message
 * is escaped as a whole before it is written (ixd_log_escape), so a string that came from the
 * network (a JWT's kid, an HTTP header, a peer's name) can neither end a line and forge the
 * next one nor send a terminal its control sequences, whichever call logged it.
 */
#ifndef IXD_CORE_LOG_H
#define IXD_CORE_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

enum ixd_log_level {
    IXD_LOG_ERROR = 0,
    IXD_LOG_WARNING = 1,
    IXD_LOG_INFO = 2,
    IXD_LOG_DEBUG = 3,
};

enum ixd_log_target {
    IXD_LOG_STDERR = 0,
    IXD_LOG_SYSLOG = 1,
};

/* Any thread may log; lines are written with one write(2) so they do not interleave. */
void ixd_log_setup(enum ixd_log_target target, enum ixd_log_level level);
enum ixd_log_level ixd_log_level_get(void);
void ixd_log(enum ixd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ixd_logv(enum ixd_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/*
 * Copies in to out (outlen bytes, NUL included) with what is not printable escaped: \n, \r, \t,
 * and a backslash as \\ (so that the result reads back unambiguously), any other control
 * character (C0, DEL, the C1 range) and any byte that is not part of valid UTF-8 as \xNN. An
 * escape that does not fit whole is left out, with the rest. Returns the length written.
 */
size_t ixd_log_escape(const char *in, char *out, size_t outlen);

/* Logs at error level and exits: only at start-up or on a broken invariant. */
void ixd_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define log_err(...) ixd_log(IXD_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) ixd_log(IXD_LOG_WARNING, __VA_ARGS__)
#define log_info(...) ixd_log(IXD_LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (ixd_log_level_get() >= IXD_LOG_DEBUG) {                                                \
            ixd_log(IXD_LOG_DEBUG, __VA_ARGS__);                                                   \
        }                                                                                          \
    } while (0)

/*
 * A rate limiter for one kind of message, owned by one thread: at most one line per interval;
 * the next line that passes says how many were suppressed in between.
 */
struct ixd_ratelimit {
    double last;         /* monotonic seconds of the last line written */
    uint64_t suppressed; /* lines swallowed since then */
};

void ixd_log_limited(struct ixd_ratelimit *rl, double now, enum ixd_log_level level,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
