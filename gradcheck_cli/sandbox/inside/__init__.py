"""The code that runs inside the learner's worker process and the fork server.

These modules import only the standard library and NumPy: ``start.py`` runs them as a
standalone script (``python -I``), where ``gradcheck_cli`` is not importable, under the package
name ``_gradcheck_inside``. The grader imports the two modules it shares with the worker,
``wire`` (the frame format) and ``tree`` (killing a process tree), as
``gradcheck_cli.sandbox.inside``; nothing here ever imports the grader.

- ``start.py``: the entry script; makes this folder a package and starts a role.
- ``serve.py``: a worker's life: limits, import the submission, then answer calls.
- ``limits.py``: resource limits and confinement of the worker process.
- ``submission.py``: refused imports and importing the learner's file.
- ``calls.py``: running one learner function and turning what it returned into arrays.
- ``forkserver_main.py``: the fork server, which forks a worker per request.
- ``confine.py``, ``tree.py``, ``wire.py``: namespaces and privileges, process trees, frames.
"""
