#!/usr/bin/env python3
"""Random networks for a MaxMind-format database of about a full GeoLite2-City's size, in the
input format of tests/unit/make_mmdb.pl:

    python3 bench/mmdb_networks.py 1000000 | perl tests/unit/make_mmdb.pl /tmp/full.mmdb
    build/bench/ixd-enrich-bench 1000 /tmp/full.mmdb

Three in four networks are IPv4 (/16 to /32, most /24), the rest IPv6 (/29 to /64); each has an
AS number, an AS name (70,000 distinct), a country and a city. A fixed seed: the same database
every time. 1,000,000 networks make a 72 MB file in about two minutes."""
import random
import sys

COUNTRIES = ["DE", "FR", "US", "NL", "BR", "JP", "IN", "GB", "SE", "PL", "IT", "ES", "CA", "AU",
             "CN", "RU"]
CITIES = ["Berlin", "Paris", "Dallas", "Amsterdam", "Sao Paulo", "Tokyo", "Mumbai", "London",
          "Stockholm", "Warsaw"]
V4_LENGTHS = [16, 18, 20, 21, 22, 23, 24, 24, 24, 24, 25, 26, 27, 28, 29, 30, 32]
V6_LENGTHS = [29, 32, 32, 36, 40, 44, 48, 48, 48, 56, 64]


def network(rng):
    if rng.random() < 0.75:
        plen = rng.choice(V4_LENGTHS)
        a = (rng.randint(1, 223) << 24) | rng.getrandbits(24)
        a &= (0xffffffff << (32 - plen)) & 0xffffffff
        return "%d.%d.%d.%d/%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, plen)
    plen = rng.choice(V6_LENGTHS)
    a = (0x2 << 124) | rng.getrandbits(124)  # global unicast, 2000::/3
    a &= ((1 << 128) - 1) ^ ((1 << (128 - plen)) - 1)
    h = "%032x" % a
    return ":".join(h[k:k + 4] for k in range(0, 32, 4)) + "/%d" % plen


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    rng = random.Random(5610)
    out = sys.stdout
    for i in range(n):
        out.write("%s\t%d\tAS %d Networks\t%s\t%s\t\n" % (
            network(rng), rng.randint(1, 400000), i % 70000, rng.choice(COUNTRIES),
            rng.choice(CITIES)))


if __name__ == "__main__":
    main()
