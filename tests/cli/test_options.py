"""The options every command shares: the format choices, the seed, writing a report out."""

from __future__ import annotations

import pytest

from gradcheck_cli.cli.options import OutputFormat, choose_seed, emit
from gradcheck_cli.report import formats
from gradcheck_cli.report.model import CaseResult, ExerciseResult, Report


def _report(submission: str) -> Report:
    return Report(submission, 3, exercises=[
        ExerciseResult("sigmoid", "grad_sigmoid", "Sigmoid", "failed", 0.0, 1.0,
                       cases=[CaseResult("worked-example", False, "failed", message="wrong")])])


def test_every_registered_format_is_a_choice_of_format():
    assert sorted(f.value for f in OutputFormat) == formats.names()
    assert {"rich", "plain", "json", "junit", "gradescope", "github"} <= set(formats.names())


@pytest.mark.parametrize("name", formats.names())
def test_formats_write_through_output_atomically(name, tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    target = tmp_path / f"report.{name}"
    emit([_report("alice.py")], OutputFormat(name), target, verbose=False, show_hidden=False)
    assert "alice" in target.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == [target.name]     # no temporary left behind


def test_a_given_seed_is_kept_and_a_missing_one_is_drawn():
    assert choose_seed(0) == 0 and choose_seed(1234) == 1234
    drawn = {choose_seed(None) for _ in range(8)}
    assert len(drawn) > 1 and all(0 <= s < 2**31 for s in drawn)
