"""The plain report's summary lines keep their points in one column, whatever the names."""

from __future__ import annotations

import io

from gradcheck_cli.report import formats
from gradcheck_cli.report.formats import RenderOptions
from gradcheck_cli.report.model import ExerciseResult, Report


def test_a_long_function_name_does_not_push_the_points_out_of_line():
    exercises = [ExerciseResult(name=name, function=function, title="", status="passed",
                                score=1.0, max_score=1.0)
                 for name, function in (("sigmoid", "grad_sigmoid"),
                                        ("hidden_layer", "grad_hidden_layer_score"),
                                        ("mlp", "grad_two_layer_network_scores"))]
    stream = io.StringIO()
    formats.get("plain").write([Report(submission="f.py", seed=0, exercises=exercises)],
                               stream, RenderOptions())
    lines = [line for line in stream.getvalue().splitlines() if line.endswith(" points")]
    assert len(lines) == 3
    assert len({line.index("1/1 points") for line in lines}) == 1, "\n".join(lines)
