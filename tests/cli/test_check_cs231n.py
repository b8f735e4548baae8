"""`gradcheck check` on a course-style layers.py as it is, one command per layer: parameters
that are not arrays, inputs from named distributions, class labels, losses that return
(loss, grads), and the command line's own mistakes (exit 2, one message, no traceback)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
import os
from pathlib import Path

import numpy as np
import pytest

from gradcheck_cli.checking import check_file, parse_input, parse_param
from gradcheck_cli.errors import UsageError

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the worker needs a POSIX system")

LAYERS = Path(__file__).resolve().parents[1] / "fixtures" / "cs231n" / "layers.py"
CONV = ["--input", "x=2,3,5,5", "--input", "w=2,3,3,3", "--input", "b=2",
        "--param", 'conv_param={"stride": 1, "pad": 1}']

# One command per layer: what follows `gradcheck check layers.py`, and the gradients checked.
COMMANDS = {
    "affine": (["--forward", "affine_forward", "--backward", "affine_backward",
                "--input", "x=3,2,2", "--input", "w=4,5", "--input", "b=5"], ["dx", "dw", "db"]),
    "relu": (["--forward", "relu_forward", "--backward", "relu_backward", "--input", "x=4,5"],
             ["dx"]),
    "leaky_relu": (["--forward", "leaky_relu_forward", "--backward", "leaky_relu_backward",
                    "--input", "x=4,5", "--param", 'lrelu_param={"alpha": 0.05}'], ["dx"]),
    "dropout": (["--forward", "dropout_forward", "--backward", "dropout_backward",
                 "--input", "x=4,5",
                 "--param", 'dropout_param={"p": 0.5, "mode": "train", "seed": 1}'], ["dx"]),
    "batchnorm": (["--forward", "batchnorm_forward", "--backward", "batchnorm_backward",
                   "--input", "x=4,5:normal(12,5)", "--input", "gamma=5", "--input", "beta=5",
                   "--param", 'bn_param={"mode": "train"}'], ["dx", "dgamma", "dbeta"]),
    "layernorm": (["--forward", "layernorm_forward", "--backward", "layernorm_backward",
                   "--input", "x=4,5", "--input", "gamma=5", "--input", "beta=5",
                   "--param", "ln_param={}"], ["dx", "dgamma", "dbeta"]),
    "conv": (["--forward", "conv_forward_naive", "--backward", "conv_backward_naive", *CONV],
             ["dx", "dw", "db"]),
    "max_pool": (["--forward", "max_pool_forward_naive", "--backward",
                  "max_pool_backward_naive", "--input", "x=2,2,4,4", "--param",
                  'pool_param={"pool_height": 2, "pool_width": 2, "stride": 2}'], ["dx"]),
    "softmax_loss": (["--forward", "softmax_loss", "--input", "x=5,10",
                      "--input", "y=5:labels(10)"], ["dx"]),
    "svm_loss": (["--forward", "svm_loss", "--input", "x=5,10", "--input", "y=5:labels(10)"],
                 ["dx"]),
    "two_layer_net": (["--forward", "two_layer_net_loss", "--input", "X=3,4", "--input",
                       "W1=4,5", "--input", "b1=5", "--input", "W2=5,3", "--input", "b2=3",
                       "--input", "y=3:labels(3)", "--param", "reg=0.1", "--wrt", "W1",
                       "--wrt", "b1", "--wrt", "W2", "--wrt", "b2"],
                      ["dW1", "db1", "dW2", "db2"]),
}


@pytest.mark.parametrize("layer", sorted(COMMANDS))
def test_every_layer_is_checked_by_one_command(gradcheck, layer):
    args, gradients = COMMANDS[layer]
    run = gradcheck("check", LAYERS, *args, "--format", "json")
    assert run.code == 0, run.text
    doc = json.loads(run.out)
    assert [(ex["name"], ex["status"]) for ex in doc["exercises"]] == \
        [(g, "passed") for g in gradients]


def test_parameters_reach_the_forward_by_position_and_by_keyword():
    inputs = [parse_input("x=1,2,4,4"), parse_input("w=3,2,3,3"), parse_input("b=3")]
    conv = parse_param('conv_param={"stride": 2, "pad": 1}')
    by_position = check_file(LAYERS, "conv_forward_naive", "conv_backward_naive", inputs,
                             params=[conv])
    by_keyword = check_file(LAYERS, "conv_forward_naive", "conv_backward_naive", inputs,
                            keywords=[conv])
    for report in (by_position, by_keyword):
        assert report.passed
        # (4 + 2 - 3) // 2 + 1 = 2: the stride and the padding were used
        assert report.exercises[0].cases[0].dz.shape == (1, 3, 2, 2)


def test_a_missing_parameter_is_one_message_with_the_line_and_the_fix(gradcheck):
    run = gradcheck("check", LAYERS, "--forward", "conv_forward_naive",
                    "--backward", "conv_backward_naive", *CONV[:6])
    assert run.code == 2, run.text
    assert run.err.count("missing a required argument: 'conv_param'") == 1
    line = next(i for i, text in enumerate(LAYERS.read_text().splitlines(), 1)
                if text.startswith("def conv_forward_naive"))
    assert f"layers.py:{line}:" in run.err
    assert "--param conv_param=" in run.err and "Traceback" not in run.text


def test_a_parameter_too_many_is_the_command_lines_mistake(gradcheck):
    run = gradcheck("check", LAYERS, "--forward", "relu_forward", "--backward", "relu_backward",
                    "--input", "x=3,4", "--param", "alpha=0.1")
    assert run.code == 2, run.text
    assert "too many positional arguments" in run.err and "--param alpha" in run.err


def test_inputs_named_as_the_forward_s_parameters_in_another_order_are_refused(gradcheck):
    """They go by position: checked as given, the gradient of x would be reported as dw."""
    run = gradcheck("check", LAYERS, "--forward", "affine_forward", "--backward",
                    "affine_backward", "--input", "w=3,2,4", "--input", "x=8,5", "--input", "b=5")
    assert run.code == 2, run.text
    assert "the --input values are given in the order w, x, b, but affine_forward takes them " \
           "as affine_forward(x, w, b)" in run.err
    assert "--input x=... --input w=... --input b=..." in run.err and "Traceback" not in run.err


def test_a_forgotten_backward_is_named_not_checked_as_a_loss(gradcheck):
    run = gradcheck("check", LAYERS, "--forward", "relu_forward", "--input", "x=3,4")
    assert run.code == 2, run.text
    assert "add --backward relu_backward" in run.err and "Traceback" not in run.err
    loss = gradcheck("check", LAYERS, "--forward", "relu_forward", "--input", "x=3,4",
                     "--style", "loss")
    assert loss.code == 1 and "expected a single number" in loss.out     # as asked


def test_a_failing_check_tells_ci_where_and_what(gradcheck):
    """GitHub annotations carry the backward's line; a JUnit failure no diagnosis explains
    says what differs rather than just "failed"."""
    args = ["check", LAYERS.parent / "mistakes.py", "--forward", "relu_forward", "--backward",
            "relu_backward_mask_from_dout", "--input", "x=2,3"]
    github = gradcheck(*args, "--format", "github")
    junit = gradcheck(*args, "--format", "junit")
    assert github.code == junit.code == 1
    assert "::error file=" in github.out and ",line=176," in github.out
    failure = ET.fromstring(junit.out).find(".//failure")
    assert failure.get("message") not in ("failed", "") and "dx" in failure.get("message")


def test_inputs_outside_the_domain_are_named_with_a_distribution_that_fits(gradcheck):
    import warnings

    with warnings.catch_warnings(record=True) as caught:     # no NumPy warning beside it
        warnings.simplefilter("always")
        run = gradcheck("check", LAYERS, "--forward", "log_forward", "--backward",
                        "log_backward", "--input", "x=3,4")
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], caught
    assert run.code == 2, run.text
    assert "the inputs left the function's domain" in run.err
    assert "--input x=3,4:positive" in run.err and "Traceback" not in run.text
    fixed = gradcheck("check", LAYERS, "--forward", "log_forward", "--backward",
                      "log_backward", "--input", "x=3,4:positive")
    assert fixed.code == 0, fixed.text


@pytest.mark.parametrize("text, low, high", [
    ("x=50:positive", 0.5, 2.0), ("x=50:uniform(0.1,2)", 0.1, 2.0),
    ("x=50:normal(12,0.001)", 11.99, 12.01), ("x=50:labels(3)", 0, 2),
])
def test_inputs_are_drawn_from_the_distribution_named(text, low, high):
    values = parse_input(text).draw(np.random.default_rng(0))
    assert values.shape == (50,) and low <= values.min() and values.max() <= high


def test_labels_are_integers_and_onehot_rows_hold_a_single_one():
    rng = np.random.default_rng(1)
    labels = parse_input("y=40:labels(4)").draw(rng)
    assert labels.dtype == np.int64 and set(labels.tolist()) == {0, 1, 2, 3}
    rows = parse_input("t=6,4:onehot(4)").draw(rng)
    assert rows.shape == (6, 4) and (rows.sum(axis=1) == 1).all() and set(rows.ravel()) == {0, 1}


def test_labels_reach_the_learner_as_integers_and_are_not_differentiated(gradcheck):
    # softmax_loss indexes x[np.arange(N), y]: float labels would raise IndexError.
    run = gradcheck("check", LAYERS, "--forward", "softmax_loss", "--input", "x=5,10",
                    "--input", "y=5:labels(10)", "--format", "json")
    doc = json.loads(run.out)
    assert [ex["name"] for ex in doc["exercises"]] == ["dx"]
    assert "(loss, grads) loss style" in doc["exercises"][0]["title"]


def test_a_loss_is_checked_against_differences_of_the_loss_it_returns(tmp_path, gradcheck):
    wrong = tmp_path / "loss.py"
    wrong.write_text("import numpy as np\n\n\ndef half_square(x):\n"
                     "    return 0.5 * np.sum(x * x), 2 * x\n")
    run = gradcheck("check", wrong, "--forward", "half_square", "--input", "x=4",
                    "--format", "plain")
    assert run.code == 1, run.text
    assert "FAIL  dx" in run.out and "scaled: Your dx is 2 × the gradient of x." in run.out


def test_a_loss_whose_grads_are_a_dict_is_read_by_input_name():
    report = check_file(LAYERS, "two_layer_net_loss", None,
                        [parse_input(t) for t in ("X=2,3", "W1=3,4", "b1=4", "W2=4,2", "b2=2",
                                                  "y=2:labels(2)")],
                        params=[("reg", 0.5)])
    assert [ex.name for ex in report.exercises] == ["dX", "dW1", "db1", "dW2", "db2"]
    assert report.passed


def test_the_pair_style_calls_the_upstream_gradient_dout(gradcheck):
    run = gradcheck("check", LAYERS.parent / "mistakes.py", "--forward", "relu_forward",
                    "--backward", "relu_backward_mask_from_dout", "--input", "x=2,3",
                    "--format", "plain")
    assert run.code == 1
    assert "dout = a 2 × 3 matrix" in run.out and "dz =" not in run.out
    named = gradcheck("check", Path(__file__).parent / "layers" / "affine_simple_wrong.py",
                      "--forward", "affine_forward", "--backward", "affine_backward",
                      "--input", "x=4,5", "--input", "w=5,3", "--input", "b=3",
                      "--dout-name", "dout", "--format", "plain")
    assert "dout =" in named.out and "dz =" not in named.out


def test_the_finite_difference_column_is_left_out_where_it_is_the_reference(gradcheck):
    run = gradcheck("check", LAYERS.parent / "mistakes.py", "--forward", "conv_forward",
                    "--backward", "conv_backward_flipped_kernel", *CONV, "--format", "plain")
    assert run.code == 1
    header = next(line.split("|") for line in run.out.splitlines() if "index |" in line)
    assert [cell.strip() for cell in header] == ["index", "yours", "expected", "abs error",
                                                "rel error"]


def test_a_kink_in_the_inputs_is_flagged_not_blamed(gradcheck):
    # Whole numbers put some x exactly at relu's kink, where the slopes on each side differ.
    run = gradcheck("check", LAYERS, "--forward", "relu_forward", "--backward",
                    "relu_backward", "--input", "x=3,4:integers", "--format", "plain")
    assert "at_kink" in run.out and "relu_forward has another slope on each side of x[" \
        in run.out


def test_a_bare_word_parameter_is_a_string_and_bad_json_is_refused():
    assert parse_param("mode=train") == ("mode", "train")
    assert parse_param('p={"a": [1, 2]}') == ("p", {"a": [1, 2]})
    with pytest.raises(UsageError, match="is not JSON"):
        parse_param("p=[1, 2")


def test_a_wrapper_beside_the_layers_imports_them_and_the_error_shows_their_frame(gradcheck,
                                                                                  tmp_path):
    (tmp_path / "layers.py").write_text(
        "def scale_forward(x):\n    return 2 * x, x\n\n\n"
        "def scale_backward(dout, cache):\n    return dout * undefined_name\n")
    (tmp_path / "wrapper.py").write_text("from layers import scale_forward, scale_backward\n")
    run = gradcheck("check", tmp_path / "wrapper.py", "--forward", "scale_forward",
                    "--backward", "scale_backward", "--input", "x=3", "--format", "plain")
    assert run.code == 1, run.text
    assert 'layers.py", line 6, in scale_backward' in run.out
    assert "return dout * undefined_name" in run.out and "Traceback" not in run.text
