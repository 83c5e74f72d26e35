/* `edgebench info`: the device as hwloc and the OS see it. */
#include <stdio.h>

#include "commands.h"
#include "device.h"

int eb_cmd_info(int argc, char **argv)
{
    eb_err err;
    if (argc > 0)
        return eb_cmd_fail("'info' takes no arguments (got '%s')", argv[0]);
    if (eb_device_print_info(stdout, &err) != 0)
        return eb_cmd_fail("%s", err.msg);
    return 0;
}
