"""`gradcheck list / show / new / validate / schema`, run through the real entry point.

Broken spec fixtures mark the line a problem must point at with `# <- error` (or
`# <- warning`), so the expected line comes from the fixture, not from the code under test.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from gradcheck_cli.report.numbers import fmt
from gradcheck_cli.spec import load_exercise

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "exercises"
SCHEMA_SPECS = ROOT / "tests" / "spec" / "specs"            # rejected by the loader
AUTHORING_SPECS = ROOT / "tests" / "specs_authoring"
BROKEN_SPECS = AUTHORING_SPECS / "broken"                   # loaded, then rejected by validate
SOLUTIONS = ROOT / "examples" / "solutions.py"                # solves the four worked ones
WORKED = [CATALOG / f"{name}.yaml" for name in ("sigmoid", "softmax", "matmul", "conv2d")]


def marker(path: Path) -> tuple[int, str]:
    """The line marked `# <- error` or `# <- warning` in a fixture, and which it is."""
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        found = re.search(r"# <- (error|warning)", text)
        if found:
            return number, found.group(1)
    raise AssertionError(f"{path.name} has no '# <- error' marker")


def assert_no_traceback(run) -> None:
    assert "Traceback" not in run.text, run.text


# ---------------------------------------------------------------------------- validate


def test_validate_shipped_catalog_exits_0(gradcheck):
    run = gradcheck("validate")
    assert run.code == 0, run.text
    n = len(list(CATALOG.glob("*.yaml")))
    assert f"ok: {n} exercises in {n} files checked, 0 errors" in run.out


def test_validate_with_the_reference_solution_exits_0(gradcheck):
    run = gradcheck("validate", *WORKED, "--solution", SOLUTIONS)
    assert run.code == 0, run.text
    assert "ok: 4 exercises in 4 files checked, 0 errors" in run.out


def test_validate_names_exercises_the_solution_does_not_define(gradcheck, tmp_path):
    solution = tmp_path / "partial.py"
    solution.write_text((ROOT / "tests" / "batch_submissions" / "only_sigmoid.py")
                        .read_text(encoding="utf-8"), encoding="utf-8")
    run = gradcheck("validate", *WORKED[:2], "--solution", solution)
    assert run.code == 2
    assert (f"{WORKED[1]}:2: error: the reference solution {solution} does not define "
            "grad_softmax") in run.out
    assert "sigmoid.yaml" not in run.out


def test_validate_with_a_wrong_solution_names_the_exercise(gradcheck):
    wrong = ROOT / "tests" / "submissions" / "wrong" / "missing_transpose.py"
    spec = CATALOG / "matmul.yaml"
    run = gradcheck("validate", spec, "--solution", wrong)
    assert run.code == 2, run.text
    assert f"{spec}:2: error: the reference solution {wrong} does not pass 'matmul'" in run.out
    assert "missing_transpose: The result is dz @ y" in run.out   # the authored mistake
    assert_no_traceback(run)


@pytest.mark.parametrize("path", sorted(SCHEMA_SPECS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_spec_the_loader_refuses_is_a_problem_with_file_and_line(gradcheck, path):
    line, _ = marker(path)
    run = gradcheck("validate", path)
    assert run.code == 2, run.text
    assert f"{path}:{line}: error: " in run.out, run.out
    assert " → " in run.out.splitlines()[0]          # every problem comes with a fix
    assert run.out.rstrip().splitlines()[-1].startswith("invalid: ")
    assert_no_traceback(run)


@pytest.mark.parametrize("path", sorted(BROKEN_SPECS.glob("*.yaml")), ids=lambda p: p.name)
def test_specs_that_load_but_cannot_be_released_are_problems(gradcheck, path):
    load_exercise(path)                              # the loader alone lets them through
    line, severity = marker(path)
    run = gradcheck("validate", path)
    assert f"{path}:{line}: {severity}: " in run.out, run.out
    assert run.code == (2 if severity == "error" else 0), run.text
    assert_no_traceback(run)


def test_one_broken_file_does_not_hide_the_others(gradcheck, tmp_path):
    broken = ["unknown_op.yaml", "wrong_type.yaml", "malformed.yaml"]
    for name in broken:
        shutil.copy(SCHEMA_SPECS / name, tmp_path / name)
    shutil.copy(BROKEN_SPECS / "literal_kink.yaml", tmp_path / "literal_kink.yaml")
    shutil.copy(CATALOG / "sigmoid.yaml", tmp_path / "sigmoid.yaml")
    run = gradcheck("validate", tmp_path)
    assert run.code == 2
    for name in [*broken, "literal_kink.yaml"]:
        line, _ = marker(tmp_path / name)
        assert f"{tmp_path / name}:{line}: error: " in run.out, run.out
    assert "sigmoid.yaml" not in run.out
    assert "invalid: 2 exercises in 5 files checked, 4 errors" in run.out


def test_two_exercises_with_one_name_are_a_problem(gradcheck, tmp_path):
    text = (CATALOG / "sigmoid.yaml").read_text(encoding="utf-8")
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(text, encoding="utf-8")
    run = gradcheck("validate", tmp_path)
    assert run.code == 2
    name_line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("name:"))
    assert (f"{tmp_path / 'b.yaml'}:{name_line}: error: exercise name 'sigmoid' is also used "
            f"by {tmp_path / 'a.yaml'}:{name_line}") in run.out


def test_a_missing_path_is_a_problem_not_a_traceback(gradcheck, tmp_path):
    run = gradcheck("validate", tmp_path / "nowhere.yaml")
    assert run.code == 2
    assert "nowhere.yaml" in run.out
    assert_no_traceback(run)


PAYLOADS = {
    "tag.yaml": "description: !!python/object/apply:os.system ['touch {marker}']\n"
                "forward: sigmoid(x)\n",
    "new.yaml": "description: !!python/object/new:os.system ['touch {marker}']\n"
                "forward: sigmoid(x)\n",
    "import.yaml": "forward: __import__('os').system('touch {marker}')\n",
    "eval.yaml": "forward: eval(\"__import__('os').system('touch {marker}')\")\n",
    "dunder.yaml": "forward: x.__class__.__init__.__globals__['os'].system('touch {marker}')\n",
    "subscript.yaml": "forward: sigmoid(x)[__import__('os').system('touch {marker}')]\n",
    "mistake.yaml": "forward: sigmoid(x)\nmistakes:\n  - id: m\n"
                    "    gradient: (lambda: __import__('os').system('touch {marker}'))()\n",
}


def test_a_spec_can_never_execute_code(gradcheck, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    specs = tmp_path / "specs"
    specs.mkdir()
    markers = []
    for name, payload in PAYLOADS.items():
        mark = tmp_path / f"ran-{name}"
        markers.append(mark)
        (specs / name).write_text(f"name: {name[:-5]}\ntitle: t\nfunction: grad(x, dz)\n"
                                  + payload.format(marker=mark)
                                  + "cases:\n  - inputs: {x: [1, 2]}\n", encoding="utf-8")
    run = gradcheck("validate", specs)
    assert run.code == 2
    assert run.out.count(": error: ") == len(PAYLOADS), run.out
    assert not [m.name for m in markers if m.exists()]
    assert_no_traceback(run)


# ---------------------------------------------------------------------------- new


def test_new_writes_a_skeleton_that_validates(gradcheck, tmp_path):
    run = gradcheck("new", "tanh_layer", "--dir", tmp_path)
    assert run.code == 0, run.text
    path = tmp_path / "tanh_layer.yaml"
    assert path.is_file()
    run = gradcheck("validate", path)
    assert run.code == 0, run.text
    assert "0 errors, 0 warnings" in run.out
    exercise = load_exercise(path)
    assert exercise.name == "tanh_layer" and exercise.function == "grad_tanh_layer"
    assert any(c.hidden for c in exercise.case_specs) and exercise.mistakes


def test_every_field_of_the_skeleton_is_explained(tmp_path, gradcheck):
    gradcheck("new", "layer", "--dir", tmp_path)
    lines = (tmp_path / "layer.yaml").read_text(encoding="utf-8").splitlines()
    data = yaml.safe_load("\n".join(lines))
    for key in data:
        at = next(i for i, t in enumerate(lines) if t.startswith(f"{key}:"))
        assert lines[at - 1].startswith("#"), f"no comment above `{key}:`"
    # The optional keys a learner-facing exercise needs are all shown, with their defaults.
    for key in ("wrt", "points", "group", "tags", "tolerance", "kinks", "hints", "mistakes",
                "description", "scoring"):
        assert key in data


def test_new_refuses_to_overwrite_without_force(gradcheck, tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("my own work\n", encoding="utf-8")
    run = gradcheck("new", "mine", "--dir", tmp_path)
    assert run.code == 2
    assert "already exists" in run.err and "--force" in run.err
    assert path.read_text(encoding="utf-8") == "my own work\n"
    assert gradcheck("new", "mine", "--dir", tmp_path, "--force").code == 0
    assert path.read_text(encoding="utf-8").count("name: mine") == 1


@pytest.mark.parametrize("name", ["9lives", "my-layer", "a b", "x.yaml"])
def test_new_needs_an_identifier(gradcheck, tmp_path, name):
    run = gradcheck("new", name, "--dir", tmp_path)
    assert run.code == 2
    assert "not a valid exercise name" in run.err
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------------------- list


def test_list_json_has_the_contract_keys(gradcheck):
    run = gradcheck("list", "--format", "json")
    assert run.code == 0
    rows = json.loads(run.out)
    specs = sorted((yaml.safe_load(p.read_text(encoding="utf-8")) for p in
                    CATALOG.glob("*.yaml")), key=lambda d: d["name"])
    assert [r["name"] for r in rows] == [d["name"] for d in specs]
    for row, spec in zip(rows, specs):
        assert {"name", "function", "title", "points"} <= set(row) <= {
            "name", "function", "title", "points", "group"}
        assert row["function"] == spec["function"].split("(")[0]
        assert row["title"] == spec["title"] and row["points"] == spec["points"]


def test_list_plain_is_a_table_of_every_exercise(gradcheck):
    run = gradcheck("list", "--format", "plain")
    lines = run.out.splitlines()
    assert lines[0].split() == ["name", "function", "points", "group", "title"]
    rows = {line.split()[0]: line.split()[1:3] for line in lines[1:]}
    assert rows["conv2d"] == ["grad_conv2d", "3"]       # points as written: 3, not 3.0
    assert rows["sigmoid"] == ["grad_sigmoid", "1"]
    assert set(rows) == {p.stem for p in CATALOG.glob("*.yaml")}


def test_list_filters_by_group_or_tag_as_the_specs_say(gradcheck):
    specs = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in CATALOG.glob("*.yaml")]

    def listed(*args):
        run = gradcheck("list", "--format", "json", *args)
        assert run.code == 0, run.err
        return sorted(r["name"] for r in json.loads(run.out))

    assert listed("--group", "activations") == sorted(
        d["name"] for d in specs if d.get("group") == "activations")
    assert listed("--tag", "activations") == sorted(
        d["name"] for d in specs if "activations" in d.get("tags", ()))
    assert listed("--group", "layers", "--tag", "activations") == sorted(
        d["name"] for d in specs
        if d.get("group") == "layers" and "activations" in d.get("tags", ()))


# ---------------------------------------------------------------------------- show


def test_show_prints_the_worked_example_and_its_gradient(gradcheck):
    run = gradcheck("show", "conv2d", "--exercises", CATALOG / "conv2d.yaml")
    assert run.code == 0, run.text
    text = " ".join(run.out.split())
    assert "def grad_conv2d(x, w, dz):" in run.out
    assert "Gradient of a 2-D convolution" in run.out
    assert "[[1, 1, 1], [2, 2, 2], [3, 3, 3]]" in text              # dz, CONTRACTS §2
    assert "dL/dw = [[96, 114], [114, 132]]" in text                 # expected, CONTRACTS §2
    assert "dL/dw is the VALID cross-correlation of x with dz" in run.out   # a hint
    assert ("5 hidden cases (random-1, random-2, random-3, odd-and-even-1, odd-and-even-2)"
            in text)
    assert "9.1e-13 for float64 inputs, 4.9e-4 for float32 ones" in text   # the tolerance


def _shown_numbers(values) -> set[str]:
    """How a value would appear in the output (6 significant digits), when that is distinctive."""
    out = {fmt(v) for v in np.asarray(values, dtype=np.float64).ravel()}
    return {s for s in out if len(s.lstrip("-").replace(".", "").lstrip("0")) >= 6}


@pytest.mark.parametrize("name", sorted(p.stem for p in CATALOG.glob("*.yaml")))
def test_show_never_leaks_hidden_cases_of_the_catalog(gradcheck, name):
    exercise = load_exercise(CATALOG / f"{name}.yaml")
    hidden = [c for c in exercise.generate_cases(0) if c.hidden]
    assert hidden
    run = gradcheck("show", name, "--seed", 0, "--exercises", CATALOG / f"{name}.yaml")
    for case in hidden:
        for value in (*case.inputs.values(), case.dz, *exercise.gradients(case)):
            leaked = [s for s in _shown_numbers(value) if s in run.out]
            assert not leaked, f"{case.name} leaked {leaked}"


def test_show_never_leaks_hidden_literal_cases(gradcheck):
    spec = AUTHORING_SPECS / "hidden_literal.yaml"
    run = gradcheck("show", "hidden_literal", "--exercises", spec)
    assert run.code == 0, run.text
    assert "0.3125" in run.out                      # the visible input is shown
    for secret in ("7.77777", "3.14159", "2.71828"):
        assert secret not in run.out
    assert "Case `visible`" in run.out and "2 hidden cases" not in run.out
    assert "3 hidden cases (secret, random-1, random-2)" in run.out   # named, never shown


def test_show_of_an_unknown_exercise_suggests_one(gradcheck):
    run = gradcheck("show", "sigmod", "--exercises", CATALOG / "sigmoid.yaml")
    assert run.code == 2
    assert "sigmoid" in run.err
    assert_no_traceback(run)


# ---------------------------------------------------------------------------- schema


def test_the_committed_schema_is_what_gradcheck_schema_prints(gradcheck):
    run = gradcheck("schema")
    assert run.code == 0
    committed = (ROOT / "docs" / "gradcheck-spec.schema.json").read_text(encoding="utf-8")
    assert committed == run.out, ("docs/gradcheck-spec.schema.json is stale: regenerate it "
                                  "with `gradcheck schema > docs/gradcheck-spec.schema.json`")


def test_the_shipped_specs_point_editors_at_the_schema():
    for path in CATALOG.glob("*.yaml"):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        target = first.partition("$schema=")[2]
        assert (path.parent / target).resolve() == ROOT / "docs" / "gradcheck-spec.schema.json"
