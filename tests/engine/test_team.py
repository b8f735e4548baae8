"""The helper threads behind conv2d: they spin only inside a vjp, survive errors, forks and
concurrent callers, and give the same numbers whichever way they wait."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from gradcheck_cli import ops, vjp
from gradcheck_cli.engine import team, threads

from .test_conv import naive_conv2d_grads


@pytest.fixture
def shared(monkeypatch):
    """Every conv2d is shared by two threads, however small."""
    monkeypatch.setattr(threads, "team_size", lambda samples, work: min(2, samples))


def conv(a, b):
    return ops.conv2d(a, b, padding=1)


def inputs(seed=0, n=4):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, 3, 10, 9)), rng.standard_normal((4, 3, 3, 3)),
            rng.standard_normal((n, 4, 10, 9)))


def check(x, w, dz):
    dx, dw = vjp(conv, (x, w), dz, wrt=(0, 1))
    ref_dx, ref_dw = naive_conv2d_grads(x, w, dz, 1, 1, 1)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-12, atol=1e-12)


def test_helpers_spin_between_the_passes_of_a_vjp_and_sleep_after_it(shared):
    x, w, dz = inputs()
    check(x, w, dz)                     # the team exists from here on
    helper = threads._state["team"].helpers[0]
    seen = []

    def conv_then_look(a, b):
        y = conv(a, b)                  # a pass: afterwards the helper waits at its gate
        seen.append(helper.spinning)
        return y

    vjp(conv_then_look, (x, w), dz, wrt=(0, 1))
    assert seen == [True]
    assert not helper.spinning
    # Asleep, the helpers take no CPU time (spinning, one would take all of its core's).
    before = time.process_time()
    time.sleep(0.3)
    assert time.process_time() - before < 0.1


def test_outside_a_vjp_helpers_sleep_after_every_pass(shared):
    x, w, _ = inputs()
    ops.conv2d(x, w, padding=1)
    assert not any(helper.spinning for helper in threads._state["team"].helpers)


def test_an_error_on_a_helper_reaches_the_caller_and_the_team_goes_on(shared):
    helper_thread = []

    def body(i):
        if threading.current_thread() is not threading.main_thread():
            helper_thread.append(i)
            raise ValueError(f"sample {i} on a helper")
        time.sleep(0.01)                # leave samples to the helper

    with pytest.raises(ValueError, match="on a helper"):
        threads.for_each_sample(6, 1e9, body)
    assert helper_thread
    check(*inputs(1))


def test_a_job_that_raises_does_not_stop_its_helper():
    helpers = team.Team(1)

    def fails():
        raise KeyError("job")

    with pytest.raises(KeyError, match="job"):
        helpers.run([fails], lambda: None)
    ran = []
    assert helpers.run([lambda: ran.append("helper")], lambda: ran.append("caller"))
    assert sorted(ran) == ["caller", "helper"]


def test_gates_that_sleep_give_the_same_numbers(shared, monkeypatch):
    """Where there are no glibc spinlocks the gates are plain locks."""
    x, w, dz = inputs(2)
    spun = vjp(conv, (x, w), dz, wrt=(0, 1))
    monkeypatch.setattr(team, "_SPINLOCKS", None)
    monkeypatch.setitem(threads._state, "team", team.Team(1))
    slept = vjp(conv, (x, w), dz, wrt=(0, 1))
    for a, b in zip(spun, slept):
        np.testing.assert_array_equal(a, b)
    assert not threads._state["team"].helpers[0].spinning


def test_callers_on_several_threads_at_once_all_get_their_answers(shared):
    problems = [inputs(seed, n=6) for seed in range(4)]
    failures = []

    def work(problem):
        try:
            for _ in range(5):
                check(*problem)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            failures.append(exc)

    callers = [threading.Thread(target=work, args=(p,)) for p in problems]
    for caller in callers:
        caller.start()
    work(inputs(9))
    for caller in callers:
        caller.join(timeout=60)
    assert not failures, failures
    assert not any(caller.is_alive() for caller in callers)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_gets_threads_of_its_own(shared):
    """The parent's helpers do not exist in a forked child; it must not wait for them."""
    x, w, dz = inputs(3)
    check(x, w, dz)
    pid = os.fork()
    if pid == 0:                        # the child: answer by exit status only
        status = 1
        try:
            check(x, w, dz)
            status = 0
        finally:
            os._exit(status)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.01)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung waiting for its parent's helper threads")
    assert os.waitstatus_to_exitcode(status) == 0
