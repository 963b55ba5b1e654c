/* Crypto-PAn: prefix-preserving pseudonymisation of IPv4 and IPv6 addresses (Xu, Fan, Ammar,
 * Moon, "Prefix-Preserving IP Address Anonymization", ICNP 2002; RFC 6235 section 4.1.4).
 *
 * Two addresses that share exactly a k-bit prefix map to two addresses that share exactly a
 * k-bit prefix; the map is one-to-one and depends only on the 32-byte key, so every worker,
 * every restart and every other Crypto-PAn implementation given the same key agree. The
 * results match the reference implementation's published sample and, for IPv6, the natural
 * 128-bit extension most other implementations share. See docs/anonymisation.md.
 *
 * Threads: a struct ixd_cryptopan is owned by one thread at a time (one per worker, built in
 * the stage's start()); it holds an OpenSSL cipher context and a cache that every call writes,
 * so two threads must never use the same one. There is no global state: the module may be
 * used from any number of threads, each with its own context. Key loading happens at set-up
 * (control thread) and hands the key to the workers as 32 bytes.
 *
 * Every address function works in place on network-order bytes, so a stage can rewrite a
 * record's field where it lies, keeping the element's type and length. */
#ifndef IXD_CRYPTO_CRYPTOPAN_H
#define IXD_CRYPTO_CRYPTOPAN_H

#include <stddef.h>
#include <stdint.h>

/* Key length: bytes 0..15 are the AES-128 key, bytes 16..31 are encrypted once with it to
 * give the pad, as in the original definition. */
#define IXD_CRYPTOPAN_KEY_LEN 32

/* Default cache size (log2 of entries per family) for ixd_cryptopan_new(): 4096 recent IPv4
 * and 4096 recent IPv6 addresses, 160 KiB per context. */
#define IXD_CRYPTOPAN_CACHE_BITS 12
/* Largest cache_bits accepted (2^20 entries per family, 40 MiB). */
#define IXD_CRYPTOPAN_CACHE_BITS_MAX 20

struct ixd_cryptopan;

/* Reads a key file: exactly 32 raw bytes, or 64 hexadecimal digits optionally followed by one
 * "\n" or "\r\n". Refuses anything else, a file that is not a regular file, and a file whose
 * mode lets others read it or lets anyone but the owner write it (mode & 0026): such a key
 * protects nothing. Group read (0640) is allowed so that root can own a key the daemon's
 * group reads. 0, or -1 with a message in err. Any thread; meant for set-up. The caller
 * should wipe key with ixd_cryptopan_key_wipe() once the contexts are built. */
int ixd_cryptopan_key_load(const char *path, uint8_t key[IXD_CRYPTOPAN_KEY_LEN], char *err,
                           size_t errlen);

/* Overwrites key material in a way the compiler does not remove. */
void ixd_cryptopan_key_wipe(void *key, size_t len);

/* A context for one thread. cache_bits is log2 of the number of remembered addresses per
 * family (0 = no cache, at most IXD_CRYPTOPAN_CACHE_BITS_MAX). The key is copied into the
 * cipher's schedule; the caller keeps (and wipes) its buffer. NULL with a message in err on
 * failure. The caller owns the result and frees it with ixd_cryptopan_free(). */
struct ixd_cryptopan *ixd_cryptopan_new(const uint8_t key[IXD_CRYPTOPAN_KEY_LEN],
                                        unsigned cache_bits, char *err, size_t errlen);
/* Frees a context and wipes its key schedule, pad and cache. NULL is a no-op. */
void ixd_cryptopan_free(struct ixd_cryptopan *cp);

/* Replaces the address in place by its Crypto-PAn image. 0, or -1 if OpenSSL failed: the
 * address is then zeroed rather than left in clear. Only the owning thread may call these. */
int ixd_cryptopan_v4(struct ixd_cryptopan *cp, uint8_t addr[4]);
int ixd_cryptopan_v6(struct ixd_cryptopan *cp, uint8_t addr[16]);

/* As above, but the first keep bits stay in clear (e.g. the operator's own /16) and the rest
 * is pseudonymised, still prefix-preserving and one-to-one. keep is clamped to 32 (128); for
 * a given key, the anonymised bits are the same as those ixd_cryptopan_v4/_v6 give. */
int ixd_cryptopan_v4_partial(struct ixd_cryptopan *cp, uint8_t addr[4], unsigned keep);
int ixd_cryptopan_v6_partial(struct ixd_cryptopan *cp, uint8_t addr[16], unsigned keep);

/* Truncation (RFC 6235 section 4.1.1): keeps the first keep bits and zeroes the rest, so
 * keep = 24 turns 192.0.2.77 into 192.0.2.0. keep is clamped to 32 (128). Any thread. */
void ixd_truncate_v4(uint8_t addr[4], unsigned keep);
void ixd_truncate_v6(uint8_t addr[16], unsigned keep);

#endif
