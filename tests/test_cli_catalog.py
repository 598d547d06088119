"""``kiosk catalog``: the JSON list, the human table, and exit 2 on a malformed catalogue file."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kiosk.cli import main

KIOSK_ITEMS = [*range(1, 16), 22, 23, 25, 26, 27, 33, 36]


def run_kiosk(*args: str) -> subprocess.CompletedProcess:
    """Run the real command in a fresh interpreter, as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def test_json_lists_40_items_22_run_by_the_kiosk():
    result = run_kiosk("catalog", "--json")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    assert len(items) == 40
    assert [item["no"] for item in items if item["kiosk_runs"]] == KIOSK_ITEMS
    for item in items:
        assert {"no", "category", "name", "channels", "time_limit_days", "kiosk_runs"} <= set(item)
        assert isinstance(item["kiosk_runs"], bool)
        assert isinstance(item["time_limit_days"], int)
        assert item["basis"] and item["procedure"]  # 办事依据, 办事程序 (附件4 line 12)
        if item["time_limit_text"] == "即时办结":
            assert item["time_limit_days"] == 0
    by_no = {item["no"]: item for item in items}
    assert by_no[11]["time_limit_days"] == 10
    assert by_no[18]["time_limit_text"] == "5个工作日内办结"
    assert by_no[1]["channels"] == ["柜面", "自助机"]
    assert by_no[40]["channels"] == ["柜面"]


def test_table_for_people(capsys):
    assert main(["catalog"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["序号", "业务类型", "服务事项名称", "渠道", "办结时限"]
    rows = out[1:-1]
    assert len(rows) == 40
    assert rows[0].split() == ["1", "我要找工作", "固定工求职登记", "自助", "即时办结"]
    assert rows[10].split() == ["11", "我要找工作", "失业登记", "自助", "10个工作日"]
    assert rows[39].split() == ["40", "我要办社保卡", "社会保障卡挂失与解挂", "柜台", "即时办结"]
    assert out[-1] == "共 40 项，自助机办理 22 项，柜台办理 18 项"


def test_malformed_file_exits_2_naming_file_item_and_field(tmp_path):
    bad = tmp_path / "catalogue.toml"
    bad.write_text(
        '[[item]]\nno = 7\ncategory = "我要找工作"\nname = "招聘零工登记"\ncontent = "x"\n'
        'channels = ["柜面", "自助机"]\ntargets = "x"\nconditions = "需本人携带身份证或社保卡"\n'
        'time_limit_text = "即时办结"\ntime_limit_days = 3\nbasis = ["《就业促进法》"]\n',
        encoding="utf-8",
    )
    result = run_kiosk("catalog", "--json", "--file", str(bad))
    assert result.returncode == 2
    assert result.stdout == ""
    assert str(bad) in result.stderr
    assert "item 7" in result.stderr
    assert "time_limit_days" in result.stderr


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["catalog", "--file", str(tmp_path / "none.toml")]) == 2
    assert "cannot read file" in capsys.readouterr().err


def test_catalog_does_not_import_kivy():
    code = (
        "import sys, io, contextlib\n"
        "from kiosk.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    rc = main(['catalog', '--json'])\n"
        "assert rc == 0, rc\n"
        "assert 'kivy' not in sys.modules, 'kivy imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("flag", ["--help"])
def test_help_mentions_the_file_option(flag, capsys):
    with pytest.raises(SystemExit) as info:
        main(["catalog", flag])
    assert info.value.code == 0
    assert "--file" in capsys.readouterr().out
