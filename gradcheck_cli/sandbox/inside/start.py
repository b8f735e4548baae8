"""The entry script of the processes that run learner code; never imported by the grader.

::

    python -I -B -u start.py worker REQUEST_FD RESPONSE_FD NUMPY_DIR
    python -I -B -u start.py forkserver SOCKET_FD NUMPY_DIR

``-I`` keeps this folder and ``gradcheck_cli`` off ``sys.path``, so this script registers the
folder as the package ``_gradcheck_inside`` (a name no learner module takes) and runs the
role's ``main`` from it. ``NUMPY_DIR`` is where the grader found NumPy (a user site, say).
"""

import importlib
import importlib.util
import os
import sys

PACKAGE = "_gradcheck_inside"
ROLES = {"worker": "serve", "forkserver": "forkserver_main"}


def load_package() -> None:
    """Import this folder as ``PACKAGE``, so its modules import each other relatively."""
    folder = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        PACKAGE, os.path.join(folder, "__init__.py"), submodule_search_locations=[folder])
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    spec.loader.exec_module(package)


def main(argv: list[str]) -> None:
    role, args = argv[1], argv[2:]
    if args and args[-1] not in sys.path:
        sys.path.append(args[-1])
    load_package()
    importlib.import_module(f"{PACKAGE}.{ROLES[role]}").main(args)


if __name__ == "__main__":
    main(sys.argv)
