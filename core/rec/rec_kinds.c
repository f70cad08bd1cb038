/* rec_kinds.c - the recommender kinds (rec/rec.h), by cl_rec_kind value.
 *
 * It sits above every kind's file, so that rec.c (the generic layer: dispatch, top-k, model
 * files) names none of them and no kind's header is included by the layer the kinds build
 * on: the includes stay a DAG (rec_kinds.c -> cf.h, content.h, ... -> rec.h). A new kind
 * appends its cl_rec_kind value in rec.h and its ops table here. */
#include "rec/bpr.h"
#include "rec/cf.h"
#include "rec/content.h"
#include "rec/ease.h"
#include "rec/hybrid.h"
#include "rec/rec.h"

const cl_rec_ops *const cl_rec_kinds[CL_REC_NKINDS] = {
    [CL_REC_POPULAR] = &cl_cf_popular_ops, [CL_REC_ITEMKNN] = &cl_cf_itemknn_ops,
    [CL_REC_MF] = &cl_cf_mf_ops,           [CL_REC_ALS] = &cl_cf_als_ops,
    [CL_REC_CONTENT] = &cl_content_rec_ops, [CL_REC_HYBRID] = &cl_hybrid_rec_ops,
    [CL_REC_EASE] = &cl_ease_rec_ops,      [CL_REC_BPR] = &cl_bpr_rec_ops};
