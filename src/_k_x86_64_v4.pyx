# Kernel module built with x86-64-v4 flags (AVX-512 F/CD/BW/DQ/VL, 512-bit
# vectors); imported only after fastact._dispatch has checked the CPU and OS.
include "_kernels.pxi"
