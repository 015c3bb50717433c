"""How OpenMP threads wait, chosen per machine before torch or openTSNE loads libgomp (which reads it once).

libgomp's default lets a thread that finished its share spin for a while before sleeping: cheap
back-to-back parallel regions on an idle machine. On a machine whose cores are busy, the spinning threads
steal the time slices the working ones need: on the shared 2-core project machine, openTSNE at 20k used
20 % less CPU time and 36 % less wall time with PASSIVE than unset (docs/benchmarks.md, "t-SNE").
"""

from __future__ import annotations

import os

SMALL_MACHINE_CORES = 2     # at most this many cores: one other job already oversubscribes them
BUSY_LOAD_PER_CORE = 0.5    # a 1-min load average at start of at least this × cores counts as busy


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask where the OS reports one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def choose_wait_policy(load: float | None, cores: int) -> str | None:
    """'PASSIVE' for a small or busy machine (or an unknown load), None (libgomp's default) otherwise."""
    if load is None or cores <= SMALL_MACHINE_CORES or load >= BUSY_LOAD_PER_CORE * cores:
        return "PASSIVE"
    return None


def apply_wait_policy(environ: dict | None = None) -> str:
    """Set OMP_WAIT_POLICY in `environ` (default os.environ) unless it is set already; return the policy
    in effect ('default' when left to the OpenMP runtime)."""
    environ = os.environ if environ is None else environ
    if "OMP_WAIT_POLICY" not in environ:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            load = None
        policy = choose_wait_policy(load, usable_cores())
        if policy is None:
            return "default"
        environ["OMP_WAIT_POLICY"] = policy
    return environ["OMP_WAIT_POLICY"]
