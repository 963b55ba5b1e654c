/*
 * Inputs: where collectors' records come from (include/ipfixd/input.h is the interface every
 * type implements; src/registry/registry.c lists the built-in ones). UDP (udp.c), TCP (tcp.c)
 * and IPFIX files (file.c) deliver IPFIX messages (NetFlow too) to the collector's sessions on
 * the worker that reads them; intake.h holds what they share. docs/internals/modules.md.
 */
#ifndef IXD_INPUT_INPUT_H
#define IXD_INPUT_INPUT_H

#include "core/keys.h"
#include "ipfixd/input.h"

#endif
