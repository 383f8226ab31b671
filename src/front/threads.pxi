# threads.pxi: included by src/front/_front.pyx (one module, compiled once).
# The chunking of a call into threads: the stall guard, the number of
# chunks, and the mirror of fastact._threads' policy that the fast paths
# read without calling back into Python.


# Stall guard.  A parallel region cannot finish before every worker has run,
# and a worker needs a free core: right after a NumPy matmul, OpenBLAS's
# threads busy-wait on the other core of a 2-core machine and a 2-thread
# call of 50-200 us took 3-10 ms (bench/threads_results.md).  A region
# stalls when its last chunk starts after the calling thread has finished the
# first one (the split cost more than it saved), or more than LATE_MAX_S
# after the region began (the calling thread may have lost its core too), and
# at least STALL_S late.  Two stalled regions in a row (busy-waiting threads
# hold the core for milliseconds, so every region stalls), or one right after
# a pause, refuse every split (one thread; results do not depend on it) for
# _pause seconds, doubling up to PAUSE_MAX_S while stalls repeat; a region
# without one resets both.  A single late wake-up (a virtual machine's idle
# vCPU) costs that one call: pausing on it cost every call of the next 50 ms
# its second thread.  Plain globals: concurrent callers may race on them,
# which only moves the pause.
cdef double STALL_S = 50e-6
cdef double LATE_MAX_S = 1e-3
cdef double PAUSE_MIN_S = 0.05
cdef double PAUSE_MAX_S = 1.0
cdef bint _guard = os.environ.get("FASTACT_STALL_GUARD", "1") != "0"
cdef double _single_until = 0.0
cdef double _pause = PAUSE_MIN_S
cdef bint _stalled = False          # the previous region stalled


cdef inline void _note_start(double t_region, double t_first_end, double t_last_start) noexcept nogil:
    global _single_until, _pause, _stalled
    cdef double late = t_last_start - t_region
    if late > STALL_S and (late > LATE_MAX_S or t_last_start > t_first_end):
        if _stalled or _pause > PAUSE_MIN_S:
            _single_until = omp_get_wtime() + _pause
            _pause = _pause * 2 if _pause * 2 < PAUSE_MAX_S else PAUSE_MAX_S
        _stalled = True
    else:
        _pause = PAUSE_MIN_S
        _stalled = False


def stall_guard(on=None):
    """Whether the stall guard is on (set it with on=True/False); returns the
    previous setting.  FASTACT_STALL_GUARD=0 turns it off at import."""
    global _guard, _single_until, _pause, _stalled
    cdef bint old = _guard
    if on is not None:
        _guard = bool(on)
        _single_until = 0.0
        _pause = PAUSE_MIN_S
        _stalled = False
    return old


def stall_state():
    """(seconds of one-thread pause left, the next pause) of the stall guard."""
    cdef double left = _single_until - omp_get_wtime()
    return (left if left > 0 else 0.0, _pause)


def note_region(double first_chunk, double last_start):
    """Record a parallel region whose first chunk took `first_chunk` seconds
    and whose last chunk started `last_start` seconds in (what _run_flat
    measures; for the tests of the guard)."""
    cdef double now = omp_get_wtime()
    _note_start(now - last_start, now - last_start + first_chunk, now)


def planned_chunks(Py_ssize_t n, int nthreads, Py_ssize_t grain, Py_ssize_t itemsize=4):
    """How many chunks (threads) a call of n elements would use now."""
    return _nchunks(n, itemsize, nthreads, grain)


cdef inline Py_ssize_t _nchunks(Py_ssize_t n, Py_ssize_t isz, int nthreads, Py_ssize_t grain) noexcept nogil:
    # One chunk per thread, but never chunks smaller than `grain` float32
    # elements' worth of bytes (float64: grain / 2 elements, measured to split
    # as well at half the count, bench/threads_results.md): below that the
    # split costs more than it saves.  One chunk while the stall guard pauses.
    cdef Py_ssize_t c = (n * isz // 4) // grain if grain > 0 else n
    if c > nthreads:
        c = nthreads
    if c > 1 and _guard and _single_until > 0.0 and omp_get_wtime() < _single_until:
        c = 1
    return c if c > 1 else 1


cdef int _default_threads = 0      # set_num_threads(); 0: none
cdef int _cpus = 1                 # usable CPUs (affinity mask)
cdef bint _omp_env = False         # OMP_NUM_THREADS set
cdef bint _force_single = False    # forked child after a parallel region
cdef object _scoped = None         # the threads() ContextVar


def sync_thread_policy(int default_threads, int cpus, bint omp_env, bint force_single, scoped):
    """Mirror of fastact._threads' state, pushed whenever it changes."""
    global _default_threads, _cpus, _omp_env, _force_single, _scoped
    _default_threads = default_threads
    _cpus = cpus
    _omp_env = omp_env
    _force_single = force_single
    _scoped = scoped


cdef int _threads_now() except -1:
    cdef object v = None
    cdef int n
    if _scoped is not None:
        v = get_value(_scoped)
    if v is not None:
        n = v
    elif _default_threads > 0:
        n = _default_threads
    else:
        n = omp_get_max_threads()
        if not _omp_env and n > _cpus:
            n = _cpus
    if n < 1:
        n = 1
    if n > 1 and _force_single:
        n = 1
    return n
