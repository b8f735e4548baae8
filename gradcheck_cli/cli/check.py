"""`gradcheck check`: an ad hoc check of any NumPy layer's backward, outside the exercises."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .options import (FormatOpt, ImportTimeoutOpt, MemoryOpt, OutputFormat, OutputOpt, TimeoutOpt,
                      VerboseOpt, check_outputs, emit, import_timeout_of)


class Style(str, Enum):
    auto = "auto"
    simple = "simple"
    pair = "pair"
    loss = "loss"


HELP = "\n\n".join([
    "Check the backward of your own NumPy layer against finite differences of its forward.",
    "Give the forward's array inputs in order with their shapes, e.g. `--input x=4,5 --input "
    "w=5,3 --input b=3`; their numbers are drawn from --seed, standard normal unless a "
    "distribution follows the shape: `x=4,5:positive`, `:uniform(0.1,2)`, `:normal(12,5)`, "
    "`y=4:labels(10)` (integer class labels, never differentiated), `:onehot(10)`. Values "
    "that are not arrays follow with `--param NAME=JSON`, after the arrays in the order "
    "given (`--param conv_param='{\"stride\": 1, \"pad\": 1}'`), or by keyword with "
    "`--param-kw NAME=JSON`; they are never differentiated.",
    "Three styles: simple, `backward(*inputs, *params, dz)` returns the gradient of each --wrt "
    "input (default: all, in order); pair (CS231n), `forward(*inputs, *params)` returns "
    "`(out, cache)` and `backward(dout, cache)` a gradient for every input; loss (no "
    "--backward), `forward(*inputs, *params)` returns `(loss, grads)`, grads a tuple, one "
    "array or a dict by input name. The style is found from what the forward returns, or set "
    "with --style.",
    "Your code runs in a separate, limited process. Exit code: 0 every gradient is right, 1 "
    "one is not (or your code failed), 2 the check could not run (a bad command line, a "
    "command line that does not fit the forward's signature, inputs outside its domain).",
])


def check(
    file: Path = typer.Argument(..., metavar="FILE.(py|ipynb)",
                               help="The file (or notebook) with your layer."),
    shapes: Optional[List[str]] = typer.Argument(None, metavar="[NAME=SHAPE]...",
                                                 help="The inputs, as with --input."),
    forward: str = typer.Option(..., "--forward", metavar="NAME", help="The forward function."),
    backward: Optional[str] = typer.Option(None, "--backward", metavar="NAME",
                                           help="The backward function (none for a loss "
                                                "that returns (loss, grads))."),
    input: List[str] = typer.Option([], "--input", "-i", metavar="NAME=SHAPE[:DIST]",
                                    help="An array input of the forward, its shape and "
                                         "distribution, e.g. x=4,5 or y=4:labels(10) (repeat, "
                                         "in the forward's order)."),
    param: List[str] = typer.Option([], "--param", metavar="NAME=JSON",
                                    help="A parameter that is not an array, passed after the "
                                         "arrays in the order given, e.g. "
                                         "conv_param='{\"stride\": 1, \"pad\": 1}'."),
    param_kw: List[str] = typer.Option([], "--param-kw", metavar="NAME=JSON",
                                       help="A parameter passed by keyword, e.g. "
                                            "mode='\"train\"'."),
    wrt: Optional[List[str]] = typer.Option(None, "--wrt", metavar="NAME",
                                            help="Check the gradient of this input only "
                                                 "(repeatable; default: every input but "
                                                 "labels)."),
    style: Style = typer.Option(Style.auto, "--style", case_sensitive=False, metavar="STYLE",
                                help="auto (found from what the forward returns); simple: backward(*inputs, dz); pair: forward returns "
                                     "(out, cache), backward(dout, cache); loss: forward "
                                     "returns (loss, grads)."),
    dout_name: Optional[str] = typer.Option(None, "--dout-name", metavar="NAME",
                                            help="What the report calls the upstream gradient "
                                                 "(default: dout in the pair style, dz in the "
                                                 "simple one)."),
    seed: int = typer.Option(0, "--seed", min=0, metavar="N",
                             help="Seed of the random inputs and dz."),
    rtol: Optional[float] = typer.Option(None, "--rtol", min=0.0, metavar="RTOL",
                                         help="Relative tolerance, of each gradient's largest "
                                              "element (default: 1e-7, what finite "
                                              "differences resolve)."),
    atol: Optional[float] = typer.Option(None, "--atol", min=0.0, metavar="ATOL",
                                         help="Absolute tolerance (default: 0)."),
    format: Optional[OutputFormat] = FormatOpt,
    output: Optional[Path] = OutputOpt,
    timeout: float = TimeoutOpt,
    import_timeout: Optional[float] = ImportTimeoutOpt,
    memory: int = MemoryOpt,
    deadline: float = typer.Option(3600.0, "--deadline", min=0.01, max=86400 * 7,
                                   metavar="SECONDS",
                                   help="Seconds allowed for your code in all (the check calls "
                                        "your forward four times per number)."),
    verbose: bool = VerboseOpt,
) -> None:
    from ..checking import CheckOptions, check_file, parse_input, parse_param
    from ..report.check_progress import CheckProgress

    check_outputs({"--output": output})
    inputs = [parse_input(text) for text in [*(shapes or []), *input]]
    params = [parse_param(text) for text in param]
    keywords = [parse_param(text, "--param-kw") for text in param_kw]
    tolerance = {k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None}
    options = CheckOptions(seed=seed, style=style.value, timeout=timeout,
                           import_timeout=import_timeout_of(import_timeout, timeout),
                           memory_mb=memory,
                           deadline=deadline, dout_name=dout_name, **tolerance)
    with CheckProgress(forward) as progress:        # a long check is not silent
        report = check_file(file, forward, backward, inputs, wrt or None, options, params,
                            keywords, progress)
    emit([report], format, output, verbose=verbose, show_hidden=True)
    raise typer.Exit(0 if report.passed else 1)
