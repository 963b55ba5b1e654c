/*
 * The framing of an IPFIX message, checked before anything reads its sets: libfixbuf (the
 * reference decoder in the tests) hangs or crashes on messages this refuses, and the decoder
 * relies on every set lying within the message (docs/internals/templates.md for the template
 * records, which template.c checks as it compiles them).
 */
#include "ipfix/validate.h"

#include "ipfix/wire.h"

int
ixd_message_validate(const uint8_t *msg, size_t len, enum ixd_error *why)
{
    size_t mlen, off;

    if (len < IXD_HEADER_LEN) {
        *why = len >= 2 && ixd_get16(msg) != IXD_IPFIX_VERSION ? IXD_ERR_VERSION
                                                               : IXD_ERR_MESSAGE_LENGTH;
        return -1;
    }
    if (ixd_get16(msg) != IXD_IPFIX_VERSION) {
        *why = IXD_ERR_VERSION;
        return -1;
    }
    mlen = ixd_get16(msg + 2);
    if (mlen < IXD_HEADER_LEN || mlen != len) {
        *why = IXD_ERR_MESSAGE_LENGTH;
        return -1;
    }
    /* every set must fit exactly: a bad set length means the framing cannot be trusted */
    for (off = IXD_HEADER_LEN; off < mlen;) {
        size_t slen;
        if (mlen - off < IXD_SET_HEADER_LEN) {
            *why = IXD_ERR_SET_LENGTH;
            return -1;
        }
        slen = ixd_get16(msg + off + 2);
        if (slen < IXD_SET_HEADER_LEN || slen > mlen - off) {
            *why = IXD_ERR_SET_LENGTH;
            return -1;
        }
        off += slen;
    }
    return 0;
}
