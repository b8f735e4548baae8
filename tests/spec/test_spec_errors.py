"""Broken exercise files: each is refused with a SpecError naming its file, its line and a fix.

Every fixture under specs/ marks the line the error must point at with a `# <- error` comment,
so the expected line comes from the fixture, not from the code under test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gradcheck_cli.errors import SpecError
from gradcheck_cli.spec import load_exercise, load_exercises

SPECS = Path(__file__).parent / "specs"

# fixture file -> words the message must contain
BROKEN = {
    "unknown_key.yaml": ["unknown key 'forwrd'", "did you mean 'forward'"],
    "wrong_type.yaml": ["points", "expected a number", "'many'"],
    "wrong_type_nested.yaml": ["cases[0].hidden", "true or false"],
    "missing_required.yaml": ["missing required key 'forward'"],
    "unknown_op.yaml": ["unknown op 'sigmoud'", "did you mean 'sigmoid'"],
    "attribute_access.yaml": ["'.__class__' is not allowed"],
    "lambda.yaml": ["lambda"],
    "dunder_import.yaml": ["mistake 'sneaky'", "not allowed"],
    "python_tag.yaml": ["tag", "python/object/apply:os.system", "not allowed"],
    "alias_bomb.yaml": ["alias", "not allowed"],
    "huge_shape.yaml": ["case 'huge'", "1,000,000"],
    "duplicate_key.yaml": ["duplicate key 'forward'", "line 4"],
    "malformed.yaml": ["invalid YAML"],
    "tabs.yaml": ["invalid YAML"],
    "unknown_dim.yaml": ["'kk'", "did you mean 'k'"],
    "unknown_wrt.yaml": ["'ww' is not an input", "did you mean 'w'"],
    "bad_dist.yaml": ["'unifrom'", "did you mean 'uniform'"],
    "ragged.yaml": ["ragged"],
    "forward_uses_dz.yaml": ["upstream gradient"],
    "impossible_distinct.yaml": ["distinct", "cannot all differ"],
}


def marked_line(path: Path) -> int:
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if "# <- error" in text:
            return number
    raise AssertionError(f"{path.name} has no '# <- error' marker")


def test_every_fixture_is_listed():
    assert sorted(p.name for p in SPECS.glob("*.yaml")) == sorted(BROKEN)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_spec_names_file_line_and_fix(name):
    path = SPECS / name
    with pytest.raises(SpecError) as info:
        load_exercise(path)
    error = info.value
    assert error.file == str(path)
    assert error.line == marked_line(path), str(error)
    for words in BROKEN[name]:
        assert words in error.message, str(error)
    assert error.hint, f"{name}: the error offers no fix"
    assert f"{path}:{error.line}: " in str(error)


def test_folder_with_a_broken_spec_fails_with_that_file(tmp_path):
    shutil.copy(Path(__file__).parents[2] / "exercises" / "sigmoid.yaml", tmp_path / "a.yaml")
    shutil.copy(SPECS / "unknown_op.yaml", tmp_path / "b.yaml")
    with pytest.raises(SpecError) as info:
        load_exercises([tmp_path])
    assert info.value.file == str(tmp_path / "b.yaml")


def test_python_tag_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError):
        load_exercise(SPECS / "python_tag.yaml")
    assert not (tmp_path / "gradcheck-tag-marker").exists()


def test_formula_import_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError):
        load_exercise(SPECS / "dunder_import.yaml")
    assert not (tmp_path / "gradcheck-import-marker").exists()


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system [touch {marker}]",
    "!!python/object/new:os.system [touch {marker}]",
    "!!python/name:os.system",
    "!!binary aGVsbG8=",
    "!!set {{a, b}}",
    "!custom value",
])
def test_non_core_tags_are_refused(tmp_path, tag):
    marker = tmp_path / "marker"
    spec = tmp_path / "tagged.yaml"
    spec.write_text("name: tagged\ntitle: t\nfunction: grad_t(x, dz)\nforward: sigmoid(x)\n"
                    f"description: {tag.format(marker=marker)}\n"
                    "cases:\n  - inputs: {x: [1, 2]}\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_exercise(spec)
    assert info.value.line == 5
    assert not marker.exists()


def test_oversized_file_is_refused_before_parsing(tmp_path):
    spec = tmp_path / "big.yaml"
    spec.write_text("name: big\n" + "# padding\n" * 200_000, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_exercise(spec)
    assert "limited to 1,000,000" in info.value.message


def test_deep_nesting_is_refused(tmp_path):
    spec = tmp_path / "deep.yaml"
    spec.write_text("name: deep\nx: " + "[" * 200 + "]" * 200 + "\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_exercise(spec)
    assert info.value.line == 2


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ("- a\n- b\n", "mapping"),
    ("name: a\n---\nname: b\n", "single document"),
])
def test_not_one_mapping(tmp_path, text, words):
    spec = tmp_path / "odd.yaml"
    spec.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_exercise(spec)
    assert words in info.value.message


def test_not_utf8(tmp_path):
    spec = tmp_path / "latin1.yaml"
    spec.write_bytes("name: x\ntitle: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpecError) as info:
        load_exercise(spec)
    assert info.value.line == 2
    assert "UTF-8" in info.value.message


def test_duplicate_exercise_names_across_files(tmp_path):
    source = Path(__file__).parents[2] / "exercises" / "sigmoid.yaml"
    shutil.copy(source, tmp_path / "one.yaml")
    shutil.copy(source, tmp_path / "two.yaml")
    with pytest.raises(SpecError) as info:
        load_exercises([tmp_path])
    assert info.value.file == str(tmp_path / "two.yaml")
    assert "one.yaml" in info.value.message
