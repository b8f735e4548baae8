"""Course-style layers (tests/fixtures/cs231n) checked as they are written, no wrapper: every
right layer passes and every classic mistake fails, on each of 20 seeds.

One worker serves all the seeds of a layer (``check_seeds``), so the loops stay fast.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gradcheck_cli.checking import CheckOptions, check_seeds, parse_input, parse_param

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the worker needs a POSIX system")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cs231n"
SEEDS = range(20)
CONV = ['conv_param={"stride": 2, "pad": 1}']
POOL = ['pool_param={"pool_height": 2, "pool_width": 2, "stride": 1}']
BN = ['bn_param={"mode": "train"}']
DROPOUT = ['dropout_param={"p": 0.6, "mode": "train", "seed": 7}']
X_W_B = ["x=3,2,2", "w=4,5", "b=5"]
NORM = ["x=4,5:normal(12,5)", "gamma=5", "beta=5"]
IMAGES = ["x=1,2,4,4", "w=2,2,3,3", "b=2"]
SCORES = ["x=5,4", "y=5:labels(4)"]

# forward, backward (None: a loss), inputs, params
RIGHT = {
    "affine": ("affine_forward", "affine_backward", X_W_B, []),
    "relu": ("relu_forward", "relu_backward", ["x=4,5"], []),
    "leaky_relu": ("leaky_relu_forward", "leaky_relu_backward", ["x=4,5"],
                   ['lrelu_param={"alpha": 0.1}']),
    "dropout": ("dropout_forward", "dropout_backward", ["x=4,5"], DROPOUT),
    "batchnorm": ("batchnorm_forward", "batchnorm_backward", NORM, BN),
    "layernorm": ("layernorm_forward", "layernorm_backward", NORM, ['ln_param={}']),
    "conv": ("conv_forward_naive", "conv_backward_naive", IMAGES, CONV),
    "max_pool": ("max_pool_forward_naive", "max_pool_backward_naive", ["x=1,2,4,4"], POOL),
    "softmax_loss": ("softmax_loss", None, SCORES, []),
    "svm_loss": ("svm_loss", None, SCORES, []),
    "two_layer_net": ("two_layer_net_loss", None,
                      ["X=3,4", "W1=4,5", "b1=5", "W2=5,3", "b2=3", "y=3:labels(3)"],
                      ["reg=0.1"]),
}

# forward, backward, inputs, params, the gradients that must fail
MISTAKES = {
    "batchnorm without eps": ("batchnorm_forward", "batchnorm_backward_without_eps", NORM, BN,
                              {"dx"}),
    "batchnorm statistics as constants": ("batchnorm_forward",
                                          "batchnorm_backward_statistics_constant", NORM, BN,
                                          {"dx"}),
    "dropout mask not scaled": ("dropout_forward", "dropout_backward_mask_not_scaled",
                                ["x=4,5"], DROPOUT, {"dx"}),
    "svm margin counts the correct class": ("svm_loss_margin_counts_correct_class", None,
                                            SCORES, [], {"dx"}),
    "softmax loss not averaged": ("softmax_loss_not_averaged", None, SCORES, [], {"dx"}),
    "conv flips the kernel": ("conv_forward", "conv_backward_flipped_kernel", IMAGES, CONV,
                              {"dx", "dw"}),
    "conv gradient not cut out of the padding": ("conv_forward", "conv_backward_padding_kept",
                                                 IMAGES, CONV, {"dx"}),
    "max-pool to the whole window": ("max_pool_forward", "max_pool_backward_to_whole_window",
                                     ["x=1,2,4,4"], POOL, {"dx"}),
    "max-pool overwrites overlapping windows": ("max_pool_forward",
                                                "max_pool_backward_overwrites",
                                                ["x=1,2,5,5"], POOL, {"dx"}),
    "affine db a mean": ("affine_forward", "affine_backward_db_not_summed", X_W_B, [], {"db"}),
    "relu mask from dout": ("relu_forward", "relu_backward_mask_from_dout", ["x=4,5"], [],
                            {"dx"}),
    "leaky relu slope dropped": ("leaky_relu_forward", "leaky_relu_backward_slope_zero",
                                 ["x=4,5"], ['lrelu_param={"alpha": 0.1}'], {"dx"}),
    "layernorm over the batch": ("layernorm_forward", "layernorm_backward_batch_axis", NORM,
                                 ['ln_param={}'], {"dx"}),
}


def reports(file: str, forward, backward, inputs, params):
    return check_seeds(FIXTURES / file, forward, backward, [parse_input(t) for t in inputs],
                       SEEDS, options=CheckOptions(), params=[parse_param(p) for p in params])


@pytest.mark.parametrize("layer", sorted(RIGHT))
def test_a_right_layer_passes_on_every_seed(layer):
    forward, backward, inputs, params = RIGHT[layer]
    for report in reports("layers.py", forward, backward, inputs, params):
        failed = {ex.name: ex.cases[0].message for ex in report.exercises
                  if ex.status != "passed"}
        assert not failed, f"seed {report.seed}: {failed}"


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_classic_mistake_fails_on_every_seed(mistake):
    forward, backward, inputs, params, wrong = MISTAKES[mistake]
    for report in reports("mistakes.py", forward, backward, inputs, params):
        failed = {ex.name for ex in report.exercises if ex.status == "failed"}
        assert wrong <= failed, f"seed {report.seed}: only {failed or 'nothing'} failed"


def check_affine(gradcheck, tmp_path, forward_returns: str, backward_returns: str):
    """`gradcheck check` of an affine layer whose forward and backward return these."""
    layer = tmp_path / "affine.py"
    layer.write_text(f"def affine_forward(x, w, b):\n    return {forward_returns}\n\n"
                     "def affine_backward(dout, cache):\n    x, w, b = cache\n"
                     f"    return {backward_returns}\n")
    return gradcheck("check", layer, "--forward", "affine_forward", "--backward",
                     "affine_backward", "--input", "x=4,5", "--input", "w=5,3", "--input", "b=3")


def test_a_backward_returning_a_list_of_gradients_is_checked(gradcheck, tmp_path):
    done = check_affine(gradcheck, tmp_path, "x @ w + b, (x, w, b)",
                        "[dout @ w.T, x.T @ dout, dout.sum(0)]")
    assert done.code == 0, done.text


def test_a_flag_naming_no_function_of_the_file_suggests_the_close_one(gradcheck, tmp_path):
    layer = tmp_path / "relu.py"
    layer.write_text("import numpy as np\n\ndef relu_forward(x):\n    return np.maximum(0, x), x"
                     "\n\ndef relu_backward(dout, cache):\n    return dout * (cache > 0)\n")
    done = gradcheck("check", layer, "--forward", "relu_fwd", "--backward", "relu_backward",
                     "--input", "x=3", "--format", "plain")
    assert done.code == 1
    assert "relu_fwd (--forward) is not defined in relu.py" in done.out
    assert "Did you mean --forward relu_forward?" in done.out


LSTM_STEP = '''import numpy as np

def sigmoid(x):
    return 1 / (1 + np.exp(-x))

def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)

def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tc = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tc ** 2)
    da = np.hstack([dc * g * i * (1 - i), dc * prev_c * f * (1 - f),
                    dnext_h * tc * o * (1 - o), dc * i * (1 - g ** G)])
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(0)
'''
LSTM_INPUTS = ["--input", "x=3,4", "--input", "prev_h=3,5", "--input", "prev_c=3,5",
               "--input", "Wx=4,20", "--input", "Wh=5,20", "--input", "b=20"]


@pytest.mark.parametrize("power, code, failing", [(2, 0, set()),
                                                  (1, 1, {"dx", "dprev_h", "dWx", "dWh", "db"})])
def test_an_lstm_step_with_two_outputs_is_checked_through_both(gradcheck, tmp_path, power,
                                                               code, failing):
    """next_h and next_c each get their upstream gradient; tanh' written 1 - g (not 1 - g**2)
    fails every gradient that flows through the gate, and only those."""
    layer = tmp_path / "lstm.py"
    layer.write_text(LSTM_STEP.replace("** G", f"** {power}"))
    done = gradcheck("check", layer, "--forward", "lstm_step_forward", "--backward",
                     "lstm_step_backward", *LSTM_INPUTS, "--format", "json", "--seed", "2")
    assert done.code == code, done.text
    doc = json.loads(done.out)
    assert {e["name"] for e in doc["exercises"] if e["status"] != "passed"} == failing
    assert doc["duration_s"] > 0                # the check's time is the report's


def test_a_forward_that_draws_new_random_numbers_each_call_is_told_to_fix_them(gradcheck,
                                                                              tmp_path):
    """A dropout mask drawn afresh would pass for kinks everywhere; it is said what it is."""
    layer = tmp_path / "dropout.py"
    layer.write_text("import numpy as np\n\ndef dropout_forward(x, dropout_param):\n"
                     "    if 'seed' in dropout_param:\n"
                     "        np.random.seed(dropout_param['seed'])\n"
                     "    p = dropout_param['p']\n"
                     "    mask = (np.random.rand(*x.shape) < p) / p\n"
                     "    return x * mask, mask\n\n"
                     "def dropout_backward(dout, cache):\n    return dout * cache\n")
    args = ["check", layer, "--forward", "dropout_forward", "--backward", "dropout_backward",
            "--input", "x=3,4"]
    unseeded = gradcheck(*args, "--param", 'dropout_param={"p": 0.5, "mode": "train"}')
    assert unseeded.code == 2 and "different outputs for the same inputs" in unseeded.err
    seeded = gradcheck(*args, "--param", 'dropout_param={"p": 0.5, "mode": "train", "seed": 1}')
    assert seeded.code == 0, seeded.text


def test_labels_drawn_as_floats_are_the_command_lines_mistake(gradcheck, tmp_path):
    layer = tmp_path / "loss.py"
    layer.write_text("import numpy as np\n\ndef softmax_loss(x, y):\n    N = x.shape[0]\n"
                     "    p = np.exp(x - x.max(1, keepdims=True))\n"
                     "    p /= p.sum(1, keepdims=True)\n"
                     "    loss = -np.log(p[np.arange(N), y]).mean()\n"
                     "    dx = p.copy()\n    dx[np.arange(N), y] -= 1\n    return loss, dx / N\n")
    floats = gradcheck("check", layer, "--forward", "softmax_loss", "--input", "x=5,10",
                       "--input", "y=5")
    assert floats.code == 2 and "--input 'y=5:labels(10)'" in floats.err
    labels = gradcheck("check", layer, "--forward", "softmax_loss", "--input", "x=5,10",
                       "--input", "y=5:labels(10)")
    assert labels.code == 0, labels.text


def test_a_forward_that_forgot_its_cache_is_named(gradcheck, tmp_path):
    """Not the command line's arguments: the forward's return is what is missing."""
    done = check_affine(gradcheck, tmp_path, "x @ w + b", "dout @ w.T, x.T @ dout, dout.sum(0)")
    assert done.code == 2
    assert "affine_forward did not return (out, cache)" in done.err and "affine.py:1" in done.err


def test_a_layer_that_computes_in_float32_is_held_to_its_own_precision(gradcheck, tmp_path):
    """check's reference is the file's own forward: a float32 layer is float32 on both sides."""
    layer = tmp_path / "sig.py"
    layer.write_text("import numpy as np\n\ndef sigmoid_forward(x):\n"
                     "    s = 1 / (1 + np.exp(-x.astype(np.float32)))\n    return s, s\n\n"
                     "def sigmoid_backward(dout, cache):\n"
                     "    return (dout.astype(np.float32) * cache * (1 - cache))\n")
    done = gradcheck("check", layer, "--forward", "sigmoid_forward", "--backward",
                     "sigmoid_backward", "--input", "x=3,4")
    assert done.code == 0, done.text


def test_a_failing_checks_report_shows_the_layers_parameters(gradcheck, tmp_path):
    """A conv bug may show with pad 0 only: the report says which settings failed."""
    layer = tmp_path / "scale.py"
    layer.write_text("def scale_forward(x, scale_param):\n"
                     "    return x * scale_param['k'], (x, scale_param)\n\n"
                     "def scale_backward(dout, cache):\n    x, p = cache\n    return dout\n")
    done = gradcheck("check", layer, "--forward", "scale_forward", "--backward",
                     "scale_backward", "--input", "x=3", "--param", 'scale_param={"k": 3}',
                     "--format", "plain")
    assert done.code == 1
    assert 'scale_param = {"k": 3}' in done.out
