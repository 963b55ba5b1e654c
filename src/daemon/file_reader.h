/*
 * A collector of transport file: an IPFIX file (RFC 5655: messages back to back, as a TCP
 * stream carries them) read once, in bounded steps from the worker's loop, through the same
 * decoder and pipelines as collected traffic. ipfixd's own archives and the corpus replay this
 * way.
 */
#ifndef IXD_DAEMON_FILE_READER_H
#define IXD_DAEMON_FILE_READER_H

#include <ev.h>
#include <stddef.h>

#include "ipfix/decode.h"
#include "ipfix/session.h"

struct ixd_file_reader;

/* Opens path and starts reading it on loop; records go to dec with deliver_arg. NULL (and a
 * log line) when the file cannot be opened. */
struct ixd_file_reader *ixd_file_reader_start(struct ev_loop *loop, const char *path,
                                              struct ixd_sessions *ss, struct ixd_decoder *dec,
                                              void *deliver_arg);
/* 1 once the whole file has been read. */
int ixd_file_reader_done(const struct ixd_file_reader *r);
void ixd_file_reader_stop(struct ixd_file_reader *r);

#endif
