"""The learner's modules sent with a submission: what is sent, within which bounds, and never
stale (a folder's listing is reused across a batch, so a helper saved meanwhile must show)."""

from __future__ import annotations

import os
import time

from gradcheck_cli.sandbox import learner_files


def sent(submission, hidden=()):
    found = learner_files.collect(str(submission), frozenset(str(h) for h in hidden))
    return dict(zip(found.names, found.sources))


def test_helpers_and_packages_go_but_not_the_submission_or_other_learners(tmp_path):
    (tmp_path / "grads.py").write_text("x = 1\n")
    (tmp_path / "helper.py").write_text("h = 1\n")
    (tmp_path / "other_learner.py").write_text("o = 1\n")
    (tmp_path / "notes.txt").write_text("not python\n")
    (tmp_path / ".hidden.py").write_text("no\n")
    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "layers.py").write_text("l = 1\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "junk.py").write_text("no\n")
    got = sent(tmp_path / "grads.py", hidden=[tmp_path / "other_learner.py"])
    assert got == {"helper.py": b"h = 1\n", "mypkg/__init__.py": b"",
                   "mypkg/layers.py": b"l = 1\n"}


def test_a_submission_in_a_package_gets_the_package_not_what_is_beside_it(tmp_path):
    """An __init__.py of the learner's own must not turn the class folder into their package:
    the other learners' folders and an answer key beside it stay out."""
    (tmp_path / "answer_key").mkdir()
    (tmp_path / "answer_key" / "solutions.py").write_text("key = 1\n")
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "helper.py").write_text("b = 1\n")
    (tmp_path / "notes.py").write_text("n = 1\n")
    mallory = tmp_path / "mallory"
    (mallory / "sub").mkdir(parents=True)
    (mallory / "__init__.py").write_text("")
    (mallory / "grads.py").write_text("from answer_key.solutions import *\n")
    (mallory / "sub" / "util.py").write_text("u = 1\n")
    found = learner_files.collect(str(mallory / "grads.py"))
    assert found.package == "mallory" and found.folder == str(tmp_path)
    assert dict(zip(found.names, found.sources)) == {"mallory/__init__.py": b"",
                                                     "mallory/sub/util.py": b"u = 1\n"}


def test_a_helper_saved_between_two_runs_is_sent_by_the_second(tmp_path):
    (tmp_path / "grads.py").write_text("x = 1\n")
    hidden = [tmp_path / f"learner_{i}.py" for i in range(5)]
    for path in hidden:
        path.write_text("y = 2\n")
    assert sent(tmp_path / "grads.py", hidden) == {}
    time.sleep(0.01)                       # a later modification time on any file system
    (tmp_path / "helper.py").write_text("v = 1\n")
    assert sent(tmp_path / "grads.py", hidden) == {"helper.py": b"v = 1\n"}
    (tmp_path / "helper.py").write_text("v = 2\n")     # same folder listing, new contents
    assert sent(tmp_path / "grads.py", hidden) == {"helper.py": b"v = 2\n"}
    os.remove(tmp_path / "helper.py")
    assert sent(tmp_path / "grads.py", hidden) == {}


def test_every_learner_of_a_flat_folder_gets_the_shared_helper_and_no_one_else(tmp_path):
    learners = [tmp_path / f"learner_{i:03d}.py" for i in range(40)]
    for path in learners:
        path.write_text("z = 3\n")
    (tmp_path / "course_utils.py").write_text("u = 1\n")
    for path in learners:
        assert sent(path, learners) == {"course_utils.py": b"u = 1\n"}


def test_the_bounds_hold_files_entries_and_depth(tmp_path, monkeypatch):
    monkeypatch.setattr(learner_files, "MAX_FILES", 3)
    (tmp_path / "grads.py").write_text("")
    for name in "abcde":
        (tmp_path / f"{name}.py").write_text(name)
    assert sorted(sent(tmp_path / "grads.py")) == ["a.py", "b.py", "c.py"]

    monkeypatch.setattr(learner_files, "MAX_FILES", 256)
    monkeypatch.setattr(learner_files, "MAX_ENTRIES", 4)    # a.py b.py c.py d.py: then stop
    assert sorted(sent(tmp_path / "grads.py")) == ["a.py", "b.py", "c.py", "d.py"]

    monkeypatch.setattr(learner_files, "MAX_ENTRIES", 4096)
    deep = tmp_path / "d1" / "d2" / "d3" / "d4" / "d5"
    deep.mkdir(parents=True)
    (deep / "too_deep.py").write_text("")
    (deep.parent / "deep_enough.py").write_text("")
    got = sent(tmp_path / "grads.py")
    assert "d1/d2/d3/d4/deep_enough.py" in got and "d1/d2/d3/d4/d5/too_deep.py" not in got


def test_a_file_system_with_coarse_times_never_hides_a_new_helper(tmp_path):
    """Where a folder's modification time counts whole seconds, two files made in the same
    second leave it the same: a listing of that second must not be reused (``run --watch``
    would otherwise miss the second helper until the folder changed again)."""
    (tmp_path / "grads.py").write_text("")
    second = (time.time_ns() // 10**9) * 10**9

    def coarse():                         # what such a file system records for the folder
        os.utime(tmp_path, ns=(second, second))

    (tmp_path / "helper_a.py").write_text("a = 1\n")
    coarse()
    assert sent(tmp_path / "grads.py") == {"helper_a.py": b"a = 1\n"}
    (tmp_path / "helper_b.py").write_text("b = 1\n")
    coarse()
    assert sent(tmp_path / "grads.py") == {"helper_a.py": b"a = 1\n", "helper_b.py": b"b = 1\n"}


def test_a_settled_folder_is_listed_once_and_still_follows_changes(tmp_path, monkeypatch):
    """An old folder's listing is kept (a batch of 300 learners lists it once), and a change
    to it, which gives it a new modification time, is seen."""
    learners = [tmp_path / f"learner_{i}.py" for i in range(3)]
    for path in learners:
        path.write_text("")
    old = time.time_ns() - 60 * 10**9
    os.utime(tmp_path, ns=(old, old))
    scans = []
    real_scan = learner_files._scan
    monkeypatch.setattr(learner_files, "_scan", lambda *a: scans.append(a) or real_scan(*a))
    learner_files._kept_scan.cache_clear()
    for path in learners:
        assert sent(path, learners) == {}
    assert len(scans) == 1
    (tmp_path / "shared.py").write_text("s = 1\n")      # the folder's time is now
    assert sent(learners[0], learners) == {"shared.py": b"s = 1\n"}


def test_a_course_module_is_sent_unless_the_learner_has_one_of_that_name(tmp_path):
    course = tmp_path / "course"
    (course / "nets").mkdir(parents=True)
    (course / "utils.py").write_text("course = 1\n")
    (course / "nets" / "__init__.py").write_text("")
    (course / "nets" / "mlp.py").write_text("m = 1\n")
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    for folder in (alice, bob):
        folder.mkdir()
        (folder / "grads.py").write_text("")
    (bob / "utils.py").write_text("mine = 1\n")
    shared = [str(course / "utils.py"), str(course / "nets")]
    got = learner_files.collect(str(alice / "grads.py"), frozenset(), shared)
    assert dict(zip(got.names, got.sources)) == {
        "utils.py": b"course = 1\n", "nets/__init__.py": b"", "nets/mlp.py": b"m = 1\n"}
    got = learner_files.collect(str(bob / "grads.py"), frozenset(), shared)
    assert dict(zip(got.names, got.sources))["utils.py"] == b"mine = 1\n"


def test_a_link_beside_the_submission_is_never_followed(tmp_path):
    """A link could name a classmate's work or any file the grader can read."""
    learner, classmate = tmp_path / "alice", tmp_path / "bob"
    learner.mkdir()
    classmate.mkdir()
    (classmate / "grads.py").write_text("answer = 42\n")
    (learner / "grads.py").write_text("from friend import answer\n")
    (learner / "helper.py").write_text("h = 1\n")
    (learner / "friend.py").symlink_to(classmate / "grads.py")
    (learner / "env.py").symlink_to("/proc/self/environ")
    (learner / "peek").symlink_to(classmate, target_is_directory=True)
    assert sent(learner / "grads.py") == {"helper.py": b"h = 1\n"}
