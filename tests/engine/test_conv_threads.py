"""conv2d spread over threads: the same numbers as on one thread, the BLAS left as found."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from gradcheck_cli import ops, vjp
from gradcheck_cli.engine import threads

from .test_conv import naive_conv2d, naive_conv2d_grads

GEOMETRIES = [  # stride, padding, dilation, x shape, w shape
    (1, 1, 1, (4, 3, 8, 7), (5, 3, 3, 3)),
    (1, 0, 2, (3, 2, 9, 8), (3, 2, 3, 2)),
    (1, 2, 1, (5, 2, 6, 6), (2, 2, 2, 3)),
    (2, 1, 1, (4, 3, 7, 8), (4, 3, 3, 3)),
    (3, 2, 2, (3, 2, 9, 10), (2, 2, 2, 3)),
]


def conv_and_grads(x, w, dz, stride, padding, dilation):
    def conv(a, b):
        return ops.conv2d(a, b, stride=stride, padding=padding, dilation=dilation)
    y = conv(x, w).data
    dx, dw = vjp(conv, (x, w), dz, wrt=(0, 1))
    return y, dx, dw


@pytest.fixture
def two_threads(monkeypatch):
    """Every conv2d, however small, is shared by two threads, each taking at least a chunk.

    A thread's first chunk waits until the other thread has taken one too, so that both
    really run (otherwise the calling thread may finish a small batch before its helper
    starts). Returns the set of threads that ran samples.
    """
    ran = set()
    run_chunks = threads.for_each_chunk

    def both_run(samples, how, body):
        meet = threading.Barrier(2, timeout=10)
        started = set()

        def traced(start, stop):
            me = threading.get_ident()
            ran.add(me)
            if me not in started:
                started.add(me)
                meet.wait()
            body(start, stop)
        run_chunks(samples, how, traced)

    monkeypatch.setattr(threads, "team_size", lambda samples, work: min(2, samples))
    monkeypatch.setattr(threads, "for_each_chunk", both_run)
    return ran


@pytest.mark.parametrize("stride,padding,dilation,x_shape,w_shape", GEOMETRIES)
def test_threads_give_the_same_numbers_as_one_thread(two_threads, monkeypatch, stride, padding,
                                                     dilation, x_shape, w_shape):
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    dz = rng.standard_normal(naive_conv2d(x, w, stride, padding, dilation).shape)
    on_two = conv_and_grads(x, w, dz, stride, padding, dilation)
    assert len(two_threads) == 2, "the batch was not shared by two threads"
    monkeypatch.undo()
    monkeypatch.setattr(threads, "team_size", lambda samples, work: 1)
    on_one = conv_and_grads(x, w, dz, stride, padding, dilation)
    for a, b in zip(on_two, on_one):
        np.testing.assert_array_equal(a, b)  # bit for bit: results never depend on timing
    dx, dw = naive_conv2d_grads(x, w, dz, stride, padding, dilation)
    np.testing.assert_allclose(on_two[0], naive_conv2d(x, w, stride, padding, dilation),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(on_two[1], dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(on_two[2], dw, rtol=1e-12, atol=1e-12)


def test_single_precision_inputs_agree_with_the_loops(two_threads):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 9, 9)).astype(np.float32)
    w = rng.standard_normal((5, 4, 3, 3)).astype(np.float32)
    dz = rng.standard_normal((3, 5, 9, 9)).astype(np.float32)
    _, dx, dw = conv_and_grads(x, w, dz, 1, 1, 1)
    ref_dx, ref_dw = naive_conv2d_grads(*(a.astype(np.float64) for a in (x, w, dz)), 1, 1, 1)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_infinite_inputs_give_what_the_loops_give(two_threads, bad):
    """Zeros a fast path adds (padding, the grid's gaps) must never meet an inf or a NaN."""
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal((3, 2, 6, 5)), rng.standard_normal((2, 2, 3, 3))
    x[1, 0, 2, 4] = bad
    w[0, 1, 2, 2] = bad
    dz = rng.standard_normal((3, 2, 6, 5))
    with np.errstate(invalid="ignore", over="ignore"):
        y, dx, dw = conv_and_grads(x, w, dz, 1, 1, 1)
        ref_dx, ref_dw = naive_conv2d_grads(x, w, dz, 1, 1, 1)
        ref_y = naive_conv2d(x, w, 1, 1, 1)
    for got, ref in ((y, ref_y), (dx, ref_dx), (dw, ref_dw)):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(ref))
        finite = np.isfinite(ref)
        np.testing.assert_allclose(got[finite], ref[finite], rtol=1e-12, atol=1e-12)


def test_the_blas_keeps_its_threads_and_errors_reach_the_caller(monkeypatch):
    controllers = threads._blas()
    assert controllers, "threadpoolctl sees no BLAS under NumPy: conv2d would use one thread"
    before = [c.num_threads for c in controllers]
    monkeypatch.setattr(threads, "team_size", lambda samples, work: 2)
    seen = []

    def body(i):
        seen.append(controllers[0].num_threads)
        if i == 3:
            raise ValueError("sample 3")

    with pytest.raises(ValueError, match="sample 3"):
        threads.for_each_sample(6, 1e9, body)
    assert set(seen) == {1}, "the BLAS was not at one thread while samples ran"
    assert [c.num_threads for c in controllers] == before


@pytest.mark.parametrize("team", [1, 2])
def test_one_geometry_after_another_leaves_nothing_behind(monkeypatch, team):
    """Buffers kept between calls (zeroed borders, a remembered im2col) never leak into the
    next geometry, even one whose buffers have the same sizes: 66 geometries in a row,
    each against the loops, including pairs built to share sizes."""
    monkeypatch.setattr(threads, "team_size", lambda samples, work: min(team, samples))
    rng = np.random.default_rng(2024)
    sequence = [((1, 3, 8, 7), (3, 3, 3, 3), 2, 1, 1), ((2, 3, 7, 8), (3, 3, 3, 3), 2, 1, 1),
                ((2, 2, 5, 6), (2, 2, 3, 3), 1, 1, 1), ((2, 2, 5, 6), (2, 2, 3, 2), 1, 1, 1),
                ((2, 2, 5, 6), (2, 2, 3, 3), 1, 1, 1), ((2, 2, 5, 6), (2, 2, 3, 3), 1, 2, 2),
                ((2, 2, 5, 6), (2, 2, 3, 3), 1, 1, 1),
                ((2, 1, 5, 5), (2, 1, 1, 3), 1, 1, 1), ((2, 1, 5, 5), (2, 1, 3, 1), 1, 0, 2),
                ((2, 1, 5, 5), (2, 1, 1, 3), 1, 1, 1),
                ((1, 2, 6, 5), (2, 2, 3, 3), 1, 1, 1), ((1, 2, 5, 6), (2, 2, 3, 3), 1, 1, 1)]
    for _ in range(54):  # and 54 drawn at random
        k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        sequence.append(((int(rng.integers(1, 3)), int(rng.integers(1, 4)),
                          int(rng.integers(5, 9)), int(rng.integers(5, 9))),
                         (int(rng.integers(1, 4)), 0) + k,
                         int(rng.integers(1, 3)), int(rng.integers(0, 3)),
                         int(rng.integers(1, 3))))
    for x_shape, w_shape, stride, padding, dilation in sequence:
        w_shape = (w_shape[0], x_shape[1]) + w_shape[2:]
        x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
        expected_y = naive_conv2d(x, w, stride, padding, dilation)
        dz = rng.standard_normal(expected_y.shape)
        y, dx, dw = conv_and_grads(x, w, dz, stride, padding, dilation)
        expected_dx, expected_dw = naive_conv2d_grads(x, w, dz, stride, padding, dilation)
        where = f"x {x_shape}, w {w_shape}, stride {stride}, padding {padding}, dilation {dilation}"
        np.testing.assert_allclose(y, expected_y, rtol=1e-12, atol=1e-12, err_msg=where)
        np.testing.assert_allclose(dx, expected_dx, rtol=1e-12, atol=1e-12, err_msg=where)
        np.testing.assert_allclose(dw, expected_dw, rtol=1e-12, atol=1e-12, err_msg=where)


def test_temporaries_too_big_to_keep_are_made_afresh_and_right(monkeypatch, two_threads):
    """Over the size limit nothing is kept between samples or calls: same numbers."""
    from gradcheck_cli.engine import scratch
    monkeypatch.setattr(scratch, "_SCRATCH_LIMIT", 0)
    rng = np.random.default_rng(8)
    for stride, padding, dilation, x_shape, w_shape in GEOMETRIES[:3]:
        x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
        dz = rng.standard_normal(naive_conv2d(x, w, stride, padding, dilation).shape)
        y, dx, dw = conv_and_grads(x, w, dz, stride, padding, dilation)
        expected_dx, expected_dw = naive_conv2d_grads(x, w, dz, stride, padding, dilation)
        np.testing.assert_allclose(y, naive_conv2d(x, w, stride, padding, dilation),
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dx, expected_dx, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dw, expected_dw, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("where", ["x", "dz"])
@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_an_inf_or_nan_in_one_input_only_gives_what_the_loops_give(two_threads, where, bad):
    """An inf or a NaN of x (or of dz) that the gap columns of the flat grid meet makes the
    filter gradient NaN there: it must be noticed and computed the long way, while dx, which
    never meets x, stays on the fast path."""
    rng = np.random.default_rng(12)
    x, w = rng.standard_normal((4, 2, 6, 5)), rng.standard_normal((3, 2, 3, 3))
    dz = rng.standard_normal((4, 3, 6, 5))
    (x if where == "x" else dz)[2, 1, 3, 0] = bad      # in a first column: the gaps reach it
    with np.errstate(invalid="ignore", over="ignore"):
        _, dx, dw = conv_and_grads(x, w, dz, 1, 1, 1)
        ref_dx, ref_dw = naive_conv2d_grads(x, w, dz, 1, 1, 1)
    for got, ref in ((dx, ref_dx), (dw, ref_dw)):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(ref))
        finite = np.isfinite(ref)
        np.testing.assert_allclose(got[finite], ref[finite], rtol=1e-12, atol=1e-12)


def test_both_gradients_come_from_one_pass_over_the_samples(monkeypatch):
    """A stride-1 conv2d's backward, with dx and dw both wanted, walks the batch once."""
    passes = []
    run_chunks = threads.for_each_chunk

    def counted(samples, how, body):
        passes.append(samples)
        run_chunks(samples, how, body)

    monkeypatch.setattr(threads, "for_each_chunk", counted)
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((3, 2, 7, 6)), rng.standard_normal((4, 2, 3, 3))
    dz = rng.standard_normal((3, 4, 7, 6))
    _, dx, dw = conv_and_grads(x, w, dz, 1, 1, 1)
    assert passes == [3, 3, 3], passes  # conv_and_grads: a forward; vjp: a forward, one backward
    ref_dx, ref_dw = naive_conv2d_grads(x, w, dz, 1, 1, 1)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("team", [1, 2])
def test_chunks_of_any_size_give_the_same_numbers(monkeypatch, team):
    """Samples go to the threads in chunks (one NumPy call copies a chunk in or out): a
    chunk of one sample, of two with a shorter last one, or the whole batch, the numbers
    are the same, bit for bit."""
    monkeypatch.setattr(threads, "team_size", lambda samples, work: min(team, samples))
    rng = np.random.default_rng(21)
    x, w = rng.standard_normal((5, 3, 9, 8)), rng.standard_normal((4, 3, 3, 3))
    dz = rng.standard_normal((5, 4, 9, 8))
    sizes, results = [], []
    run_chunks = threads.for_each_chunk

    def recorded(samples, how, body):
        sizes.append(how.size)
        run_chunks(samples, how, body)

    monkeypatch.setattr(threads, "for_each_chunk", recorded)
    for budget in (1, 16_500, 2**30):   # 16,500 bytes: two samples' temporaries, not three
        monkeypatch.setattr(threads, "CHUNK_BYTES", budget)
        results.append(conv_and_grads(x, w, dz, 1, 1, 1))
    # Three passes each (a forward, then the vjp's forward and backward).
    assert sizes == [1] * 3 + [2] * 3 + [-(-5 // team)] * 3, sizes
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)
    ref_dx, ref_dw = naive_conv2d_grads(x, w, dz, 1, 1, 1)
    np.testing.assert_allclose(results[0][0], naive_conv2d(x, w, 1, 1, 1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(results[0][1], ref_dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(results[0][2], ref_dw, rtol=1e-12, atol=1e-12)
