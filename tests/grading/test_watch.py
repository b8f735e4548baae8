"""What --watch looks at (grading/watch.py): the learner's Python files and notebooks in the
submission's folder and below it, and nothing else."""

from __future__ import annotations

import os

from gradcheck_cli.grading.watch import snapshot, wait_for_change


def touch(path, text="x = 1\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_folder_s_python_files_and_notebooks_are_watched_not_the_rest(tmp_path):
    watched = {touch(tmp_path / "grads.py"), touch(tmp_path / "work.ipynb", "{}"),
               touch(tmp_path / "mypkg" / "layers.py")}
    touch(tmp_path / "notes.txt")
    touch(tmp_path / ".git" / "hook.py")
    touch(tmp_path / "__pycache__" / "grads.py")
    touch(tmp_path / ".ipynb_checkpoints" / "work-checkpoint.ipynb", "{}")

    assert set(snapshot(tmp_path)) == {str(p) for p in watched}


def test_a_save_a_new_file_and_a_removed_one_are_each_a_change(tmp_path):
    grads = touch(tmp_path / "grads.py")
    before = snapshot(tmp_path)
    edits = iter([lambda: None,                                      # a look: nothing yet
                  lambda: grads.write_text("x = 22\n"),               # the save
                  lambda: None])                                      # settled

    after = wait_for_change(tmp_path, before, sleep=lambda _: next(edits)())

    assert after != before and after[str(grads)][1] == len("x = 22\n")
    helper = touch(tmp_path / "helper.py")
    assert str(helper) in wait_for_change(tmp_path, after, sleep=lambda _: None)
    os.remove(helper)
    assert str(helper) not in wait_for_change(tmp_path, snapshot(tmp_path) | {str(helper): (0, 0)},
                                              sleep=lambda _: None)
