/* Dynamic-quantization fusion (qdq_dyn.c), called from qdq_fuse.c: the two files share the
 * REF_PREP_QDQ node kind, and ref_qdq_exec hands the nodes this file made over to it.
 *
 * Not a public interface: used by backends/ref/qdq_fuse.c and tests/unit/test_ref_quant*.c. */
#ifndef EB_REF_QDQ_DYN_H
#define EB_REF_QDQ_DYN_H

#include "ref_internal.h"

/* DynamicQuantizeLinear -> MatMulInteger (constant 2-D weights) -> Cast(float) -> Mul(s) by
 * the two scales -> [Add bias] -> [Relu] becomes one node (op_type "MatMulInteger[dyn]",
 * REF_PREP_QDQ).  Returns how many chains were fused, or -1 with err set. */
int ref_qdq_dyn_fuse(ref_session *s, eb_err *err);
/* Whether node nd is one of them (its plan is this file's, not qdq_fuse.c's). */
int ref_qdq_dyn_is(const ref_node *nd);
void ref_qdq_dyn_exec(ref_session *s, const ref_node *nd);

#endif
