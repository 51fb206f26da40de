"""Regression snapshots: a result frame kept as a CSV file under ``tests/snapshots/``, so that a change of method
shows as a reviewable diff (the idea of The-Strategy-Unit/nhp_model's regression snapshots).

A test calls ``regression_snapshot(frame, "name", key=[...])`` (the fixture in ``tests/conftest.py``). The frame is
written as CSV text (rows sorted by ``key``, floats to ``float_format``) and compared, as text, with
``tests/snapshots/name.csv``. A difference fails the test with a readable account: columns added or removed, rows
added or removed (by key), and each changed cell as ``key: column: stored -> now``. A missing snapshot fails too.

To accept a change, rerun the tests with ``--update-snapshots`` (or ``PARTNERING_UPDATE_SNAPSHOTS=1``): the files are
rewritten and the tests pass; review and commit the CSV diff with the change that caused it.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd
import pytest

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshots"
UPDATE_ENV = "PARTNERING_UPDATE_SNAPSHOTS"
UPDATE_OPTION = "--update-snapshots"
#: At most this many differences are listed; the rest are counted.
MAX_LINES = 60


def update_requested(config: pytest.Config | None = None) -> bool:
    """True when ``--update-snapshots`` was given or ``PARTNERING_UPDATE_SNAPSHOTS`` is 1/true/yes."""
    if os.environ.get(UPDATE_ENV, "").strip().lower() in ("1", "true", "yes"):
        return True
    return bool(config is not None and config.getoption("update_snapshots", default=False))


def to_csv_text(frame: pd.DataFrame, key: list[str], float_format: str = "%.8g") -> str:
    """The frame as the CSV text a snapshot stores: rows sorted by ``key``, index dropped, LF line ends."""
    missing = [k for k in key if k not in frame.columns]
    if missing:
        raise KeyError(f"snapshot key column(s) not in the frame: {', '.join(missing)}")
    ordered = frame.sort_values(key, kind="stable").reset_index(drop=True)
    return ordered.to_csv(index=False, float_format=float_format, lineterminator="\n")


def _read(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def _key_label(key: list[str], values: tuple) -> str:
    return ", ".join(f"{k}={v}" for k, v in zip(key, values, strict=True))


def describe_difference(stored: str, current: str, key: list[str]) -> list[str]:
    """What changed between two snapshot texts, one line per difference (empty when they are equal)."""
    if stored == current:
        return []
    old, new = _read(stored), _read(current)
    lines: list[str] = []
    gone = [c for c in old.columns if c not in new.columns]
    added = [c for c in new.columns if c not in old.columns]
    if gone:
        lines.append(f"columns removed: {', '.join(gone)}")
    if added:
        lines.append(f"columns added: {', '.join(added)}")
    if any(k not in old.columns or k not in new.columns for k in key):
        return lines + [f"key column(s) {', '.join(key)} missing from one side: cannot compare rows"]
    for name, side in (("stored", old), ("now", new)):
        dup = side[side.duplicated(key, keep=False)]
        if len(dup):
            labels = sorted({_key_label(key, tuple(r)) for r in dup[key].itertuples(index=False)})
            lines.append(f"key not unique in the {name} snapshot: {'; '.join(labels[:5])}")
    old_i, new_i = old.drop_duplicates(key).set_index(key), new.drop_duplicates(key).set_index(key)
    for label, rows in (("row removed", old_i.index.difference(new_i.index)),
                        ("row added", new_i.index.difference(old_i.index))):
        source = old_i if label == "row removed" else new_i
        for k in rows:
            values = k if isinstance(k, tuple) else (k,)
            row = source.loc[k]
            lines.append(f"{label}: {_key_label(key, values)}: " + ", ".join(f"{c}={row[c]}" for c in source.columns))
    common_cols = [c for c in old_i.columns if c in new_i.columns]
    both = old_i.index.intersection(new_i.index)
    a, b = old_i.loc[both, common_cols], new_i.loc[both, common_cols]
    changed = a.ne(b)
    n_changed_rows = int(changed.any(axis=1).sum())
    for k, flags in changed[changed.any(axis=1)].iterrows():
        values = k if isinstance(k, tuple) else (k,)
        cells = [f"{c}: {a.at[k, c]!r} -> {b.at[k, c]!r}" for c in common_cols if flags[c]]
        lines.append(f"changed: {_key_label(key, values)}: " + "; ".join(cells))
    if not lines:  # same cells, different text (e.g. row order of equal keys, quoting)
        lines.append("the text differs but no cell does (row order or quoting)")
    summary = f"{n_changed_rows} row(s) changed of {len(both)} in both"
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES] + [f"... and {len(lines) - MAX_LINES} more difference(s)"]
    return [summary, *lines]


def check_snapshot(
    frame: pd.DataFrame,
    name: str,
    key: list[str],
    *,
    update: bool = False,
    directory: Path = SNAPSHOT_DIR,
    float_format: str = "%.8g",
) -> None:
    """Compare ``frame`` with the stored snapshot ``directory/name.csv``; fail with the differences.

    With ``update`` the snapshot is (re)written instead and nothing fails.
    """
    path = Path(directory) / f"{name}.csv"
    current = to_csv_text(frame, list(key), float_format)
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != current:
            path.write_text(current, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path}: run the test with {UPDATE_OPTION} (or {UPDATE_ENV}=1), review and commit it",
                    pytrace=False)
    stored = path.read_text(encoding="utf-8")
    diff = describe_difference(stored, current, list(key))
    if diff:
        pytest.fail(
            f"snapshot {path.name} differs from the result now ({UPDATE_OPTION} accepts the change):\n  "
            + "\n  ".join(diff),
            pytrace=False,
        )
