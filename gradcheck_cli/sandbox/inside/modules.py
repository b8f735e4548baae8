"""The learner's modules beside the submission, imported from the sources the grader sent.

As ``python grads.py`` would: the submission's folder is first on ``sys.path``, so
``import helper`` finds ``helper.py`` beside it, ``from mypkg.layers import f`` finds
``mypkg/layers.py`` (with or without ``mypkg/__init__.py``), and a learner's module shadows a
library module of the same name that is not imported yet. The worker reads no file for it:
the grader sent the sources (``sandbox/learner_files.py``), and this finder serves them.
"""

import importlib.abc
import importlib.machinery
import importlib.util
import linecache
import os
import sys


class SourceBytesLoader(importlib.abc.SourceLoader):
    """Loads one module from bytes the grader sent, under its path on the learner's machine."""

    def __init__(self, path: str, source: bytes):
        self.path = path
        self.source = source

    def get_filename(self, fullname: str) -> str:
        return self.path

    def get_data(self, path: str) -> bytes:
        if path == self.path:
            return self.source
        raise OSError(f"the worker reads only the learner's files it was sent, not {path}")

    def exec_module(self, module) -> None:
        remember_source(self.path, self.source)     # tracebacks show the learner's lines
        super().exec_module(module)


def remember_source(path: str, source: bytes) -> None:
    """Let tracebacks show lines of ``path`` without reading the file."""
    text = source.decode("utf-8", errors="replace")
    linecache.cache[path] = (len(source), None, text.splitlines(True), path)


class LearnerModules(importlib.abc.MetaPathFinder):
    """A meta-path finder for the modules of the learner's folder (``'/'``-separated paths)."""

    def __init__(self, folder: str, names: list[str], sources: list[bytes]):
        self.folder = folder
        self.modules: dict[str, tuple[str, bytes, bool]] = {}   # name -> (path, source, package)
        self.namespaces: set[str] = set()
        for relative, source in zip(names, sources):
            parts = relative[:-3].split("/")
            package = parts[-1] == "__init__"
            if package:
                parts = parts[:-1]
            if not parts or not all(p.isidentifier() for p in parts):
                continue
            self.modules[".".join(parts)] = (os.path.join(folder, relative), source, package)
            for i in range(1, len(parts)):
                self.namespaces.add(".".join(parts[:i]))

    @property
    def paths(self) -> set[str]:
        """The learner's files this finder serves."""
        return {path for path, _, _ in self.modules.values()}

    def install(self) -> None:
        """Put the folder first on ``sys.path``, served from memory, before the library's."""
        sys.path.insert(0, self.folder)
        sys.path_importer_cache[self.folder] = _Nothing()    # never read from the disk
        at = next((i for i, f in enumerate(sys.meta_path)
                   if f is importlib.machinery.PathFinder), len(sys.meta_path))
        sys.meta_path.insert(at, self)

    def find_spec(self, fullname, path=None, target=None):
        found = self.modules.get(fullname)
        if found is not None:
            file, source, package = found
            locations = [os.path.dirname(file)] if package else None
            return importlib.util.spec_from_file_location(
                fullname, file, loader=SourceBytesLoader(file, source),
                submodule_search_locations=locations)
        if fullname in self.namespaces:
            # A folder without __init__.py: as in Python, a namespace package, which a real
            # module or package of the same name elsewhere on sys.path wins over.
            other = importlib.machinery.PathFinder.find_spec(fullname, path)
            if other is not None and other.loader is not None:
                return None
            folder = os.path.join(self.folder, *fullname.split("."))
            return importlib.util.spec_from_file_location(
                fullname, os.path.join(folder, "__init__.py"),
                loader=SourceBytesLoader(os.path.join(folder, "__init__.py"), b""),
                submodule_search_locations=[folder])
        return None


class _Nothing:
    """The path-entry finder of the learner's folder on ``sys.path``: finds nothing there, so
    no file of the host is read in its name (``LearnerModules`` serves what was sent)."""

    def find_spec(self, fullname, target=None):
        return None

    def invalidate_caches(self) -> None:
        pass
