"""A long `gradcheck check` is not silent: the calls of the learner's forward are counted as
they happen, shown on a terminal and, in a log, on a line every few seconds."""

from __future__ import annotations

from pathlib import Path

from gradcheck_cli.checking import CheckOptions, check_file, parse_input, parse_param
from gradcheck_cli.report import check_progress

LAYERS = Path(__file__).resolve().parents[1] / "fixtures" / "cs231n" / "layers.py"


def test_check_file_reports_every_forward_call_it_makes():
    told = []
    inputs = [parse_input(text) for text in ("x=2,3,5,5", "w=2,3,3,3", "b=2")]
    report = check_file(LAYERS, "conv_forward_naive", "conv_backward_naive", inputs,
                        options=CheckOptions(style="pair", seed=1),
                        params=[parse_param('conv_param={"stride": 1, "pad": 1}')],
                        progress=told.append)
    assert report.passed
    checked = 2 * 3 * 5 * 5 + 2 * 3 * 3 * 3 + 2
    assert all(n > 0 for n in told) and sum(told) >= checked   # each number moved at least once


def test_in_a_log_a_line_comes_once_the_check_has_taken_a_while(monkeypatch, capsys):
    clock = [100.0]
    monkeypatch.setattr(check_progress.time, "monotonic", lambda: clock[0])
    with check_progress.CheckProgress("conv_forward_naive") as progress:
        progress(40)
        clock[0] += 2.0
        progress(40)
        assert capsys.readouterr().err == ""                    # a short check says nothing
        clock[0] += check_progress.LINE_EVERY_S
        progress(20)
    assert capsys.readouterr().err.strip() == (
        "checking: 100 calls of conv_forward_naive so far, in 7 s")
