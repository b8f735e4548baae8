"""docs/diagnoses.md is the teacher's reference for the ids a gradebook counts: it lists every
generic diagnosis the grader can give, and none it cannot."""

from __future__ import annotations

import re
from pathlib import Path

from gradcheck_cli.grading.diagnoses import DETECTORS

DOC = Path(__file__).resolve().parents[2] / "docs" / "diagnoses.md"


def test_every_generic_diagnosis_is_documented_and_only_those():
    table = DOC.read_text().split("## Generic diagnoses")[1].split("\n## ")[0]
    listed = re.findall(r"^\| `(\w+)` \|", table, flags=re.M)
    assert len(listed) == len(set(listed)), "an id is listed twice"
    assert set(listed) == set(DETECTORS) - {"internal_error"}


def test_the_table_is_in_the_order_the_report_ranks_them():
    table = DOC.read_text().split("## Generic diagnoses")[1].split("\n## ")[0]
    listed = re.findall(r"^\| `(\w+)` \|", table, flags=re.M)
    ranks = [DETECTORS[i].specificity for i in listed]
    assert ranks == sorted(ranks, reverse=True)
