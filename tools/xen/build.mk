# SPDX-License-Identifier: GPL-2.0-only
#
# tools/xen: the clean image of a vmfit replica domain and the tests on
# real Xen inside qemu (Documentation/xen-backend.rst).
#
#   make xen-image   build/xen/vmfit-replica.{vmlinux,cpio,sha256} and
#                    build/xen/vmfitd-xen.conf (tools/xen/mkimage)

XEN_IMAGE_DIR := $(B)/xen

.PHONY: xen-image

xen-image: $(B)/bin/kv-hash $(B)/bin/kv-sqlite
	$(Q)tools/xen/mkimage $(XEN_IMAGE_DIR)

# The tests on real Xen inside qemu (tests/xen/*.sh through
# tools/vmtest/vmtest --xen); tests/run runs them as the "xen" suite.
.PHONY: check-xen
check-xen: deps
	$(Q)$(MAKE) --no-print-directory all unit-tests
	$(Q)XEN=1 tests/run xen
