/* The CLI's commands, one file each (cmd_*.c).  Each takes the arguments after its name and
 * returns the process exit code: 0 ok, 1 some trial failed, 2 usage or input error.
 * Errors are printed as one line on stderr, prefixed "edgebench: ". */
#ifndef EB_COMMANDS_H
#define EB_COMMANDS_H

int eb_cmd_run(int argc, char **argv);
int eb_cmd_infer(int argc, char **argv);
int eb_cmd_backends(int argc, char **argv);
int eb_cmd_info(int argc, char **argv);
int eb_cmd_help(int argc, char **argv);
int eb_cmd_compare(int argc, char **argv);
int eb_cmd_history(int argc, char **argv);
int eb_cmd_report(int argc, char **argv);

/* Prints "edgebench: <msg>" to stderr and returns 2 (usage or input error). */
int eb_cmd_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
