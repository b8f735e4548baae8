"""A sample of the mutation corpus, graded as learners' files: the verdict must not depend on the
seed, and what the grader says must be true.

The full corpus (every single-point mutant of examples/solutions.py, 20 seeds) is
benchmarks/mutants.py; this sample keeps the mutants whose verdict depended on the seed before
the stress cases (an eps changed or moved, a pool right for even widths only, a softmax that
does not subtract the max), and a spread of the others.
"""

from __future__ import annotations

import pytest

import mutation
from gradcheck_cli import batch
from gradcheck_cli.grading.runner import RunOptions

SEEDS = (0, 11)
# (function, source before, source after) of mutants that passed on some seeds before.
SEED_DEPENDENT = [
    ("EPS", "1e-05", "2e-05"),
    ("EPS", "1e-05", "0.0"),
    ("_normalize_backward", "np.sqrt(var + EPS)", "np.sqrt(var) + EPS"),
    ("_unwindow", "np.zeros_like(like)", "np.ones_like(like)"),
    ("_windows", "h // 2", "h"),
    ("grad_softmax", "x - np.max(x)", "x"),
    ("_softmax_rows", "x - np.max(x, axis=-1, keepdims=True)", "x"),
    ("grad_conv2d", "oh", "ow"),
]
# ...and mutants that compute the same gradient another way.
EQUIVALENT = [
    ("grad_softmax", "np.dot(dz, s)", "np.dot(s, dz)"),
    ("_normalize_backward", "axis=axis", "axis=1"),
    ("grad_batched_matmul", "np.swapaxes(y, 1, 2)", "np.swapaxes(y, 2, 1)"),
]
SPREAD = 97          # and every 97th mutant of the corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The sample: each mutant judged without the grader, then graded on two seeds."""
    catalog = mutation.Catalog()
    exercise_of = {fn: name for name, fn in catalog.function_of().items()}
    users = mutation.users()
    mutants = mutation.generate()
    chosen = [m for m in mutants
              if (m.function, m.before, m.after) in SEED_DEPENDENT + EQUIVALENT]
    assert len(chosen) >= len(SEED_DEPENDENT + EQUIVALENT)
    chosen += [m for m in mutants[::SPREAD] if m not in chosen]
    oracle = mutation.Oracle(catalog, seeds=range(0, 6))
    folder = tmp_path_factory.mktemp("mutants")
    judged = {}
    for m in chosen:
        functions = sorted(f for f in users.get(m.function, ()) if f in exercise_of)
        (folder / f"{m.id}.py").write_text(mutation.only(m.source, set(functions)))
        namespace = mutation.load(m.source)
        for f in functions:
            judged[m.id, exercise_of[f]] = oracle.judge(namespace, exercise_of[f]).kind
    names = sorted({ex for _, ex in judged})
    exercises = [catalog.exercises[n] for n in names]
    submissions = batch.discover([folder])
    graded = {}
    for seed in SEEDS:
        for g in batch.grade_batch(submissions, exercises, RunOptions(seed=seed, timeout=5)):
            for result in g.report.exercises:
                graded[g.submission.path.stem, result.name, seed] = result
    return catalog, {m.id: m for m in chosen}, judged, graded


def test_a_mutant_that_computes_another_gradient_fails_on_every_seed(corpus):
    _, mutants, judged, graded = corpus
    passed = [(mutants[mid].before, mutants[mid].after, ex, seed)
              for (mid, ex), kind in judged.items() if kind == "different"
              for seed in SEEDS if graded[mid, ex, seed].status == "passed"]
    assert not passed


def test_a_mutant_that_computes_the_same_gradient_passes_on_every_seed(corpus):
    _, mutants, judged, graded = corpus
    assert any(kind == "equivalent" for kind in judged.values())
    failed = [(mutants[mid].before, mutants[mid].after, ex, seed)
              for (mid, ex), kind in judged.items() if kind == "equivalent"
              for seed in SEEDS if graded[mid, ex, seed].status != "passed"]
    assert not failed


def test_most_wrong_answers_get_a_diagnosis(corpus):
    _, _, judged, graded = corpus
    failed = [graded[mid, ex, seed] for (mid, ex), kind in judged.items()
              if kind == "different" for seed in SEEDS
              if graded[mid, ex, seed].status == "failed"]
    unnamed = [r for r in failed if not [d for d in r.diagnoses
                                         if d.id not in ("mutated_input", "at_kink")]]
    assert failed and len(unnamed) <= 0.1 * len(failed)


def test_every_generic_diagnosis_holds_on_each_case_it_claims(corpus):
    catalog, mutants, judged, graded = corpus
    oracle = mutation.Oracle(catalog)
    wrong, checked = [], 0
    for (mid, ex), kind in judged.items():
        for seed in SEEDS:
            result = graded[mid, ex, seed]
            answered = {c.name: c for c in result.cases if c.status != "passed"}
            claims = [(d, d.cases or list(answered)) for d in result.diagnoses
                      if d.id in mutation.CLAIMS]
            claims += [(d, [c.name]) for c in result.cases for d in c.diagnoses
                       if d.id in mutation.CLAIMS]
            if not claims:
                continue
            refs = {c.name: _refs(catalog, ex, c) for c in result.cases}
            fn = mutation.load(mutants[mid].source)[catalog.exercises[ex].function]
            answers = {c.name: c.got if c.got is not None else ValueError(c.message)
                       for c in result.cases}
            for d, names in claims:
                for name in names:
                    context = mutation.ClaimContext(
                        d.message, others=[(answers[n], refs[n]) for n in refs if n != name],
                        function=fn)
                    checked += 1
                    if oracle.holds(d.id, answers[name], refs[name], context) is False:
                        wrong.append((mutants[mid].before, mutants[mid].after, ex, seed,
                                      d.id, name))
    assert checked and not wrong


def _refs(catalog, exercise, case):
    ex = catalog.exercises[exercise]
    args = tuple(case.inputs[p] for p in ex.params) + (case.dz,)
    return catalog.references(exercise, mutation.Probe(case.name, args))


def test_the_mutants_whose_verdict_depended_on_the_seed_fail_on_all_20_seeds(tmp_path):
    """An eps changed or moved, a pool right for even widths only, a softmax without its max:
    before the stress cases each passed on some seeds (layernorm with eps 0 on about half)."""
    catalog = mutation.Catalog()
    exercise_of = {fn: name for name, fn in catalog.function_of().items()}
    users = mutation.users()
    chosen = [m for m in mutation.generate() if (m.function, m.before, m.after) in SEED_DEPENDENT]
    names = set()
    for m in chosen:
        functions = sorted(f for f in users.get(m.function, ()) if f in exercise_of)
        (tmp_path / f"{m.id}.py").write_text(mutation.only(m.source, set(functions)))
        names.update(exercise_of[f] for f in functions)
    exercises = [catalog.exercises[n] for n in sorted(names)]
    submissions = batch.discover([tmp_path])
    passed = []
    for seed in range(20):
        for g in batch.grade_batch(submissions, exercises, RunOptions(seed=seed, timeout=5)):
            passed += [(g.submission.path.stem, r.name, seed) for r in g.report.exercises
                       if r.status == "passed"]
    assert len(chosen) >= len(SEED_DEPENDENT) and not passed
