/* Placeholder until the kernels land. */
#include "ref_internal.h"

int ref_infer_rnn(ref_session *s, ref_node *nd, eb_err *err)
{
    (void)s;
    return ref_node_fail(nd, err, "operator not supported by ref yet");
}

void ref_exec_rnn(ref_session *s, const ref_node *nd)
{
    (void)s, (void)nd;
}
