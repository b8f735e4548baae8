"""A class as a whole: grading it in shards, merging the shards, and the class report.

``shards`` says which learners a machine grades; ``results`` is a graded class as data (read
from and written to a ``--json-dir`` with its manifest); ``merge`` puts shards back together;
``summary`` counts what the class did; ``page`` (with ``charts`` and ``assets``) renders the
self-contained HTML class report.
"""
