"""`gradcheck validate`'s library: problems, the registered rules, several seeds, the guide.

The command-line behaviour is tested in tests/cli/test_catalog_commands.py; these tests
look at what the library returns.
"""

from __future__ import annotations

from pathlib import Path

from gradcheck_cli.authoring import RULES, Problem, Validation, validate_paths

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "specs_authoring" / "broken"
CATALOG = ROOT / "exercises"


def test_a_problem_reads_like_a_compiler_message():
    p = Problem("ex/relu.yaml", 12, "case 'a' has inputs at a kink", "move them")
    assert str(p) == "ex/relu.yaml:12: error: case 'a' has inputs at a kink → move them"
    w = Problem("ex/relu.yaml", None, "no case is hidden", severity="warning")
    assert str(w) == "ex/relu.yaml: warning: no case is hidden"


def test_warnings_do_not_fail_a_validation():
    result = Validation([Problem("a.yaml", 1, "m", severity="warning")], files=1)
    assert result.ok and result.warnings and not result.errors
    assert result.summary() == "ok: 0 exercises in 1 file checked, 0 errors, 1 warning"


def test_every_registered_rule_runs_on_every_exercise(monkeypatch):
    seen = []
    for name in list(RULES):
        monkeypatch.setitem(RULES, name, lambda drawn, name=name: seen.append(
            (name, drawn.exercise.name)) or [])
    validate_paths([CATALOG / "sigmoid.yaml", CATALOG / "matmul.yaml"])
    assert sorted(seen) == sorted((n, e) for n in RULES for e in ("sigmoid", "matmul"))


def test_a_failing_rule_names_its_file_and_line_and_others_still_run():
    result = validate_paths([BROKEN / "zero_gradient.yaml", BROKEN / "literal_kink.yaml",
                             CATALOG / "sigmoid.yaml"])
    assert not result.ok
    assert {(Path(p.file).name, p.line) for p in result.errors} == {
        ("zero_gradient.yaml", 1), ("literal_kink.yaml", 7)}
    assert [e.name for e in result.exercises] == ["zero_gradient", "literal_kink", "sigmoid"]


def test_random_cases_are_checked_for_several_seeds(monkeypatch):
    from gradcheck_cli.spec.exercise import Exercise

    seeds = []
    original = Exercise.generate_cases
    monkeypatch.setattr(Exercise, "generate_cases",
                        lambda self, seed: seeds.append(seed) or original(self, seed))
    validate_paths([CATALOG / "sigmoid.yaml"], seed=40)
    assert seeds == [40, 41, 42]


def test_a_problem_shown_by_many_draws_is_reported_once():
    result = validate_paths([BROKEN / "random_ties.yaml"])
    assert len(result.errors) == 1
    assert "(seed 0)" in result.errors[0].message


def test_the_walked_through_exercise_of_the_guide_validates(tmp_path):
    guide = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    section = guide.split("## A complete exercise, walked through", 1)[1]
    spec = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "relu_layer.yaml"
    path.write_text(spec, encoding="utf-8")
    result = validate_paths([path])
    assert result.problems == [] and [e.name for e in result.exercises] == ["relu_layer"]


def test_every_schema_problem_of_one_file_is_listed_with_its_line(tmp_path):
    """Three misspelt keys at three levels: three problems, each at its line, and a misspelt
    required key is not also reported missing."""
    root = Path(__file__).resolve().parents[2]
    lines = (root / "exercises" / "relu.yaml").read_text().splitlines()
    hidden = next(i for i, line in enumerate(lines) if line.strip().startswith("hidden:"))
    message = next(i for i, line in enumerate(lines) if line.strip().startswith("message:"))
    lines[hidden] = lines[hidden].replace("hidden:", "hiden:")
    lines[message] = lines[message].replace("message:", "mesage:")
    lines.insert(1, "titel: a typo")
    spec = tmp_path / "relu.yaml"
    spec.write_text("\n".join(lines) + "\n")
    result = validate_paths([spec])
    found = [(p.line, p.message.split(" — ")[0]) for p in result.errors]
    assert found == [(2, "unknown key 'titel'"),
                     (hidden + 2, "unknown key 'hiden' in cases[1]"),
                     (message + 2, "unknown key 'mesage' in mistakes[0]")], found


def test_an_exercise_of_one_literal_case_gets_both_warnings(tmp_path):
    """No hidden case and no random input are two weaknesses: both are named."""
    spec = tmp_path / "square.yaml"
    spec.write_text("name: square\ntitle: Square\nfunction: grad_square(x, dz)\n"
                    "forward: x * x\ncases:\n  - name: worked-example\n    inputs:\n"
                    "      x: [1.0, -2.0, 3.0]\n      dz: [1.0, 1.0, 2.0]\n")
    result = validate_paths([spec])
    warnings = [p.message.split(":")[0] for p in result.warnings]
    assert "no case is hidden" in warnings and "no case has random inputs" in warnings
    assert not result.errors
