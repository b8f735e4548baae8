"""The `cs231n` group: course-style layers graded as the course writes them (forward/backward
pairs with a cache, parameter dicts, losses returning (loss, grads), integer labels).

examples/cs231n_solutions.py passes every exercise of the group on several seeds;
examples/cs231n_mistakes.py makes one classic mistake per exercise, and the report names it first.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from gradcheck_cli.engine import vjp
from gradcheck_cli.grading.runner import RunOptions, grade_submission
from gradcheck_cli.spec import default_catalog_dir, load_exercises

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the worker needs a POSIX system")

ROOT = Path(__file__).resolve().parents[2]
GROUP = [ex for ex in load_exercises([default_catalog_dir()]) if ex.group == "cs231n"]

# exercise -> the authored mistake examples/cs231n_mistakes.py makes
INTENDED = {
    "cs231n_affine": "bias_gradient_averaged",
    "cs231n_relu": "mask_from_upstream_gradient",
    "cs231n_leaky_relu": "negative_slope_dropped",
    "cs231n_dropout": "mask_not_scaled",
    "cs231n_batchnorm": "eps_left_out",
    "cs231n_layernorm": "statistics_over_the_batch",
    "cs231n_conv": "filter_flipped",
    "cs231n_max_pool": "gradient_to_every_element",
    "cs231n_softmax_loss": "not_averaged_over_batch",
    "cs231n_svm_loss": "right_class_margin_counted",
    "cs231n_two_layer_net": "regularisation_gradient_missing",
}


def grade(path: Path, seed: int = 0):
    return grade_submission(path, GROUP, RunOptions(seed=seed))


def test_the_group_holds_the_course_layers_in_their_styles():
    styles = {ex.name: ex.style for ex in GROUP}
    assert set(styles) == set(INTENDED)
    assert {name for name, style in styles.items() if style == "loss"} == {
        "cs231n_softmax_loss", "cs231n_svm_loss", "cs231n_two_layer_net"}
    conv = next(ex for ex in GROUP if ex.name == "cs231n_conv")
    assert conv.signature == "conv_forward_naive(x, w, b, conv_param)"
    assert conv.backward_signature == "conv_backward_naive(dout, cache)"
    assert conv.param_values == {"conv_param": {"stride": 2, "pad": 1}}
    assert conv.params == ("x", "w", "b") and conv.dz_name == "dout"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_reference_solutions_pass_the_group(seed):
    report = grade(ROOT / "examples" / "cs231n_solutions.py", seed)
    failed = {ex.name: (ex.status, ex.error) for ex in report.exercises if ex.status != "passed"}
    assert not failed


def test_each_classic_mistake_fails_and_is_named_first():
    report = grade(ROOT / "examples" / "cs231n_mistakes.py")
    named = {ex.name: (ex.status, [d.id for d in ex.diagnoses]) for ex in report.exercises}
    for name, mistake in INTENDED.items():
        status, ids = named[name]
        assert status == "failed" and ids[:1] == [mistake], (name, ids)


def test_labels_are_integers_the_learner_can_index_with():
    loss = next(ex for ex in GROUP if ex.name == "cs231n_softmax_loss")
    for case in loss.generate_cases(3):
        labels = case.inputs["y"]
        assert labels.dtype == np.int64 and labels.min() >= 0
        assert labels.max() < case.inputs["x"].shape[1]
        assert case.dz.shape == ()            # the loss is a scalar; its upstream is 1


def test_the_engine_drops_the_units_the_seeded_course_mask_drops():
    dropout = next(ex for ex in GROUP if ex.name == "cs231n_dropout")
    case = dropout.generate_cases(0)[1]
    np.random.seed(7)
    mask = (np.random.rand(*case.inputs["x"].shape) < 0.6) / 0.6
    (dx,) = vjp(dropout.forward_fn, case.args, case.dz, wrt=(0,))
    np.testing.assert_allclose(dx, case.dz * mask, rtol=1e-12)


def test_every_authored_mistake_of_the_group_is_caught_by_the_tolerance():
    for ex in GROUP:
        for case in ex.generate_cases(5):
            expected = dict(zip(ex.wrt, ex.gradients(case)))
            for mistake in ex.mistakes:
                wrong = mistake.evaluate(case)
                if wrong is None or wrong.shape != expected[mistake.wrt].shape:
                    continue
                error = np.abs(wrong - expected[mistake.wrt]).max()
                assert error > ex.tolerance.allowed(expected[mistake.wrt]), (ex.name, mistake.id)
