"""`gradcheck check`: an ad hoc check of any NumPy layer's backward, outside the exercises."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .options import FormatOpt, MemoryOpt, OutputFormat, OutputOpt, TimeoutOpt, VerboseOpt, emit


class Style(str, Enum):
    auto = "auto"
    simple = "simple"
    pair = "pair"


HELP = "\n\n".join([
    "Check the backward of your own NumPy layer against finite differences of its forward.",
    "Give the forward's inputs in order with their shapes, e.g. `--input x=4,5 --input w=5,3 "
    "--input b=3`; they are filled with random normal numbers from --seed. Two styles: simple, "
    "`backward(*inputs, dz)` returns the gradient of each --wrt input (default: all, in order); "
    "pair (CS231n), `forward(*inputs)` returns `(out, cache)` and `backward(dout, cache)` a "
    "gradient for every input. The style is found from what the forward returns, or set with "
    "--style.",
    "Your code runs in a separate, limited process. Exit code: 0 every gradient is right, 1 "
    "one is not (or your code failed), 2 the check could not run.",
])


def check(
    file: Path = typer.Argument(..., metavar="FILE.(py|ipynb)",
                               help="The file (or notebook) with your layer."),
    shapes: Optional[List[str]] = typer.Argument(None, metavar="[NAME=SHAPE]...",
                                                 help="The inputs, as with --input."),
    forward: str = typer.Option(..., "--forward", metavar="NAME", help="The forward function."),
    backward: str = typer.Option(..., "--backward", metavar="NAME",
                                 help="The backward function."),
    input: List[str] = typer.Option([], "--input", "-i", metavar="NAME=SHAPE",
                                    help="An input of the forward and its shape, e.g. x=4,5 "
                                         "(repeat, in the forward's order)."),
    wrt: Optional[List[str]] = typer.Option(None, "--wrt", metavar="NAME",
                                            help="Check the gradient of this input only "
                                                 "(repeatable; default: every input)."),
    style: Style = typer.Option(Style.auto, "--style", case_sensitive=False,
                                help="simple: backward(*inputs, dz); pair: forward returns "
                                     "(out, cache), backward(dout, cache)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the random inputs and dz."),
    rtol: Optional[float] = typer.Option(None, "--rtol", min=0.0,
                                         help="Relative tolerance, of each gradient's largest "
                                              "element (default: 1e-4, finite differences' "
                                              "precision)."),
    atol: Optional[float] = typer.Option(None, "--atol", min=0.0,
                                         help="Absolute tolerance (default: 0)."),
    format: Optional[OutputFormat] = FormatOpt,
    output: Optional[Path] = OutputOpt,
    timeout: float = TimeoutOpt,
    memory: int = MemoryOpt,
    deadline: float = typer.Option(3600.0, "--deadline", min=0.01, max=86400 * 7,
                                   metavar="SECONDS",
                                   help="Seconds allowed for your code in all (the check calls "
                                        "your forward twice per number)."),
    verbose: bool = VerboseOpt,
) -> None:
    from ..checking import CheckOptions, check_file, parse_input

    inputs = [parse_input(text) for text in [*(shapes or []), *input]]
    tolerance = {k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None}
    options = CheckOptions(seed=seed, style=style.value, timeout=timeout, memory_mb=memory,
                           deadline=deadline, **tolerance)
    report = check_file(file, forward, backward, inputs, wrt or None, options)
    emit([report], format, output, verbose=verbose, show_hidden=True)
    raise typer.Exit(0 if report.passed else 1)
