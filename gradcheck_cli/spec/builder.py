"""Building an Exercise from a validated spec file.

``build_exercise`` runs after the schema check (``validator.validate``) and does what a schema
cannot: parses the signature and the formulas and ties inputs, parameters, shapes and dims
together, each problem with its file and line. It evaluates nothing: ``gradcheck validate``
(``authoring``) draws the cases for several seeds and makes the engine, finite differences and
the authored mistakes agree on them before learners see the exercise.
"""

from __future__ import annotations

import numpy as np

from ..errors import SpecError
from ..tolerance import Tolerance
from .cases import (MAX_CASE_ELEMENTS, CaseSpec, LiteralInput, RandomInput,
                    distinct_assignment)
from .distributions import DISTRIBUTIONS
from .exercise import Exercise, Kinks, Mistake
from .expression import parse_expression, parse_signature
from .schema import default_of, spec_schema
from .validator import suggest, validate
from .yamlload import YMap, YSeq



class _Builder:
    """Reads one validated spec mapping into an Exercise; every problem names file and line."""

    def __init__(self, data: YMap, file: str | None):
        self.data = data
        self.file = file

    def fail(self, message: str, line: int | None, hint: str | None = None) -> SpecError:
        return SpecError(message, file=self.file, line=line, hint=hint)

    def get(self, key: str):
        return self.data[key] if key in self.data else default_of(key)

    def build(self) -> Exercise:
        data = self.data
        self.style = style = self.get("style")
        function, arguments = parse_signature(data["function"], file=self.file,
                                              line=data.value_line("function"),
                                              least=2 if style == "simple" else 1)
        backward, backward_args = self.backward(style)
        if style == "simple":
            named, dz_name = arguments[:-1], arguments[-1]
        else:
            named, dz_name = arguments, (backward_args[0] if style == "pair" else "dloss")
        param_values = self.param_values(named, dz_name)
        params = tuple(name for name in named if name not in param_values)
        if not params:
            raise self.fail(f"`{data['function']}` takes no array input: every parameter is "
                            "under `params`", data.value_line("function"),
                            "an exercise differentiates at least one array input")
        forward = parse_expression(
            data["forward"], params, what="forward", file=self.file,
            line=data.value_line("forward"), single=True,
            reserved={dz_name: f"the forward cannot use '{dz_name}', the upstream gradient",
                      **{name: f"the forward cannot use '{name}', a parameter that is not an "
                               "array; write its value into the formula" for name in param_values}})
        wrt = self.wrt(params, dz_name)
        tolerance = self.section("tolerance", Tolerance)
        kinks = self.section("kinks", Kinks)
        case_specs = self.case_specs(params, dz_name)
        mistakes = self.mistakes(params, dz_name, wrt)
        return Exercise(
            name=data["name"], title=data["title"], description=self.get("description"),
            function=function, signature=data["function"].strip(), params=params,
            dz_name=dz_name, wrt=wrt, points=float(self.get("points")),
            scoring=self.get("scoring"), group=data.get("group"),
            tags=tuple(self.get("tags")), tolerance=tolerance, hints=tuple(self.get("hints")),
            forbidden_imports=tuple(self.get("forbidden_imports")), kinks=kinks,
            forward=forward, mistakes=mistakes, case_specs=case_specs, source_file=self.file,
            line=data.key_line("name"), style=style, backward=backward,
            backward_signature=data["backward"].strip() if backward else None,
            param_values=param_values, arguments=tuple(arguments))

    def backward(self, style: str) -> tuple[str | None, tuple[str, ...]]:
        """The pair style's ``backward: name(dout, cache)``: its name and parameters."""
        data = self.data
        if style != "pair":
            if "backward" in data:
                raise self.fail(f"`backward` belongs to the pair style; this exercise's style "
                                f"is {style}", data.key_line("backward"),
                                "add `style: pair`, or drop `backward`")
            return None, ()
        if "backward" not in data:
            raise self.fail("the pair style needs `backward`, the function that takes the "
                            "upstream gradient and the cache", data.key_line("style"),
                            "e.g. `backward: conv_backward(dout, cache)`")
        name, args = parse_signature(data["backward"], file=self.file,
                                     line=data.value_line("backward"), what="backward",
                                     least=1)
        return name, args

    def param_values(self, named: tuple[str, ...], dz_name: str) -> dict:
        """``params:``: values that are not arrays, each named in the function's signature."""
        given = self.data.get("params", {})
        for key in given:
            if key == dz_name or key not in named:
                close = suggest(key, named)
                guess = f" — did you mean '{close}'?" if close else ""
                raise self.fail(f"params: '{key}' is not a parameter of "
                                f"`{self.data['function']}`{guess}", given.key_line(key),
                                "the parameters are " + ", ".join(named))
        return {key: _plain(value) for key, value in given.items()}

    def section(self, key: str, cls):
        """``cls`` built from the spec's section ``key``: the fields the format has (a field
        the file cannot set, such as a tolerance's case precision, keeps its own default)."""
        given = self.data.get(key, {})
        settable = spec_schema()["properties"][key]["properties"]
        values = {name: given.get(name, default_of(key, name))
                  for name in cls.__dataclass_fields__ if name in settable}
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})

    def wrt(self, params: tuple[str, ...], dz_name: str) -> tuple[str, ...]:
        data = self.data
        if "wrt" not in data:
            return params[:1]
        names = [data["wrt"]] if isinstance(data["wrt"], str) else list(data["wrt"])
        for i, name in enumerate(names):
            self.check_input_name(name, params, dz_name, "wrt", _line_of(data, "wrt", i))
        return tuple(names)

    def check_input_name(self, name: str, params: tuple[str, ...], dz_name: str, what: str,
                         line: int | None) -> None:
        if name in params:
            return
        if name == dz_name:
            raise self.fail(f"{what}: '{name}' is the upstream gradient (the last parameter "
                            "of `function`), not an input", line,
                            "name one of the inputs: " + ", ".join(params))
        close = suggest(name, params)
        guess = f" — did you mean '{close}'?" if close else ""
        raise self.fail(f"{what}: '{name}' is not an input of `{self.data['function']}`"
                        f"{guess}", line, "the inputs are " + ", ".join(params))

    # -- cases

    def case_specs(self, params: tuple[str, ...], dz_name: str) -> tuple[CaseSpec, ...]:
        cases = self.data["cases"]
        specs = []
        seen: dict[str, int | None] = {}
        for index, raw in enumerate(cases):
            spec = self.case_spec(raw, index, params, dz_name)
            for name in spec.case_names():
                if name in seen:
                    raise self.fail(f"case name '{name}' is used twice (also at line "
                                    f"{seen[name]})", spec.line, "give each case its own name")
                seen[name] = spec.line
            specs.append(spec)
        return tuple(self.whole_literals(specs))

    def whole_literals(self, specs: list[CaseSpec]) -> list[CaseSpec]:
        """An input drawn as integers in some case (class labels) is integers where a case
        writes it out too: a worked example's ``y: [2, 0, 1]`` indexes an array, as the
        drawn labels do, instead of arriving as floats."""
        drawn: dict[str, str] = {}     # param: the first case that draws it as integers
        for spec in specs:
            for param, given in spec.inputs.items():
                if isinstance(given, RandomInput) and DISTRIBUTIONS[given.dist].integer:
                    drawn.setdefault(param, spec.name)
        for spec in specs:
            for param, other in drawn.items():
                given = spec.inputs.get(param)
                if not isinstance(given, LiteralInput):
                    continue
                whole = given.value.astype(np.int64)
                if not np.array_equal(whole, given.value):
                    raise self.fail(f"case '{spec.name}': '{param}' holds a number that is not "
                                    f"whole, but case '{other}' draws it as integers", given.line,
                                    f"write whole numbers, e.g. `{param}: [2, 0, 1]`")
                whole.setflags(write=False)
                spec.inputs[param] = LiteralInput(whole, given.line)
        return specs

    def case_spec(self, raw: YMap, index: int, params: tuple[str, ...],
                  dz_name: str) -> CaseSpec:
        line = raw.line
        name = raw.get("name", f"case-{index + 1}")
        dims = {}
        for dim, value in raw.get("dims", {}).items():
            dims[dim] = self.size_range(value, raw["dims"].value_line(dim), f"dims.{dim}")
        distinct = self.distinct(raw, dims)
        inputs_raw: YMap = raw["inputs"]
        for key in inputs_raw:
            if key not in params and key != dz_name:
                close = suggest(key, (*params, dz_name))
                guess = f" — did you mean '{close}'?" if close else ""
                raise self.fail(f"case '{name}': '{key}' is not a parameter of "
                                f"`{self.data['function']}`{guess}", inputs_raw.key_line(key),
                                "the parameters are " + ", ".join((*params, dz_name)))
        inputs = {}
        for param in params:
            if param not in inputs_raw:
                raise self.fail(f"case '{name}': no value for input '{param}'", inputs_raw.line,
                                f"add `{param}: [...]` or `{param}: {{shape: [3, 4]}}` "
                                "under inputs")
            inputs[param] = self.input(inputs_raw[param], inputs_raw.value_line(param), dims,
                                       name, param)
        dz_line = inputs_raw.value_line(dz_name) if dz_name in inputs_raw else None
        if self.style == "loss":
            if dz_name in inputs_raw:
                raise self.fail(f"case '{name}': a loss function's upstream gradient is 1; "
                                f"drop '{dz_name}'", dz_line, "the learner returns dloss/dx")
            dz = LiteralInput(_ONE)
        else:
            dz = self.gradient_input(inputs_raw.get(dz_name, "random"), dz_line, name, dz_name)
        sizes = self.sizes(raw, dims, name)
        spec = CaseSpec(name=name, hidden=raw.get("hidden", False),
                        repeat=len(sizes) or raw.get("repeat", 1), dims=dims,
                        distinct=distinct, inputs=inputs, dz=dz, index=index, line=line,
                        dz_line=dz_line, sizes=sizes)
        if spec.max_elements() > MAX_CASE_ELEMENTS:
            sizes = ", ".join(f"{k}: up to {v.max_size(dims):,}" for k, v in inputs.items())
            raise self.fail(f"case '{name}': the inputs can hold {spec.max_elements():,} "
                            f"numbers ({sizes}); the limit is {MAX_CASE_ELEMENTS:,} per case",
                            line, "use smaller shapes: gradients are checked just as well on "
                                  "small arrays")
        return spec

    def sizes(self, raw: YMap, dims: dict, case: str) -> tuple[dict[str, tuple[int, int]], ...]:
        """The ``sizes:`` of a case: per entry, dims fixed (or narrowed) within their ranges."""
        if "sizes" not in raw:
            return ()
        if "repeat" in raw:
            raise self.fail(f"case '{case}': `sizes` already makes one case per entry; drop "
                            "`repeat`", raw.key_line("repeat"), "keep `sizes` or `repeat`")
        out = []
        for i, entry in enumerate(raw["sizes"]):
            line = raw["sizes"].item_line(i)
            sized = {}
            for dim, value in entry.items():
                if dim not in dims:
                    raise self.fail(f"case '{case}': sizes: '{dim}' is not one of the case's "
                                    "dims", line, "declare it under `dims:` with the range "
                                                  "the sizes lie in")
                low, high = self.size_range(value, line, f"sizes.{dim}")
                if low < dims[dim][0] or high > dims[dim][1]:
                    raise self.fail(f"case '{case}': sizes: {dim} {value} is outside its "
                                    f"range {dims[dim][0]}..{dims[dim][1]}", line,
                                    "widen the range under `dims:`")
                sized[dim] = (low, high)
            out.append(sized)
        return tuple(out)

    def size_range(self, value, line: int | None, what: str) -> tuple[int, int]:
        if isinstance(value, int):
            return value, value
        low, high = (int(part) for part in value.split(".."))
        if low < 1 or low > high:
            raise self.fail(f"{what}: the range {value} is empty or starts below 1", line,
                            "write LOW..HIGH with 1 <= LOW <= HIGH, e.g. 2..6")
        return low, high

    def distinct(self, raw: YMap, dims: dict) -> tuple[tuple[str, ...], ...]:
        entries = raw.get("distinct", [])
        if not entries:
            return ()
        line = raw.value_line("distinct")
        if all(isinstance(e, str) for e in entries):
            groups = [list(entries)]
        elif all(isinstance(e, list) for e in entries):
            groups = [list(e) for e in entries]
        else:
            raise self.fail("distinct: write one list of dim names, or a list of such lists, "
                            "not a mix", line, "e.g. `distinct: [m, k, n]`")
        for group in groups:
            for name in group:
                if name not in dims:
                    close = suggest(name, dims)
                    guess = f" — did you mean '{close}'?" if close else ""
                    raise self.fail(f"distinct: '{name}' is not one of the case's dims{guess}",
                                    line, "declare it under `dims:`, e.g. `dims: {m: 2..5}`")
            if len(set(group)) < 2:
                raise self.fail("distinct: a group needs at least two different dims", line,
                                "e.g. `distinct: [m, k]`")
        groups_t = tuple(tuple(g) for g in groups)
        if distinct_assignment(dims, groups_t) is None:
            raise self.fail("distinct: these dims cannot all differ within their ranges", line,
                            "widen the ranges in `dims`")
        return groups_t

    def input(self, value, line: int | None, dims: dict, case: str, param: str):
        if isinstance(value, dict):
            if "shape" not in value:
                raise self.fail(f"case '{case}': random input '{param}' needs a shape", line,
                                f"write e.g. `{param}: {{shape: [3, 4]}}`")
            return self.generator(value, line, dims, case, param, with_shape=True)
        if isinstance(value, str):
            raise self.fail(f"case '{case}': input '{param}' needs a shape to be random", line,
                            f"write `{param}: {{shape: [3, 4]}}`; only the upstream gradient "
                            "can be just `random`")
        return LiteralInput(self.literal(value, line, case, param), line)

    def gradient_input(self, value, line: int | None, case: str, dz_name: str):
        if isinstance(value, str):  # "random", checked by the schema
            return RandomInput(shape=None, line=line)
        if isinstance(value, dict):
            if "shape" in value:
                raise self.fail(f"case '{case}': {dz_name} always has the forward output's "
                                "shape; drop `shape`", value.key_line("shape"),
                                f"write e.g. `{dz_name}: {{dist: uniform}}`")
            return self.generator(value, line, {}, case, dz_name, with_shape=False)
        return LiteralInput(self.literal(value, line, case, dz_name), line)

    def literal(self, value, line: int | None, case: str, param: str) -> np.ndarray:
        try:
            array = np.asarray(value, dtype=np.float64)
        except ValueError:
            raise self.fail(f"case '{case}': '{param}' is a ragged list (its rows have "
                            "different lengths)", line, "give every row the same length")
        if array.size == 0:
            raise self.fail(f"case '{case}': '{param}' is empty", line, "give it some numbers")
        if not np.all(np.isfinite(array)):
            raise self.fail(f"case '{case}': '{param}' holds inf or nan", line,
                            "use finite numbers")
        array.setflags(write=False)
        return array

    def generator(self, raw: YMap, line: int | None, dims: dict, case: str, param: str,
                  with_shape: bool) -> RandomInput:
        dist_name = raw.get("dist", "normal")
        dist = DISTRIBUTIONS[dist_name]
        for key in raw:
            if key not in ("shape", "dist", "constant_along") and key not in dist.defaults:
                raise self.fail(f"case '{case}': '{key}' does not apply to dist {dist_name}",
                                raw.key_line(key), f"dist {dist_name} takes "
                                + ", ".join(dist.defaults))
        params = {k: raw.get(k, v) for k, v in dist.defaults.items()}
        problem = dist.check(params)
        if problem:
            raise self.fail(f"case '{case}': input '{param}': {problem}", line,
                            f"dist {dist_name}: {dist.description}")
        shape = None
        if with_shape:
            shape = tuple(self.shape_entry(entry, raw["shape"].item_line(i), dims, case, param)
                          for i, entry in enumerate(raw["shape"]))
        along = raw.get("constant_along")
        if along is not None and shape is not None and not -len(shape) <= along < len(shape):
            raise self.fail(f"case '{case}': input '{param}': constant_along {along} is not an "
                            f"axis of its {len(shape)}-d shape", raw.value_line("constant_along"),
                            "count axes from 0, or from -1 for the last")
        return RandomInput(shape=shape, dist=dist_name, params=params, line=line,
                           constant_along=along)

    def shape_entry(self, entry, line: int | None, dims: dict, case: str, param: str):
        if isinstance(entry, int):
            return entry
        if ".." in entry:
            return self.size_range(entry, line, f"case '{case}': shape of '{param}'")
        if entry not in dims:
            close = suggest(entry, dims)
            guess = f" — did you mean '{close}'?" if close else ""
            raise self.fail(f"case '{case}': shape of '{param}' uses '{entry}', which is not "
                            f"one of the case's dims{guess}", line,
                            f"declare it: `dims: {{{entry}: 2..6}}`, or write a size or a "
                            "range like 2..6")
        return entry

    # -- mistakes

    def mistakes(self, params: tuple[str, ...], dz_name: str,
                 wrt: tuple[str, ...]) -> tuple[Mistake, ...]:
        raw_list = self.data.get("mistakes", YSeq(self.data.line))
        out: list[Mistake] = []
        for raw in raw_list:
            if any(m.id == raw["id"] for m in out):
                raise self.fail(f"mistakes: id '{raw['id']}' is used twice", raw.key_line("id"),
                                "give each mistake its own id")
            gradient = parse_expression(raw["gradient"], (*params, dz_name),
                                        what=f"mistake '{raw['id']}'", file=self.file,
                                        line=raw.value_line("gradient"), single=True)
            if "wrt" in raw:
                name = raw["wrt"]
                self.check_input_name(name, params, dz_name, f"mistake '{raw['id']}': wrt",
                                      raw.value_line("wrt"))
                if name not in wrt:
                    raise self.fail(f"mistake '{raw['id']}': the learner does not return the "
                                    f"gradient of '{name}'", raw.value_line("wrt"),
                                    "use one of the exercise's wrt: " + ", ".join(wrt))
            elif len(wrt) > 1:
                raise self.fail(f"mistake '{raw['id']}': say which gradient it is about",
                                raw.line, "add `wrt: NAME` (one of " + ", ".join(wrt) + ")")
            else:
                name = wrt[0]
            message = raw.get("message") or (
                f"The result matches a known mistake: {raw['id'].replace('_', ' ')}.")
            out.append(Mistake(raw["id"], gradient, raw.get("hint"), message, name, dz_name,
                               raw.line))
        return tuple(out)


_ONE = np.ones(())
_ONE.setflags(write=False)


def _plain(value):
    """A loaded YAML value as plain JSON data (dicts, lists, numbers, strings, booleans)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _line_of(data: YMap, key: str, index: int) -> int:
    value = data[key]
    return value.item_line(index) if isinstance(value, YSeq) else data.value_line(key)


def build_exercise(data: YMap, file: str | None = None) -> Exercise:
    """Validate a loaded spec against the schema and build its Exercise.

    Nothing is evaluated here: drawing the cases and making the engine, finite differences and
    the authored mistakes agree on them is ``gradcheck validate``'s job (``authoring``).
    """
    validate(data, file)
    return _Builder(data, file).build()
