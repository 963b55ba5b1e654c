#!/bin/sh
# make_certs.sh DIR: the certificates the TLS and DTLS tests use, made with openssl in DIR.
#
#   ca.pem               the test CA (EC P-256 keys throughout, fast to make)
#   collector.pem/.key   ipfixd's: CN and DNS collector.test, IP 127.0.0.1 and ::1
#   collector2.pem/.key  its next one: collector2.test, IP 127.0.0.1 (reload tests)
#   exporter.pem/.key    an exporter: O=ipfixd tests, CN=exporter1 (DNS exporter1)
#   exporter2.pem/.key   another exporter: CN=exporter2
#   expired.pem/.key     issued by the CA, valid in 2020 only
#   revoked.pem/.key     issued by the CA and revoked in crl.pem
#   stranger.pem/.key    issued by another CA (other-ca.pem)
#   selfsigned.pem/.key  self-signed: trusted only by its pin
#   crl.pem              the CA's revocation list (revoked.pem in it)
#   *.sha256             each certificate's SHA-256 fingerprint, as pins take it
set -eu
d=$1
mkdir -p "$d"
cd "$d"
exec 2>openssl.log

key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
    chmod 600 "$1"
}

key ca.key
openssl req -x509 -new -key ca.key -subj "/CN=ipfixd test CA" -days 3650 -out ca.pem \
    -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign
key other-ca.key
openssl req -x509 -new -key other-ca.key -subj "/CN=another CA" -days 3650 -out other-ca.pem \
    -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign

cat >ca.cnf <<CNF
[ca]
default_ca = test
[test]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = any
copy_extensions = copy
default_crl_days = 3650
unique_subject = no
[any]
commonName = supplied
organizationName = optional
CNF
: >index.txt
echo 1000 >serial

# issue NAME SUBJECT SAN [START END]
issue() {
    key "$1.key"
    openssl req -new -key "$1.key" -subj "$2" -addext "subjectAltName=$3" -out "$1.csr"
    if [ $# -gt 3 ]; then
        openssl ca -batch -config ca.cnf -in "$1.csr" -out "$1.pem" -notext \
            -startdate "$4" -enddate "$5"
    else
        openssl ca -batch -config ca.cnf -in "$1.csr" -out "$1.pem" -notext -days 3650
    fi
}

issue collector "/CN=collector.test" "DNS:collector.test,IP:127.0.0.1,IP:::1"
issue collector2 "/CN=collector2.test" "DNS:collector2.test,IP:127.0.0.1"
issue exporter "/O=ipfixd tests/CN=exporter1" "DNS:exporter1"
issue exporter2 "/CN=exporter2" "DNS:exporter2"
issue expired "/CN=expired" "DNS:expired" 20200101000000Z 20201231000000Z
issue revoked "/CN=revoked" "DNS:revoked"
openssl ca -batch -config ca.cnf -revoke revoked.pem
openssl ca -batch -config ca.cnf -gencrl -out crl.pem

key stranger.key
openssl req -new -key stranger.key -subj "/CN=exporter1" -out stranger.csr
openssl x509 -req -in stranger.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial \
    -days 3650 -out stranger.pem

key selfsigned.key
openssl req -x509 -new -key selfsigned.key -subj "/CN=pinned exporter" -days 3650 \
    -out selfsigned.pem

for c in collector collector2 exporter exporter2 expired revoked stranger selfsigned; do
    openssl x509 -in "$c.pem" -noout -fingerprint -sha256 | sed 's/.*=//' >"$c.sha256"
done
