"""Security checks: model-file scanning by allowlist (:mod:`.scan`), adversarial robustness
(:mod:`.adversarial`), membership inference (:mod:`.membership`), personal data and secrets in
data sets (:mod:`.privacy`), input fuzzing from a pandera schema (:mod:`.fuzz`).

Each engine returns a :class:`mlgate.record.CheckResult` for ``mlgate.check(result)``. Nothing
heavy is imported here: numpy, pandas, torch and hypothesis load inside the functions that need
them. Nothing here ever unpickles a file it was asked to scan.
"""
