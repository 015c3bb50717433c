"""Run a sketch test in a forked child process of its own: one JVM, one sketch, no teardown left behind.

Sketches that run inside the pytest process share one JVM and one X connection with every sketch before
and after them; a window still being torn down (or Java still shutting a sketch down while the interpreter
exits) made the JVM crash now and then (SIGSEGV in a GL call, or at exit after all tests had passed).
So the pytest process never starts Java: a test that runs a sketch in-process is decorated with
`@in_own_process`, its body runs in a forked child, which starts its own JVM, reports the outcome
(None, a skip or the failure's traceback) through a pipe, and leaves with os._exit.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
import traceback
from collections.abc import Callable

import pytest

TIMEOUT_S = 600


def in_own_process(test: Callable) -> Callable:
    """Decorator for a test function (fixtures are resolved in the parent, then handed to the child)."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_run, args=(send, test, args, kwargs), name=f"own-process:{test.__name__}")
        child.start()
        send.close()
        try:
            outcome = receive.recv() if receive.poll(TIMEOUT_S) else ("timeout", f"no result within {TIMEOUT_S} s")
        except EOFError:
            outcome = None
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
            child.join()
        kind, detail = outcome or ("crashed", f"the child process ended with exit code {child.exitcode}")
        if kind == "skip":
            pytest.skip(detail)
        if kind != "pass":
            pytest.fail(f"in the test's own process ({kind}):\n{detail}", pytrace=False)

    return wrapper


def _run(send, test: Callable, args: tuple, kwargs: dict) -> None:
    try:
        test(*args, **kwargs)
        outcome = ("pass", "")
    except pytest.skip.Exception as exc:
        outcome = ("skip", str(exc))
    except BaseException:
        outcome = ("failed", traceback.format_exc())
    try:
        send.send(outcome)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)   # no interpreter or JVM teardown: the window goes with the process
