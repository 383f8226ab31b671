# Kernel module built with x86-64-v3 flags (AVX2, FMA, F16C); imported only
# after fastact._dispatch has checked that the CPU and OS support them.
include "_kernels.pxi"
