"""Choosing exercises with -e: by name or group, tags by tag:NAME, a suggestion when unknown."""

from __future__ import annotations

import pytest

from gradcheck_cli.errors import UsageError
from gradcheck_cli.selection import select_exercises


def names(chosen) -> list[str]:
    return [e.name for e in chosen]


def test_an_exercise_name_selects_that_exercise_only():
    # two_layer_net is tagged 'relu'; -e relu still means the relu exercise.
    assert names(select_exercises(None, ["relu"])) == ["relu"]


def test_a_group_selects_its_exercises_in_catalog_order():
    assert names(select_exercises(None, ["seed-000"])) == ["conv2d", "matmul", "sigmoid", "softmax"]


def test_names_and_groups_mix_without_repeats():
    chosen = names(select_exercises(None, ["sigmoid", "seed-000"]))
    assert chosen[0] == "sigmoid" and sorted(chosen) == ["conv2d", "matmul", "sigmoid", "softmax"]


def test_an_unknown_name_is_a_usage_error_with_a_suggestion():
    with pytest.raises(UsageError) as err:
        select_exercises(None, ["sigmoidd"])
    assert "sigmoid" in str(err.value) and err.value.exit_code == 2


def test_a_bare_name_never_selects_by_tag():
    # attention (group layers) is tagged activations; the group activations does not hold it.
    chosen = names(select_exercises(None, ["activations"]))
    assert "attention" not in chosen and "relu" in chosen
    assert {"attention", "rnn_step", "relu"} <= set(names(select_exercises(None, ["tag:activations"])))


def test_a_tag_without_its_prefix_is_refused_with_the_spelling_to_use():
    with pytest.raises(UsageError) as err:
        select_exercises(None, ["jacobian"])
    assert "tag:jacobian" in err.value.hint


def test_group_prefix_selects_a_group_even_where_an_exercise_has_its_name(tmp_path):
    for name, group in (("norms", "basics"), ("a", "norms"), ("b", "norms")):
        (tmp_path / f"{name}.yaml").write_text(
            f"name: {name}\ntitle: T {name}\ngroup: {group}\nfunction: grad_{name}(x, dz)\nforward: exp(x)\n"
            "wrt: x\ncases:\n  - name: one\n    inputs: {x: [1.0, 2.0]}\n")
    assert names(select_exercises(tmp_path, ["norms"])) == ["norms"]
    assert names(select_exercises(tmp_path, ["group:norms"])) == ["a", "b"]
