#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define RATELIMIT_INTERVAL 10.0

static enum ixd_log_target log_target = IXD_LOG_STDERR;
static enum ixd_log_level log_level = IXD_LOG_INFO;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void
ixd_log_setup(enum ixd_log_target target, enum ixd_log_level level)
{
    if (target == IXD_LOG_SYSLOG && log_target != IXD_LOG_SYSLOG) {
        openlog("ipfixd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    } else if (target != IXD_LOG_SYSLOG && log_target == IXD_LOG_SYSLOG) {
        closelog();
    }
    log_target = target;
    log_level = level;
}

enum ixd_log_level
ixd_log_level_get(void)
{
    return log_level;
}

void
ixd_logv(enum ixd_log_level level, const char *fmt, va_list ap)
{
    static const int syslog_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    char line[1024];
    int saved = errno;

    if (level > log_level) {
        return;
    }
    if (log_target == IXD_LOG_SYSLOG) {
        vsnprintf(line, sizeof(line), fmt, ap);
        syslog(syslog_prio[level], "%s", line);
    } else {
        struct timespec ts;
        struct tm tm;
        int n;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = snprintf(line, sizeof(line),
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ipfixd[%d] %s: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, (int)getpid(), level_names[level]);
        if (n < 0) {
            n = 0;
        }
        vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
        n = (int)strlen(line);
        line[n++] = '\n';
        /* one write per line: lines from several threads never interleave */
        if (write(STDERR_FILENO, line, (size_t)n) == -1) {
            /* nowhere left to report it */
        }
    }
    errno = saved;
}

void
ixd_log(enum ixd_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ixd_logv(level, fmt, ap);
    va_end(ap);
}

void
ixd_fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ixd_logv(IXD_LOG_ERROR, fmt, ap);
    va_end(ap);
    exit(1);
}

void
ixd_log_limited(struct ixd_ratelimit *rl, double now, enum ixd_log_level level, const char *fmt,
                ...)
{
    char line[768];
    va_list ap;

    if (rl->last != 0 && now - rl->last < RATELIMIT_INTERVAL) {
        rl->suppressed++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (rl->suppressed > 0) {
        ixd_log(level, "%s (%llu similar lines suppressed)", line,
                (unsigned long long)rl->suppressed);
    } else {
        ixd_log(level, "%s", line);
    }
    rl->last = now;
    rl->suppressed = 0;
}
