"""Mappings and lists read from an exercise file that remember the line of every entry."""

from __future__ import annotations


class YMap(dict):
    """A mapping read from YAML that remembers the 1-based line of each key and value."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.key_lines: dict = {}
        self.value_lines: dict = {}

    def key_line(self, key) -> int:
        """The line where ``key`` was written (the mapping's own line if it was not)."""
        return self.key_lines.get(key, self.line)

    def value_line(self, key) -> int:
        """The line where the value of ``key`` starts (the mapping's own line if absent)."""
        return self.value_lines.get(key, self.line)


class YSeq(list):
    """A list read from YAML that remembers the 1-based line of each item."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []

    def item_line(self, index: int) -> int:
        """The line where item ``index`` starts."""
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line
