"""How far do correct answers land from the engine's gradient? The measurement behind the tolerance.

For every catalog exercise, on the cases of many seeds plus stress probes (a zero-variance row
for the norms, large logits for the softmax family), computes the gradient several correct
ways and compares each with the engine's:

- ``reference``: examples/solutions.py, vectorised float64;
- ``alternative``: benchmarks/formulations.py, loops / other algebra / other sum orders;
- ``jacobian``: sum_i dz[i] * J[i, :] accumulated one output element at a time (J's rows from
  the engine), the most different association order there is;
- ``reference32``, ``alternative32``: the same code on the inputs cast to float32 (answers in
  float32).

For each answer it records the largest error relative to the gradient's scale, per returned
array: max|got - expected| / max|expected|, in units of the answer dtype's machine epsilon. The
largest such ratio over everything is the factor the tolerance rule needs. Run from the
repository root:

    python benchmarks/tolerance.py [--seeds 100] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "grading"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import formulations  # noqa: E402
import mutation  # noqa: E402

MAX_JACOBIAN_ROWS = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("-e", "--exercise", action="append", default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    started = time.perf_counter()
    catalog = mutation.Catalog(args.exercise)
    reference = mutation.load(mutation.SOLUTIONS.read_text(), "solutions")
    worst: dict = {}
    wrong: list = []
    for name, ex in sorted(catalog.exercises.items()):
        fn = ex.function
        ways = {"reference": reference[fn], "alternative": getattr(formulations, fn)}
        n = catalog.n_results(name)
        for seed in range(args.seeds):
            for probe in stress(catalog.cases(name, seed), name):
                refs = catalog.references(name, probe)
                expected = refs.expected
                answers = {way: mutation.call(f, probe.args, n) for way, f in ways.items()}
                answers.update({f"{way}32": mutation.call(f, as_float32(probe.args), n)
                                for way, f in ways.items()})
                if refs.dz.size <= MAX_JACOBIAN_ROWS:
                    answers["jacobian"] = jacobian_answer(refs)
                kind = probe.name.split(" ", 1)[1] if " " in probe.name else "random"
                for way, got in answers.items():
                    if isinstance(got, Exception):
                        wrong.append((name, way, seed, probe.name, repr(got)))
                        continue
                    for k, (g, e) in enumerate(zip(got, expected)):
                        ratio, dtype = error_ratio(g, e)
                        if way.endswith("32") and dtype != "float32":
                            dtype = f"{dtype} from float32"    # float32 work, answer upcast
                        if ratio is None:
                            wrong.append((name, way, seed, probe.name, f"output {k}: {dtype}"))
                            continue
                        key = (name, way, k, kind)
                        if key not in worst or ratio > worst[key]["ratio"]:
                            worst[key] = {"ratio": ratio, "dtype": dtype, "seed": seed,
                                          "case": probe.name}
    report(worst, wrong, args, time.perf_counter() - started)


# Saturating logits (a nearly one-hot softmax): their gradient is ill-conditioned, measured to
# show why the spec's stress cases shift logits instead of scaling them.
def _saturated(args):
    return (np.asarray(args[0], dtype=np.float64) * 60, *args[1:])


SATURATED = {name: [("saturated-logits", _saturated)]
             for name in ("softmax", "log_softmax", "softmax_cross_entropy")}


def stress(probes, exercise):
    """The seed's cases and, for some exercises, the probes their descriptions promise."""
    for probe in probes:
        yield probe
        for label, make in mutation.PROBES.get(exercise, []) + SATURATED.get(exercise, []):
            args = make(probe.args)
            if args is not None:
                yield mutation.Probe(f"{probe.name} {label}", args)


def as_float32(args):
    return tuple(np.asarray(a).astype(np.float32) for a in args)


def jacobian_answer(refs):
    """sum_i dz[i] J[i, :], one output element at a time, in float64."""
    out = [np.zeros_like(e) for e in refs.expected]
    flat = refs.dz.ravel()
    for i in range(flat.size):
        onehot = np.zeros_like(flat)
        onehot[i] = 1.0
        rows = refs._grads(onehot.reshape(refs.dz.shape), refs.wrt)
        for acc, row in zip(out, rows):
            acc += flat[i] * row
    return tuple(out)


def error_ratio(got, expected):
    """max|got - expected| / (eps(dtype) * max|expected|), and the dtype judged."""
    got = np.asarray(got)
    if got.shape != expected.shape or got.dtype.kind != "f":
        return None, str(got.dtype)
    eps = float(np.finfo(got.dtype).eps)
    err = float(np.max(np.abs(got.astype(np.float64) - expected), initial=0.0))
    scale = float(np.max(np.abs(expected), initial=0.0))
    if scale == 0.0:
        return (0.0 if err == 0.0 else float("inf")), str(got.dtype)
    return err / (eps * scale), str(got.dtype)


def report(worst, wrong, args, duration) -> None:
    by_dtype: dict = defaultdict(float)
    rows = []
    for (name, way, k, kind), w in sorted(worst.items()):
        key = f"{w['dtype']} {kind}"
        by_dtype[key] = max(by_dtype[key], w["ratio"])
        rows.append({"exercise": name, "way": way, "output": k, "inputs": kind, **w,
                     "ratio": round(w["ratio"], 2)})
    print(f"{'exercise':22} {'way':13} out {'inputs':16} {'dtype':20} "
          "max err / (eps * max|expected|)")
    for r in rows:
        print(f"{r['exercise']:22} {r['way']:13} {r['output']:3} {r['inputs']:16} "
              f"{r['dtype']:20} {r['ratio']:12.2f}   ({r['case']}, seed {r['seed']})")
    print("largest ratio per dtype and inputs:")
    for key, value in sorted(by_dtype.items()):
        print(f"    {key:40} {value:14.2f}")
    if wrong:
        print(f"{len(wrong)} answers were not comparable or off by more than 1e6 eps:")
        for w in wrong[:20]:
            print("   ", w)
    print(f"took {duration:.0f} s")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"seeds": args.seeds, "largest_ratio": dict(by_dtype),
                                        "rows": rows, "not_comparable": wrong[:200]},
                                       indent=1) + "\n")


if __name__ == "__main__":
    main()
