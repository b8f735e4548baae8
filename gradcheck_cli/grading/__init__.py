"""Grading: run a submission's cases in a worker, compare with the reference, judge and diagnose."""
