"""A learner's first hour: a course template full of stubs, a layer half written, the
function's name given to -e, a package that is installed but not there when graded, a wrong
number of gradients. Each gets the verdict and the words a learner can act on."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIGMOID = '''
def grad_sigmoid(x, dz):
    s = 1 / (1 + np.exp(-x))
    return dz * s * (1 - s)
'''


def write(tmp_path, text: str, name: str = "grads.py") -> Path:
    path = tmp_path / name
    path.write_text("import numpy as np\n" + text)
    return path


def test_stubs_of_a_template_are_not_attempted_yet(gradcheck, tmp_path):
    learner = write(tmp_path, SIGMOID + '''
def grad_softmax(x, dz):
    raise NotImplementedError("TODO")

def grad_matmul(x, y, dz):
    """Your code here."""
    pass

def grad_mul(x, y, dz):
    dx, dy = None, None
    # ... your code ...
    return dx, dy

def grad_tanh(x, dz):
    t = np.tanh(x)
''')
    done = gradcheck("run", learner, "--seed", "1", "--format", "plain")
    assert "PASS  sigmoid" in done.out
    assert not any(n in done.out for n in ("softmax", "matmul", "elementwise_mul"))
    assert "ERROR  tanh" in done.out             # a body that computes and returns nothing
    assert done.code == 1
    doc = json.loads(gradcheck("run", learner, "--seed", "1", "-e", "softmax",
                               "-e", "elementwise_mul", "--format", "json").out)
    assert [e["status"] for e in doc["exercises"]] == ["missing", "missing"]
    assert "not written yet" in doc["exercises"][0]["diagnoses"][0]["message"]


def test_a_file_of_stubs_only_is_told_none_is_written_yet_and_each_body_as_written(
        gradcheck, tmp_path):
    learner = write(tmp_path, '''
def grad_relu(x, dz):
    ...

def grad_sigmoid(x, dz):
    return NotImplemented
''')
    done = gradcheck("run", learner, "--seed", "1", "--format", "plain")
    assert "has 2 of the exercises' functions, none written yet" in done.out
    assert "defines none" not in done.out and done.code == 1
    doc = json.loads(gradcheck("run", learner, "--seed", "1", "-e", "relu", "-e", "sigmoid",
                               "--format", "json").out)
    messages = [e["diagnoses"][0]["message"] for e in doc["exercises"]]
    assert "only `...`" in messages[0] and "only `return NotImplemented`" in messages[1]
    assert "counts as missing here" in doc["exercises"][0]["diagnoses"][0]["hint"]


def test_a_stub_redefined_further_down_is_graded(gradcheck, tmp_path):
    learner = write(tmp_path, "def grad_sigmoid(x, dz):\n    pass\n" + SIGMOID)
    assert gradcheck("run", learner, "-e", "sigmoid", "--seed", "1").code == 0


def test_a_pair_with_its_forward_written_names_the_missing_backward(gradcheck, tmp_path):
    learner = write(tmp_path, "def relu_forward(x):\n    return np.maximum(0, x), x\n")
    done = gradcheck("run", learner, "--seed", "1", "--format", "plain")
    assert "relu_backward is not defined" in done.out and done.code == 1


def test_e_takes_the_functions_name(gradcheck, tmp_path):
    done = gradcheck("run", ROOT / "examples" / "solutions.py", "-e", "grad_mul", "--seed", "1",
                     "--format", "json")
    assert [e["name"] for e in json.loads(done.out)["exercises"]] == ["elementwise_mul"]


def test_an_installed_package_other_than_numpy_is_said_to_be_unavailable(gradcheck, tmp_path):
    learner = write(tmp_path, "import yaml\n" + SIGMOID)     # gradcheck itself needs PyYAML
    done = gradcheck("run", learner, "-e", "sigmoid", "--seed", "1", "--format", "plain")
    assert done.code == 1
    assert "yaml is installed, but a file being graded runs with Python's standard library, " \
           "NumPy" in done.out


def test_a_wrong_number_of_gradients_is_told_to_return_one_per_input(gradcheck, tmp_path):
    learner = write(tmp_path, '''
def grad_mul(x, y, dz):
    return dz * y

def grad_add(x, y, dz):
    return dz, None
''')
    doc = json.loads(gradcheck("run", learner, "-e", "elementwise_mul", "-e", "elementwise_add",
                               "--seed", "1", "--format", "json").out)
    mul, add = (e["diagnoses"][0] for e in doc["exercises"])
    assert "one gradient per input" in mul["message"] and "return dx, dy" in mul["hint"]
    assert "not computed yet" in add["message"] and "return` statement" not in add["hint"]


def test_the_courses_own_templates_are_stubs_and_a_stub_imported_over_is_not(gradcheck,
                                                                             tmp_path):
    """CS231n's templates move names about (dx, x = None, cache) before returning None."""
    learner = write(tmp_path, SIGMOID.replace("grad_sigmoid", "grad_tanh_impl") + '''
def relu_forward(x):
    out = None
    pass
    cache = x
    return out, cache

def relu_backward(dout, cache):
    dx, x = None, cache
    pass
    return dx

def grad_sigmoid(x, dz):
    raise NotImplementedError

from helper import grad_sigmoid

def grad_add(x, y, dz):
    return dz, None
''')
    (tmp_path / "helper.py").write_text("import numpy as np\n" + SIGMOID)
    doc = json.loads(gradcheck("run", learner, "--seed", "1", "-e", "cs231n_relu", "-e",
                               "sigmoid", "-e", "elementwise_add", "--format", "json").out)
    status = {e["name"]: e["status"] for e in doc["exercises"]}
    assert status == {"cs231n_relu": "missing", "sigmoid": "passed",
                      "elementwise_add": "error"}          # half an answer is graded


def test_show_and_e_take_any_function_of_an_exercise(gradcheck):
    shown = gradcheck("show", "grad_mul")
    assert shown.code == 0 and "elementwise_mul" in shown.out
    done = gradcheck("run", ROOT / "examples" / "cs231n_solutions.py", "-e", "relu_backward",
                     "--seed", "1", "--format", "json")
    assert [e["name"] for e in json.loads(done.out)["exercises"]] == ["cs231n_relu"]


def test_a_loss_with_a_real_bug_keeps_the_points_of_the_cases_it_gets_right(gradcheck,
                                                                            tmp_path):
    """A loss returns its gradients for dloss = 1: asking its visible case again 'with another
    dz' would always fail it, and called every partly wrong loss hard-coded."""
    learner = write(tmp_path, '''
def softmax_loss(x, y):             # no max subtracted: wrong on large scores only
    e = np.exp(x)
    p = e / e.sum(axis=1, keepdims=True)
    n = x.shape[0]
    loss = -np.mean(np.log(p[np.arange(n), y]))
    d = p.copy()
    d[np.arange(n), y] -= 1
    return loss, d / n
''')
    for seed in ("1", "2"):
        doc = json.loads(gradcheck("run", learner, "-e", "cs231n_softmax_loss", "--seed", seed,
                                   "--format", "json").out)
        [ex] = doc["exercises"]
        assert ex["score"] > 0 and "hardcoded" not in {d["id"] for d in ex["diagnoses"]}


def test_stub_edge_cases_follow_what_python_binds(tmp_path):
    from gradcheck_cli.grading.names import stub_functions

    source = '''import numpy as np
def real(f):
    return lambda x, dz: dz
@real
def grad_a(x, dz):
    pass
def grad_b(x, dz):
    pass
match 1:
    case 1:
        def grad_b(x, dz):
            return dz
def grad_c(x, dz):
    a, b = None, dz
    b, a = a, b
    return a
def grad_d(x, dz):
    """TODO."""
def grad_e(x, dz):
    dx: np.ndarray = None
    return dx
'''
    path = tmp_path / "stubs.py"
    path.write_text(source)
    assert set(stub_functions(str(path))) == {"grad_d", "grad_e"}


def test_stubs_are_found_in_a_file_too_long_to_parse_at_once(gradcheck, tmp_path):
    """A file that carries a large literal is read statement by statement: its template
    stubs are still not attempted, its written function graded."""
    learner = write(tmp_path, SIGMOID + "\nDATA = [" + "1, " * 100_000 + "]\n" + '''
def grad_relu(x, dz):
    pass

def grad_tanh(x, dz):
    raise NotImplementedError
''')
    done = gradcheck("run", learner, "--seed", "1", "--format", "plain")
    assert done.code == 0 and "PASS  sigmoid" in done.out
    assert "relu" not in done.out.split("not attempted")[0]
