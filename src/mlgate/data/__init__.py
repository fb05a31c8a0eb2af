"""Data checks: schemas (:mod:`.schema`), quality (:mod:`.quality`) and drift.

Each engine returns a :class:`mlgate.record.CheckResult` for ``mlgate.check(result)``. Nothing
heavy is imported here: numpy, pandas and pandera load inside the functions that need them.
"""
