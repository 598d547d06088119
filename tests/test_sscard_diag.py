"""`kiosk diag sscard` without pcscd: the in-process virtual reader, exit codes, help text.

The same command through pcscd + vpcd is tested in test_sscard_pcscd.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import kiosk.devices.sscard as sscard
from kiosk.cli import main
from kiosk.devices.sscard.errors import ServiceUnavailable
from kiosk.devices.sscard.ports import InProcessPort, PcscPort
from kiosk.devices.sscard.virtual_card import demo_profiles

PROFILES = demo_profiles()


@pytest.fixture
def no_pcscd(monkeypatch, data_dir):
    """pcscd is 'not running': the diag falls back to the in-process reader."""
    monkeypatch.setattr(sscard, "_pcsc_readers", lambda: None)


def run_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["diag", "sscard", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_in_process_demo_card_is_read_and_masked(no_pcscd, capsys):
    code, result = run_json(capsys, "--card", "gen3", "--timeout", "10")
    assert code == 0 and result["ok"] is True
    assert result["readers"] == [InProcessPort.READER_NAME]
    assert result["transport"] == sscard.TRANSPORT_IN_PROCESS
    assert result["card"]["version"] == "3.00" and result["card"]["name"] == "李*怡"
    assert result["card"]["birth_date"] == "****-**-**"
    assert result["expired"] is False


def test_expired_card_is_read_and_flagged(no_pcscd, capsys):
    code, result = run_json(capsys, "--card", "expired", "--unmasked")
    assert code == 0 and result["expired"] is True
    assert result["card"]["ssn"] == PROFILES["expired"].ssn


@pytest.mark.parametrize(
    ("card", "exit_code", "error_code"),
    [
        ("mute", 8, "mute"),
        ("pulled_mid_read", 7, "removed"),
        ("wrong_application", 6, "not_found"),
        ("garbage", 9, "malformed_tlv"),
    ],
)
def test_faulty_demo_cards_exit_with_distinct_codes(no_pcscd, capsys, card, exit_code, error_code):
    code, result = run_json(capsys, "--card", card)
    assert code == exit_code
    assert result["ok"] is False and result["error"]["code"] == error_code


@pytest.mark.parametrize("card", ["cloned", "cloned_gen1"])
def test_cloned_card_exits_10_with_the_chinese_message(no_pcscd, capsys, card):
    code, result = run_json(capsys, "--card", card)
    assert code == 10 and result["ok"] is False and result["card"] is None
    assert result["error"]["code"] == "card_not_genuine"
    assert result["error"]["message_zh"].startswith("此社保卡未通过安全认证")


def test_demo_card_reports_its_psam_authentication(no_pcscd, capsys):
    code = main(["diag", "sscard", "--card", "gen3"])
    out = capsys.readouterr().out
    assert code == 0
    assert (
        "卡片认证 / authentication: PSAM SM4 内部认证、外部认证(RKSSSE)通过；终端机编号 140431000001"
        in out
    )


def test_without_authentication_a_third_generation_card_exits_10(no_pcscd, capsys, monkeypatch):
    monkeypatch.setenv("KIOSK__DEVICES__SSCARD__AUTHENTICATOR", "none")
    code, result = run_json(capsys, "--card", "gen3")
    assert code == 10 and result["error"]["code"] == "security"
    code, result = run_json(capsys, "--card", "gen2")
    assert code == 0 and result["card"]["authentication"]["evidence"] == ""


def test_pcscd_not_running_exits_3(monkeypatch, data_dir, capsys):
    def refuse(self):
        raise ServiceUnavailable("SCardEstablishContext: Service not available. (0x8010001D)")

    monkeypatch.setattr(PcscPort, "readers", refuse)
    code, result = run_json(capsys, "--url", "pcsc://")
    assert code == 3 and result["error"]["code"] == "pcsc_unavailable"


def test_bad_url_exits_2(data_dir, capsys):
    code, result = run_json(capsys, "--url", "usb://0")
    assert code == 2 and result["error"]["code"] == "config"


def test_text_output_fault_is_one_line_on_stderr(no_pcscd, capsys):
    code = main(["diag", "sscard", "--card", "wrong_application"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 6
    assert len(err) == 1 and err[0].startswith("FAILED (6 not_found)")


def test_help_documents_exit_codes_and_imports_no_kivy():
    code = (
        "import sys, contextlib, io\n"
        "from kiosk.cli import main\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):\n"
        "    main(['diag', 'sscard', '--help'])\n"
        "assert 'kivy' not in sys.modules\n"
        "print(buf.getvalue())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    for line in ("exit codes:", " 3  pcscd is not running", " 8  card does not answer"):
        assert line in out.stdout
