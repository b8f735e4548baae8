"""The plain report of several real failures, compared line by line with stored snapshots.

The snapshots under tests/report/snapshots/ are what a learner sees. After an intended change
of the report (or of the shipped exercises' cases), regenerate them and review the diff:

    GRADCHECK_UPDATE_SNAPSHOTS=1 pytest tests/report/test_plain_snapshots.py

Reports are deterministic: a fixed seed, paths relative to the repository, no durations.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from gradcheck_cli.report import formats

from .conftest import CASES, ROOT

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("GRADCHECK_UPDATE_SNAPSHOTS") == "1"
# The brief promise of the default report: a failing exercise fits on one screen.
MAX_LINES_PER_EXERCISE = 40


@pytest.fixture(scope="module")
def rendered(snapshot_reports) -> dict[str, str]:
    """Every snapshot report in the plain format."""
    out = {}
    for name, (report, options) in snapshot_reports.items():
        stream = io.StringIO()
        formats.get("plain").write([report], stream, options)
        # Paths are shown relative to the repository, as a learner there would type them.
        out[name] = stream.getvalue().replace(str(ROOT) + os.sep, "")
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_plain_report_matches_snapshot(rendered, name):
    text = rendered[name]
    stored = SNAPSHOTS / f"{name}.txt"
    if UPDATE or not stored.exists():
        if not UPDATE:
            pytest.fail(f"no snapshot {stored.name}; run with GRADCHECK_UPDATE_SNAPSHOTS=1")
        stored.parent.mkdir(exist_ok=True)
        stored.write_text(text)
    assert text.splitlines() == stored.read_text().splitlines()


@pytest.mark.parametrize("name", sorted(n for n, case in CASES.items() if not case[3]))
def test_a_failing_exercise_fits_on_one_screen(rendered, name):
    blocks: list[list[str]] = []
    for line in rendered[name].splitlines()[2:]:
        if line[:10].strip():          # an exercise's status line starts a block
            blocks.append([])
        if blocks:
            blocks[-1].append(line)
    assert blocks and max(len(b) for b in blocks) <= MAX_LINES_PER_EXERCISE
