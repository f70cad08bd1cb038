/* refit.h - the allocation sweep of a refit (issue 14: "_fit" fits the object it is given, and
 * a failed fit leaves it as it was). Header-only: a test includes it as "core/lib/refit.h"
 * after cmocka.h and churnlab.h.
 *
 * REFIT_SWEEP(fit, unchanged) evaluates the expression `fit` (a refit of an already fitted
 * object, giving a status) with the k-th allocation failing, k = 1, 2, ... until it succeeds.
 * Each failure must be CL_ENOMEM, free what it allocated, and leave the object as the
 * statement `unchanged` checks. A macro rather than a function: `fit` and `unchanged` are each
 * test's own calls on its own types. */
#ifndef CL_TESTS_REFIT_H
#define CL_TESTS_REFIT_H

#define REFIT_SWEEP(fit, unchanged)                                                          \
    do {                                                                                     \
        size_t refit_base_ = cl_alloc_bytes();                                               \
        for (long refit_k_ = 1;; refit_k_++) {                                               \
            cl_alloc_fail_at(refit_k_);                                                      \
            int refit_rc_ = (fit);                                                           \
            cl_alloc_fail_at(0);                                                             \
            if (refit_rc_ == CL_OK)                                                          \
                break;                                                                       \
            assert_int_equal(refit_rc_, CL_ENOMEM);                                          \
            assert_int_equal(cl_alloc_bytes(), refit_base_);                                 \
            unchanged;                                                                       \
        }                                                                                    \
    } while (0)

#endif
