"""Request bodies from a data set, for the load test: one JSON body per line of a JSON-lines file.

The data: a CSV, Parquet, JSON (a list of records) or JSON-lines file, a pandas DataFrame, or a
list of dicts (records). Rows are grouped ``batch_size`` at a time into bodies of one of the
formats MLflow's scoring server reads:

``dataframe_split`` (default)
    ``{"dataframe_split": {"columns": [...], "data": [[...], ...]}}``
``dataframe_records``
    ``{"dataframe_records": [{...}, ...]}``
``records``
    the plain list of records ``[{...}, ...]``, for endpoints other than MLflow's.

At most ``max_bodies`` bodies are kept, sampled without replacement with ``seed``; the load test
samples from them again (seeded, per simulated user).

From the command line (for worker machines)::

    python -m mlgate_locust.bodies data.csv bodies.jsonl --batch-size 1 --format dataframe_split
"""

from __future__ import annotations

import csv
import json
import math
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlgate.errors import InputError

FORMATS = ("dataframe_split", "dataframe_records", "records")
DEFAULT_MAX_BODIES = 10_000


def _number(text: str) -> Any:
    """A CSV cell as int, float or, failing both, the string itself ('' is None)."""
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _clean(value: Any) -> Any:
    """A value JSON can carry: NumPy scalars as Python numbers, NaN as None."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def read_records(data: Any) -> tuple[list[str], list[list[Any]]]:
    """``(columns, rows)`` from a path, a DataFrame or a list of records."""
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if not path.is_file():
            raise InputError(f"{path}: no such data file",
                             fix="pass data= a CSV, Parquet, JSON or JSON-lines file, a DataFrame "
                                 "or a list of records")
        suffix = path.suffix.lower()
        if suffix == ".csv":
            with open(path, newline="", encoding="utf-8") as fh:
                reader = csv.reader(fh)
                columns = next(reader, None)
                if columns is None:
                    raise InputError(f"{path}: the CSV file is empty")
                return columns, [[_number(c) for c in row] for row in reader if row]
        if suffix in (".parquet", ".pq"):
            import pandas as pd

            return read_records(pd.read_parquet(path))
        if suffix in (".json", ".jsonl", ".ndjson"):
            text = path.read_text(encoding="utf-8")
            if suffix == ".json":
                records = json.loads(text)
            else:
                records = [json.loads(line) for line in text.splitlines() if line.strip()]
            return read_records(records)
        raise InputError(f"{path}: unknown data file type {suffix!r}",
                         fix="use a .csv, .parquet, .json (list of records) or .jsonl file")
    if type(data).__module__.startswith("pandas"):
        frame = data.to_frame() if hasattr(data, "to_frame") and not hasattr(data, "columns") else data
        columns = [str(c) for c in frame.columns]
        return columns, [[_clean(v) for v in row] for row in frame.itertuples(index=False)]
    if isinstance(data, Sequence) and data and all(isinstance(r, dict) for r in data):
        columns = list(dict.fromkeys(k for r in data for k in r))
        return columns, [[_clean(r.get(c)) for c in columns] for r in data]
    raise InputError(f"cannot read request data from {type(data).__name__}",
                     fix="pass data= a CSV, Parquet, JSON or JSON-lines file, a pandas DataFrame "
                         "or a non-empty list of dicts")


def make_bodies(data: Any, *, batch_size: int = 1, fmt: str = "dataframe_split",
                max_bodies: int = DEFAULT_MAX_BODIES, seed: int = 0) -> list[str]:
    """The request bodies (JSON text) for ``data``."""
    if fmt not in FORMATS:
        raise InputError(f"body format {fmt!r} is unknown", fix=f"use one of {', '.join(FORMATS)}")
    if batch_size < 1:
        raise InputError(f"batch_size={batch_size}: must be at least 1")
    columns, rows = read_records(data)
    if not rows:
        raise InputError("the request data has no rows", fix="pass a data set with rows to sample")
    batches = [rows[i:i + batch_size] for i in range(0, len(rows), batch_size)]
    if len(batches) > max_bodies:
        batches = random.Random(seed).sample(batches, max_bodies)
    out = []
    for batch in batches:
        if fmt == "dataframe_split":
            body: Any = {"dataframe_split": {"columns": columns, "data": batch}}
        else:
            records = [dict(zip(columns, row, strict=True)) for row in batch]
            body = {"dataframe_records": records} if fmt == "dataframe_records" else records
        out.append(json.dumps(body, allow_nan=False, separators=(",", ":")))
    return out


def write_bodies(data: Any, path: str | os.PathLike[str], **kwargs: Any) -> int:
    """Write the bodies of ``data`` to ``path`` (JSON lines); returns how many."""
    bodies = make_bodies(data, **kwargs)
    Path(path).write_text("\n".join(bodies) + "\n", encoding="utf-8")
    return len(bodies)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mlgate_locust.bodies",
                                     description="Write load-test request bodies (JSON lines).")
    parser.add_argument("data", help="a .csv, .parquet, .json or .jsonl file")
    parser.add_argument("out", help="the JSON-lines file to write")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--format", choices=FORMATS, default="dataframe_split")
    parser.add_argument("--max-bodies", type=int, default=DEFAULT_MAX_BODIES)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    n = write_bodies(args.data, args.out, batch_size=args.batch_size, fmt=args.format,
                     max_bodies=args.max_bodies, seed=args.seed)
    print(f"{n} bodies written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
