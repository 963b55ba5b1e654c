/* Subcommands of ipfixd besides running (main.c dispatches them by their first argument). */
#ifndef IXD_DAEMON_COMMANDS_H
#define IXD_DAEMON_COMMANDS_H

/* `ipfixd clickhouse-schema -c CONFIG [--output NAME] [--server-version V]`: prints the CREATE
 * TABLE statements for the config's ClickHouse outputs. Returns the exit status. */
int ixd_cmd_clickhouse_schema(int argc, char **argv);

#endif
