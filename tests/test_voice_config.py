"""Top-level config/ and assets/ (found from a checkout or an installed wheel), the [voice] and
[assets] configuration, the maintenance 声音和语音 page, and the unit that lets the kiosk use
the speaker. No Kivy, no sound device."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from test_maint_facade import audit_actions, panel_text
from test_watchdog import read_unit
from voice_fakes import RecordingMixer

import kiosk.config.schema as schema
from kiosk import paths
from kiosk.config import ConfigError, load_config
from kiosk.domain.catalogue import load_catalogue
from kiosk.domain.roles import AccountStatus, OperatorAccount, PermissionDenied, Role
from kiosk.services.audit import AuditLog
from kiosk.services.maintenance import MaintenanceFacade, MaintenanceParts
from kiosk.services.maintenance_auth import MaintenanceSession
from kiosk.services.voice import SETTINGS_FILE_NAME, open_voice

ROOT = Path(__file__).resolve().parents[1]


# -- where the shipped folders are ------------------------------------------------------------


def test_in_a_checkout_the_shipped_folders_are_the_top_level_ones():
    assert paths.shipped_dir("config") == ROOT / "config"
    assert paths.shipped_dir("assets") == ROOT / "assets"
    assert schema.DEFAULT_CONFIG_PATH == ROOT / "config" / "default.toml"
    assert schema.SITE_EXAMPLE_PATH == ROOT / "config" / "site.example.toml"
    with pytest.raises(AttributeError):
        schema.NO_SUCH_PATH  # noqa: B018
    with pytest.raises(ValueError, match="not a shipped folder"):
        paths.shipped_dir("kiosk")


def test_the_configuration_moved_out_of_the_package_completely():
    assert list((ROOT / "kiosk" / "config").glob("*.toml")) == []
    for text_file in ("README.md", "deploy/README-kiosk-site.md", "Makefile"):
        assert "kiosk/config/" not in (ROOT / text_file).read_text(encoding="utf-8"), text_file


def test_an_install_in_another_scheme_is_found_from_the_wheels_record(tmp_path, monkeypatch):
    """GIVEN the data files installed outside this interpreter's data path (`pip install
    --user`) WHEN no checkout is around THEN the RECORD of the installed wheel leads to them."""
    share = tmp_path / "user" / "share" / paths.APP_DIR_NAME
    (share / "config").mkdir(parents=True)
    (share / "config" / "default.toml").write_text("", encoding="utf-8")
    site_packages = tmp_path / "user" / "lib" / "site-packages"

    class Record:
        def __init__(self, relative: str) -> None:
            self.parts = tuple(Path(relative).parts)
            self._relative = relative

        def locate(self):
            return site_packages / self._relative

    class Distribution:
        files = [
            Record("kiosk/__init__.py"),
            Record(f"../../share/{paths.APP_DIR_NAME}/config/default.toml"),
        ]

    from importlib import metadata

    monkeypatch.setattr(metadata, "distribution", lambda name: Distribution())
    assert paths._recorded_roots() == [share]


def test_without_any_copy_the_error_says_where_it_looked(monkeypatch, tmp_path):
    monkeypatch.setattr(paths, "_candidate_roots", lambda: [tmp_path / "a", tmp_path / "b"])
    paths._shipped_root.cache_clear()
    try:
        with pytest.raises(paths.ShippedFilesMissing, match="reinstall") as info:
            paths.shipped_dir("config")
        assert str(tmp_path / "a") in str(info.value)
    finally:
        paths._shipped_root.cache_clear()


# -- [voice] and [assets] ---------------------------------------------------------------------


def test_the_site_example_documents_voice_and_assets():
    config = load_config(schema.SITE_EXAMPLE_PATH, environ={})
    assert config.voice.volume == 0.8 and config.voice.muted is False
    assert config.voice.quiet_hours == "" and config.voice.quiet_volume == 0.4
    assert config.assets.site_dir == "/etc/jinjinban-kiosk/assets"
    text = schema.SITE_EXAMPLE_PATH.read_text(encoding="utf-8")
    assert "kiosk voice check" in text and "quiet_hours" in text


@pytest.mark.parametrize(
    ("toml", "key", "expected"),
    [
        ("[voice]\nvolume = 1.5\n", "voice.volume", "from 0 to 1"),
        ("[voice]\nquiet_volume = -0.1\n", "voice.quiet_volume", "non-negative"),
        ('[voice]\nquiet_hours = "22-7"\n', "voice.quiet_hours", "HH:MM-HH:MM"),
        ('[voice]\nquiet_hours = "07:00-07:00"\n', "voice.quiet_hours", "HH:MM-HH:MM"),
        ('[voice]\nmuted = "yes"\n', "voice.muted", "true or false"),
        ("[assets]\nsite_dir = 3\n", "assets.site_dir", "a string"),
    ],
)
def test_bad_voice_settings_name_the_file_and_key(tmp_path, toml, key, expected):
    path = tmp_path / "site.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert str(path) in message and key in message and expected in message


# -- maintenance: 声音和语音 ---------------------------------------------------------------------


@pytest.fixture
def signed_in(data_dir):
    def make(role: Role) -> MaintenanceSession:
        account = OperatorAccount(f"acct-{role.value}", "李*", role, AccountStatus.ACTIVE)
        return MaintenanceSession(account, "essc", AuditLog(data_dir))

    return make


@pytest.fixture
def voiced(data_dir):
    mixer = RecordingMixer(time_scale=0.01)
    voice = open_voice(
        load_config(environ={}), data_dir=data_dir, catalogue=load_catalogue(), mixer=mixer
    )
    facade = MaintenanceFacade(load_config(environ={}), data_dir, MaintenanceParts(voice=voice))
    yield facade, voice, mixer
    voice.close()


def test_the_operator_turns_the_voice_down_and_off_and_it_is_audited_and_kept(
    voiced,
    signed_in,
    data_dir,
):
    facade, voice, mixer = voiced
    operator = signed_in(Role.OPERATOR)
    assert "sound" in {entry.key for entry in facade.menu(operator)}
    panel = facade.panel(operator, "sound")
    assert "语音提示：开，音量 80%" in panel_text(panel)
    assert {a.key for a in panel.actions} == {"louder", "quieter", "mute", "test"}
    assert facade.act(operator, "sound", "quieter").message == "语音音量：70%"
    deadline = time.monotonic() + 5
    while "take_receipt" not in mixer.played():  # the new loudness is heard at once
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert mixer.of_kind("play")[-1].volume == pytest.approx(0.7)
    assert facade.act(operator, "sound", "mute").message == "语音提示已关闭"
    assert "语音提示：已静音" in panel_text(facade.panel(operator, "sound"))
    saved = json.loads((data_dir / SETTINGS_FILE_NAME).read_text(encoding="utf-8"))
    assert saved == {"volume": 0.7, "muted": True}
    assert facade.act(operator, "sound", "test").message == "语音提示已关闭，请先打开"
    actions = audit_actions(data_dir)
    assert ("operator", "sound.volume") in actions and ("operator", "sound.mute") in actions
    assert ("operator", "view.sound") in actions


def test_the_vendor_checks_the_speaker_and_the_admin_may_not(voiced, signed_in):
    facade, voice, mixer = voiced
    vendor = signed_in(Role.VENDOR)
    assert facade.act(vendor, "sound", "test").message.startswith("正在播放欢迎语")
    deadline = time.monotonic() + 5
    while "home" not in mixer.played():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert "声音设备：正常" in panel_text(facade.panel(vendor, "sound"))
    with pytest.raises(PermissionDenied):
        facade.panel(signed_in(Role.SYSTEM_ADMIN), "sound")


def test_the_sound_page_says_when_there_is_no_sound_device(data_dir, signed_in):
    voice = open_voice(
        load_config(environ={"KIOSK__VOICE__QUIET_HOURS": "00:00-23:59"}),
        data_dir=data_dir,
        catalogue=load_catalogue(),
        mixer=RecordingMixer(device=False),
    )
    try:
        deadline = time.monotonic() + 5
        while voice.worker.device_ok is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        facade = MaintenanceFacade(load_config(), data_dir, MaintenanceParts(voice=voice))
        operator = signed_in(Role.OPERATOR)
        text = panel_text(facade.panel(operator, "sound"))
        assert "声音设备：不可用" in text and "kiosk diag sound" in text
        assert "安静时段：00:00-23:59" in text
        assert facade.act(operator, "sound", "test").message == "没有可用的声音设备，本机静音运行"
    finally:
        voice.close()


# -- the speaker is allowed to the kiosk's service ----------------------------------------------


def test_the_kiosk_unit_and_user_may_use_the_speaker():
    service = read_unit("jinjinban-kiosk.service")["Service"]
    assert "char-alsa rw" in service["DeviceAllow"]
    assert "audio" in service["SupplementaryGroups"][0].split()
    sysusers = (ROOT / "deploy" / "sysusers-jinjinban-kiosk.conf").read_text(encoding="utf-8")
    assert "m kiosk audio" in sysusers
