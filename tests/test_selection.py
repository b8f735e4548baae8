"""Choosing exercises with -e: by name, by group or tag, with a suggestion when unknown."""

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
