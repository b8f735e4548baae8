"""A notebook's code cells as Python (gradcheck_cli/notebook.py): what IPython alone would run
becomes `pass` on the same line, and every line maps back to its cell."""

from __future__ import annotations

import json

import pytest

from gradcheck_cli.notebook import NotebookError, cell_lines, convert


# A right grad_sigmoid, the function a notebook's later cells must not take down.
SIGMOID = "def grad_sigmoid(x, dz):\n    s = 1 / (1 + np.exp(-x))\n    return dz * s * (1 - s)"


def notebook(*cells) -> bytes:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": kind, "metadata": {}, "source": source} for kind, source in cells]}).encode()


def test_code_cells_in_order_and_each_line_located_in_its_cell():
    source = convert(notebook(("markdown", "# Title"), ("code", ["import numpy as np\n", "x = 1"]),
                              ("raw", "not code"), ("code", "def f(x):\n    return 2 * x\n")))

    assert source.text == "import numpy as np\nx = 1\ndef f(x):\n    return 2 * x\n"
    assert [source.locate(n) for n in (1, 2, 3, 4)] == [(2, 1), (2, 2), (4, 1), (4, 2)]
    assert source.locate(99) == (None, 99)


def test_magics_shell_help_and_get_ipython_become_pass_at_their_indentation():
    lines = cell_lines("%matplotlib inline\n!pip install numpy\nfiles = !ls\nnp.sum?\n"
                       "for i in range(3):\n    %time f(i)\nget_ipython().system('ls')")

    assert lines == ["pass  # %matplotlib inline", "pass  # !pip install numpy",
                     "files = None  # files = !ls", "pass  # np.sum?", "for i in range(3):",
                     "    f(i)  # %time", "pass  # get_ipython().system('ls')"]
    compile("\n".join(lines), "cell", "exec")


def test_percent_and_bang_that_continue_a_statement_are_python():
    lines = ["y = (a", "     % b)", 's = """', "!important", '"""', "z = a \\", "    % b"]

    assert cell_lines("\n".join(lines)) == lines


@pytest.mark.parametrize("magic", ["%%bash", "%%writefile helper.py", "%%timeit", "%%html"])
def test_a_cell_magic_skips_its_cell(magic):
    lines = cell_lines(f"{magic}\ndef grad_sigmoid(x, dz):\n    return dz")

    assert lines[0] == f"pass  # {magic}" and all(line.startswith("#") for line in lines[1:])


@pytest.mark.parametrize("magic", ["%%time", "%%capture", "%%capture output"])
def test_time_and_capture_cells_keep_their_python(magic):
    lines = cell_lines(f"{magic}\ndef grad_sigmoid(x, dz):\n    return dz")

    assert lines[0].endswith(f"  # {magic}")
    assert lines[1:] == ["def grad_sigmoid(x, dz):", "    return dz"]


def test_a_named_capture_binds_its_name_for_the_cells_after_it(gradcheck, tmp_path):
    """`%%capture log` then `log.show()`: Run All works, so the functions after it are graded."""
    assert cell_lines("%%capture --no-stderr log\nprint(1)")[0].startswith("log = ")
    path = tmp_path / "work.ipynb"
    path.write_bytes(notebook(
        ("code", "import numpy as np"),
        ("code", "%%capture train_log\nfor epoch in range(3):\n    print('epoch', epoch)"),
        ("code", "train_log.show()\nprint(train_log.stdout)"),
        ("code", "def grad_relu(x, dz):\n    return dz * (x > 0)")))
    done = gradcheck("run", path, "-e", "relu", "--seed", "1", "--format", "json")
    assert done.code == 0 and json.loads(done.out)["import_error"] is None


@pytest.mark.parametrize("raw, message", [
    (b'{"cells": [', "not valid JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b'{"nbformat": 4}', "not a Jupyter notebook"),
    (b'{"nbformat": 3, "worksheets": []}', "old format 3"),
    (b'{"nbformat": 4, "cells": [1]}', "cell 1 is not a cell"),
    (b'{"nbformat": 4, "cells": [{"cell_type": "code", "source": 5}]}', "source is not text"),
    (b'{"nbformat": 4, "cells": [{"cell_type": "code", "source": "x = \\ud800"}]}',
     "cell 1's source holds an escape that is no character"),
    (b'{"nbformat": 4, "cells": [], "n": ' + b"9" * 5000 + b"}", "a number too long to read"),
    (b'{"nbformat": 4, "cells": [' + b",".join([b'{"cell_type": "code", "source": ""}'] * 10001)
     + b"]}", "this notebook has 10,001 cells; gradcheck reads at most 10,000"),
])
def test_what_is_not_a_notebook_says_so(raw, message):
    with pytest.raises(NotebookError, match=message) as caught:
        convert(raw, "work.ipynb")
    assert caught.value.file == "work.ipynb" and caught.value.exit_code == 2


def test_gradcheck_s_own_calls_in_a_notebook_are_skipped_and_definitions_kept():
    source = convert(notebook(
        ("code", "import numpy as np\nfrom gradcheck_cli import check"),
        ("code", "def grad_sigmoid(x, dz):\n    return dz\n\nresult = check(\n    grad_sigmoid)"),
        ("code", "result.passed"),
        ("code", "import gradcheck_cli as gc\nprint(gc.check_vjp)\nx = np.ones(3)"),
    ))

    assert source.text.splitlines() == [
        "import numpy as np", "pass  # from gradcheck_cli import check",
        "def grad_sigmoid(x, dz):", "    return dz", "", "pass  # result = check(",
        "#     grad_sigmoid)",
        "pass  # result.passed",
        "pass  # import gradcheck_cli as gc", "pass  # print(gc.check_vjp)", "x = np.ones(3)"]
    assert source.locate(7) == (2, 5)


def test_time_runs_its_statement_and_timeit_is_skipped():
    """`%time out = f(x)` binds out, which the next line may use; so do `res = %time f(x)`
    and %prun; %timeit only measures."""
    assert cell_lines("%time out = f(x)\n%timeit f(x)\nres = %time f(x)\n"
                      "  %prun p = f(x)\nprint(out)") == \
        ["out = f(x)  # %time", "pass  # %timeit f(x)", "res = f(x)  # %time",
         "  p = f(x)  # %time", "print(out)"]


def test_a_notebook_that_displays_and_times_is_graded(gradcheck, tmp_path):
    path = tmp_path / "work.ipynb"
    path.write_bytes(notebook(
        ("code", "import numpy as np\n%matplotlib inline\n"
                 "from IPython.display import display, HTML, clear_output"),
        ("code", SIGMOID),
        ("code", "display(HTML('<b>x</b>'))\nclear_output()\n"
                 "res = %time grad_sigmoid(np.ones(3), np.ones(3))\nprint(res + 1)")))
    done = gradcheck("run", path, "-e", "sigmoid", "--seed", "1", "--format", "json")
    assert done.code == 0 and json.loads(done.out)["import_error"] is None
    shown = gradcheck("run", path, "-e", "sigmoid", "--seed", "1", "--format", "plain",
                      "--verbose")
    assert "| <b>x</b>" in shown.out and "'<b>x</b>'" not in shown.out    # its text


def test_a_cell_that_raises_leaves_the_functions_before_it_graded(gradcheck, tmp_path):
    """As Jupyter's Run All: it stops at the cell that raises, the kernel keeps the rest."""
    path = tmp_path / "work.ipynb"
    path.write_bytes(notebook(
        ("code", "import numpy as np"),
        ("code", SIGMOID),
        ("code", "undefined_name + 1"),
        ("code", "def grad_tanh(x, dz):\n    return dz * (1 - np.tanh(x) ** 2)")))
    done = gradcheck("run", path, "-e", "sigmoid", "-e", "tanh", "--seed", "1",
                     "--format", "json")
    doc = json.loads(done.out)
    assert "cell 3, line 1: NameError" in doc["import_error"]
    assert [e["status"] for e in doc["exercises"]] == ["passed", "error"] and done.code == 1


def test_a_cell_that_is_not_python_stops_the_notebook_there_as_run_all_does(gradcheck,
                                                                            tmp_path):
    """Jupyter runs the cells before it and stops at its SyntaxError: those cells' functions
    are graded; the broken cell's own and the later ones' fail with it, none goes missing."""
    path = tmp_path / "work.ipynb"
    path.write_bytes(notebook(
        ("code", "import numpy as np"),
        ("code", SIGMOID),
        ("code", "def grad_relu(x, dz):\n    return dz * (x > 0)\nprint('done'"),
        ("code", "def grad_tanh(x, dz):\n    return dz * (1 - np.tanh(x) ** 2)"),
        ("code", "def grad_log_softmax(x, dz):\n  return dz\n    oops")))
    done = gradcheck("run", path, "-e", "sigmoid", "-e", "relu", "-e", "tanh",
                     "-e", "log_softmax", "--seed", "1", "--format", "json")
    doc = json.loads(done.out)
    assert doc["import_error"].startswith(f"{path}, cell 3, line 3: SyntaxError: '(' was never")
    assert [e["status"] for e in doc["exercises"]] == ["passed", "error", "error", "error"]
    assert done.code == 1
    plain = gradcheck("run", path, "--seed", "1", "--format", "plain")
    assert "print('done'" in plain.out and "Fix or delete that cell" in plain.out
    assert "PASS  sigmoid" in plain.out and plain.code == 1


def test_a_broken_cell_s_lines_keep_their_place_and_the_rest_still_converts():
    source = convert(notebook(("code", "x = 1"), ("code", "def f(:\n    pass\n"),
                              ("code", "from gradcheck_cli import check\ncheck('sigmoid', f)")))
    assert source.text.splitlines()[1].startswith("raise SyntaxError(")
    assert source.locate(3) == (2, 2) and source.locate(4) == (3, 1)
    assert source.text.splitlines()[3].startswith("pass")      # gradcheck's own, skipped
    assert source.unparsed == "def f(:\n    pass\n"
    compile(source.text, "work.ipynb", "exec")


def test_a_notebook_that_stops_does_not_pass_and_its_calls_output_is_not_its_import_s(
        gradcheck, tmp_path):
    """Its graded functions passed, but the file did not run to its end: exit 1; and what a
    function printed when called is its cases' output, not the import's."""
    path = tmp_path / "work.ipynb"
    path.write_bytes(notebook(
        ("code", "import numpy as np\nprint('at import')\ndef grad_relu(x, dz):\n"
                 "    print('in a call')\n    return dz * (x > 0)"),
        ("code", "1 / 0")))
    done = gradcheck("run", path, "--seed", "1", "--format", "plain")
    assert done.code == 1 and "PASS  relu" in done.out
    assert "1 passed, but the file stopped with an error" in done.out
    printed = done.out.split("printed while importing:")[1].split("PASS")[0]
    assert "at import" in printed and "in a call" not in printed


@pytest.mark.parametrize("raising", ["import sys\nsys.exit(0)", "raise KeyboardInterrupt"])
def test_a_cell_that_exits_leaves_the_cells_before_it_graded_too(gradcheck, tmp_path, raising):
    path = tmp_path / "work.ipynb"
    path.write_bytes(notebook(
        ("code", "import numpy as np\n" + SIGMOID),
        ("code", raising)))
    done = gradcheck("run", path, "-e", "sigmoid", "--seed", "1", "--format", "json")
    assert [e["status"] for e in json.loads(done.out)["exercises"]] == ["passed"]


def test_after_a_cell_raised_the_function_that_ran_is_graded_not_the_texts_last(gradcheck,
                                                                               tmp_path):
    """A stub after the failing cell never ran: the right function before it is graded."""
    path = tmp_path / "work.ipynb"
    path.write_bytes(notebook(
        ("code", "import numpy as np\n" + SIGMOID),
        ("code", "1 / 0"),
        ("code", "def grad_sigmoid(x, dz):\n    pass")))
    done = gradcheck("run", path, "-e", "sigmoid", "--seed", "1", "--format", "plain")
    assert "PASS  sigmoid" in done.out and "Fix or delete that cell" in done.out


def test_lines_break_where_python_breaks_them_only():
    """U+2028 or a form feed inside a comment is no line break to Python; splitting there
    made an honest cell a syntax error (and a broken one valid)."""
    source = convert(notebook(("code", "x = 1  # a\u2028b\x0cc\ny = 2\r\nz = 3\rw = 4\n")))
    assert source.text.split("\n")[:4] == ["x = 1  # a\u2028b\x0cc", "y = 2", "z = 3", "w = 4"]
    assert source.unparsed == ""


def test_a_cell_too_long_to_parse_is_still_checked_for_its_syntax():
    """An open ''' in a long cell would swallow the cells after it, a broken one included,
    where Run All stops at the long cell."""
    from gradcheck_cli.pysource import MAX_PARSED_CHARS

    long_cell = "# " + "x" * MAX_PARSED_CHARS + "\n_skip = '''\n"
    source = convert(notebook(("code", long_cell), ("code", "def broken(:\n    pass"),
                              ("code", "# '''\ndef grad_relu(x, dz):\n    return dz")))
    assert source.text.splitlines()[0].startswith("raise SyntaxError(")


@pytest.mark.parametrize("raw, message", [
    (b'{"nbformat": 4, "cells": [], "metadata": {"m": [' + b"{}," * 2_000_000 + b"{}]}}",
     "objects and lists; gradcheck reads at most 2,000,000"),
    (b'{"nbformat": 4, "cells": [' + b",".join([b'{"cell_typ\\u0065": "code"}'] * 10_001)
     + b"]}", "10,001 cells"),
    (b'{"nbformat": 4, "cells": [' + b",".join([b'{"cell_type": "code", "source": "'
                                              + b"a;" * 100_000 + b'"}'] * 11) + b"]}",
     "code cells hold 2,200,000 characters"),
])
def test_a_notebook_too_big_for_the_grader_to_read_says_why(raw, message):
    with pytest.raises(NotebookError, match=message):
        convert(raw, "work.ipynb")


@pytest.mark.parametrize("cell", ["import asyncio\nawait asyncio.sleep(0)", "break",
                                  "return 1"])
def test_a_cell_only_the_compiler_refuses_stops_the_notebook_there_too(gradcheck, tmp_path,
                                                                      cell):
    """It parses, but Python compiles the notebook as one module and refuses it: the cells
    before it are graded all the same (top-level await is Jupyter's, not Python's)."""
    path = tmp_path / "work.ipynb"
    path.write_bytes(notebook(
        ("code", "import numpy as np\n" + SIGMOID),
        ("code", cell)))
    done = gradcheck("run", path, "-e", "sigmoid", "--seed", "1", "--format", "json")
    doc = json.loads(done.out)
    assert "cell 2" in doc["import_error"] and "SyntaxError" in doc["import_error"]
    assert [e["status"] for e in doc["exercises"]] == ["passed"]
