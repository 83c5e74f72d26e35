/* QDQ fusion (issue 4): placeholder until the integer kernels land. */
#include "ref_internal.h"

int ref_qdq_fuse(ref_session *s, const eb_config *config, eb_err *err)
{
    (void)s, (void)config, (void)err;
    return 0;
}

void ref_qdq_exec(ref_session *s, const ref_node *nd)
{
    (void)s, (void)nd;
}

int ref_qdq_nodes(const ref_session *s)
{
    (void)s;
    return 0;
}
