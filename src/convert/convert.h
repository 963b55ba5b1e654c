/*
 * `ipfixd convert`: a capture file metered into flow records once (docs/meter.md).
 */
#ifndef IXD_CONVERT_CONVERT_H
#define IXD_CONVERT_CONVERT_H

/* The subcommand, with argv[0] "convert". Returns the exit status. */
int ixd_convert_main(int argc, char **argv);

#endif
