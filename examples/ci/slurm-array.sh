#!/bin/bash
# Grading a whole class on a Slurm cluster: a job array with one task per shard, then a merge
# job that starts when every task has finished:
#
#   jobid=$(sbatch --parsable examples/ci/slurm-array.sh)
#   sbatch --dependency=afterok:"$jobid" --job-name=gradcheck-merge --output=logs/merge.out \
#     --wrap 'gradcheck merge results/shard-* --gradebook gradebook.csv --html class.html; [ $? -le 1 ]'
#
# The submissions are in submissions/<learner>/grads.py on a shared file system. N is the size
# of the array; keep --array starting at 1 (K counts from 1).
#SBATCH --job-name=gradcheck-grade
#SBATCH --array=1-8
#SBATCH --cpus-per-task=16
#SBATCH --mem=16G
#SBATCH --time=02:00:00
#SBATCH --output=logs/grade-%A_%a.out

SEED=2024      # one seed for every task: the same cases for every learner

gradcheck grade submissions/ --file grads.py -e sigmoid -e softmax -e matmul -e conv2d --seed "$SEED" \
    --shard "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT" --jobs "$SLURM_CPUS_PER_TASK" \
    --json-dir "results/shard-$SLURM_ARRAY_TASK_ID"
code=$?
# Exit code 1 means some learner did not pass: the task succeeded (afterok needs 0).
[ "$code" -le 1 ]
