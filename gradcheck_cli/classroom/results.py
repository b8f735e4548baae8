"""A graded class as data: who was graded, with which seed and exercises, and each JSON result.

``gradcheck grade --json-dir DIR`` writes one JSON result per submission (CONTRACTS §4) and, once
the batch is done, ``DIR/gradcheck.manifest``: the seed, the grading options, the exercises
(name, points, a digest of the spec), the shard, a fingerprint of the whole class, and a member
per submission of the shard in the class's order (its label, file, key, its result's file name
or why it has none). The manifest is what lets shards be merged and checked, and a results
folder be turned into a gradebook and a class report later. Its name ends in neither ``.json``
nor a key, so no learner's result can ever overwrite it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..version import __version__
from ..atomic import write_atomic
from ..errors import UsageError
from .shards import WHOLE, Shard

MANIFEST = "gradcheck.manifest"
FORMAT = 1


@dataclass(frozen=True)
class ExerciseInfo:
    """An exercise as the class was graded on it."""

    name: str
    points: float
    title: str = ""
    spec: str = ""              # SHA-256 of the spec file: same digest, same cases and references


@dataclass
class Member:
    """One learner of the class: a gradebook row, with the JSON result when there is one."""

    index: int                  # position in the whole class (the gradebook's order)
    label: str
    file: str                   # the graded file ("" when there was none)
    key: str                    # names the JSON result: KEY.json
    doc: dict | None = None     # the JSON result
    problem: str | None = None  # the learner's: no file to grade
    internal: str | None = None  # the grader failed on this one


@dataclass
class ClassResults:
    """Everything about a graded class (or one shard of it) that the reports are made from."""

    seed: int
    exercises: list[ExerciseInfo]
    members: list[Member]
    shard: Shard = WHOLE
    size: int = 0               # submissions in the whole class, all shards together
    digest: str = ""            # shards.class_digest of the whole class
    options: dict = field(default_factory=dict)
    version: str = __version__

    @property
    def max_score(self) -> float:
        return round(sum(float(e.points) for e in self.exercises), 6)


def exercise_info(exercise) -> ExerciseInfo:
    """What the results record of an exercise: enough to tell two gradings apart."""
    source = getattr(exercise, "source_file", None)
    digest = ""
    if source and Path(source).is_file():
        digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    return ExerciseInfo(exercise.name, float(exercise.points), getattr(exercise, "title", ""),
                        digest)


def grading_options(options, show_hidden: bool) -> dict:
    """The options that change a result: shards must agree on them."""
    return {"timeout_s": getattr(options, "timeout", None),
            "memory_mb": getattr(options, "memory_mb", None),
            "deadline_s": getattr(options, "deadline", None), "show_hidden": bool(show_hidden)}


def from_graded(graded: Sequence, positions: Sequence[int], exercises: Sequence, seed: int, *,
                shard: Shard = WHOLE, size: int | None = None, digest: str = "",
                options: dict | None = None, show_hidden: bool = False) -> ClassResults:
    """The class as just graded by ``batch.grade_batch`` (``positions``: index in the class)."""
    members = []
    for position, g in zip(positions, graded):
        sub = g.submission
        members.append(_GradedMember(position, sub.label, str(sub.path or ""), sub.key,
                                     problem=g.problem, internal=g.internal, graded=g,
                                     show_hidden=show_hidden))
    return ClassResults(seed, [exercise_info(e) for e in exercises], members, shard,
                        len(graded) if size is None else size, digest, options or {})


class _GradedMember(Member):
    """A member just graded: its JSON result is made when first read (a batch that writes
    no results folder and no class report never needs it)."""

    def __init__(self, *args, graded, show_hidden: bool, **kwargs):
        self._graded, self._show_hidden = graded, show_hidden
        super().__init__(*args, **kwargs)

    @property
    def doc(self) -> dict | None:
        if self._graded is not None:
            self._doc = self._graded.doc(self._show_hidden)
            self._graded = None
        return self._doc

    @doc.setter
    def doc(self, value: dict | None) -> None:
        self._doc = value
        if value is not None:           # set outright: nothing left to make
            self._graded = None


# ---------------------------------------------------------------------------- the manifest


def manifest_json(results: ClassResults) -> dict:
    """The manifest document of a results folder."""
    members = []
    for m in results.members:
        entry = {"index": m.index, "submission": m.label, "file": m.file, "key": m.key}
        if m.doc is not None:
            entry["result"] = f"{m.key}.json"
        elif m.internal is not None:
            entry["grader_error"] = m.internal
        else:
            entry["problem"] = m.problem
        members.append(entry)
    return {
        "tool": "gradcheck", "kind": "class results", "format": FORMAT,
        "version": results.version, "seed": results.seed,
        "shard": {"index": results.shard.index, "count": results.shard.count},
        "class": {"submissions": results.size, "digest": results.digest},
        "options": results.options,
        "exercises": [{"name": e.name, "title": e.title, "points": e.points, "spec": e.spec}
                      for e in results.exercises],
        "members": members,
    }


def write_manifest(folder: Path, results: ClassResults) -> Path:
    """Write ``folder/gradcheck.manifest`` atomically (after every result it names)."""
    target = Path(folder) / MANIFEST
    write_atomic(target, json.dumps(manifest_json(results), indent=1, ensure_ascii=False) + "\n")
    return target


def write_results(folder: Path, results: ClassResults) -> None:
    """Every member's JSON result and the manifest: a results folder ``read_results`` reads."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for m in results.members:
        if m.doc is not None:
            write_atomic(folder / f"{m.key}.json",
                         json.dumps(m.doc, indent=2, allow_nan=False) + "\n")
    write_manifest(folder, results)


def read_results(folder: Path) -> ClassResults:
    """A results folder: by its manifest, or (without one) every ``*.json`` result in it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder",
                         hint="pass the --json-dir folder of `gradcheck grade`")
    if not (folder / MANIFEST).is_file():
        return _without_manifest(folder)
    raw = _load_json(folder / MANIFEST)
    try:
        if raw.get("kind") != "class results":
            raise KeyError("kind")
        results = ClassResults(
            seed=int(raw["seed"]),
            exercises=[ExerciseInfo(e["name"], float(e["points"]), e.get("title", ""),
                                    e.get("spec", "")) for e in raw["exercises"]],
            members=[], shard=Shard(int(raw["shard"]["index"]), int(raw["shard"]["count"])),
            size=int(raw["class"]["submissions"]), digest=str(raw["class"]["digest"]),
            options=dict(raw.get("options") or {}), version=str(raw["version"]))
        for entry in raw["members"]:
            member = Member(int(entry["index"]), entry["submission"], entry["file"], entry["key"],
                            problem=entry.get("problem"), internal=entry.get("grader_error"))
            if entry.get("result"):
                member.doc = _load_result(folder / entry["result"])
            results.members.append(member)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"{folder / MANIFEST}: not a gradcheck manifest ({exc!r} is wrong or "
                         "missing)", hint="regrade into a fresh --json-dir") from None
    return results


def _without_manifest(folder: Path) -> ClassResults:
    """Results gathered by hand (``gradcheck run --format json`` per learner): one class."""
    files = sorted(p for p in folder.glob("*.json") if p.is_file())
    if not files:
        raise UsageError(f"{folder}: no JSON results and no {MANIFEST} in this folder",
                         hint="pass the --json-dir folder of `gradcheck grade`")
    members = [Member(i, p.stem, "", p.stem, _load_result(p)) for i, p in enumerate(files)]
    seeds = sorted({m.doc["seed"] for m in members})
    if len(seeds) > 1:
        raise UsageError(f"{folder}: the results were graded with different seeds "
                         f"({', '.join(map(str, seeds))}), so on different cases",
                         hint="regrade the class with one --seed")
    exercises: dict[str, ExerciseInfo] = {}
    for m in members:
        for ex in m.doc["exercises"]:
            exercises.setdefault(ex["name"], ExerciseInfo(ex["name"], float(ex["max_score"]),
                                                          ex.get("title") or ""))
    return ClassResults(seeds[0], list(exercises.values()), members, WHOLE, len(members))


def _load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: missing", hint="the results folder is incomplete; regrade "
                                                   "it or restore the file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: unreadable ({exc})",
                         hint="regrade into a fresh --json-dir") from None


def _load_result(path: Path) -> dict:
    doc = _load_json(path)
    if not (isinstance(doc, dict) and doc.get("tool") == "gradcheck"
            and isinstance(doc.get("exercises"), list) and "seed" in doc):
        raise UsageError(f"{path}: not a gradcheck JSON result",
                         hint="a results folder holds the output of --json-dir or --format json")
    return doc


# ---------------------------------------------------------------------------- reports back


def report_from_json(doc: dict):
    """The report model of a JSON result (its arrays are not in the JSON: no diff pictures)."""
    from ..report.model import CaseResult, Diagnosis, ExerciseResult, Report

    def diagnoses(items) -> list:
        return [Diagnosis(d["id"], d.get("message") or "", d.get("hint"),
                          d.get("severity", "error")) for d in items or ()]

    exercises = []
    for ex in doc["exercises"]:
        cases = [CaseResult(c["name"], bool(c.get("hidden")), c["status"],
                            size=c.get("size") or 0, mismatched=c.get("mismatched") or 0,
                            max_abs_error=c.get("max_abs_error"),
                            max_rel_error=c.get("max_rel_error"),
                            worst_index=c.get("worst_index"), diagnoses=diagnoses(c.get("diagnoses")),
                            message=c.get("message") or "", duration_s=c.get("duration_s") or 0.0,
                            score=c.get("score") or 0.0, max_score=c.get("max_score") or 0.0)
                 for c in ex.get("cases") or ()]
        exercises.append(ExerciseResult(
            ex["name"], ex.get("function") or "", ex.get("title") or "", ex["status"],
            float(ex["score"]), float(ex["max_score"]), cases, diagnoses(ex.get("diagnoses")),
            error=ex.get("error"), stdout=ex.get("stdout") or "", line=ex.get("line"),
            group=ex.get("group"), tolerance=ex.get("tolerance") or ""))
    return Report(doc.get("submission") or "", int(doc["seed"]), exercises,
                  doc.get("version") or "", doc.get("sandbox") or {}, doc.get("import_error"),
                  doc.get("duration_s") or 0.0)


def graded(member: Member):
    """A member as the batch grader's outcome (``batch.Graded``), as the gradebook sees it."""
    from .. import batch

    sub = batch.Submission(member.label, Path(member.file) if member.file else None, member.key,
                           member.problem)
    report = report_from_json(member.doc) if member.doc is not None else None
    return batch.Graded(sub, report, problem=member.problem, internal=member.internal)


def gradebook_csv(results: ClassResults) -> str:
    """The gradebook of a class, exactly as `gradcheck grade` writes it."""
    from .. import batch

    return batch.gradebook_csv([graded(m) for m in results.members], results.exercises,
                               results.seed)
