"""The OpenMP wait policy: PASSIVE on small or busy machines, the runtime's default on idle large ones,
the user's own setting always."""

from __future__ import annotations

import os
import subprocess
import sys

from embed.threads import apply_wait_policy, choose_wait_policy


def test_small_or_busy_machines_get_passive_idle_large_ones_the_default():
    assert choose_wait_policy(0.0, 2) == "PASSIVE"
    assert choose_wait_policy(9.0, 16) == "PASSIVE"
    assert choose_wait_policy(None, 16) == "PASSIVE"   # no load average: assume shared
    assert choose_wait_policy(1.0, 16) is None


def test_the_users_setting_wins():
    environ = {"OMP_WAIT_POLICY": "ACTIVE"}
    assert apply_wait_policy(environ) == "ACTIVE" and environ == {"OMP_WAIT_POLICY": "ACTIVE"}


def test_importing_embed_sets_the_policy_before_openmp_loads():
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    for load, expected in ((0.0, "default"), (99.0, "PASSIVE")):   # a 16-core machine, idle, then busy
        code = (f"import os; os.getloadavg = lambda: ({load}, 0.0, 0.0); "
                "os.sched_getaffinity = lambda pid: set(range(16)); "
                "import embed; print(os.environ.get('OMP_WAIT_POLICY', 'default'))")
        printed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                 check=True).stdout
        assert printed.strip() == expected
