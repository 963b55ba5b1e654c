/*
 * The floor under the meter's figures: libpcap reads every frame of a file and this touches
 * its first bytes (the EtherType), nothing more. `ixd-pcap-floor FILE` prints frames and
 * frames per second of CPU time (docs/benchmarks.md).
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <time.h>

int
main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *p;
    unsigned long long n = 0, sum = 0;
    struct timespec a, b;
    pcap_t *pc;
    double cpu;

    if (argc != 2 || (pc = pcap_open_offline(argv[1], err)) == NULL) {
        fprintf(stderr, "usage: ixd-pcap-floor FILE.pcap\n");
        return 2;
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    while (pcap_next_ex(pc, &h, &p) == 1) {
        n++;
        sum += h->caplen >= 14 ? (unsigned)(p[12] << 8 | p[13]) : 0;
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    cpu = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("frames=%llu cpu=%.3f frames_per_s=%.0f (checksum %llu)\n", n, cpu, (double)n / cpu,
           sum);
    pcap_close(pc);
    return 0;
}
