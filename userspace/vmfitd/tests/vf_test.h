/* SPDX-License-Identifier: GPL-2.0-only */
/* vf_test.h - vmfitd's unit tests use the shared assertions of vf_check.h. */
#ifndef VF_TEST_H
#define VF_TEST_H

#include "../../../tests/unit/vf_check.h"

#define TEST_DONE() return vf_check_done(__FILE__)

#endif /* VF_TEST_H */
