"""Mutation benchmark: how gradcheck's verdicts and diagnoses hold up on thousands of wrong gradients.

Generates every single-point mutant of examples/solutions.py (tests/grading/mutation.py says
which changes), judges each one on each exercise it touches WITHOUT the grader (run beside the
reference on many inputs: ``different`` or ``equivalent``), then grades every mutant with the
installed ``gradcheck grade --format json`` on every seed and reports:

- the kill rate per seed (mutants that compute a different gradient and do not pass);
- every mutant that computes a different gradient and passes on some seed (a survivor), every
  equivalent mutant that fails on some seed, and the verdicts that depend on the seed;
- the share of failed (not raised) mutants with no diagnosis, and with only a symptom;
- every generic diagnosis the grader names that does not hold on a case it claims, checked by
  recomputing it (a sign flip must be minus the gradient on that very case, and so on).

Run from the repository root (a full run grades ~2,500 mutants x 20 seeds; --sample K keeps
every K-th mutant):

    python benchmarks/mutants.py [--seeds 20] [--sample 1] [--jobs 2] [-e NAME]... [--out FILE]
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "grading"))

import mutation  # noqa: E402  (the generator and the oracle live with the tests)

# Diagnoses that only say what happened, not which mistake it was.
SYMPTOMS = {"exception", "shape_mismatch", "not_finite", "wrong_type", "timeout",
            "memory_limit", "crashed"}
# Diagnoses that do not explain a failure (information and warnings).
NOT_AN_EXPLANATION = {"mutated_input", "at_kink"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="grade with seeds 0..N-1")
    parser.add_argument("--sample", type=int, default=1, help="keep every K-th mutant")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("-e", "--exercise", action="append", default=None)
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    parser.add_argument("--work", type=Path, default=None, help="keep mutants and JSONs here")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the JSON results already in --work (analyse again only)")
    args = parser.parse_args()

    started = time.perf_counter()
    catalog = mutation.Catalog()
    exercise_of = {fn: name for name, fn in catalog.function_of().items()}
    chosen = set(args.exercise or exercise_of.values())
    users = mutation.users()
    mutants = mutation.generate()[::args.sample]
    oracle = mutation.Oracle(catalog)
    pairs = {}                                   # (mutant id, exercise) -> Verdict
    by_id = {m.id: m for m in mutants}
    for m in mutants:
        exercises = sorted(exercise_of[f] for f in users.get(m.function, ())
                           if f in exercise_of and exercise_of[f] in chosen)
        if not exercises:
            continue
        functions = mutation.load(m.source)
        for exercise in exercises:
            pairs[m.id, exercise] = oracle.judge(functions, exercise)
    print(f"{len(by_id)} mutants, {len(pairs)} (mutant, exercise) pairs judged in "
          f"{time.perf_counter() - started:.0f} s: "
          f"{dict(collections.Counter(v.kind for v in pairs.values()))}", flush=True)

    work = args.work or Path(tempfile.mkdtemp(prefix="gradcheck-mutants-"))
    graded = grade_all(by_id, pairs, range(args.seeds), work, args.jobs, args.reuse)
    summary = analyse(by_id, pairs, graded, catalog, range(args.seeds))
    summary["duration_s"] = round(time.perf_counter() - started, 1)
    print_summary(summary)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=1) + "\n")
        print(f"results written to {args.out}")


def grade_all(by_id, pairs, seeds, work: Path, jobs: int, reuse: bool = False) -> dict:
    """(mutant id, exercise, seed) -> the exercise's JSON result, graded by `gradcheck grade`."""
    per_exercise = collections.defaultdict(list)
    for (mid, exercise) in pairs:
        per_exercise[exercise].append(mid)
    results = {}
    for exercise, ids in sorted(per_exercise.items()):
        folder = work / "mutants" / exercise
        folder.mkdir(parents=True, exist_ok=True)
        for mid in ids:
            (folder / f"{mid}.py").write_text(by_id[mid].source)
        t0 = time.perf_counter()
        for seed in seeds:
            out = work / "json" / exercise / str(seed)
            if reuse and all((out / f"{mid}.json").is_file() for mid in ids):
                results.update({(mid, exercise, seed): json.loads(
                    (out / f"{mid}.json").read_text())["exercises"][0] for mid in ids})
                continue
            subprocess.run([sys.executable, "-m", "gradcheck_cli", "grade", str(folder),
                            "-e", exercise, "--seed", str(seed), "--json-dir", str(out),
                            "--show-hidden", "--jobs", str(jobs), "--timeout", "5"],
                           check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           cwd=work)
            for mid in ids:
                doc = json.loads((out / f"{mid}.json").read_text())
                (result,) = doc["exercises"]
                results[mid, exercise, seed] = result
        print(f"  {exercise}: {len(ids)} mutants x {len(seeds)} seeds in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    return results


def analyse(by_id, pairs, graded, catalog, seeds) -> dict:
    """The measurements of the module docstring, with the offending mutants listed."""
    different = [p for p, v in pairs.items() if v.kind == "different"]
    equivalent = [p for p, v in pairs.items() if v.kind == "equivalent"]
    kill_rate = {}
    for seed in seeds:
        killed = sum(graded[mid, ex, seed]["status"] != "passed" for mid, ex in different)
        kill_rate[seed] = round(killed / max(len(different), 1), 5)
    survivors = [describe(by_id, pairs, p, [s for s in seeds
                                            if graded[(*p, s)]["status"] == "passed"])
                 for p in different]
    survivors = [s for s in survivors if s["seeds"]]
    false_failures = [describe(by_id, pairs, p, [s for s in seeds
                                                 if graded[(*p, s)]["status"] != "passed"])
                      for p in equivalent]
    false_failures = [s for s in false_failures if s["seeds"]]
    seed_dependent = [s for s in survivors + false_failures if len(s["seeds"]) < len(seeds)]

    failed = [(p, s) for p in different for s in seeds if graded[(*p, s)]["status"] == "failed"]
    killed = [(p, s) for p in different for s in seeds if graded[(*p, s)]["status"] != "passed"]
    unnamed = [(p, s) for p, s in failed if not explanations(graded[(*p, s)])]
    symptom_only = [(p, s) for p, s in killed
                    if explanations(graded[(*p, s)]) and set(explanations(graded[(*p, s)]))
                    <= SYMPTOMS]
    violations, checked = check_claims(by_id, graded, catalog, killed)
    unnamed_examples = collections.Counter(by_id[p[0]].operator for p, _ in unnamed)
    return {
        "mutants": len(by_id), "pairs": len(pairs),
        "different": len(different), "equivalent": len(equivalent),
        "seeds": list(seeds),
        "kill_rate_per_seed": kill_rate,
        "survivors": survivors,
        "equivalent_failed": false_failures,
        "seed_dependent": len(seed_dependent),
        "failed_runs": len(failed), "killed_runs": len(killed),
        "no_diagnosis_share": round(len(unnamed) / max(len(failed), 1), 4),
        "symptom_only_share": round(len(symptom_only) / max(len(killed), 1), 4),
        "no_diagnosis_by_operator": dict(unnamed_examples.most_common()),
        "no_diagnosis_by_exercise": dict(collections.Counter(
            p[1] for p, _ in unnamed).most_common()),
        "no_diagnosis_examples": sample_of(by_id, pairs, unnamed, 60),
        "diagnosis_counts": dict(collections.Counter(
            d for p, s in killed for d in explanations(graded[(*p, s)])).most_common()),
        "claims_checked": checked,
        "claim_violations": len(violations),
        "claim_violations_by_id": dict(collections.Counter(v["id"] for v in violations)),
        "claim_violation_examples": violations[:400],
    }


def explanations(result: dict) -> list[str]:
    return [d["id"] for d in result["diagnoses"] if d["id"] not in NOT_AN_EXPLANATION]


def describe(by_id, pairs, pair, seeds) -> dict:
    m = by_id[pair[0]]
    return {"mutant": m.id, "exercise": pair[1], "line": m.line, "before": m.before,
            "after": m.after, "witness": pairs[pair].witness, "seeds": seeds}


def sample_of(by_id, pairs, runs, n) -> list[dict]:
    seen, out = set(), []
    for p, s in runs:
        if p in seen:
            continue
        seen.add(p)
        out.append(describe(by_id, pairs, p, [s]))
        if len(out) >= n:
            break
    return out


def check_claims(by_id, graded, catalog, killed) -> tuple[list[dict], int]:
    """Recompute every generic diagnosis on each case it claims; list those that do not hold.

    An exercise-level diagnosis claims every failing case, or the cases it lists (``cases``);
    a case-level one claims its case.
    """
    oracle = mutation.Oracle(catalog)
    refs_cache: dict = {}
    violations, checked = [], 0
    for (mid, exercise), seed in killed:
        result = graded[mid, exercise, seed]
        ids = [d for d in result["diagnoses"] if d["id"] in mutation.CLAIMS]
        case_ids = [(c, d) for c in result["cases"] for d in c["diagnoses"]
                    if d["id"] in mutation.CLAIMS]
        if not ids and not case_ids:
            continue
        if (exercise, seed) not in refs_cache:
            probes = catalog.cases(exercise, seed)
            refs_cache[exercise, seed] = [(p, catalog.references(exercise, p)) for p in probes]
        cases = refs_cache[exercise, seed]
        functions = mutation.load(by_id[mid].source)
        fn = functions[catalog.exercises[exercise].function]
        n = catalog.n_results(exercise)
        answers = [mutation.call(fn, p.args, n) for p, _ in cases]
        status = {c["name"]: c["status"] for c in result["cases"]}
        by_name = {p.name: k for k, (p, _) in enumerate(cases)}
        others = list(zip(answers, (r for _, r in cases)))

        def verdict(ident, name, message):
            k = by_name[name]
            ctx = mutation.ClaimContext(message, others=others[:k] + others[k + 1:],
                                        function=fn)
            return oracle.holds(ident, answers[k], cases[k][1], ctx)

        for d in ids:
            claimed = d.get("cases") or [n for n, s in status.items() if s != "passed"]
            for name in claimed:
                checked += 1
                if verdict(d["id"], name, d["message"]) is False:
                    violations.append({"mutant": mid, "exercise": exercise, "seed": seed,
                                       "id": d["id"], "case": name, "level": "exercise",
                                       "message": d["message"][:200]})
        for c, d in case_ids:
            checked += 1
            if verdict(d["id"], c["name"], d["message"]) is False:
                violations.append({"mutant": mid, "exercise": exercise, "seed": seed,
                                   "id": d["id"], "case": c["name"], "level": "case",
                                   "message": d["message"][:200]})
    return violations, checked


def print_summary(s: dict) -> None:
    rates = list(s["kill_rate_per_seed"].values())
    print(f"mutants {s['mutants']}: {s['different']} pairs compute a different gradient, "
          f"{s['equivalent']} the same")
    print(f"kill rate per seed: min {min(rates):.4f}, max {max(rates):.4f}")
    print(f"survivors (different, passed on some seed): {len(s['survivors'])}")
    for v in s["survivors"][:15]:
        print(f"    {v['exercise']:22} {v['before']!r} -> {v['after']!r} seeds {v['seeds']}")
    print(f"equivalent but failed on some seed: {len(s['equivalent_failed'])}")
    for v in s["equivalent_failed"][:15]:
        print(f"    {v['exercise']:22} {v['before']!r} -> {v['after']!r} seeds {v['seeds']}")
    print(f"verdicts that depend on the seed: {s['seed_dependent']}")
    print(f"failed with no diagnosis: {s['no_diagnosis_share']:.1%} of {s['failed_runs']} "
          f"failed runs; only a symptom: {s['symptom_only_share']:.1%} of {s['killed_runs']} "
          "killed runs")
    print(f"diagnoses that do not hold on a case they claim: {s['claim_violations']} of "
          f"{s['claims_checked']} checked {s['claim_violations_by_id']}")
    print(f"took {s['duration_s']} s")


if __name__ == "__main__":
    main()
