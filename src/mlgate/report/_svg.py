"""Small inline SVG charts for the HTML report: interval bars, paired histograms, the reliability
curve. Plain strings; every label goes through :func:`html.escape`. No script, no external URL."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

REF, CUR, BAD, OK, INK = "#7a8ca3", "#e08a1e", "#c0392b", "#2e8b57", "#333"


def _f(x: float) -> str:
    return f"{x:.1f}"


def _finite(*values: float | None) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def interval_bar(value: float | None, low: float | None = None, high: float | None = None,
                 threshold: float | None = None, *, direction: str = "higher", zero: bool = False,
                 width: int = 160, height: int = 16) -> str:
    """A value (dot) with its interval (line) against its threshold (tick; the side that fails is
    shaded). ``zero`` draws a faint line at 0 (for paired differences)."""
    points = _finite(value, low, high, threshold, 0.0 if zero else None)
    if not points:
        return ""
    lo, hi = min(points), max(points)
    span = hi - lo or max(abs(hi), 1.0) * 0.1 or 1.0
    lo, hi = lo - span * 0.08, hi + span * 0.08
    pad = 6

    def x(v: float) -> float:
        return pad + (v - lo) / (hi - lo) * (width - 2 * pad)

    mid = height / 2
    parts = [f'<svg class="ib" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="interval">']
    t = _finite(threshold)
    if t:
        tx = x(t[0])
        if direction == "higher":
            parts.append(f'<rect x="0" y="0" width="{_f(tx)}" height="{height}" fill="{BAD}" '
                         'fill-opacity="0.08"/>')
        else:
            parts.append(f'<rect x="{_f(tx)}" y="0" width="{_f(width - tx)}" height="{height}" '
                         f'fill="{BAD}" fill-opacity="0.08"/>')
    if zero:
        zx = x(0.0)
        parts.append(f'<line x1="{_f(zx)}" y1="0" x2="{_f(zx)}" y2="{height}" stroke="#bbb" '
                     'stroke-dasharray="2,2"/>')
    iv = _finite(low, high)
    if len(iv) == 2:
        parts.append(f'<line x1="{_f(x(iv[0]))}" y1="{mid}" x2="{_f(x(iv[1]))}" y2="{mid}" '
                     f'stroke="{INK}" stroke-width="2"/>')
    if t:
        parts.append(f'<line x1="{_f(x(t[0]))}" y1="1" x2="{_f(x(t[0]))}" y2="{height - 1}" '
                     f'stroke="{BAD}" stroke-width="2"/>')
    v = _finite(value)
    if v:
        parts.append(f'<circle cx="{_f(x(v[0]))}" cy="{mid}" r="3.5" fill="{INK}"/>')
    parts.append("</svg>")
    return "".join(parts)


def paired_bars(labels: Sequence[str], reference: Sequence[float], current: Sequence[float], *,
                width: int = 300, height: int = 70) -> str:
    """Reference and current shares per bin (or category), side by side; labels in tooltips."""
    n = min(len(labels), len(reference), len(current))
    if n == 0:
        return ""
    rs, cs = sum(reference[:n]) or 1, sum(current[:n]) or 1
    ref = [r / rs for r in reference[:n]]
    cur = [c / cs for c in current[:n]]
    top = max(ref + cur) or 1.0
    slot = (width - 4) / n
    bw = max(slot / 2 - 0.5, 0.5)
    parts = [f'<svg class="hist" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             'role="img" aria-label="histogram">',
             f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" stroke="#999"/>']
    for i in range(n):
        x0 = 2 + i * slot
        tip = escape(f"{labels[i]}: reference {ref[i]:.3f}, current {cur[i]:.3f}")
        parts.append(f"<g><title>{tip}</title>")
        for j, (share, colour) in enumerate(((ref[i], REF), (cur[i], CUR))):
            h = share / top * (height - 4)
            parts.append(f'<rect x="{_f(x0 + j * bw)}" y="{_f(height - 1 - h)}" width="{_f(bw)}" '
                         f'height="{_f(h)}" fill="{colour}"/>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def reliability_curve(points: Sequence[tuple[float, float, int]], *, size: int = 180) -> str:
    """Mean predicted probability (x) against the observed frequency (y) per bin, with the
    diagonal of perfect calibration; dot area grows with the bin's count."""
    pad = 18
    inner = size - 2 * pad

    def x(v: float) -> float:
        return pad + min(max(v, 0.0), 1.0) * inner

    def y(v: float) -> float:
        return size - pad - min(max(v, 0.0), 1.0) * inner

    parts = [f'<svg class="rc" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
             'role="img" aria-label="reliability curve">',
             f'<rect x="{pad}" y="{pad}" width="{inner}" height="{inner}" fill="none" stroke="#ccc"/>',
             f'<line x1="{_f(x(0))}" y1="{_f(y(0))}" x2="{_f(x(1))}" y2="{_f(y(1))}" stroke="#bbb" '
             'stroke-dasharray="3,3"/>',
             f'<text x="{size / 2}" y="{size - 3}" font-size="9" text-anchor="middle">predicted</text>',
             f'<text x="9" y="{size / 2}" font-size="9" text-anchor="middle" '
             f'transform="rotate(-90 9 {size / 2})">observed</text>']
    pts = [(p, o, c) for p, o, c in points if math.isfinite(p) and math.isfinite(o)]
    if pts:
        line = " ".join(f"{_f(x(p))},{_f(y(o))}" for p, o, _ in pts)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{CUR}" stroke-width="1.5"/>')
        biggest = max(c for _, _, c in pts) or 1
        for p, o, c in pts:
            r = 1.5 + 3.5 * math.sqrt(max(c, 0) / biggest)
            parts.append(f'<circle cx="{_f(x(p))}" cy="{_f(y(o))}" r="{r:.1f}" fill="{CUR}">'
                         f"<title>{escape(f'predicted {p:.3f}, observed {o:.3f}, n={c}')}</title>"
                         "</circle>")
    parts.append("</svg>")
    return "".join(parts)
