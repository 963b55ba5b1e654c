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

/* Length of the UTF-8 sequence at s (n bytes left) when it is valid and not a C1 control; 0
 * otherwise (overlong forms, surrogates and code points past U+10FFFF are not valid). */
static size_t
utf8_printable(const unsigned char *s, size_t n)
{
    size_t len, i;
    uint32_t cp;

    if (s[0] < 0xc2 || s[0] > 0xf4) {
        return 0;
    }
    len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
    if (len > n) {
        return 0;
    }
    cp = s[0] & (0x7fu >> len);
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f) {
        return 0;
    }
    return len;
}

/* What stands for the character at s (n bytes left) in a log line, into buf (8 bytes): its
 * length, and in *used how many bytes of s it stands for. */
static size_t
escape_char(const unsigned char *s, size_t n, char *buf, size_t *used)
{
    static const char named[] = {'\n', 'n', '\r', 'r', '\t', 't', '\\', '\\'};
    size_t i, len;

    *used = 1;
    if (s[0] >= 0x20 && s[0] < 0x7f && s[0] != '\\') {
        buf[0] = (char)s[0];
        return 1;
    }
    for (i = 0; i < sizeof(named); i += 2) {
        if (s[0] == (unsigned char)named[i]) {
            buf[0] = '\\';
            buf[1] = named[i + 1];
            return 2;
        }
    }
    len = s[0] >= 0x80 ? utf8_printable(s, n) : 0;
    if (len > 0) {
        memcpy(buf, s, len);
        *used = len;
        return len;
    }
    snprintf(buf, 8, "\\x%02x", s[0]);
    return 4;
}

size_t
ixd_log_escape(const char *in, char *out, size_t outlen)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t n = strlen(in), i = 0, o = 0;

    while (outlen > 0 && i < n) {
        char buf[8];
        size_t used, len = escape_char(s + i, n - i, buf, &used);
        if (o + len >= outlen) {
            break;
        }
        memcpy(out + o, buf, len);
        o += len;
        i += used;
    }
    if (outlen > 0) {
        out[o] = '\0';
    }
    return o;
}

void
ixd_logv(enum ixd_log_level level, const char *fmt, va_list ap)
{
    static const int syslog_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    char msg[1024], line[2048];
    int saved = errno;

    if (level > log_level) {
        return;
    }
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (log_target == IXD_LOG_SYSLOG) {
        ixd_log_escape(msg, line, sizeof(line));
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
        /* one byte kept for the newline */
        n += (int)ixd_log_escape(msg, line + n, sizeof(line) - (size_t)n - 1);
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
