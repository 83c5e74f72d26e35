/* `edgebench info`: the device as hwloc and the OS see it, and what can be measured on it
 * (energy meters, device telemetry), each source with the reason when it is unusable. */
#include <stdio.h>

#include "commands.h"
#include "device.h"
#include "meter.h"
#include "telemetry.h"

int eb_cmd_info(int argc, char **argv)
{
    eb_err err;
    eb_meter_set meters = {0};
    eb_telemetry *tele;
    char line[256];
    if (argc > 0)
        return eb_cmd_fail("'info' takes no arguments (got '%s')", argv[0]);
    if (eb_device_print_info(stdout, &err) != 0)
        return eb_cmd_fail("%s", err.msg);
    if (eb_telemetry_open(&tele, NULL, &err) == 0) {
        eb_telemetry_describe(tele, line, sizeof line);
        printf("telemetry:       %s\n", line);
        eb_telemetry_close(tele);
    }
    printf("energy meters:\n");
    if (eb_meters_probe_all(&meters, &err) != 0)
        return eb_cmd_fail("%s", err.msg);
    eb_meters_print(stdout, &meters);
    eb_meter_set_free(&meters);
    return 0;
}
