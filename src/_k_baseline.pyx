# Kernel module built with the compiler's default target (x86-64: SSE2);
# runs on every CPU of the architecture.
include "_kernels.pxi"
