"""Writes ``parsed_catalog/``, the snapshot of the shipped exercise files (see ``parsed.py``):

    python -m gradcheck_cli.spec.make_parsed
"""

from __future__ import annotations

import json
from pathlib import Path

from .catalog import default_catalog_dir, spec_files
from .parsed import FORMAT, SNAPSHOT_DIR, encode
from .yamlparse import parse


def snapshot_of(path: Path) -> dict:
    """The snapshot entry of one exercise file, parsed from its YAML."""
    text = path.read_bytes().decode("utf-8-sig")
    return {"format": FORMAT, "source": text, "data": encode(parse(text, str(path)))}


def write_snapshot(catalog: Path, out: Path = SNAPSHOT_DIR) -> list[Path]:
    """Write the snapshot of every exercise file of ``catalog``; remove stale entries."""
    out.mkdir(exist_ok=True)
    written = []
    for path in spec_files(catalog):
        target = out / f"{path.stem}.json"
        target.write_text(json.dumps(snapshot_of(path), ensure_ascii=False, separators=(",", ":"))
                          + "\n", encoding="utf-8")
        written.append(target)
    for stale in set(out.glob("*.json")) - set(written):
        stale.unlink()
    return written


if __name__ == "__main__":
    done = write_snapshot(default_catalog_dir())
    print(f"wrote {len(done)} parsed exercise files to {SNAPSHOT_DIR}")
