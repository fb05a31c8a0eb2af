"""Model checks: metrics with confidence intervals, paired comparison with the champion, slices,
fairness, calibration, behaviour and reproducibility. Imported only when a model check runs."""
