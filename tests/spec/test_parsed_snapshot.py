"""The shipped exercise files' parse snapshot makes reading them faster, never different."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from gradcheck_cli.spec import default_catalog_dir, load_exercise, read_yaml
from gradcheck_cli.spec.catalog import spec_files
from gradcheck_cli.spec.located import YMap, YSeq
from gradcheck_cli.spec.parsed import SNAPSHOT_DIR, lookup
from gradcheck_cli.spec.yamlparse import parse

CATALOG = spec_files(default_catalog_dir())


def same(a, b) -> bool:
    """Equal as data and in every recorded line."""
    if isinstance(a, YMap):
        return (isinstance(b, YMap) and a.line == b.line and list(a) == list(b)
                and a.key_lines == b.key_lines and a.value_lines == b.value_lines
                and all(same(a[k], b[k]) for k in a))
    if isinstance(a, YSeq):
        return (isinstance(b, YSeq) and a.line == b.line and a.item_lines == b.item_lines
                and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b)))
    return type(a) is type(b) and (a == b or a != a and b != b)


def test_the_snapshot_is_current_for_every_shipped_file():
    stale = [p.name for p in CATALOG
             if not same(lookup(p.stem, p.read_text(encoding="utf-8")),
                         parse(p.read_text(encoding="utf-8"), str(p)))]
    assert not stale, ("the parse snapshot is stale for " + ", ".join(stale)
                       + ": run `python -m gradcheck_cli.spec.make_parsed`")
    extra = {p.stem for p in SNAPSHOT_DIR.glob("*.json")} - {p.stem for p in CATALOG}
    assert not extra, f"snapshots of files the catalog no longer has: {sorted(extra)}"


def test_a_changed_file_of_the_same_name_is_read_from_its_yaml(tmp_path):
    original = default_catalog_dir() / "sigmoid.yaml"
    edited = tmp_path / "sigmoid.yaml"
    edited.write_text(original.read_text().replace("name: sigmoid", "name: my_sigmoid", 1))
    assert load_exercise(edited).name == "my_sigmoid"
    assert read_yaml(edited)["name"] == "my_sigmoid"


def test_an_unchanged_copy_reads_as_the_original_and_errors_keep_their_lines(tmp_path):
    copy = tmp_path / "sigmoid.yaml"
    shutil.copy(default_catalog_dir() / "sigmoid.yaml", copy)
    fresh = parse(copy.read_text(), str(copy))
    assert same(read_yaml(copy), fresh)


def test_running_the_four_worked_exercises_does_not_import_pyyaml():
    probe = ("import sys; from gradcheck_cli.selection import select_exercises; "
             "select_exercises(None, ['sigmoid', 'softmax', 'matmul', 'conv2d']); "
             "print('yaml' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parent)
    assert out.stdout.strip() == "False"
