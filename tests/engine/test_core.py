"""The graph walk: gradients add up at branches, deep graphs, a stable order, the tie rules,
and the calling conventions shared by every op."""

from __future__ import annotations

import numpy as np

from gradcheck_cli import ops, vjp
from gradcheck_cli.engine import batched, forward_value
from gradcheck_cli.engine.core import Tensor, topological_order


def test_gradients_add_up_where_a_value_is_used_twice():
    x = np.array([0.5, -1.0, 2.0])
    # f = x*x + x  ->  2x + 1
    np.testing.assert_allclose(vjp(lambda a: a * a + a, (x,), np.ones(3)), 2 * x + 1)
    # f = e^x * e^x, the exp node shared by both factors  ->  2 e^(2x)
    def shared(a):
        e = ops.exp(a)
        return e * e
    np.testing.assert_allclose(vjp(shared, (x,), np.ones(3)), 2 * np.exp(2 * x), rtol=1e-14)


def test_a_chain_of_5000_ops_does_not_hit_the_recursion_limit():
    def chain(a):
        for _ in range(2500):
            a = ops.tanh(a) * 1.0001
        return a
    x = np.array([0.3, -0.2])
    grad = vjp(chain, (x,), np.ones(2))
    # Forward-mode product of the local derivatives, written out independently.
    expected, value = np.ones(2), x.copy()
    for _ in range(2500):
        t = np.tanh(value)
        expected *= (1 - t * t) * 1.0001
        value = t * 1.0001
    np.testing.assert_allclose(grad, expected, rtol=1e-10)


def test_topological_order_is_parents_first_and_stable():
    a = Tensor(np.array(1.0), requires_grad=True)
    b = Tensor(np.array(2.0), requires_grad=True)
    m = ops.mul(a, b)
    z = ops.add(m, a)
    assert topological_order(z) == [a, b, m, z]

    rng = np.random.default_rng(0)
    leaves = [Tensor(rng.standard_normal(2), requires_grad=True) for _ in range(4)]
    nodes = list(leaves)
    for _ in range(60):
        i, j = rng.integers(0, len(nodes), 2)
        nodes.append(ops.add(nodes[i], ops.tanh(nodes[j])))
    root = nodes[-1]
    order = topological_order(root)
    position = {id(n): k for k, n in enumerate(order)}
    for node in order:
        for parent in node.parents:
            if parent.requires_grad:
                assert position[id(parent)] < position[id(node)]
    assert [id(n) for n in topological_order(root)] == [id(n) for n in order]


def test_tie_rules():
    # max with two equal largest elements: each gets half.
    np.testing.assert_array_equal(vjp(ops.max, (np.array([1.0, 3.0, 3.0]),), np.array(6.0)),
                                  [0.0, 3.0, 3.0])
    # maximum(x, y) at x == y: half to each.
    x = np.array([2.0, 1.0])
    dx, dy = vjp(ops.maximum, (x, np.array([2.0, 0.0])), np.ones(2), wrt=(0, 1))
    np.testing.assert_array_equal(dx, [0.5, 1.0])
    np.testing.assert_array_equal(dy, [0.5, 0.0])
    # relu'(0) = 0, abs'(0) = 0.
    np.testing.assert_array_equal(vjp(ops.relu, (np.array([0.0, 1.0]),), np.ones(2)), [0.0, 1.0])
    np.testing.assert_array_equal(vjp(ops.abs, (np.array([0.0, -2.0]),), np.ones(2)), [0.0, -1.0])


def test_parameters_by_position_or_name():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(ops.sum(x, 0).data, [3.0, 5.0, 7.0])
    np.testing.assert_array_equal(ops.reshape(x, (3, 2)).data, x.reshape(3, 2))
    np.testing.assert_array_equal(ops.reshape(x, shape=(3, 2)).data, x.reshape(3, 2))
    np.testing.assert_array_equal(Tensor(x).T.data, x.T)
    np.testing.assert_array_equal(Tensor(x)[1, ::-1].data, [5.0, 4.0, 3.0])


def test_batched_forward_treats_plain_arrays_as_constants():
    # f closes over a (3, 2) matrix; 5 stacked inputs of shape (4, 3) go through in one call.
    weights = np.arange(6.0).reshape(3, 2)
    def f(x):
        return ops.sum(ops.relu(x @ weights) * (x[:, :2] > 0.0), axis=0)
    stack = np.random.default_rng(1).standard_normal((5, 4, 3))
    with batched(1):
        got = forward_value(f, (stack,))
    np.testing.assert_allclose(got, [forward_value(f, (s,)) for s in stack], rtol=1e-13)


def test_vjp_result_is_the_callers_own_array():
    dz = np.ones(3)
    grad = vjp(lambda a: a + 0.0, (np.zeros(3),), dz)
    grad[0] = 5.0
    assert dz[0] == 1.0
    grad = vjp(lambda a: ops.sum(a), (np.zeros(3),), np.array(1.0))
    grad[0] = 5.0   # writable, not a broadcast view


def test_softmax_family_and_sigmoid_do_not_overflow():
    x = np.array([1000.0, 1001.0, -1000.0])
    # Closed forms with the shift done by hand: softmax(x) = softmax(x - 1001).
    e = np.exp(x - 1001.0)
    np.testing.assert_allclose(ops.softmax(x).data, e / e.sum(), rtol=1e-15)
    np.testing.assert_allclose(ops.log_softmax(x).data, x - 1001.0 - np.log(e.sum()), rtol=1e-15)
    np.testing.assert_allclose(ops.logsumexp(x).data, 1001.0 + np.log(e.sum()), rtol=1e-15)
    assert np.isfinite(vjp(ops.log_softmax, (x,), np.ones(3))).all()
    np.testing.assert_array_equal(ops.sigmoid(np.array([-1000.0, 1000.0])).data, [0.0, 1.0])


def test_batched_mode_belongs_to_one_thread():
    """Batch grading computes references in threads; one thread's batch must not leak."""
    import threading

    from gradcheck_cli.engine import batched, ops, vjp
    from gradcheck_cli.engine.core import Tensor

    stop = threading.Event()

    def batching():
        while not stop.is_set():
            with batched(1):
                ops.sum(Tensor(np.ones((5, 3, 4))), axis=0)

    worker = threading.Thread(target=batching)
    worker.start()
    try:
        x = np.arange(12.0).reshape(3, 4)
        for _ in range(300):
            g = vjp(lambda a: ops.sum(ops.mul(a, a), axis=0), (x,), np.ones(4))
            assert g.shape == (3, 4)
            np.testing.assert_allclose(g, 2 * x)
    finally:
        stop.set()
        worker.join()
