"""The privacy scan (mlgate.security.privacy): planted personal data and secrets are all found and
counted per column, look-alikes that fail their checksum are not, random text and numbers rarely
are, and no raw value ever reaches the evidence, the failures or the metric names."""

from __future__ import annotations

import json
import string

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlgate.errors import InputError
from mlgate.security import privacy
from mlgate.security.privacy import KINDS, iban_valid, luhn_valid, mask, scan

WORDS = ("the patient reported mild symptoms after dose order shipped on time invoice total "
         "ref account status ok pending review call back tomorrow version build id").split()


# -- generators of valid (and almost valid) values ----------------------------------------------

def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # doubled: these sit at odd positions once the check digit is appended
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def card(rng: np.random.Generator, prefix: str = "4", length: int = 16) -> str:
    body = prefix + "".join(rng.choice(list(string.digits), length - len(prefix) - 1))
    return body + luhn_digit(body)


def iban_number(text: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in text))


def iban(rng: np.random.Generator, country: str = "DE", length: int = 22) -> str:
    bban = "".join(rng.choice(list(string.digits), length - 4))
    check = 98 - iban_number(bban + country + "00") % 97
    return f"{country}{check:02d}{bban}"


def grouped(value: str, sep: str = " ") -> str:
    return sep.join(value[i:i + 4] for i in range(0, len(value), 4))


def token(rng: np.random.Generator, prefix: str, n: int, alphabet: str = string.ascii_letters
          + string.digits) -> str:
    return prefix + "".join(rng.choice(list(alphabet), n))


def samples(rng: np.random.Generator) -> dict[str, list[str]]:
    """Two valid values of every kind."""
    jwt = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ."
           "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
    return {
        "email": ["jane.doe@example.com", "x_y+tag@mail.co.uk"],
        "phone": ["+44 20 7946 0958", "(415) 555-0132"],
        "payment_card": [grouped(card(rng)), card(rng, "37", 15)],
        "iban": [grouped(iban(rng)), iban(rng, "GB", 22).replace("GB", "GB", 1)],
        "us_ssn": ["123-45-6789", "078-12-3456"],
        "uk_nino": ["AB 12 34 56 C", "JG103759A"],
        "ipv4": ["203.0.113.7", "10.1.2.3"],
        "ipv6": ["2001:db8::8a2e:370:7334", "fe80::1ff:fe23:4567:890a"],
        "aws_access_key_id": [token(rng, "AKIA", 16, string.ascii_uppercase + string.digits),
                              token(rng, "ASIA", 16, string.ascii_uppercase + string.digits)],
        "github_token": [token(rng, "ghp_", 36), token(rng, "github_pat_", 40)],
        "gitlab_token": [token(rng, "glpat-", 20), token(rng, "glpat-", 24)],
        "slack_token": [token(rng, "xoxb-", 24), token(rng, "xoxp-", 30)],
        "stripe_key": [token(rng, "sk_live_", 24), token(rng, "rk_live_", 30)],
        "google_api_key": [token(rng, "AIza", 35), token(rng, "AIza", 35)],
        "jwt": [jwt, jwt.replace("SflK", "AbcD")],
        "private_key": ["-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----"],
        "secret_assignment": ["password=Xk9$mQ2#vL7pZ", 'api_key: "q8Zr1Lw0Yt5Nb3Vc"'],
    }


def filler(rng: np.random.Generator, n: int) -> list[str]:
    return [" ".join(rng.choice(WORDS, 6)) for _ in range(n)]


# -- detection ----------------------------------------------------------------------------------

def test_every_planted_value_is_found_and_counted_per_column() -> None:
    rng = np.random.default_rng(1)
    values = samples(rng)
    assert set(values) == set(KINDS)  # every kind is planted
    notes, contact = filler(rng, 400), filler(rng, 400)
    expected: dict[str, dict[str, int]] = {"notes": {}, "contact": {}}
    row = 0
    for kind, pair in values.items():
        for value in pair:  # two rows with one value each in "notes"
            notes[row] = f"{notes[row]} {value} end"
            row += 1
        # and one row with both values in "contact" (same row: 2 matches, 1 row)
        contact[row] = f"{pair[0]} ; {pair[1]} ."
        expected["notes"][kind] = 2
        expected["contact"][kind] = 2
        row += 1
    frame = pd.DataFrame({"notes": notes, "contact": pd.Series(contact, dtype="string"),
                          "amount": rng.normal(size=400), "id": np.arange(400)})
    result = scan(frame)
    assert result.counts() == expected
    assert result.columns_scanned == ("notes", "contact")
    by = {(f.column, f.kind): f for f in result.findings}
    assert by[("notes", "email")].rows == 2 and by[("contact", "email")].rows == 1
    assert by[("contact", "iban")].rate == pytest.approx(1 / 400)
    assert not result.passed
    metric = result.metrics()[0]
    assert (metric.name, metric.value, metric.threshold, metric.direction) == (
        "privacy.findings", 4.0 * len(KINDS), 0.0, "lower")


def test_look_alikes_that_fail_their_checks_are_not_flagged() -> None:
    rng = np.random.default_rng(2)
    bad_cards = []
    for _ in range(50):
        good = card(rng)
        bad_cards.append(good[:-1] + str((int(good[-1]) + 1 + rng.integers(0, 9)) % 10))
    bad_ibans = []
    for _ in range(50):
        good = iban(rng)
        bad_ibans.append(good[:2] + f"{(int(good[2:4]) + 1 + rng.integers(0, 90)) % 100:02d}"
                         + good[4:])
    cells = [*bad_cards, *(grouped(c) for c in bad_cards), *bad_ibans, "DE89 3704 0044 0532",
             "000-12-3456", "666-12-3456", "923-45-6789", "123-00-4567", "123-45-0000",
             "999.1.1.1", "127.0.0.1", "::1", "12:30:45", "v1.2.3.4.5", "0.4111111111111111",
             "password=changeme", "token: ${GITHUB_TOKEN}", "secret=<your-secret>",
             "password=aaaaaaaaaaaa", "a..b@example.com", "555-1234", "12345678",
             "eyJub3Rqc29u.eyJhYmNkZWY.abcdefghijkl", "QQ 12 34 56 C", "2024-05-01"]
    result = scan(pd.DataFrame({"text": cells}))
    assert result.findings == (), [f.message for f in result.findings]
    assert result.passed and result.failures() == []


def test_random_text_and_numbers_give_few_false_positives() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    digits = rng.integers(1, 20, n)
    numbers = ["".join(rng.choice(list(string.digits), k)) for k in digits]
    cells = []
    for i in range(n):
        parts = list(rng.choice(WORDS, 4))
        parts.insert(int(rng.integers(0, 5)), numbers[i])
        parts.append(f"{rng.normal():.6f}")
        parts.append(rng.bytes(16).hex())  # hashes, uuids
        parts.append(f"2024-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}")
        cells.append(" ".join(parts))
    result = scan(pd.DataFrame({"text": cells}))
    # only cards: a random 13-19 digit number with an issuer prefix and a valid Luhn digit *is*
    # card-shaped (measured: 30 of the 1087 such numbers, 2.8%; 1.0% of the rows); no other kind
    assert {f.kind for f in result.findings} <= {"payment_card"}
    long_numbers = sum(13 <= k <= 19 for k in digits)
    assert sum(f.rows for f in result.findings) / long_numbers < 0.04
    # a column of random 16-digit identifiers: about 1 in 40 has a card prefix and a valid Luhn
    # digit, but as a column it is plainly not cards (the Luhn pass rate is 10%, not 100%)
    ids = pd.DataFrame({"id": ["4" + "".join(rng.choice(list(string.digits), 15))
                               for _ in range(1000)]})
    found = scan(ids)
    assert found.findings == ()
    assert any("taken for identifiers" in note for note in found.notes)


@pytest.mark.parametrize("kind", KINDS)
def test_masked_examples_never_hold_the_raw_value(kind) -> None:
    rng = np.random.default_rng(4)
    values = samples(rng)[kind]
    frame = pd.DataFrame({"c": [f"see {v} here" for v in values] + filler(rng, 5)})
    result = scan(frame)
    written = json.dumps(result.evidence()) + "\n".join(result.failures()) + " ".join(
        m.name for m in result.metrics())
    assert result.counts() == {"c": {kind: 2}}
    for value in values:
        assert value not in written
        assert value.replace(" ", "") not in written.replace(" ", "")


@given(st.sampled_from([k for k in KINDS if k != "private_key"]), st.integers(0, 2**32 - 1),
       st.lists(st.sampled_from(WORDS), max_size=4), st.lists(st.sampled_from(WORDS), max_size=4))
def test_property_found_and_masked_in_any_context(kind, seed, before, after) -> None:
    value = samples(np.random.default_rng(seed))[kind][seed % 2]
    cell = " ".join([*before, value, *after])
    result = scan(pd.DataFrame({"c": [cell]}))
    assert result.counts().get("c", {}).get(kind) == 1, (cell, result.counts())
    written = json.dumps(result.evidence()) + "\n".join(result.failures())
    assert value not in written
    masked = mask(kind, value)
    assert value not in masked and masked in written


def test_allowed_kinds_are_reported_but_do_not_count() -> None:
    frame = pd.DataFrame({"contact": ["jane@example.com", "bob@example.org"],
                          "notes": ["call +14155550132", "ok"]})
    result = scan(frame, allow={"contact": ["email"]})
    assert [(f.column, f.kind, f.allowed) for f in result.findings] == [
        ("contact", "email", True), ("notes", "phone", False)]
    assert result.metrics()[0].value == 1 and not result.passed
    assert scan(frame, allow={"*": ["email", "phone"]}).passed
    assert scan(frame, max_findings=1).passed is False  # 3 findings
    assert scan(frame, kinds=["email"], allow={"contact": ["email"]}).passed


def test_big_frames_are_sampled_with_a_stated_bound_and_chunked(monkeypatch) -> None:
    rng = np.random.default_rng(5)
    cells = filler(rng, 1000)
    for i in range(0, 1000, 10):
        cells[i] += " mail a.b@example.com"
    frame = pd.DataFrame({"t": cells})
    whole = scan(frame, max_rows=None)
    assert whole.counts() == {"t": {"email": 100}} and not whole.sampled
    sampled = scan(frame, max_rows=200, seed=7)
    assert sampled.sampled and sampled.rows == 1000 and sampled.rows_scanned == 200
    assert "seeded sample (seed 7) of 200 of 1000 rows" in sampled.notes[0]
    assert 5 <= sampled.counts()["t"]["email"] <= 40
    assert scan(frame, max_rows=200, seed=7).counts() == sampled.counts()
    monkeypatch.setattr(privacy, "CHUNK_ROWS", 7)
    chunked = scan(frame, max_rows=None)
    assert chunked.counts() == whole.counts()
    assert chunked.findings[0].rows == 100


def test_card_numbers_stored_as_integers_are_found() -> None:
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({"pan": [int(card(rng)) for _ in range(3)] + [12, 7, 99],
                          "n": np.arange(6)})
    result = scan(frame)
    assert result.columns_scanned == ("pan",)  # "n" holds short numbers: not scanned
    assert result.counts() == {"pan": {"payment_card": 3}}
    assert str(frame["pan"][0]) not in json.dumps(result.evidence())


def test_bad_input_says_what_to_do() -> None:
    with pytest.raises(InputError, match="expected a pandas DataFrame"):
        scan([["a@b.com"]])
    with pytest.raises(InputError, match="unknown kinds: passport"):
        scan(pd.DataFrame({"a": ["x"]}), kinds=["passport"])
    with pytest.raises(InputError, match="columns not in the frame: b"):
        scan(pd.DataFrame({"a": ["x"]}), columns=["b"])


@given(st.lists(st.text(string.digits, min_size=13, max_size=19), max_size=30))
def test_vectorised_luhn_matches_the_reference(numbers) -> None:
    expected = [luhn_digit(n[:-1]) == n[-1] for n in numbers]
    assert list(luhn_valid(numbers)) == expected


@given(st.lists(st.sampled_from(["DE", "GB", "FR", "NO", "MT"]).flatmap(
    lambda c: st.tuples(st.just(c), st.text(string.digits + "ABC",
                                            min_size=privacy.IBAN_LENGTHS[c] - 5,
                                            max_size=privacy.IBAN_LENGTHS[c] - 4))),
    max_size=20))
def test_vectorised_iban_check_matches_the_reference(pairs) -> None:
    values = [f"{c}{n % 100:02d}{b}" for (c, b), n in zip(pairs, range(7, 10**6, 13),
                                                         strict=False)]
    # half of them with the right check digits, so that both answers are exercised
    values = [v if i % 2 else v[:2] + f"{98 - iban_number(v[4:] + v[:2] + '00') % 97:02d}" + v[4:]
              for i, v in enumerate(values)]
    expected = [privacy.IBAN_LENGTHS[v[:2]] == len(v) and iban_number(v[4:] + v[:4]) % 97 == 1
                for v in values]
    assert list(iban_valid(values)) == expected
