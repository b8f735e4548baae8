"""The sharded CI examples say what gradcheck understands: real options, K from 1 to N, the same
seed in every shard, and a merge that waits for every shard."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
import yaml

from gradcheck_cli.cli import app

CI = Path(__file__).resolve().parents[2] / "examples" / "ci"
SHARDED = ["github-actions-shards.yml", "kubernetes-indexed-job.yaml", "slurm-array.sh"]


def _options(command: str) -> set[str]:
    click_command = typer.main.get_command(app).commands[command]
    return {opt for param in click_command.params for opt in getattr(param, "opts", ())}


def _invocations(text: str) -> list[tuple[str, str]]:
    """(command, its arguments) of every `gradcheck grade|merge` in a file, lines joined."""
    text = re.sub(r"\\\n\s*", " ", text)
    return re.findall(r"gradcheck (grade|merge) ([^;\n|]*)", text)


@pytest.mark.parametrize("name", SHARDED)
def test_every_option_of_the_examples_exists(name):
    text = (CI / name).read_text(encoding="utf-8")
    if name.endswith(".yml"):       # folded YAML scalars: read the commands as the runner will
        text = "\n".join(step.get("run", "") for job in yaml.safe_load(text)["jobs"].values()
                         for step in job["steps"])
    found = _invocations(text)
    assert {command for command, _ in found} == {"grade", "merge"}
    for command, args in found:
        unknown = set(re.findall(r"(?<!\S)(--[a-z-]+)", args)) - _options(command)
        assert not unknown, (name, command, unknown)
        if command == "grade":
            assert "--shard" in args and "--seed" in args and "--json-dir" in args


def test_github_matrix_counts_shards_from_one_to_its_size_and_merges_after_them():
    flow = yaml.safe_load((CI / "github-actions-shards.yml").read_text(encoding="utf-8"))
    grade, merge = flow["jobs"]["grade"], flow["jobs"]["merge"]
    assert grade["strategy"]["matrix"]["shard"] == list(range(1, 5))
    [run] = [s["run"] for s in grade["steps"] if "gradcheck grade" in s.get("run", "")]
    assert '--shard "${{ matrix.shard }}/${{ strategy.job-total }}"' in run
    assert merge["needs"] == "grade"
    [upload] = [s for s in grade["steps"] if s.get("uses", "").startswith("actions/upload")]
    [download] = [s for s in merge["steps"] if s.get("uses", "").startswith("actions/download")]
    assert upload["with"]["name"] == "results-${{ matrix.shard }}"
    assert download["with"]["pattern"] == "results-*"


def test_kubernetes_indexed_job_is_one_pod_per_shard_and_the_merge_waits_for_all():
    grade, merge = yaml.safe_load_all((CI / "kubernetes-indexed-job.yaml").read_text())
    spec = grade["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"]
    for job in (grade, merge):
        [container] = job["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e["value"] for e in container["env"]}
        assert int(env["SHARDS"]) == spec["completions"]
    script = grade["spec"]["template"]["spec"]["containers"][0]["args"][0]
    assert "K=$((JOB_COMPLETION_INDEX + 1))" in script and '--shard "$K/$SHARDS"' in script
    wait = merge["spec"]["template"]["spec"]["containers"][0]["args"][0]
    assert "shard-*/gradcheck.manifest" in wait and "$SHARDS" in wait


def test_slurm_array_counts_from_one():
    text = (CI / "slurm-array.sh").read_text(encoding="utf-8")
    assert re.search(r"^#SBATCH --array=1-\d+$", text, re.M)
    assert '--shard "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT"' in text
    assert "--dependency=afterok" in text
