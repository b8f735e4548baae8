"""What a learner's file names: the functions its text defines (read without running it, for
a file that does not import), the function it may have meant under a misspelt name, and the
functions that are a template's placeholders, not written yet."""

from __future__ import annotations

import ast
import re
from functools import lru_cache

from ..pysource import MAX_PARSED_CHARS, TooLarge, parse, read_learner_file


def defined_functions(path: str) -> dict[str, int | None] | None:
    """The functions a Python file's text defines, with their number of parameters (None
    where unknown), read without running it: ``def`` statements and names assigned at the
    top level or inside ``if``/``try``/``with``/``for`` blocks, not inside functions or
    classes. A syntax error leaves the ``def`` lines and ``name = lambda`` lines. A notebook is
    read through its code cells. None if the file cannot be read."""
    source, tree, unparsed = _parsed(path)
    if source is None:
        return None
    found: dict[str, int | None] = {}
    if tree is None:
        unparsed = source
    else:
        _collect(tree.body, found)
    # A notebook's cells that are not valid Python: in the text, a line that raises instead.
    # Linear in the text: no pattern may cross a line start it could begin at again.
    for name, params, closed in _DEF.findall(unparsed):
        found.setdefault(name, len([p for p in params.split(",") if p.strip()])
                         if closed else None)
    for name in _LAMBDA.findall(unparsed):
        found.setdefault(name, None)
    return found


_DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)[ \t]*\(([^)\n]{0,400})(\)?)",
                  re.MULTILINE)
_LAMBDA = re.compile(r"^[ \t]*(\w+)[ \t]*=[ \t]*lambda\b", re.MULTILINE)


def _parsed(path: str) -> tuple[str | None, ast.Module | None, str]:
    """The Python text of a submission (a notebook's code cells), its syntax tree (None if it
    does not parse) and a notebook's cells that are not valid Python (left out of the text);
    (None, None, "") if it cannot be read."""
    from ..notebook import NotebookError, is_notebook, read_notebook

    unparsed = ""
    try:
        if is_notebook(path):
            notebook = read_notebook(path)          # its code cells, as the worker runs them
            source, unparsed = notebook.text, notebook.unparsed
        elif path.endswith(".py"):
            source = read_learner_file(path).decode("utf-8", errors="replace")
        else:
            return None, None, ""
    except (OSError, NotebookError):
        return None, None, ""
    return source, _tree(source), unparsed


@lru_cache(maxsize=4)      # each at most MAX_PARSED_CHARS of source
def _tree(source: str) -> ast.Module | None:
    """``source`` parsed, once for both readers of a file (its stubs, the names of a partial
    file); None if it does not parse. Keyed by the text itself, so never stale."""
    try:
        return parse(source)
    except TooLarge:
        return _tree_in_pieces(source)
    except (SyntaxError, ValueError):
        return None


# Where a top-level piece may start: a line not indented, not closing a bracket, not the
# rest of an if/try (a comment line is a piece of its own, which parses to nothing).
_STATEMENT = re.compile(r"^(?![\s)\]}]|(?:else|elif|except|finally)\b)", re.MULTILINE)
MAX_PIECES = 20_000                 # statements read one by one; more: the text is not read


def _tree_in_pieces(source: str) -> ast.Module | None:
    """A text too long to parse at once (a file holding a large literal), parsed statement
    by statement at the top level, the statements too long for a syntax tree left out (a
    1 MB list is no function). None if a piece does not parse (a line that looked like a
    statement's first was inside a string or brackets) or if there are too many pieces."""
    cuts = [0]
    for match in _STATEMENT.finditer(source):
        at = match.start()
        previous = source.rfind("\n", 0, max(at - 1, 0)) + 1
        if at and not source.startswith("@", previous):   # a decorator stays with its def
            cuts.append(at)
    if len(cuts) > MAX_PIECES:
        return None
    cuts.append(len(source))
    body: list[ast.stmt] = []
    line = 0                            # lines before the piece
    for begin, end in zip(cuts, cuts[1:]):
        piece = source[begin:end]
        if len(piece) <= MAX_PARSED_CHARS:
            try:
                tree = parse(piece)
            except (SyntaxError, ValueError):
                return None
            ast.increment_lineno(tree, line)
            body.extend(tree.body)
        line += piece.count("\n")
    return ast.Module(body=body, type_ignores=[])


def stub_functions(path: str) -> dict[str, str]:
    """The top-level functions of a file that are not written yet, each with what its body
    does instead: nothing but ``pass``, ``...``, ``raise NotImplementedError``, or a course
    template's ``dx, x = None, cache`` ... ``return dx`` (names and Nones moved about, no
    arithmetic, None returned first: the ``out`` of ``(out, cache)``, the ``dx`` of
    ``(dx, dw, db)``). The last binding of a name counts: a stub redefined, or
    imported over, further down (in an ``if`` block too) is not one. Empty if the text cannot
    be read or parsed."""
    _, tree, _ = _parsed(path)
    stubs: dict[str, str] = {}
    for node in tree.body if tree is not None else ():
        bound = _bound_names(node)
        if "*" in bound:
            stubs.clear()                                   # from helper import *
        for name in bound:
            stubs.pop(name, None)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                and not node.decorator_list:            # a decorator may return anything
            what = _stub_body(node.body)
            if what:
                stubs[node.name] = what
    return stubs


def _bound_names(node) -> set[str]:
    """The module-level names a top-level statement binds: a definition's, an import's,
    assignment targets, and those of the statements inside its if/try/with/for blocks (not
    inside a function or a class)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    names: set[str] = set()
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.stmt, ast.match_case, ast.excepthandler)):
            names |= _bound_names(child)
        elif isinstance(child, ast.expr):
            names |= {n.id for n in ast.walk(child)
                      if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names


def _stub_body(body: list) -> str | None:
    """How a body shows it is a placeholder, or None if it does any work."""
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]                                     # the docstring
        if not body:
            return "a docstring"
    unset: set[str] = set()                                 # names still set to None
    said = None
    for node in body:
        if isinstance(node, ast.Pass):
            said = said or "pass"
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
                and node.value.value is Ellipsis:
            said = said or "..."
        elif isinstance(node, ast.Raise) and _names_not_implemented(node.exc):
            said = "raise NotImplementedError"
        elif isinstance(node, ast.Assign) and _moves_only(node.value):
            for target in node.targets:
                _track(target, node.value, unset)
        elif isinstance(node, ast.AnnAssign) and _moves_only(node.value):
            _track(node.target, node.value, unset)          # dx: np.ndarray = None
        elif isinstance(node, ast.Return) and _moves_only(node.value):
            # Its first value None: out of (out, cache), or dx; (dz, None) is an answer.
            first = node.value.elts[0] if isinstance(node.value, ast.Tuple) \
                and node.value.elts else node.value
            if isinstance(first, ast.Name) and first.id == "NotImplemented":
                said = said or "return NotImplemented"
            elif first is None or _holds_none(first, unset):
                said = said or "return None"
            else:
                return None
        else:
            return None
    return said


def _moves_only(value) -> bool:
    """None, names, constants and tuples of them: no arithmetic, no call."""
    if value is None or isinstance(value, (ast.Constant, ast.Name)):
        return True
    return isinstance(value, ast.Tuple) and all(_moves_only(v) for v in value.elts)


def _track(target, value, unset: set[str]) -> None:
    """Which names an assignment leaves set to None (``dx, x = None, cache``: dx); the values
    are read before any target is bound, as Python does (``a, b = b, a``)."""
    pairs = [(target, value)]
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) \
            and len(target.elts) == len(value.elts):
        pairs = list(zip(target.elts, value.elts))
    nones = [isinstance(v, (ast.Constant, ast.Name)) and _holds_none(v, unset)
             for _, v in pairs]
    for (t, _), none in zip(pairs, nones):
        for n in ast.walk(t):
            if isinstance(n, ast.Name):
                unset.discard(n.id)
        if none and isinstance(t, ast.Name):
            unset.add(t.id)


def _holds_none(value, unset: set[str]) -> bool:
    """None, a name still set to None, or a tuple holding one of those."""
    if isinstance(value, ast.Constant):
        return value.value is None
    if isinstance(value, ast.Name):
        return value.id in unset
    return isinstance(value, ast.Tuple) and any(_holds_none(v, unset) for v in value.elts)


def _names_not_implemented(exc) -> bool:
    target = exc.func if isinstance(exc, ast.Call) else exc
    return isinstance(target, ast.Name) and target.id == "NotImplementedError"


def _collect(body, found: dict) -> None:
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            found.setdefault(node.name, None if args.vararg else
                             len(args.posonlyargs) + len(args.args))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            arity = (len(value.args.args) if isinstance(value, ast.Lambda)
                     and not value.args.vararg else None)
            for target in targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, arity)
        elif isinstance(node, ast.ClassDef):
            continue
        else:
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, field, None)
                if isinstance(inner, list):
                    _collect(inner, found)


def near_name(name: str, arity: int | None, candidates, taken: set[str],
              defined: dict | None) -> str | None:
    """Which of ``candidates`` (the functions the file itself defines) was probably meant as
    ``name``: the same name in another case (grad_Tanh), or one slip away (grad_sigmod,
    grad_sigmiod) that is not a change of a word's first letter (grad_elu is another
    activation), with the same number of parameters where the file's text says. Never a
    function of another exercise of the catalog (grad_sum is not a misspelt grad_sub), a
    private one (_helper), or one that holds the whole name (grad_tanh_old: set aside on
    purpose) unless by a plural's s (batchnorm_backwards)."""
    own = [f for f in candidates if f not in taken and not f.startswith("_")
           and (name not in f or f == name + "s")]
    same = [f for f in own if f.lower() == name.lower()]
    slips = same or [f for f in own if _one_slip(name, f)]
    slips = [f for f in slips if not defined or defined.get(f) in (None, arity)]
    if len(slips) != 1 or slips[0] in catalog_functions():
        return None
    return slips[0]


def _one_slip(meant: str, written: str) -> bool:
    """One letter inserted, left out, replaced or swapped with its neighbour, inside a word."""
    if meant == written or abs(len(meant) - len(written)) > 1:
        return False
    i = 0
    while i < min(len(meant), len(written)) and meant[i] == written[i]:
        i += 1
    if i == 0 or meant[i - 1] == "_":
        return False                       # a word's first letter: another word
    a, b = meant[i:], written[i:]
    return (a[1:] == b[1:] or a[1:] == b or a == b[1:]
            or (len(a) >= 2 and len(b) >= 2 and a[0] == b[1] and a[1] == b[0]
                and a[2:] == b[2:]))


@lru_cache(maxsize=1)
def catalog_functions() -> frozenset[str]:
    """The function names of every exercise of the shipped catalog."""
    from ..spec.catalog import default_catalog_dir, spec_files
    from ..spec.yamlload import read_yaml

    names = set()
    for path in spec_files(default_catalog_dir()):
        try:
            data = read_yaml(path)
        except Exception:  # noqa: BLE001 - a catalog file that cannot be read names nothing
            continue
        for key in ("function", "backward"):
            value = data.get(key) if hasattr(data, "get") else None
            if isinstance(value, str):
                names.add(value.split("(", 1)[0].strip())
    return frozenset(names)


def parameter_names(path: str, function: str) -> tuple[tuple[str, ...], int] | None:
    """The positional parameters of the top-level ``def function`` of a file (the last one),
    and its line, read from the text; None where the text does not say (no such ``def``, a
    ``*args``, a file that does not parse)."""
    _, tree, _ = _parsed(path)
    found = None
    for node in tree.body if tree is not None else ():
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            found = node
        elif function in _bound_names(node):
            found = None                    # bound again by something else
    if found is None or found.args.vararg:
        return None
    return tuple(a.arg for a in (*found.args.posonlyargs, *found.args.args)), found.lineno
