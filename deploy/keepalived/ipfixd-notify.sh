#!/bin/sh
# keepalived notify hook for ipfixd (docs/ha.md): called by notify_master, notify_backup,
# notify_fault and notify_stop with the new role as its first argument.
#
#   ipfixd-notify.sh ROLE [ROLE_FILE]
#
# keepalived tells the role only to its hooks: this one logs the transition (syslog tag
# ipfixd-ha, or stderr when logger is missing) and writes the role to ROLE_FILE, by default
# /var/lib/ipfixd/ha-role (ipfixd's state directory), which the API reads
# (ha.keepalived.state-file, GET /api/v1/ha/keepalived), as one line
#
#   role=MASTER since=1700000000 host=collector-a
#
# replaced atomically (temporary file + rename), so a reader never sees half a line. ipfixd
# itself does not need to know: both peers collect and share templates whatever their role, and
# the virtual IP decides which one the exporters reach. Monitoring reads the file.
#
# Runs as root (the user given after the script in keepalived.conf): the state directory of the
# systemd unit (DynamicUser) is /var/lib/private/ipfixd, which only root can enter.
set -u

role=${1:-}
file=${2:-/var/lib/ipfixd/ha-role}

case $role in
    MASTER|BACKUP|FAULT|STOP) ;;
    *)
        echo "usage: $0 MASTER|BACKUP|FAULT|STOP [ROLE_FILE]" >&2
        exit 2
        ;;
esac

host=$(uname -n)
now=$(date +%s)
msg="ipfixd HA role $role on $host"
if command -v logger >/dev/null 2>&1; then
    logger -t ipfixd-ha -- "$msg" || echo "$msg" >&2
else
    echo "$msg" >&2
fi

dir=$(dirname -- "$file")
[ -d "$dir" ] || mkdir -p -- "$dir" || exit 1
tmp="$file.tmp.$$"
umask 022
if printf 'role=%s since=%s host=%s\n' "$role" "$now" "$host" >"$tmp" && mv -f -- "$tmp" "$file"; then
    exit 0
fi
rm -f -- "$tmp"
echo "ipfixd-notify: cannot write $file" >&2
exit 1
