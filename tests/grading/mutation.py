"""Single-point mutants of the reference solutions, and an oracle that judges them without the grader.

``generate(path)`` parses a file of ``grad_*`` functions (``examples/solutions.py``) and
applies one small change at a time, the kind a learner makes: an operator or a sign, a
constant, one variable for another, a transpose added or dropped, a reduction axis, a term or
factor dropped, an ``eps`` moved, an integer cast, an answer replaced by ``dz`` or zeros. Each
``Mutant`` is the whole file with that one change, so it can be graded as a submission.

``Oracle`` knows the catalog's exercises and judges a mutant independently of the grader's
verdict: it runs the mutant and the reference side by side on many inputs (the cases of many
seeds plus probes of the domain each exercise's description promises) and calls the mutant
``different`` when any output differs beyond float64 round-off, ``equivalent`` otherwise.
It also recomputes the generic diagnoses, so that a diagnosis the grader states can be checked
on every case it claims (``Oracle.holds``).

The catalog is read through ``Catalog``, the only place that touches gradcheck's own API.
"""

from __future__ import annotations

import ast
import copy
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "examples" / "solutions.py"

# Two outputs are the same gradient when they differ by no more than float64 round-off of this
# size relative to the output's largest element.
SAME_GRADIENT_RTOL = 1e-9
# A diagnosis "holds" on a case when its claim is true to this relative precision (float32
# answers included): it judges the claim, not the grader's tolerance.
CLAIM_RTOL = 1e-4


# ---------------------------------------------------------------------------- generating mutants


@dataclass(frozen=True)
class Mutant:
    """One change to the reference file: where, what, and the whole changed source."""

    id: str
    function: str          # the top-level function the change is in
    operator: str          # the kind of change (binop, constant, swap_name, ...)
    line: int
    before: str
    after: str
    source: str


def generate(path: Path = SOLUTIONS) -> list[Mutant]:
    """Every single-point mutant of the file at ``path``, in source order, duplicates removed."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    reference = ast.unparse(tree)
    sites = list(_sites(tree))
    nodes = list(ast.walk(tree))
    parents = {id(child): parent for parent in nodes for child in ast.iter_child_nodes(parent)}
    statements = [_statement(s) for s in tree.body]
    seen, out = {reference}, []
    for node_index, operator, change in sites:
        # The change works on a copy of the node, which stands in for it while its top-level
        # statement is written out again; then the original goes back.
        node = nodes[node_index]
        owner = _owner(node, parents)
        before = ast.unparse(node)
        new = change(copy.deepcopy(node))
        if new is None:
            continue
        at = tree.body.index(_top(node, parents))
        _replace(parents, node, ast.fix_missing_locations(ast.copy_location(new, node)))
        try:
            changed = [*statements[:at], _statement(tree.body[at]), *statements[at + 1:]]
        finally:
            _replace(parents, new, node)
        source = _module(tree.body, changed)
        if source in seen:
            continue
        try:
            compile(source, str(path), "exec")
        except SyntaxError:
            continue
        seen.add(source)
        digest = hashlib.sha1(source.encode()).hexdigest()[:8]
        out.append(Mutant(f"{owner}-{operator}-{digest}", owner, operator,
                          getattr(node, "lineno", 0), before, _short(new), source))
    return out


def only(source: str, functions: set[str]) -> str:
    """``source`` with only the top-level functions ``functions`` need (and every import and
    global): a submission that defines just those, so other exercises are not attempted."""
    tree = ast.parse(source)
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    keep, todo = set(), list(functions)
    while todo:
        name = todo.pop()
        if name in defs and name not in keep:
            keep.add(name)
            todo += [m.id for m in ast.walk(defs[name]) if isinstance(m, ast.Name)]
    tree.body = [n for n in tree.body if not isinstance(n, ast.FunctionDef) or n.name in keep]
    return ast.unparse(tree)


def _statement(stmt) -> str:
    return ast.unparse(ast.Module([stmt], []))


def _module(body, texts: list[str]) -> str:
    """What ast.unparse writes for a module whose statements read ``texts``."""
    out = texts[0] if texts else ""
    for stmt, text in zip(body[1:], texts[1:]):
        out += ("\n\n" if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)) else "\n") + text
    return out


def _top(node, parents):
    """The top-level statement a node is in."""
    while not isinstance(parents.get(id(node)), ast.Module):
        node = parents[id(node)]
    return node


def _short(node) -> str:
    return ast.unparse(node) if isinstance(node, ast.AST) else str(node)


def _owner(node, parents) -> str:
    """The top-level function or global (``EPS``) whose definition a node sits in."""
    while id(node) in parents:
        parent = parents[id(node)]
        if isinstance(parent, ast.Module):
            if isinstance(node, ast.FunctionDef):
                return node.name
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                return node.targets[0].id
            return "<module>"
        node = parent
    return "<module>"


def users(path: Path = SOLUTIONS) -> dict[str, set[str]]:
    """Top-level name -> the top-level functions whose result depends on it (itself included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    top |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
            if isinstance(t, ast.Name)}
    uses = {n.name: {m.id for m in ast.walk(n) if isinstance(m, ast.Name) and m.id in top}
            for n in tree.body if isinstance(n, ast.FunctionDef)}
    closure = {}
    for name in uses:
        seen, todo = set(), [name]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo += uses.get(current, ())
        closure[name] = seen
    return {name: {f for f, deps in closure.items() if name in deps} | ({name} & set(uses))
            for name in top}


def _replace(parents, old, new) -> None:
    parent = parents[id(old)]
    parents[id(new)] = parent
    for name, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, name, new)
            return
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is old:
                    value[i] = new
                    return
    raise LookupError("node not found under its parent")


Change = Callable[[ast.AST], ast.AST | None]

_OP_SWAPS = {ast.Add: [ast.Sub, ast.Mult], ast.Sub: [ast.Add], ast.Mult: [ast.Div, ast.Add],
             ast.Div: [ast.Mult, ast.FloorDiv], ast.Pow: [ast.Mult], ast.MatMult: [ast.Mult],
             ast.FloorDiv: [ast.Div]}
_CMP_SWAPS = {ast.Gt: [ast.GtE, ast.Lt], ast.GtE: [ast.Gt], ast.Lt: [ast.LtE, ast.Gt],
              ast.LtE: [ast.Lt], ast.Eq: [ast.NotEq, ast.GtE], ast.NotEq: [ast.Eq]}
# Functions a learner confuses with one another (np.X(...) and a.X(...) alike). Not
# empty_like: what it returns depends on the allocator, so such a mutant has no one gradient.
_CALL_SWAPS = {"sum": ["mean"], "mean": ["sum"], "max": ["min"], "min": ["max"],
               "maximum": ["minimum"], "minimum": ["maximum"], "exp": ["log"],
               "tanh": ["sinh"], "zeros_like": ["ones_like"],
               "ones_like": ["zeros_like"], "outer": ["dot"], "sqrt": ["square"]}
# Calls whose result has the shape of their first argument: dropping them keeps code running.
_DROPPABLE = {"exp", "tanh", "sqrt", "sum", "mean", "max", "swapaxes", "transpose", "maximum"}
_AXIS_VALUES = (0, 1, -1, None)


def _sites(tree) -> Iterator[tuple[int, str, Change]]:
    """(node index in ast.walk order, operator name, change) for every mutation point."""
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    scope = {name: _local_names(f) for name, f in functions.items()}
    owner_of = {}
    for f in functions.values():
        for node in ast.walk(f):
            owner_of[id(node)] = f
    for index, node in enumerate(ast.walk(tree)):
        f = owner_of.get(id(node))
        for operator, change in _changes(node, f, scope.get(f.name, ()) if f else ()):
            yield index, operator, change


def _local_names(f: ast.FunctionDef) -> tuple[str, ...]:
    names = [a.arg for a in f.args.args]
    for node in ast.walk(f):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id not in names:
            names.append(node.id)
    return tuple(names)


def _changes(node, f, names) -> Iterator[tuple[str, Change]]:
    if isinstance(node, ast.BinOp):
        for new_op in _OP_SWAPS.get(type(node.op), []):
            yield "binop", lambda n, o=new_op: ast.BinOp(n.left, o(), n.right)
        yield "drop_right", lambda n: n.left          # a term or factor dropped
        yield "drop_left", lambda n: n.right
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield "drop_minus", lambda n: n.operand
    elif isinstance(node, ast.Compare) and len(node.ops) == 1:
        for new_op in _CMP_SWAPS.get(type(node.ops[0]), []):
            yield "compare", lambda n, o=new_op: ast.Compare(n.left, [o()], n.comparators)
    elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        for value in _constant_variants(node.value):
            yield "constant", lambda n, v=value: ast.Constant(v)
    elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "->" in node.value:
        inputs, output = node.value.split("->")
        yield "einsum_output", lambda n: ast.Constant(f"{inputs}->{output[::-1]}")
    elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in names:
        for other in _confusable(node.id, f, names):
            yield "swap_name", lambda n, o=other: ast.Name(o, ast.Load())
    elif isinstance(node, ast.Attribute) and node.attr == "T" and isinstance(node.ctx, ast.Load):
        yield "drop_transpose", lambda n: n.value
    elif isinstance(node, ast.Call):
        yield from _call_changes(node)
    elif isinstance(node, ast.keyword):
        yield from _keyword_changes(node)
    elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add):
        yield "no_accumulate", lambda n: ast.Assign([n.target], n.value, lineno=n.lineno)
    elif isinstance(node, ast.Return) and node.value is not None and f is not None:
        yield from _return_changes(node, f)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        for side in ("left", "right"):
            operand = getattr(node, side)
            if isinstance(operand, (ast.Name, ast.Attribute, ast.Call)):
                yield "add_transpose", lambda n, s=side: _with(n, s, ast.Attribute(
                    getattr(n, s), "T", ast.Load()))


def _confusable(name: str, f: ast.FunctionDef, names: tuple[str, ...]) -> list[str]:
    """The names a learner might write instead: the parameters, and the locals next to it."""
    params = [a.arg for a in f.args.args]
    others = [n for n in params if n != name]
    if name not in params:
        local = [n for n in names if n not in params]
        i = local.index(name)
        others += [n for n in local[max(i - 1, 0):i + 2] if n != name]
    return others


def _with(node, field_name, value):
    setattr(node, field_name, value)
    return node


def _constant_variants(value) -> list:
    if isinstance(value, int):
        return [v for v in (0, value + 1, value - 1, -value) if v != value]
    out = [0.0, 2 * value, value / 2, -value]
    if value == 1e-5:                   # epsilon: the sizes learners pick instead
        out += [1e-8, 1e-3]
    return [v for v in dict.fromkeys(out) if v != value]


def _call_name(node: ast.Call) -> str | None:
    return node.func.attr if isinstance(node.func, ast.Attribute) else (
        node.func.id if isinstance(node.func, ast.Name) else None)


def _call_changes(node: ast.Call) -> Iterator[tuple[str, Change]]:
    name = _call_name(node)
    for other in _CALL_SWAPS.get(name, []):
        def rename(n, o=other):
            if isinstance(n.func, ast.Attribute):
                n.func = ast.Attribute(n.func.value, o, ast.Load())
            else:
                n.func = ast.Name(o, ast.Load())
            return n
        yield "call", rename
    if name in _DROPPABLE:
        if node.args:
            yield "drop_call", lambda n: n.args[0]
        elif isinstance(node.func, ast.Attribute):
            yield "drop_call", lambda n: n.func.value
    if len(node.args) >= 2 and name != "where":
        yield "swap_args", lambda n: _with(n, "args", [n.args[1], n.args[0], *n.args[2:]])
    if name == "where" and len(node.args) == 3:
        yield "swap_args", lambda n: _with(n, "args", [n.args[0], n.args[2], n.args[1]])
    if name == "sqrt" and node.args and isinstance(node.args[0], ast.BinOp) \
            and isinstance(node.args[0].op, ast.Add):
        # eps outside the root: sqrt(var + eps) -> sqrt(var) + eps
        yield "eps_outside_sqrt", lambda n: ast.BinOp(
            ast.Call(n.func, [n.args[0].left], []), ast.Add(), n.args[0].right)


def _keyword_changes(node: ast.keyword) -> Iterator[tuple[str, Change]]:
    if node.arg == "axis":
        current = ast.literal_eval(node.value) if isinstance(node.value, ast.Constant) else "?"
        for value in _AXIS_VALUES:
            if value != current:
                yield "axis", lambda n, v=value: ast.keyword("axis", ast.Constant(v))
    elif node.arg == "keepdims":
        yield "keepdims", lambda n: ast.keyword("keepdims", ast.Constant(False))
    elif node.arg == "dtype":
        yield "int_dtype", lambda n: ast.keyword("dtype", ast.Name("int", ast.Load()))


def _return_changes(node: ast.Return, f: ast.FunctionDef) -> Iterator[tuple[str, Change]]:
    upstream = f.args.args[-1].arg if f.args.args else None
    values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
    for k in range(len(values)):
        for operator, wrap in _answer_changes(upstream):
            yield operator, lambda n, k=k, w=wrap: _map_answer(n, k, w)
    if len(values) >= 2:
        yield "swap_answers", lambda n: ast.Return(ast.Tuple(
            [n.value.elts[1], n.value.elts[0], *n.value.elts[2:]], ast.Load()))


def _parse(expr: str) -> ast.expr:
    return ast.parse(expr, mode="eval").body


def _answer_changes(upstream):
    yield "negate_answer", lambda e: ast.UnaryOp(ast.USub(), e)
    yield "double_answer", lambda e: ast.BinOp(ast.Constant(2.0), ast.Mult(), e)
    yield "transpose_answer", lambda e: ast.Call(_parse("np.transpose"), [e], [])
    yield "zeros_answer", lambda e: ast.Call(_parse("np.zeros_like"), [e], [])
    yield "int_answer", lambda e: _parse(f"np.asarray({ast.unparse(e)}).astype(int)")
    if upstream:
        yield "dz_answer", lambda e: ast.Name(upstream, ast.Load())


def _map_answer(ret: ast.Return, k: int, wrap) -> ast.Return:
    if isinstance(ret.value, ast.Tuple):
        elts = list(ret.value.elts)
        elts[k] = wrap(elts[k])
        return ast.Return(ast.Tuple(elts, ast.Load()))
    return ast.Return(wrap(ret.value))


# ---------------------------------------------------------------------------- running mutants


def load(source: str, name: str = "mutant") -> dict:
    """The functions a source defines, executed in a fresh namespace."""
    namespace: dict = {"__name__": name}
    exec(compile(source, f"<{name}>", "exec"), namespace)  # noqa: S102 - our own mutants
    return namespace


def call(fn: Callable, args: tuple, n_results: int):
    """The function's answer as a tuple of arrays, or the exception it raised."""
    try:
        with np.errstate(all="ignore"):
            result = fn(*[np.array(a, copy=True) for a in args])
        values = result if n_results > 1 else (result,)
        if n_results > 1 and (not isinstance(values, (tuple, list)) or len(values) != n_results):
            return TypeError("wrong number of answers")
        return tuple(np.asarray(v) for v in values)
    except Exception as exc:  # noqa: BLE001 - a mutant that raises is a finding
        return exc


def same_gradient(got, want) -> bool:
    """Equal up to float64 round-off, element by element relative to the array's scale."""
    if isinstance(got, Exception) or isinstance(want, Exception):
        return False
    for g, w in zip(got, want):
        if g.shape != w.shape or g.dtype.kind not in "fiub":
            return False
        g = g.astype(np.float64)
        w = w.astype(np.float64)
        if not np.array_equal(np.isfinite(g), np.isfinite(w)):
            return False
        finite = np.isfinite(w)
        scale = float(np.abs(w[finite]).max(initial=0.0))
        if np.any(np.abs(g[finite] - w[finite]) > SAME_GRADIENT_RTOL * scale + 1e-300):
            return False
    return True


# ---------------------------------------------------------------------------- the catalog


@dataclass
class Probe:
    """Inputs for one call: the arguments in parameter order and dz last."""

    name: str
    args: tuple
    hidden: bool = True


class Catalog:
    """The catalog's exercises as plain data: the one place that calls gradcheck's API."""

    def __init__(self, names=None):
        from gradcheck_cli.selection import select_exercises

        self.exercises = {e.name: e for e in select_exercises(None, names)}

    def function_of(self) -> dict[str, str]:
        """exercise name -> the learner's function name."""
        return {name: ex.function for name, ex in self.exercises.items()}

    def n_results(self, exercise: str) -> int:
        return len(self.exercises[exercise].wrt)

    def cases(self, exercise: str, seed: int) -> list[Probe]:
        """The exercise's cases for one seed, as the grader draws them."""
        ex = self.exercises[exercise]
        return [Probe(c.name, tuple(c.inputs[p] for p in ex.params) + (c.dz,), c.hidden)
                for c in ex.generate_cases(seed)]

    def references(self, exercise: str, probe: Probe) -> "Refs":
        """The engine's answers for one call: the gradient and its look-alikes."""
        return Refs(self.exercises[exercise], probe)


class Refs:
    """The true gradient of one call and the engine's other answers, computed on demand."""

    def __init__(self, exercise, probe: Probe):
        from gradcheck_cli.engine import forward_value, vjp

        self._ex, self._vjp, self._forward = exercise, vjp, forward_value
        self.args = tuple(np.asarray(a, dtype=np.float64) for a in probe.args[:-1])
        self.dz = np.asarray(probe.args[-1], dtype=np.float64)
        self.names = tuple(exercise.params)
        self.wrt = tuple(exercise.wrt_indices)
        self._cache: dict = {}

    def _grads(self, dz, wrt) -> tuple[np.ndarray, ...]:
        out = self._vjp(self._ex.forward_fn, self.args, dz, wrt=tuple(wrt))
        return tuple(np.asarray(getattr(g, "data", g), dtype=np.float64) for g in out)

    def _get(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def expected(self) -> tuple[np.ndarray, ...]:
        return self._get("expected", lambda: self._grads(self.dz, self.wrt))

    @property
    def ones_upstream(self) -> tuple[np.ndarray, ...]:
        return self._get("ones", lambda: self._grads(np.ones_like(self.dz), self.wrt))

    @property
    def all_inputs(self) -> tuple[np.ndarray, ...]:
        return self._get("all", lambda: self._grads(self.dz, range(len(self.args))))

    def gradient_at(self, args, dz) -> tuple[np.ndarray, ...]:
        """The gradient at other inputs."""
        return self._grads_at(tuple(np.asarray(a, dtype=np.float64) for a in args),
                              np.asarray(dz, dtype=np.float64))

    def _grads_at(self, args, dz):
        out = self._vjp(self._ex.forward_fn, args, dz, wrt=self.wrt)
        return tuple(np.asarray(getattr(g, "data", g), dtype=np.float64) for g in out)

    @property
    def forward(self) -> np.ndarray:
        return self._get("forward", lambda: np.asarray(
            getattr(v := self._forward(self._ex.forward_fn, self.args), "data", v),
            dtype=np.float64))


# ---------------------------------------------------------------------------- the oracle

# The domain each description promises beyond what random draws usually reach: probes made
# from a drawn case (the last argument is always dz).


def _constant_row(args, axis):
    x = np.array(args[0], dtype=np.float64)
    if x.ndim != 2:
        return None
    if axis == -1:
        x[0, :] = np.round(x[0, 0] * 8) / 8       # a row with zero variance
    else:
        x[:, 0] = np.round(x[0, 0] * 8) / 8       # a column with zero variance
    return (x, *args[1:])


def _shifted(args):
    """Logits near 720, where exp overflows unless the max is subtracted; exact in float32."""
    x = np.round(np.asarray(args[0], dtype=np.float64) * 64) / 64 + 720
    return (x, *args[1:])


PROBES: dict[str, list[tuple[str, Callable]]] = {
    "layernorm": [("constant-row", lambda a: _constant_row(a, -1))],
    "batchnorm": [("constant-column", lambda a: _constant_row(a, 0))],
    "softmax": [("shifted-logits", _shifted)],
    "log_softmax": [("shifted-logits", _shifted)],
    "softmax_cross_entropy": [("shifted-logits", _shifted)],
}


@dataclass
class Verdict:
    """What the oracle says of one mutant on one exercise."""

    exercise: str
    kind: str              # "different" or "equivalent"
    witness: str = ""      # the first probe where it differs


@dataclass
class Oracle:
    """Runs mutants beside the reference on many inputs; recomputes diagnoses on a case."""

    catalog: Catalog
    seeds: range = range(0, 40)
    reference: dict = field(default_factory=lambda: load(SOLUTIONS.read_text(), "solutions"))
    _probes: dict = field(default_factory=dict)
    _answers: dict = field(default_factory=dict)

    def probes(self, exercise: str) -> list[Probe]:
        """The inputs a mutant is judged on: many seeds' cases and the promised stress probes."""
        if exercise not in self._probes:
            probes = []
            for seed in self.seeds:
                for probe in self.catalog.cases(exercise, seed):
                    probes.append(Probe(f"seed {seed} {probe.name}", probe.args))
                    for name, make in PROBES.get(exercise, []):
                        args = make(probe.args)
                        if args is not None:
                            probes.append(Probe(f"seed {seed} {probe.name} {name}", args))
            self._probes[exercise] = probes
        return self._probes[exercise]

    def _reference_answers(self, exercise: str):
        if exercise not in self._answers:
            fn = self.reference[self.catalog.exercises[exercise].function]
            n = self.catalog.n_results(exercise)
            self._answers[exercise] = [call(fn, p.args, n) for p in self.probes(exercise)]
        return self._answers[exercise]

    def judge(self, functions: dict, exercise: str) -> Verdict:
        """``different`` if the mutant's function differs from the reference on some probe."""
        fn = functions[self.catalog.exercises[exercise].function]
        n = self.catalog.n_results(exercise)
        for probe, want in zip(self.probes(exercise), self._reference_answers(exercise)):
            if not same_gradient(call(fn, probe.args, n), want):
                return Verdict(exercise, "different", probe.name)
        return Verdict(exercise, "equivalent")

    # ------------------------------------------------------------------------ diagnosis claims

    def holds(self, ident: str, got, refs: Refs, context: "ClaimContext") -> bool | None:
        """Whether the generic diagnosis ``ident`` is true of this answer (None: not checkable)."""
        claim = CLAIMS.get(ident)
        if claim is None:
            return None
        try:
            return bool(claim(got, refs, context))
        except _NotApplicable:
            return None


@dataclass
class ClaimContext:
    """What a claim may need beyond one answer: the message, the other cases of the exercise."""

    message: str = ""
    raised: bool = False
    others: list = field(default_factory=list)      # (got, refs) of the exercise's other cases
    function: Callable | None = None                # the mutant's function, to probe it


class _NotApplicable(Exception):
    """The claim cannot be judged on this case (e.g. the call raised)."""


def _close(a, b, rtol: float = CLAIM_RTOL) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    if not np.array_equal(np.isfinite(a), np.isfinite(b)):
        return False
    finite = np.isfinite(a)
    scale = max(float(np.abs(b[finite]).max(initial=0.0)),
                float(np.abs(a[finite]).max(initial=0.0)))
    with np.errstate(all="ignore"):
        return bool(np.all(np.abs(a[finite] - b[finite]) <= rtol * scale)
                    and np.array_equal(a[~finite], b[~finite]))


def _answers(got):
    if isinstance(got, Exception):
        raise _NotApplicable
    return got


def _any_output(got, refs, test) -> bool:
    """The claim holds for some output that is wrong (a diagnosis is about a failing output)."""
    got = _answers(got)
    return any(test(g, e, k) for k, (g, e) in enumerate(zip(got, refs.expected))
               if not _close(g, e, SAME_GRADIENT_RTOL))


def _is_scaled(g, e, message: str) -> bool:
    if g.shape != e.shape or not np.all(np.isfinite(g)):
        return False
    e64, g64 = e.astype(np.float64).ravel(), g.astype(np.float64).ravel()
    if e64 @ e64 == 0:
        return False
    c = float(g64 @ e64) / float(e64 @ e64)
    return abs(c - 1) > 1e-6 and _close(g, c * e)


def _sums_not_zero(g, e) -> bool:
    """Along some axis every line of the gradient sums to zero (to rounding) and some line of
    the answer does not (by far more than rounding)."""
    if g.shape != e.shape or not np.all(np.isfinite(g)):
        return False
    e, g = e.astype(np.float64), g.astype(np.float64)
    scale = float(np.abs(e).max(initial=0.0))
    return scale > 0 and any(
        n > 1 and np.abs(e.sum(axis=a)).max() <= 1e-8 * n * scale
        and np.abs(g.sum(axis=a)).max() > 1e-4 * scale
        for a, n in enumerate(e.shape))


def _transposed(g, e, k):
    if e.ndim < 2 or g.shape != e.shape[::-1]:
        return False
    return g.shape != e.shape or _close(np.transpose(g), e)


def _hardcoded(got, refs, ctx) -> bool:
    got = _answers(got)
    for other_got, other_refs in ctx.others:
        if isinstance(other_got, Exception):
            continue
        same_answer = all(np.shape(a) == np.shape(b) and np.array_equal(a, b)
                          for a, b in zip(got, other_got))
        same_gradient = all(_close(a, b) for a, b in zip(refs.expected, other_refs.expected))
        if same_answer and not same_gradient:
            return True
    return False


def _again(ctx: "ClaimContext", refs: Refs, args, dz) -> tuple:
    """The mutant's answers on other inputs (the claim is not checkable if it raises)."""
    if ctx.function is None:
        raise _NotApplicable
    answers = call(ctx.function, (*args, dz), len(refs.wrt))
    if isinstance(answers, Exception):
        raise _NotApplicable
    return answers


def _diagonal(ctx, refs, g, k) -> bool:
    """dz times a wrong local derivative: the answer scales element by element with dz."""
    factors = np.random.default_rng(123).uniform(0.5, 3.0, refs.dz.shape)
    scaled = _again(ctx, refs, refs.args, refs.dz * factors)[k]
    return g.shape == refs.dz.shape and _close(scaled, g * factors)


def _moves(a, seed=99):
    """Moves of its own, small and large, two of each size: the claim is tested, not echoed."""
    rng = np.random.default_rng(seed)
    size = float(np.sqrt(np.mean(np.square(a)))) or 1.0
    return [a + scale * size * rng.standard_normal(a.shape)
            for scale in (0.3, 0.3, 0.7, 0.7, 1.5, 1.5, 3.0, 3.0)]


def _dependence(got, refs, ctx, ignores: bool) -> bool:
    """The answer does not change with the named input while the gradient does (or the
    reverse), checked with moves of its own."""
    name = next((n for n in refs.names if f" {n} changes" in ctx.message), None)
    if name is None:
        raise _NotApplicable
    i = refs.names.index(name)
    got = _answers(got)
    for k, (g, e) in enumerate(zip(got, refs.expected)):
        if _close(g, e, SAME_GRADIENT_RTOL) or g.shape != e.shape:
            continue
        same_answer, same_gradient = True, True
        for moved in _moves(refs.args[i]):
            args = tuple(moved if j == i else a for j, a in enumerate(refs.args))
            same_answer &= _close(_again(ctx, refs, args, refs.dz)[k], g, SAME_GRADIENT_RTOL)
            same_gradient &= _close(refs.gradient_at(args, refs.dz)[k], e, 1e-6)
        if (same_answer and not same_gradient) if ignores else (same_gradient
                                                                 and not same_answer):
            return True
    return False


def _mixes(got, refs, ctx) -> bool:
    """Changing the first row (column) of dz or of an input shaped like the answer changes the
    answer in the other rows, and not the gradient."""
    got = _answers(got)
    for k, (g, e) in enumerate(zip(got, refs.expected)):
        if g.shape != e.shape or _close(g, e, SAME_GRADIENT_RTOL):
            continue
        arrays = [refs.dz, *refs.args]
        for which, array in enumerate(arrays):
            if array.shape != g.shape:
                continue
            for axis in range(g.ndim):
                first = (slice(None),) * axis + (0,)
                rest = (slice(None),) * axis + (slice(1, None),)
                rng = np.random.default_rng(5)
                kept, mixed = True, False
                # The gradient must keep the other slices on every move (up, down, at random,
                # large); the answer change them on some.
                for shift in (rng.uniform(0.5, 1.5, array[first].shape),
                              -rng.uniform(0.5, 1.5, array[first].shape),
                              rng.standard_normal(array[first].shape),
                              3.0 * rng.standard_normal(array[first].shape)):
                    moved = array.copy()
                    moved[first] += shift
                    changed = [moved if i == which else a for i, a in enumerate(arrays)]
                    dz, args = changed[0], tuple(changed[1:])
                    kept &= _close(refs.gradient_at(args, dz)[k][rest], e[rest], 1e-6)
                    mixed |= not _close(_again(ctx, refs, args, dz)[k][rest], g[rest],
                                        SAME_GRADIENT_RTOL)
                if kept and mixed:
                    return True
    return False


def _unbroadcasts_to(g, e) -> bool:
    g = np.asarray(g, dtype=np.float64)
    extra = g.ndim - e.ndim
    if extra < 0:
        return False
    g = g.sum(axis=tuple(range(extra))) if extra else g
    axes = tuple(i for i, n in enumerate(e.shape) if n == 1 and g.shape[i] != 1)
    return _close(g.sum(axis=axes, keepdims=True).reshape(e.shape) if axes else g, e)


def _per_slice(g, e) -> bool:
    """Along some axis, each slice of the answer is the gradient's slice times its own factor,
    and the factors differ."""
    if g.shape != e.shape or g.ndim < 2 or not np.all(np.isfinite(g)):
        return False
    for axis, n in enumerate(g.shape):
        gs = np.moveaxis(g.astype(np.float64), axis, 0).reshape(n, -1)
        es = np.moveaxis(e.astype(np.float64), axis, 0).reshape(n, -1)
        norms = (es * es).sum(axis=1)
        if n < 2 or gs.shape[1] < 2 or (norms == 0).any():
            continue
        c = (gs * es).sum(axis=1) / norms
        if np.ptp(c) > 1e-3 * np.abs(c).max() and _close(gs, es * c[:, None]):
            return True
    return False


def _path_scaled(refs: Refs, g, k) -> bool:
    """The answer is the gradient with the contribution of one node of the forward's graph
    (the part of the gradient that flows back through it) multiplied by some f != 1, 0."""
    from gradcheck_cli.engine.core import backward, topological_order, trace

    index = refs.wrt[k]
    e = refs.expected[k]
    if g.shape != e.shape or not np.all(np.isfinite(g)):
        return False
    out, leaves = trace(refs._ex.forward_fn, refs.args, (index,))
    for node in topological_order(out):
        if node is out or node.prim is None or not node.requires_grad:
            continue
        without = backward(out, refs.dz, frozenset({id(node)})).get(id(leaves[index]))
        without = np.zeros(e.shape) if without is None else np.asarray(
            getattr(without, "data", without), dtype=np.float64)
        part = (e - without).ravel()
        if part @ part <= 1e-6 * float(e.ravel() @ e.ravel()) or _close(part, e.ravel()):
            continue
        f = 1.0 + float((g.astype(np.float64) - e).ravel() @ part) / float(part @ part)
        if abs(f) > 1e-6 and abs(f - 1) > 1e-3 and _close(g, e + (f - 1) * part.reshape(e.shape)):
            return True
    return False


CLAIMS: dict[str, Callable] = {
    "sum_not_zero": lambda got, refs, ctx: _any_output(
        got, refs, lambda g, e, k: _sums_not_zero(g, e)),
    "scaled_per_slice": lambda got, refs, ctx: _any_output(
        got, refs, lambda g, e, k: _per_slice(g, e)),
    "wrong_path_factor": lambda got, refs, ctx: _any_output(
        got, refs, lambda g, e, k: _path_scaled(refs, g, k)),
    "sign_flipped": lambda got, refs, ctx: _any_output(
        got, refs, lambda g, e, k: _close(-g.astype(np.float64), e)),
    "scaled": lambda got, refs, ctx: _any_output(
        got, refs, lambda g, e, k: g.size > 1 and _is_scaled(g, e, ctx.message)),
    "transposed": lambda got, refs, ctx: _any_output(got, refs, _transposed),
    "shape_mismatch": lambda got, refs, ctx: _any_output(
        got, refs, lambda g, e, k: g.shape != e.shape),
    "not_finite": lambda got, refs, ctx: _any_output(
        got, refs, lambda g, e, k: g.shape == e.shape and bool(
            np.any(~np.isfinite(g) & np.isfinite(e)))),
    "missing_upstream_gradient": lambda got, refs, ctx: _any_output(
        got, refs, lambda g, e, k: _close(g, refs.ones_upstream[k])),
    "returned_forward": lambda got, refs, ctx: _any_output(
        got, refs, lambda g, e, k: _close(g, refs.forward)),
    "gradient_of_other_input": lambda got, refs, ctx: _any_output(
        got, refs, lambda g, e, k: any(_close(g, other) for i, other in
                                       enumerate(refs.all_inputs) if i != refs.wrt[k])),
    "zero_gradient": lambda got, refs, ctx: _any_output(
        got, refs, lambda g, e, k: g.size > 0 and not np.any(g)),
    "returned_upstream": lambda got, refs, ctx: _any_output(
        got, refs, lambda g, e, k: _close(g, refs.dz)),
    "integer_result": lambda got, refs, ctx: _any_output(
        got, refs, lambda g, e, k: g.dtype.kind in "iub"),
    "hardcoded": _hardcoded,
    "exception": lambda got, refs, ctx: isinstance(got, Exception),
    "not_linear_in_dz": lambda got, refs, ctx: _any_output(
        got, refs, lambda g, e, k: not _close(_again(ctx, refs, refs.args, 2 * refs.dz)[k],
                                              2 * g.astype(np.float64))),
    "wrong_local_derivative": lambda got, refs, ctx: _any_output(
        got, refs, lambda g, e, k: _diagonal(ctx, refs, g, k)),
    "ignores_input": lambda got, refs, ctx: _dependence(got, refs, ctx, ignores=True),
    "uses_unrelated_input": lambda got, refs, ctx: _dependence(got, refs, ctx, ignores=False),
    "mixes_slices": lambda got, refs, ctx: _mixes(got, refs, ctx),
    "broadcast_not_summed": lambda got, refs, ctx: _any_output(
        got, refs, lambda g, e, k: g.shape != e.shape and _unbroadcasts_to(g, e)),
    "close": lambda got, refs, ctx: _any_output(
        got, refs, lambda g, e, k: g.shape == e.shape and _close(g, e, 1e-2)),
}
