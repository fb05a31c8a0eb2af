"""What a million predictions cost on the machine that was measured.

``cost_per_million(price_per_hour, predictions_per_second)`` is the machine's price per hour
over the predictions it makes in an hour, times a million::

    >>> round(cost_per_million(3.06, 2_000.0), 4)   # $3.06/h, 2,000 predictions/s
    0.425

The price comes from the test configuration (``--mlgate-price-per-hour``,
``$MLGATE_PRICE_PER_HOUR`` or the ini key ``mlgate_price_per_hour``): the benchmark fixture and
the load-test fixture then record ``{name}.cost_per_million`` beside their throughput. A policy
can also derive it at gate time from any recorded throughput with a ``kind = "cost"`` rule, which
carries its own ``price_per_hour``. The throughput is the median's (a benchmark) or the measured
rate (a load test): the cost assumes the machine is kept that busy, and that one item of a batch
(``batch_size``) or one request (``rows_per_request``) is one prediction.
"""

from __future__ import annotations

import math


def cost_per_million(price_per_hour: float, predictions_per_second: float) -> float:
    """Price of a million predictions; NaN when the throughput is not a positive finite number
    (so a gate on it fails closed), ``ValueError`` for a price that is not a finite number >= 0."""
    if (isinstance(price_per_hour, bool) or not isinstance(price_per_hour, (int, float))
            or not math.isfinite(price_per_hour) or price_per_hour < 0):
        raise ValueError(f"price_per_hour must be a finite number >= 0 (the machine's price per "
                         f"hour, e.g. 3.06), got {price_per_hour!r}")
    if not (isinstance(predictions_per_second, (int, float)) and math.isfinite(predictions_per_second)
            and predictions_per_second > 0):
        return math.nan
    return price_per_hour / (predictions_per_second * 3600.0) * 1e6


def parse_price(text: str | None, source: str) -> float | None:
    """A configured price per hour (``None`` when unset); a clear error naming where it came
    from when it is not a number."""
    if text is None or not str(text).strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{source}: the price per hour must be a number such as 3.06, got "
                         f"{text!r}") from None
    cost_per_million(value, 1.0)  # validates
    return value
