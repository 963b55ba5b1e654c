#!/bin/sh
# keepalived notify hook for ipfixd (docs/ha.md): logs each VRRP transition (syslog tag
# ipfixd-ha, or stderr when logger is missing) and writes the new role to ROLE_FILE, which the
# API reads (ha.keepalived.state-file, GET /api/v1/ha/keepalived), as one line
#
#   role=MASTER since=1700000000 host=collector-a
#
# Called as
#
#   ipfixd-notify.sh ROLE [ROLE_FILE]                  notify_master/_backup/_fault/_stop
#   ipfixd-notify.sh INSTANCE|GROUP NAME ROLE PRIORITY notify (keepalived appends these four)
#
# with ROLE one of MASTER, BACKUP, FAULT, STOP. ipfixd itself does not need to know: both peers
# collect and share templates whatever their role, and the virtual IP decides which one the
# exporters reach. Monitoring reads the file.
#
# Runs as root (the user given after the script in keepalived.conf): the state directory of the
# systemd unit (DynamicUser) is /var/lib/private/ipfixd, which only root can enter. So it writes
# one file only, ROLE_FILE below, whatever its arguments say: a second argument that names
# another file is refused. Change the file here; the hook is root's (0755, owned by root, as
# keepalived's enable_script_security wants), so only root can.
ROLE_FILE=/var/lib/ipfixd/ha-role

set -u

usage() {
    echo "usage: $0 MASTER|BACKUP|FAULT|STOP [$ROLE_FILE]" >&2
    echo "       $0 INSTANCE|GROUP NAME MASTER|BACKUP|FAULT|STOP PRIORITY" >&2
    exit 2
}

case $# in
    1) role=$1 ;;
    2)
        role=$1
        if [ "$2" != "$ROLE_FILE" ]; then
            echo "ipfixd-notify: writes $ROLE_FILE only (ROLE_FILE in $0), not $2" >&2
            exit 2
        fi
        ;;
    4)
        case $1 in
            INSTANCE|GROUP) role=$3 ;;
            *) usage ;;
        esac
        ;;
    *) usage ;;
esac
case $role in
    MASTER|BACKUP|FAULT|STOP) ;;
    *) usage ;;
esac

host=$(uname -n)
now=$(date +%s)
msg="ipfixd HA role $role on $host"
if command -v logger >/dev/null 2>&1; then
    logger -t ipfixd-ha -- "$msg" || echo "$msg" >&2
else
    echo "$msg" >&2
fi

umask 022
dir=$(dirname -- "$ROLE_FILE")
[ -d "$dir" ] || mkdir -p -- "$dir" || exit 1
# The directory is ipfixd's, so its user may plant files and symlinks there. The temporary
# file's name is drawn at random (mktemp -u) and created by the noclobber redirection, which
# opens with O_CREAT|O_EXCL: nothing already there is opened or followed, and the line is
# written through that one descriptor, never reopened by name. mv -T renames it over the role
# file: a symlink there is replaced, not followed; a directory there is refused.
tmp=$(mktemp -u -- "$dir/.${ROLE_FILE##*/}.XXXXXXXXXX") || exit 1
if (set -C && printf 'role=%s since=%s host=%s\n' "$role" "$now" "$host" >"$tmp") &&
    mv -f -T -- "$tmp" "$ROLE_FILE"; then
    exit 0
fi
rm -f -- "$tmp"
echo "ipfixd-notify: cannot write $ROLE_FILE" >&2
exit 1
