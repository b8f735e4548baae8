"""The wording of failures the worker or the runner reported: these units only say what
happened and what to do about it."""

from __future__ import annotations

import re

from ...report.model import Diagnosis
from ...report.view import NOTEBOOK_STOPPED
from .registry import Failure, reported
from .wording import _where

@reported("import_error", specificity=99)
def _import_error(f: Failure):
    # The whole message (a syntax error with its caret) is the report's; this is its summary.
    summary = f.message.strip().splitlines()[0] if f.message.strip() else "it raised"
    package, installed = _unavailable_package(f.message)
    if package:
        hint = ((f"{package} is installed, but" if installed else f"If {package} is a package:")
                + " a file being graded runs with Python's standard library, NumPy and the .py "
                "files beside it only (installing more changes nothing): take the import out, "
                f"or, for plots and prints only, write `try: import {package}` with "
                f"`except Exception: {package} = None`.")
    elif ".ipynb, cell " in f.message:
        # A notebook: the cells before the one that raised (or did not parse) ran.
        hint = NOTEBOOK_STOPPED
    else:
        hint = ("Fix the error above and run again: gradcheck imports your file once, so "
                "nothing in it can be graded until it imports (top-level code runs too).")
    return Diagnosis("import_error", f"Your file could not be imported: {summary}", hint)


def _unavailable_package(message: str) -> tuple[str | None, bool]:
    """The package an import failed on, and whether the grader has it installed: not found
    in the worker (bubblewrap binds only NumPy), or found and refused (the fallback's
    Landlock); (None, False) for any other error, and for NumPy's own."""
    import importlib.util

    found = re.search(r"No module named '([A-Za-z_][\w]*)", message)
    if found:
        name = found.group(1)
    else:
        refused = re.search(r"PermissionError: .*[/\\](?:site|dist)-packages[/\\]([A-Za-z_]\w*)",
                            message)
        if refused is None:
            return None, False
        name = refused.group(1)
    try:        # the top-level name only: finding it runs no code of the package
        installed = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        installed = False
    return (None, False) if name == "numpy" else (name, installed)


@reported("missing_function", specificity=98)
def _missing_function(f: Failure):
    if f.message:               # defined, but as something else than a function
        return Diagnosis("missing_function", f"{f.message}.",
                         f"Define it with `def {f.signature or f.function}:` at the top level "
                         f"of your file, and check that no later line assigns to "
                         f"{f.function} (an assignment replaces the function).")
    if f.near:
        return Diagnosis("missing_function",
                         f"{f.function} is not defined in your file, but {f.near} is: a "
                         "misspelling?",
                         f"Rename {f.near} to {f.function}: gradcheck calls the function by "
                         f"its exact name, {f.signature or f.function}.")
    return Diagnosis("missing_function", f"{f.function} is not defined in your file.",
                     f"Define {f.signature or f.function} at the top level of your file (check "
                     "the spelling; `gradcheck show` prints the exercise).")


@reported("exception", specificity=97)
def _exception(f: Failure):
    if " calls it with " in f.message and not f.frames:    # the worker compared the arity
        call = f.signature or f.message.rpartition(": ")[2]
        return Diagnosis("exception", f"{f.message}.",
                         f"Define it as {call}: these are the arguments it is called with, "
                         "in this order.")
    if f.message.startswith(f"{f.function} called sys.exit("):
        return Diagnosis("exception", f"{f.message}{_where(f.frames) if f.frames else ''}.",
                         "A gradient function returns its result: take out the sys.exit "
                         "(exit() and quit() are the same call), which would end a script "
                         "that called it.")
    if not f.frames:
        return Diagnosis("exception", f"{f.function} raised {f.message}",
                         "No line of your file is in the traceback: the error came from "
                         f"calling {f.function} itself or from a library it handed work to; "
                         "the report shows the case's inputs, to try them by hand.")
    where = _where(f.frames)
    return Diagnosis("exception", f"{f.function} raised {f.message}{where}",
                     "Read the traceback: its last frame is the line of your code that "
                     "raised. The report shows the case's inputs, to try them by hand.")


@reported("wrong_type", specificity=96)
def _wrong_type(f: Failure):
    if "complex" in f.message:
        hint = ("Find where complex numbers come in (np.emath.sqrt or np.lib.scimath of a "
                "negative number, an FFT) and compute with real numbers; taking .real would "
                "only hide the imaginary part.")
    elif "not computed yet" in f.message:
        hint = (f"Compute every gradient {f.function} returns; each is an array shaped like "
                "its input.")
    elif " None, not an array" in f.message:       # no return statement reached
        named = re.match(r"(?:the output that )?(\w+) returned", f.message)
        function = named.group(1) if named else f.function    # a pair's backward, say
        hint = (f"Add a `return` statement at the end of {function} (a function that "
                "ends without one returns None), or check that every path through it "
                "returns the gradient.")
    elif "returned a tuple of" in f.message:
        hint = ("Return the gradient array alone; a tuple is for exercises whose function "
                "returns several gradients.")
    elif "one gradient per input" in f.message:
        hint = (f"Return one gradient per input from {f.function}, as a tuple in the order "
                f"of the inputs: `return {_gradient_names(f.signature)}`.")
    else:
        hint = (f"Return a NumPy array of floats shaped like the input from {f.function}, "
                "not a container or text around it.")
    return Diagnosis("wrong_type", f.message or f"{f.function} returned something that is not "
                     "an array of numbers.", hint)


def _gradient_names(signature: str) -> str:
    """``grad_affine(x, W, b, dz)`` -> ``dx, dW, db`` (the inputs' gradients, in order)."""
    found = re.match(r"\s*\w+\s*\((.*)\)\s*$", signature or "")
    names = [n.strip() for n in found.group(1).split(",")][:-1] if found else []
    return ", ".join(f"d{n}" for n in names if n.isidentifier()) or "dx, dy"


@reported("timeout", specificity=96)
def _timeout(f: Failure):
    # The sandbox's message says which limit ran out: the call's, or the submission's deadline.
    limit = f" within {f.timeout:g} s" if f.timeout else " within the time limit"
    return Diagnosis("timeout", f"{f.message.rstrip('.')}." if f.message
                     else f"{f.function} did not return{limit}.",
                     "Look for a loop that never ends, or vectorise with NumPy instead of "
                     "looping over every element (the hidden cases may be larger). "
                     "--timeout sets the limit per call, --deadline for the whole file.")


@reported("memory_limit", specificity=96)
def _memory_limit(f: Failure):
    limit = f" ({f.memory_mb} MB)" if f.memory_mb else ""
    return Diagnosis("memory_limit", f"{f.function} used more memory than allowed{limit}.",
                     "Avoid building huge intermediate arrays (a full Jacobian, an outer "
                     "product of large inputs); a VJP never needs more memory than its inputs. "
                     "--memory sets the limit.")


@reported("crashed", specificity=96)
def _crashed(f: Failure):
    return Diagnosis("crashed", f.message or f"The process running {f.function} died.",
                     "Something ended the process itself: os._exit, sys.exit in a thread, a "
                     "signal, or a crash in native code. Return a value instead.")


@reported("protocol_violation", specificity=96)
def _protocol_violation(f: Failure):
    return Diagnosis("protocol_violation", f.message or f"The process running {f.function} "
                     "sent the grader a malformed reply.",
                     "Your code wrote to the grader's private channel (a file descriptor it did "
                     "not open) or ended mid-reply; return your result instead.")


@reported("mutated_input", specificity=5)
def _mutated_input(f: Failure):
    name = f.argument or "an argument"
    return Diagnosis("mutated_input",
                     f"{f.function} changed its input {name} in place (grading used an "
                     "untouched copy).",
                     f"Work on a copy ({name} = {name}.copy()) or build new arrays: the caller "
                     "of a backward function still needs its inputs.", severity="warning")
