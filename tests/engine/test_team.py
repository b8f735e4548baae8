"""The helper threads behind conv2d: they take no CPU between passes, survive errors, Ctrl-C,
forks and concurrent callers, and give the same numbers whichever way the caller waits."""

from __future__ import annotations

import os
import signal
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


def test_helpers_take_no_cpu_between_passes(shared):
    """Not after a vjp, nor between the passes of one: what the traced function computes
    there (a big matrix product on the BLAS's own threads, say) has the cores to itself."""
    x, w, dz = inputs()
    check(x, w, dz)                     # passes on two threads: the team exists from here on
    assert threads._state["team"].helpers[0].finished > 0
    idle = []

    def conv_then_wait(a, b):
        y = conv(a, b)                  # a pass; the backward's comes later
        before = time.process_time()
        time.sleep(0.3)
        idle.append(time.process_time() - before)
        return y

    vjp(conv_then_wait, (x, w), dz, wrt=(0, 1))
    before = time.process_time()
    time.sleep(0.3)
    idle.append(time.process_time() - before)
    assert max(idle) < 0.1, idle        # a spinning helper would take all of each 0.3 s


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


@pytest.mark.parametrize("helpers", [1, 2])
@pytest.mark.parametrize("gates", ["spin", "sleep"])
def test_ctrl_c_during_a_pass_leaves_the_team_sound(monkeypatch, helpers, gates):
    """Ctrl-C reaches the caller as KeyboardInterrupt; every later pass still waits for all
    of its samples (a job given but not counted, or a gate opened but not passed, would let
    a pass return before its helpers are done)."""
    if gates == "sleep":
        monkeypatch.setattr(team, "_SPINLOCKS", None)
    monkeypatch.setitem(threads._state, "team", team.Team(helpers))
    monkeypatch.setattr(threads, "team_size", lambda samples, work: helpers + 1)
    main = threading.main_thread()

    def slow_on_helpers(i):
        time.sleep(0.2 if threading.current_thread() is not main else 0.001)

    threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        threads.for_each_sample(3 * (helpers + 1), 1e9, slow_on_helpers)
    for _ in range(5):
        done = set()

        def record(i):
            time.sleep(0.02 if threading.current_thread() is not main else 0.001)
            done.add(i)

        threads.for_each_sample(2 * (helpers + 1), 1e9, record)
        assert done == set(range(2 * (helpers + 1)))
    check(*inputs(4))


class _Once:
    """Raises KeyboardInterrupt once, before or after calling ``call``."""

    def __init__(self, call, after: bool):
        self.call, self.after, self.fired = call, after, False

    def __call__(self, *args):
        if not self.fired and not self.after:
            self.fired = True
            raise KeyboardInterrupt
        result = self.call(*args)
        if not self.fired:
            self.fired = True
            raise KeyboardInterrupt
        return result


@pytest.mark.parametrize("gates", ["spin", "sleep"])
@pytest.mark.parametrize("point", ["a job queued, not yet recorded", "between two helpers' waits",
                                   "in a wait, before the gate"])
def test_an_interrupt_at_any_point_of_a_pass_leaves_later_passes_whole(monkeypatch, gates,
                                                                       point):
    if gates == "sleep":
        monkeypatch.setattr(team, "_SPINLOCKS", None)
    helpers = team.Team(2)
    monkeypatch.setitem(threads._state, "team", helpers)
    monkeypatch.setattr(threads, "team_size", lambda samples, work: 3)
    first, second = helpers.helpers
    if point == "a job queued, not yet recorded":
        queued = first.mailbox

        class Mailbox:
            put = staticmethod(_Once(queued.put, after=True))
            get = staticmethod(queued.get)
        first.mailbox = Mailbox()
    elif point == "between two helpers' waits":
        monkeypatch.setattr(first, "finish", _Once(first.finish, after=True))
    else:
        monkeypatch.setattr(second.done, "wait", _Once(second.done.wait, after=False))
    main = threading.main_thread()
    stale = "gradcheck-conv-0" if point.startswith("a job queued") else "gradcheck-conv-1"

    start = second.start        # its job ends last, so that the caller does wait for it

    def late(job):
        start(lambda: (time.sleep(0.05), job()))

    second.start = late
    with pytest.raises(KeyboardInterrupt):
        threads.for_each_sample(6, 1e9, lambda i: None)
    second.start = start
    time.sleep(0.1)             # the helpers end that pass, and open their gates meanwhile
    for _ in range(4):
        done = set()

        def record(i):          # each helper takes a sample; the one that was interrupted
            me = threading.current_thread()     # (and may have left its gate open) is slow
            time.sleep(0.001 if me is main else 0.15 if me.name == stale else 0.01)
            done.add(i)

        threads.for_each_sample(6, 1e9, record)
        assert done == set(range(6)), f"the pass returned with samples {sorted(done)} done"
