/* Sparse kernels (issue 4): placeholder until the CSR kernels land. */
#include "ref_internal.h"

int ref_sparse_prepare(ref_session *s, const eb_config *config, eb_err *err)
{
    (void)s, (void)config, (void)err;
    return 0;
}

void ref_sparse_exec(ref_session *s, const ref_node *nd)
{
    (void)s, (void)nd;
}

int ref_sparse_nodes(const ref_session *s)
{
    (void)s;
    return 0;
}
