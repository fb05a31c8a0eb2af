"""A scan of a data set for personal data and secrets, counted per column, with masked
examples only.

:func:`scan` looks in every text column (``object``, ``string`` and ``category`` columns; numbers
stored as text included) for these kinds:

========================  ======================================================================
``email``                 e-mail addresses (local part without leading, trailing or double dots)
``phone``                 E.164 numbers written with ``+`` (8 to 15 digits) and North American
                          numbers written with separators (``(415) 555-0132``, ``415-555-0132``);
                          bare digit runs are never phones (too many false positives)
``payment_card``          13 to 19 digits, optionally grouped by spaces or dashes, with a known
                          issuer prefix (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay,
                          UnionPay) and a valid Luhn check digit; a column whose cells are
                          such numbers that mostly fail Luhn holds identifiers (noted, not counted)
``iban``                  the country's IBAN length (:data:`IBAN_LENGTHS`, 76 countries) and the
                          ISO 13616 mod-97 checksum
``us_ssn``                US social security numbers written ``123-45-6789``, without the numbers
                          never issued (area 000, 666, 900-999; group 00; serial 0000)
``uk_nino``               UK national insurance numbers (prefix rules of HMRC, suffix A-D)
``ipv4`` / ``ipv6``       addresses that parse (:mod:`ipaddress`), except loopback and unspecified
``aws_access_key_id`` …   the token formats of :data:`mlgate.security.redact.TOKEN_PATTERNS`:
                          AWS access key ids, GitHub, GitLab, Slack, Stripe live and Google API
                          keys, JSON Web Tokens (the header must decode to JSON), PEM private keys
``secret_assignment``     ``password=…``, ``api_key: …``, ``token = "…"``: a key-like name, then a
                          value of 8+ characters with at least 3 bits of entropy per character
                          that is no placeholder (``changeme``, ``${VAR}``, ``<token>``, ``***``)
========================  ======================================================================

Evidence holds counts, rates and **masked** examples only (``j***@e***.com``,
``**** **** **** 1234``, ``ghp_****…abcd``): no raw value reaches the bundle, the report or a
failure message. The metric ``privacy.findings`` counts the findings of kinds not allowed, with
threshold ``max_findings`` (0 by default), lower is better::

    import pytest
    from mlgate.security.privacy import scan

    @pytest.mark.security
    def test_training_data_has_no_personal_data(mlgate, train_df):
        # the support e-mails in "contact" are expected and consented to
        mlgate.check(scan(train_df, allow={"contact": ["email"]}))

    # FAILED ... mlgate privacy check failed:
    #   column 'notes': 3 payment_card in 3 of 1000 rows (0.3%), e.g. **** **** **** 1111

How it is fast: per kind, a looser RE2 pattern (:data:`PREFILTERS`) picks the candidate cells of
the whole column in C++ (``pyarrow.compute.match_substring_regex``); only those cells are joined
into one buffer (separated by ``\\x00``, which no pattern matches) for the exact pattern, run
once over the buffer; match offsets map back to rows with a binary search. Validators (Luhn,
mod-97, ``ipaddress``, JWT header) run on the regex candidates only, Luhn and mod-97 vectorised
in NumPy. Big frames are bounded: at most ``max_rows`` rows (default :data:`MAX_ROWS`) are
scanned, a seeded sample when the frame has more (the evidence says so), in chunks of
:data:`CHUNK_ROWS` rows, and cells are cut at ``max_chars`` characters.

Integer columns are scanned too when they hold numbers of 13 digits or more (a card number stored
as a number). Not covered: personal names and postal addresses (they need NER models, as
presidio's), float columns and integer columns of shorter numbers (a phone number stored as an
integer is missed), national ids other than the US SSN and the UK NINO, and text beyond
``max_chars`` of a cell.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mlgate.errors import InputError
from mlgate.record import Metric

from .redact import TOKEN_PATTERNS

#: rows scanned at most; a seeded sample of a bigger frame
MAX_ROWS = 200_000
#: rows joined into one buffer at a time
CHUNK_ROWS = 50_000
#: characters of a cell scanned at most
MAX_CHARS = 10_000
#: masked examples kept per column and kind
MAX_EXAMPLES = 3

#: IBAN length per country (SWIFT IBAN registry)
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

_SEP = "\x00"  # between cells in a buffer: no pattern below matches it
_NUM_LEFT = r"(?<![\w.,+/-])"  # not inside a longer number, a decimal or a word
_NUM_RIGHT = r"(?![\w]|[.,/-]\d)"

#: kind -> regular expression of candidates (group 0 is the value)
PATTERNS: dict[str, str] = {
    "email": r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}"
             r"[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}"
             r"(?![\w-])",
    "phone": r"(?<![\w+])\+[1-9](?:[ .-]?\(?\d\)?){7,14}(?![\w])"
             r"|(?<![\w(+.-])(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}(?![\w]|[.-]\d)",
    "payment_card": _NUM_LEFT + r"\d(?:[ -]?\d){12,18}" + _NUM_RIGHT,
    "iban": r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])",
    "us_ssn": _NUM_LEFT + r"(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}" + _NUM_RIGHT,
    "uk_nino": r"(?<![A-Za-z0-9])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
               r" ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])",
    "ipv4": r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|"
            r"[1-9]?\d)(?![\w]|\.\d)",
    "ipv6": r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"
            r"(?![\w:])",
    **{kind: pattern for kind, pattern, _ in TOKEN_PATTERNS},
    "secret_assignment": r"(?i)(?<![A-Za-z0-9])(?:[a-z0-9]+[_-])*(?:password|passwd|pwd|secret|"
                         r"token|api[_-]?key|access[_-]?key|auth[_-]?key|client[_-]?secret)"
                         r"['\"]?[ \t]*[:=][ \t]*['\"]?([^\s'\"\x00,;&]{8,200})",
}
KINDS: tuple[str, ...] = tuple(PATTERNS)
_COMPILED = {kind: re.compile(p) for kind, p in PATTERNS.items()}

#: kind -> a looser pattern in RE2 syntax (no look-arounds) that every match of the kind also
#: matches: it picks the candidate cells, in C++ over the whole column (pyarrow.compute)
PREFILTERS: dict[str, str] = {
    "email": r"[A-Za-z0-9._%+-]@[A-Za-z0-9]",
    "phone": r"\+[1-9]|\d{3}[ .-]\d{4}",
    "payment_card": r"\d(?:[ -]?\d){12}",
    "iban": r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11}",
    "us_ssn": r"\d{3}-\d{2}-\d{4}",
    "uk_nino": r"[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]",
    "ipv4": r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}",
    "ipv6": r"[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:",
    "aws_access_key_id": r"AKIA|ASIA|AGPA|AIDA|AROA|ANPA",
    "github_token": r"gh[pousr]_|github_pat_",
    "gitlab_token": r"gl(?:pat|dt|rt|ptt|cbt|oas|soat|ft)-",
    "slack_token": r"xox[abposr]-",
    "stripe_key": r"[sr]k_live_",
    "google_api_key": r"AIza",
    "jwt": r"eyJ[A-Za-z0-9_-]{5,}\.eyJ",
    "private_key": r"PRIVATE KEY",
    "secret_assignment": r"(?i)(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|"
                         r"auth[_-]?key|client[_-]?secret)['\"]?[ \t]*[:=]",
}

_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)|3[47]|36|"
                          r"6(?:011|5|4[4-9]|2)|35(?:2[89]|[3-8]\d))")
#: a column with at least this many card-shaped numbers of which fewer than half pass the Luhn
#: check holds identifiers, not cards (random digits pass it 1 time in 10, real cards always)
MIN_CARD_CANDIDATES = 20
_PLACEHOLDER = re.compile(r"(?i)^(?:\$\{?\w*\}?|<[^>]*>|\{\{.*\}\}|\*+|x+|changeme|password\d*|"
                          r"secret|none|null|true|false|redacted|example\w*|your[_-]?\w+|%\(\w+\)s)$")


# -- validators on candidates -------------------------------------------------------------------

_NOT_DIGIT = re.compile(r"\D+")


def _digits(values: list[str]) -> list[str]:
    return [_NOT_DIGIT.sub("", v) for v in values]


def luhn_valid(numbers: list[str]) -> Any:
    """A boolean array: does each digit string pass the Luhn check? Vectorised: the numbers are
    right-aligned in a 19-column digit matrix (leading zeros change no Luhn sum)."""
    import numpy as np

    if not numbers:
        return np.zeros(0, dtype=bool)
    width = max(19, max(len(n) for n in numbers))
    buf = "".join(n.zfill(width) for n in numbers).encode("ascii")
    d = (np.frombuffer(buf, dtype=np.uint8).reshape(len(numbers), width) - 48).astype(np.int64)
    doubled = d[:, -2::-2] * 2
    total = d[:, -1::-2].sum(axis=1) + (doubled - 9 * (doubled > 9)).sum(axis=1)
    return total % 10 == 0


def iban_valid(values: list[str]) -> Any:
    """A boolean array: does each IBAN (spaces removed, upper case) have its country's length
    and the mod-97 checksum 1? Vectorised over the candidates, one pass per character."""
    import numpy as np

    n = len(values)
    ok = np.array([IBAN_LENGTHS.get(v[:2]) == len(v) for v in values], dtype=bool)
    if not ok.any():
        return ok
    width = 34
    moved = [(v[4:] + v[:4]).rjust(width, "\x00") if good else "\x00" * width
             for v, good in zip(values, ok, strict=True)]
    chars = np.frombuffer("".join(moved).encode("latin-1"), dtype=np.uint8).reshape(n, width)
    is_digit = (chars >= 48) & (chars <= 57)
    is_letter = (chars >= 65) & (chars <= 90)
    value = np.where(is_digit, chars.astype(np.int64) - 48, chars.astype(np.int64) - 55)
    rem = np.zeros(n, dtype=np.int64)
    for j in range(width):
        rem = np.where(is_digit[:, j], (rem * 10 + value[:, j]) % 97,
                       np.where(is_letter[:, j], (rem * 100 + value[:, j]) % 97, rem))
    bad_char = ~(is_digit | is_letter | (chars == 0)).all(axis=1)
    return ok & (rem == 1) & ~bad_char


def _ip_valid(values: list[str]) -> list[bool]:
    out = []
    for v in values:
        try:
            ip = ipaddress.ip_address(v)
        except ValueError:
            out.append(False)
            continue
        out.append(not (ip.is_loopback or ip.is_unspecified))
    return out


def _jwt_valid(values: list[str]) -> list[bool]:
    out = []
    for v in values:
        head = v.split(".", 1)[0]
        try:
            decoded = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
            out.append(isinstance(decoded, dict))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            out.append(False)
    return out


def entropy(text: str) -> float:
    """Shannon entropy of ``text`` in bits per character."""
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def _secret_valid(matches: list[str]) -> list[bool]:
    out = []
    for match in matches:
        v = re.split(r"[:=]", match, maxsplit=1)[-1].strip(" \t'\"")
        out.append(len(v) >= 8 and entropy(v) >= 3.0 and not _PLACEHOLDER.match(v))
    return out


def card_check(values: list[str]) -> tuple[list[bool], int]:
    """Which candidates are card numbers (length, issuer prefix, grouping, Luhn), and how many
    had a card's shape before the Luhn check."""
    digits = _digits(values)
    shaped = [13 <= len(d) <= 19 and bool(_CARD_PREFIX.match(d))
              and (v.count(" ") + v.count("-") == 0 or _groups_ok(v)) for v, d in
              zip(values, digits, strict=True)]
    luhn = luhn_valid(digits)
    return [bool(a and b) for a, b in zip(shaped, luhn, strict=True)], sum(shaped)


def _validate(kind: str, values: list[str]) -> list[bool]:
    """Which candidates of ``kind`` are real findings."""
    if kind == "payment_card":
        return card_check(values)[0]
    if kind == "iban":
        return [bool(x) for x in iban_valid([v.replace(" ", "") for v in values])]
    if kind == "phone":
        return [8 <= len(d) <= 15 if v.startswith("+") else len(d) == 10
                for v, d in zip(values, _digits(values), strict=True)]
    if kind == "email":
        return [".." not in v and not v.split("@", 1)[0].endswith(".") for v in values]
    if kind in ("ipv4", "ipv6"):
        return _ip_valid(values)
    if kind == "jwt":
        return _jwt_valid(values)
    if kind == "secret_assignment":
        return _secret_valid(values)
    return [True] * len(values)


def _groups_ok(value: str) -> bool:
    """Grouped card numbers use one separator, in groups of 4 (or Amex/Diners 4-6-4/5)."""
    groups = re.split(r"[ -]", value)
    if len({ch for ch in value if ch in " -"}) > 1:
        return False
    sizes = [len(g) for g in groups]
    return all(s == 4 for s in sizes[:-1]) or sizes in ([4, 6, 5], [4, 6, 4])


# -- masking ------------------------------------------------------------------------------------

def mask(kind: str, value: str) -> str:
    """How a finding may be shown: never the value itself.

    >>> mask("email", "jane.doe@example.com")
    'j***@e***.com'
    >>> mask("payment_card", "4111 1111 1111 1111")
    '**** **** **** 1111'
    >>> mask("github_token", "ghp_" + "a" * 32 + "wxyz")
    'ghp_****…wxyz'
    """
    if kind == "email":
        local, _, domain = value.partition("@")
        tld = domain.rsplit(".", 1)[-1]
        return f"{local[:1]}***@{domain[:1]}***.{tld}"
    if kind == "payment_card":
        return "**** **** **** " + _digits([value])[0][-4:]
    if kind == "iban":
        compact = value.replace(" ", "")
        return compact[:2] + "** **** … **" + compact[-2:]
    if kind == "phone":
        digits = _digits([value])[0]
        return ("+" if value.startswith("+") else "") + "*" * (len(digits) - 2) + digits[-2:]
    if kind == "us_ssn":
        return "***-**-****"
    if kind == "uk_nino":
        return "** ** ** ** *"
    if kind == "ipv4":
        return value.split(".", 1)[0] + ".*.*.*"
    if kind == "ipv6":
        return value.split(":", 1)[0] + ":****:…"
    if kind == "private_key":
        return "[PEM private key block]"
    if kind == "secret_assignment":
        name = re.split(r"['\"]?[ \t]*[:=]", value, maxsplit=1)[0]
        return f"{name}=********"
    prefix = re.match(r"^(gh[pousr]_|github_pat_|gl[a-z]+-|xox[a-z]-|[sr]k_live_|AIza|eyJ|"
                      r"AKIA|ASIA|AGPA|AIDA|AROA|ANPA)", value)
    head = prefix.group(1) if prefix else ""
    tail = value[-4:] if len(value) - len(head) >= 16 else ""
    return f"{head}****…{tail}"


# -- the result ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One kind of personal data or secret found in one column: ``count`` matches in ``rows``
    rows (``rate`` = rows / rows scanned), a few masked ``examples``; ``allowed`` by policy."""

    column: str
    kind: str
    count: int
    rows: int
    rate: float
    examples: tuple[str, ...] = ()
    allowed: bool = False

    @property
    def message(self) -> str:
        shown = ", ".join(self.examples)
        return (f"column {self.column!r}: {self.count} {self.kind} in {self.rows} row"
                f"{'' if self.rows == 1 else 's'} ({self.rate:.2%} of the rows scanned)"
                + (f", e.g. {shown}" if shown else ""))

    def to_json(self) -> dict[str, Any]:
        return {"column": self.column, "kind": self.kind, "count": self.count, "rows": self.rows,
                "rate": self.rate, "examples": list(self.examples), "allowed": self.allowed}


@dataclass(frozen=True)
class PrivacyResult:
    """What :func:`scan` found: a :class:`mlgate.record.CheckResult`.

    Metrics: ``<name>.findings`` (matches of kinds not allowed; threshold ``max_findings``,
    lower is better) and ``<name>.columns_with_findings`` (no threshold)."""

    findings: tuple[Finding, ...]
    rows: int
    rows_scanned: int
    columns_scanned: tuple[str, ...]
    kinds: tuple[str, ...] = KINDS
    max_findings: int = 0
    sampled: bool = False
    seed: int = 0
    notes: tuple[str, ...] = ()
    name: str = "privacy"

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.allowed)

    @property
    def count(self) -> int:
        return sum(f.count for f in self.blocking)

    @property
    def passed(self) -> bool:
        return self.count <= self.max_findings

    def counts(self) -> dict[str, dict[str, int]]:
        """``{column: {kind: count}}`` of every finding, allowed or not."""
        out: dict[str, dict[str, int]] = {}
        for f in self.findings:
            out.setdefault(f.column, {})[f.kind] = f.count
        return out

    def metrics(self) -> list[Metric]:
        columns = {f.column for f in self.blocking}
        return [Metric(f"{self.name}.findings", float(self.count), float(self.max_findings),
                       "lower"),
                Metric(f"{self.name}.columns_with_findings", float(len(columns)), None, "lower")]

    def evidence(self) -> dict[str, Any]:
        return {
            "rows": self.rows, "rows_scanned": self.rows_scanned, "sampled": self.sampled,
            "seed": self.seed, "columns_scanned": list(self.columns_scanned),
            "kinds": list(self.kinds), "findings": [f.to_json() for f in self.findings],
            "max_findings": self.max_findings, "notes": list(self.notes),
        }

    def failures(self) -> list[str]:
        if self.passed:
            return []
        head = (f"{self.count} finding{'' if self.count == 1 else 's'} of personal data or "
                f"secrets, more than the {self.max_findings} allowed (remove or mask them in the "
                "data, or allow a kind per column: scan(frame, allow={'column': ['kind']}))")
        return [head] + [f.message for f in self.blocking]


# -- the scan -----------------------------------------------------------------------------------

def _text_columns(frame: Any, columns: Iterable[str] | None) -> list[Any]:
    import pandas as pd

    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise InputError(f"columns not in the frame: {', '.join(map(str, missing))}",
                             fix=f"choose among {', '.join(map(str, frame.columns))}")
        return list(columns)
    out = []
    for c in frame.columns:
        dtype = frame[c].dtype
        if (pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype)
                or pd.api.types.is_string_dtype(dtype)):
            out.append(c)
        elif (pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
              and frame[c].size and frame[c].abs().max() >= 10**12):
            out.append(c)  # 13+ digit integers: card numbers (or ids) stored as numbers
    return out


def _cards_of(buffer: str, matches: list[tuple[int, str]], values: list[str],
              notes: list[str]) -> tuple[list[bool], int]:
    """Card findings among the candidates. Numbers that fill a whole cell are judged as a column:
    with :data:`MIN_CARD_CANDIDATES` of them or more and fewer than half passing the Luhn check
    they are identifiers (random digits pass 1 in 10, real cards always) and are set aside, with
    a note. Numbers inside text are judged one by one."""
    keep, _ = card_check(values)
    whole = [(o == 0 or buffer[o - 1] == _SEP)
             and (o + len(v) == len(buffer) or buffer[o + len(v)] == _SEP)
             for o, v in matches]
    cells = [v for v, w in zip(values, whole, strict=True) if w]
    if len(cells) >= MIN_CARD_CANDIDATES:
        passed, shaped = card_check(cells)
        if shaped >= MIN_CARD_CANDIDATES and sum(passed) < shaped / 2:
            notes.append(f"{shaped} cells hold a card-shaped number, of which {sum(passed)} pass "
                         "the Luhn check (random digits pass 1 in 10, real cards always): taken "
                         "for identifiers, not counted as payment_card")
            keep = [k and not w for k, w in zip(keep, whole, strict=True)]
    return keep, len(cells)


def _scan_column(series: Any, kinds: tuple[str, ...], max_chars: int,
                 notes: list[str]) -> dict[str, tuple[Any, list[str]]]:
    """``{kind: (row positions of the findings, the raw matched values)}`` for one column;
    appends to ``notes`` what was set aside."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    present = series.notna().to_numpy()
    positions = np.flatnonzero(present)
    if positions.size == 0:
        return {}
    text = series[present].astype(str)
    cells = pc.replace_substring(pc.utf8_slice_codeunits(
        pa.array(text.tolist() if text.dtype == object else text.array, type=pa.large_string()),
        0, max_chars), _SEP, " ")
    found: dict[str, tuple[Any, list[str]]] = {}
    for kind in kinds:
        # candidate cells first (RE2 in C++ over the column), the exact pattern on them only
        hit = np.flatnonzero(pc.match_substring_regex(cells, PREFILTERS[kind])
                             .to_numpy(zero_copy_only=False))
        if hit.size == 0:
            continue
        chosen = cells.take(pa.array(hit)).to_pylist()
        lengths = np.fromiter((len(c) + 1 for c in chosen), dtype=np.int64, count=len(chosen))
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        buffer = _SEP.join(chosen)
        matches = [(m.start(), m.group(0)) for m in _COMPILED[kind].finditer(buffer)]
        if not matches:
            continue
        values = [v for _, v in matches]
        if kind == "payment_card":
            keep, _ = _cards_of(buffer, matches, values, notes)
        else:
            keep = _validate(kind, values)
        offsets = np.array([o for (o, _), k in zip(matches, keep, strict=True) if k],
                           dtype=np.int64)
        kept = [v for v, k in zip(values, keep, strict=True) if k]
        if kept:
            rows = positions[hit[np.searchsorted(starts, offsets, side="right") - 1]]
            found[kind] = (rows, kept)
    return found


def scan(
    frame: Any,
    *,
    columns: Iterable[str] | None = None,
    kinds: Iterable[str] | None = None,
    allow: Mapping[str, Iterable[str]] | None = None,
    max_findings: int = 0,
    max_rows: int | None = MAX_ROWS,
    max_chars: int = MAX_CHARS,
    seed: int = 0,
    name: str = "privacy",
) -> PrivacyResult:
    """Scan the text columns of a pandas DataFrame for personal data and secrets.

    ``columns``: the columns to scan (default: every object, string and category column, and
    integer columns holding numbers of 13 digits or more).
    ``kinds``: the kinds to look for (default :data:`KINDS`). ``allow``: kinds accepted per
    column, ``{"contact": ["email"]}`` (``"*"`` as a column means every column); they are
    reported but do not count. ``max_findings``: the threshold of ``privacy.findings``.
    ``max_rows``: a bigger frame is scanned on a sample of this many rows drawn with ``seed``
    (``None`` scans everything). ``max_chars``: characters of a cell scanned.

    >>> import pandas as pd
    >>> from mlgate.security.privacy import scan
    >>> r = scan(pd.DataFrame({"note": ["call +44 20 7946 0958", "ok"], "n": [1, 2]}))
    >>> r.counts(), r.passed
    ({'note': {'phone': 1}}, False)
    """
    import numpy as np
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(frame).__module__}."
                         f"{type(frame).__name__}",
                         fix="pass a pandas.DataFrame (polars: frame.to_pandas())")
    chosen = tuple(KINDS if kinds is None else kinds)
    unknown = [k for k in chosen if k not in PATTERNS]
    allow_map = {str(c): set(ks) for c, ks in (allow or {}).items()}
    unknown += [k for ks in allow_map.values() for k in ks if k not in PATTERNS]
    if unknown:
        raise InputError(f"unknown kinds: {', '.join(map(str, unknown))}",
                         fix=f"use some of {', '.join(KINDS)}")
    if max_findings < 0 or max_rows is not None and max_rows < 1:
        raise InputError("max_findings must be >= 0 and max_rows >= 1 (or None)")
    names = _text_columns(frame, columns)
    rows = int(frame.shape[0])
    sampled = max_rows is not None and rows > max_rows
    if sampled:
        picked = np.sort(np.random.default_rng(seed).choice(rows, size=max_rows, replace=False))
        frame = frame.iloc[picked]
    scanned = int(frame.shape[0])
    notes = []
    if sampled:
        notes.append(f"scanned a seeded sample (seed {seed}) of {scanned} of {rows} rows; "
                     "counts are of the sample (scan(..., max_rows=None) scans every row)")
    findings: list[Finding] = []
    for column in names:
        series = frame[column]
        per_kind: dict[str, list[Any]] = {}
        for start in range(0, scanned, CHUNK_ROWS):
            chunk = series.iloc[start:start + CHUNK_ROWS]
            said: list[str] = []
            found = _scan_column(chunk, chosen, max_chars, said)
            notes.extend(f"column {column!r}, rows {start}-{start + len(chunk) - 1}: {n}"
                         for n in said)
            for kind, (positions, values) in found.items():
                acc = per_kind.setdefault(kind, [[], [], 0])
                acc[0].append(positions + start)
                if len(acc[1]) < MAX_EXAMPLES:
                    acc[1].extend(values[: MAX_EXAMPLES - len(acc[1])])
                acc[2] += len(values)
        allowed_here = allow_map.get(str(column), set()) | allow_map.get("*", set())
        for kind in chosen:
            if kind not in per_kind:
                continue
            positions, examples, count = per_kind[kind]
            n_rows = int(np.unique(np.concatenate(positions)).size)
            masked = tuple(dict.fromkeys(mask(kind, v) for v in examples))
            findings.append(Finding(str(column), kind, int(count), n_rows,
                                    n_rows / scanned if scanned else 0.0, masked,
                                    kind in allowed_here))
    return PrivacyResult(tuple(findings), rows=rows, rows_scanned=scanned,
                         columns_scanned=tuple(str(c) for c in names), kinds=chosen,
                         max_findings=int(max_findings), sampled=sampled, seed=seed,
                         notes=tuple(notes), name=name)


__all__ = ["KINDS", "PATTERNS", "Finding", "PrivacyResult", "iban_valid", "luhn_valid", "mask",
           "scan"]
