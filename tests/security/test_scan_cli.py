"""`mlgate scan`: exit codes 0 clean / 1 findings / 2 input error, human and JSON output."""

from __future__ import annotations

import hashlib
import json
import pickle

from mlgate.cli import main

EVIL = b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00true\x85R."
MINE = b"\x80\x02cmypkg.models\nNet\n)\x81."


def test_clean_file_exits_0_and_prints_its_sha256(tmp_path, capsys):
    path = tmp_path / "ok.pkl"
    path.write_bytes(pickle.dumps({"w": [1.0]}, protocol=4))
    assert main(["scan", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"ok   {path}  sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}  pickle" in out
    assert "1 file(s), 0 finding(s)" in out


def test_findings_exit_1_with_offset_global_and_fix(tmp_path, capsys):
    (tmp_path / "evil.pkl").write_bytes(EVIL)
    assert main(["scan", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL {tmp_path / 'evil.pkl'}" in out
    assert f"[critical] {tmp_path / 'evil.pkl'} @ offset 2: imports os.system" in out
    assert "Fix: do not load this file" in out


def test_allow_and_json(tmp_path, capsys):
    path = tmp_path / "mine.pkl"
    path.write_bytes(MINE)
    assert main(["scan", str(path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["clean"] is False
    (finding,) = data["files"][0]["findings"]
    assert finding["symbol"] == "mypkg.models.Net" and finding["offset"] == 2
    assert main(["scan", str(path), "--allow", "mypkg.models.Net", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["clean"] is True and data["allowed_extra"] == ["mypkg.models.Net"]
    assert data["files"][0]["globals"] == {"mypkg.models.Net": f"{path} @ 2"}


def test_missing_path_exits_2(tmp_path, capsys):
    assert main(["scan", str(tmp_path / "nope.pt")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_max_depth_option(tmp_path, capsys):
    import io
    import zipfile

    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("m.pkl", pickle.dumps([1], protocol=2))
    with zipfile.ZipFile(tmp_path / "outer.zip", "w") as zf:
        zf.writestr("inner.zip", inner.getvalue())
    assert main(["scan", str(tmp_path / "outer.zip")]) == 0
    assert main(["scan", str(tmp_path / "outer.zip"), "--max-depth", "1"]) == 1
    assert "nested deeper than 1 levels" in capsys.readouterr().out


def test_help_shows_exit_codes_and_an_example(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["scan", "--help"])
    out = capsys.readouterr().out
    assert "1  findings" in out and "mlgate scan models/model.pt" in out


def test_policy_allow_globals(tmp_path, capsys, monkeypatch):
    path = tmp_path / "mine.pkl"
    path.write_bytes(MINE)
    policy = tmp_path / "mlgate.toml"
    policy.write_text('[security]\nallow_globals = ["mypkg.models.Net"]\n')
    assert main(["scan", str(path), "--policy", str(policy)]) == 0
    monkeypatch.chdir(tmp_path)  # found here without --policy
    assert main(["scan", str(path)]) == 0
    policy.write_text('[security]\nallow_globals = ["mypkg.models.Other"]\n')
    assert main(["scan", str(path)]) == 1
    capsys.readouterr()


def test_fixture_uses_the_project_policy(pytester):
    pytester.makefile(".toml", mlgate='[security]\nallow_globals = ["mypkg.models.Net"]\n')
    (pytester.path / "mine.pkl").write_bytes(MINE)
    (pytester.path / "evil.pkl").write_bytes(EVIL)
    pytester.makepyfile(
        """
        def test_mine(mlgate_scan):
            assert mlgate_scan("mine.pkl").clean

        def test_evil(mlgate_scan):
            mlgate_scan("evil.pkl")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--mlgate-no-bundle")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*imports os.system*"])
