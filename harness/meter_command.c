/* A command meter: a shell command that prints the device's power, read once per sample.
 *
 * Two output forms are understood:
 *  - one number of watts ("4.25", "4.25 W");
 *  - Raspberry Pi 5's `vcgencmd pmic_read_adc`, lines like
 *        "   VDD_CORE_A current(7)=2.10600000A"  and  "   VDD_CORE_V volt(15)=0.72000000V";
 *    a rail is the name without its _A/_V suffix, and power is the sum of V*I over rails that
 *    have both and match the user's glob (EXT5V_V, a voltage alone, counts nothing).  The sum
 *    over the PMIC's rails is what the SoC and memory draw, not the losses before the PMIC.
 *
 * A hung command must not hang the run: it runs in its own process group, killed whole after
 * the timeout (posix_spawn rather than popen, because popen gives no pid to kill and pclose
 * would wait for the hung child).
 */
#include "meter_impl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define CMD_RAILS 64

static double cmd_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Reads what is available on fd into buf (keeping at most cap-1 bytes); 0 at EOF. */
static int cmd_drain(int fd, char *buf, size_t cap, size_t *used)
{
    char chunk[4096];
    ssize_t got = read(fd, chunk, sizeof chunk);
    if (got < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : 0;
    if (got == 0)
        return 0;
    size_t take = (size_t)got;
    if (*used + take > cap - 1)
        take = cap - 1 - *used;
    memcpy(buf + *used, chunk, take);
    *used += take;
    buf[*used] = '\0';
    return 1;
}

int eb_meter_command_run(const char *command, double timeout_s, char *out, size_t n,
                         eb_err *err)
{
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    char errtext[256] = "";
    size_t used = 0, eused = 0;
    if (n == 0)
        return eb_errf(err, "command meter: no room for the output");
    out[0] = '\0';
    if (timeout_s <= 0)
        timeout_s = 1.0;
    if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            if (po[i] >= 0) close(po[i]);
            if (pe[i] >= 0) close(pe[i]);
        }
        return eb_errf(err, "command meter `%s`: pipe failed: %s", command, strerror(e));
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&at, 0); /* its own group, so a kill reaches its children */
    pid_t pid;
    char *argv[] = {"sh", "-c", (char *)command, NULL};
    int rc = posix_spawn(&pid, "/bin/sh", &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(po[1]);
    close(pe[1]);
    if (rc != 0) {
        close(po[0]);
        close(pe[0]);
        return eb_errf(err, "command meter `%s`: cannot start /bin/sh: %s", command,
                       strerror(rc));
    }
    double deadline = cmd_now() + timeout_s;
    struct pollfd pf[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    int open_fds = 2, timed_out = 0, status = 0;
    while (open_fds > 0) {
        double left = deadline - cmd_now();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        int r = poll(pf, 2, (int)(left * 1e3) + 1);
        if (r < 0 && errno != EINTR)
            break;
        for (int i = 0; r > 0 && i < 2; i++) {
            if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int more = i == 0 ? cmd_drain(pf[i].fd, out, n, &used)
                              : cmd_drain(pf[i].fd, errtext, sizeof errtext, &eused);
            if (!more) {
                close(pf[i].fd);
                pf[i].fd = -1;
                open_fds--;
            }
        }
    }
    /* Output closed; the command may still linger (it closed stdout and sleeps). */
    while (!timed_out) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            status = 0;
            break;
        }
        if (cmd_now() >= deadline) {
            timed_out = 1;
            break;
        }
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    for (int i = 0; i < 2; i++)
        if (pf[i].fd >= 0)
            close(pf[i].fd);
    if (timed_out) {
        kill(-pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        return eb_errf(err, "command meter `%s`: no answer within %.3g s, killed (a meter "
                            "command must finish quickly; raise its timeout or fix it)",
                       command, timeout_s);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        errtext[strcspn(errtext, "\n")] = '\0';
        if (WIFEXITED(status))
            return eb_errf(err, "command meter `%s`: exit status %d%s%s", command,
                           WEXITSTATUS(status), errtext[0] ? ": " : "", errtext);
        return eb_errf(err, "command meter `%s`: killed by signal %d", command,
                       WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
    return 0;
}

typedef struct cmd_rail {
    char name[48];
    double amps, volts;
    int has_a, has_v;
} cmd_rail;

/* "NAME current(N)=XA" / "NAME volt(N)=YV": 1 when line is one, filling name/value/is_current. */
static int cmd_parse_rail_line(const char *line, char *name, size_t nn, double *value,
                               int *is_current)
{
    while (isspace((unsigned char)*line))
        line++;
    size_t len = strcspn(line, " \t");
    if (len == 0 || len >= nn)
        return 0;
    const char *rest = line + len;
    while (isspace((unsigned char)*rest))
        rest++;
    if (strncmp(rest, "current(", 8) == 0)
        *is_current = 1;
    else if (strncmp(rest, "volt(", 5) == 0)
        *is_current = 0;
    else
        return 0;
    const char *eq = strchr(rest, '=');
    if (!eq)
        return 0;
    char *end;
    *value = strtod(eq + 1, &end);
    if (end == eq + 1 || *end != (*is_current ? 'A' : 'V'))
        return 0;
    memcpy(name, line, len);
    name[len] = '\0';
    /* VDD_CORE_A / VDD_CORE_V are one rail */
    if (len > 2 && name[len - 2] == '_' && (name[len - 1] == 'A' || name[len - 1] == 'V'))
        name[len - 2] = '\0';
    return 1;
}

int eb_meter_command_parse(const char *out, const char *rails, double *watts, eb_err *err)
{
    char *end;
    const char *p = out;
    while (isspace((unsigned char)*p))
        p++;
    double single = strtod(p, &end);
    if (end != p) {
        while (isspace((unsigned char)*end))
            end++;
        if (*end == 'W')
            end++;
        while (isspace((unsigned char)*end))
            end++;
        if (*end == '\0') {
            if (!(single >= 0) || single > 1e6)
                return eb_errf(err, "command meter: %g is not a plausible power in watts",
                               single);
            *watts = single;
            return 0;
        }
    }
    cmd_rail r[CMD_RAILS];
    size_t nr = 0, lines = 0;
    const char *line = out;
    while (*line) {
        size_t len = strcspn(line, "\n");
        char buf[256], name[48];
        double v;
        int is_current;
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
        if (cmd_parse_rail_line(buf, name, sizeof name, &v, &is_current)) {
            lines++;
            size_t i = 0;
            while (i < nr && strcmp(r[i].name, name) != 0)
                i++;
            if (i == nr && nr < CMD_RAILS) {
                memset(&r[nr], 0, sizeof r[nr]);
                snprintf(r[nr].name, sizeof r[nr].name, "%s", name);
                nr++;
            }
            if (i < nr) {
                if (is_current) {
                    r[i].amps = v;
                    r[i].has_a = 1;
                } else {
                    r[i].volts = v;
                    r[i].has_v = 1;
                }
            }
        }
        line += len;
        if (*line == '\n')
            line++;
    }
    if (lines == 0) {
        char first[80];
        snprintf(first, sizeof first, "%.*s", (int)strcspn(p, "\n"), p);
        return eb_errf(err, "command meter: cannot read watts from its output \"%s\" (expected "
                            "a number of watts, or vcgencmd pmic_read_adc lines "
                            "\"NAME current(N)=XA\" / \"NAME volt(N)=YV\")", first);
    }
    double sum = 0;
    size_t matched = 0;
    for (size_t i = 0; i < nr; i++) {
        if (!r[i].has_a || !r[i].has_v)
            continue;
        if (rails && rails[0] && fnmatch(rails, r[i].name, 0) != 0)
            continue;
        sum += r[i].volts * r[i].amps;
        matched++;
    }
    if (matched == 0)
        return eb_errf(err, "command meter: no rail with both current and volt matches \"%s\" "
                            "in the output (%zu rails seen)", rails && rails[0] ? rails : "*",
                       nr);
    *watts = sum;
    return 0;
}

static int cmd_read(eb_meter *m, double *v, eb_err *err)
{
    char out[8192];
    if (eb_meter_command_run(m->command, m->timeout_s, out, sizeof out, err) != 0)
        return -1;
    if (eb_meter_command_parse(out, m->rails, &v[0], err) != 0)
        return eb_err_prefix(err, "%s (`%s`)", m->name, m->command);
    return 0;
}

int eb_meter_command(eb_meter *out, const char *name, const char *command, const char *rails,
                     double timeout_s, eb_err *err)
{
    eb_meter_init_named(out, name, "command", EB_METER_POWER);
    if (!command || !command[0] || strlen(command) >= sizeof out->command)
        return eb_errf(err, "command meter %s: the command is empty or longer than %zu bytes",
                       out->name, sizeof out->command - 1);
    snprintf(out->command, sizeof out->command, "%s", command);
    snprintf(out->rails, sizeof out->rails, "%s", rails ? rails : "");
    out->timeout_s = timeout_s > 0 ? timeout_s : 1.0;
    out->read = cmd_read;
    out->nparts = 1;
    out->is_total = 1; /* the user named it to measure the device */
    snprintf(out->note, sizeof out->note, "`%s`", command);
    double t0 = cmd_now();
    double w;
    if (cmd_read(out, &w, err) != 0) {
        snprintf(out->reason, sizeof out->reason, "%s", err ? err->msg : "command failed");
        return -1;
    }
    /* Sample no faster than twice the command's own run time. */
    double took = cmd_now() - t0;
    out->interval_s = took * 2 > 0.1 ? took * 2 : 0.1;
    out->usable = 1;
    return 0;
}
