# The dev stack's helper image (docker-compose.yml): nfcapd from Debian's nfdump package, the
# downstream collector of ipfixd's IPFIX export, and socat for the API proxy.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends nfdump socat \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o nobody -g nogroup /var/cache/nfdump
USER nobody
