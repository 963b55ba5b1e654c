#!/usr/bin/perl
# Writes a MaxMind-format database (the layout of GeoLite2-ASN and GeoLite2-City merged) for the
# tests: make_mmdb.pl OUT < lines, each "network<TAB>asn<TAB>as name<TAB>country<TAB>city
# <TAB>registered country" (empty fields are left out of the entry). Needs Debian's
# libmaxmind-db-writer-perl.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my %types = (
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
    country                        => 'map',
    registered_country             => 'map',
    iso_code                       => 'utf8_string',
    city                           => 'map',
    names                          => 'map',
    en                             => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version            => 6,
    record_size           => 28,
    database_type         => 'ipfixd-test',
    languages             => ['en'],
    description           => { en => 'ipfixd test database' },
    map_key_type_callback => sub { $types{ $_[0] } },
    merge_strategy        => 'none',
    # the tests use private and documentation networks, which the writer leaves out by default
    remove_reserved_networks => 0,
);
binmode STDIN, ':encoding(UTF-8)';
while (my $line = <STDIN>) {
    chomp $line;
    next if $line eq '';
    my ($net, $asn, $org, $cc, $city, $reg) = split /\t/, $line, -1;
    my %e;
    $e{autonomous_system_number}       = $asn + 0 if defined $asn && $asn ne '';
    $e{autonomous_system_organization} = $org if defined $org && $org ne '';
    $e{country}            = { iso_code => $cc }            if defined $cc   && $cc ne '';
    $e{city}               = { names    => { en => $city } } if defined $city && $city ne '';
    $e{registered_country} = { iso_code => $reg }           if defined $reg  && $reg ne '';
    $tree->insert_network($net, \%e);
}
open my $fh, '>:raw', $ARGV[0] or die "$ARGV[0]: $!\n";
$tree->write_tree($fh);
close $fh or die "$ARGV[0]: $!\n";
