"""Config: defaults, site example, overrides, and errors that name key and value."""

import pytest

from kiosk.config import ConfigError, load_config
from kiosk.config.schema import SITE_EXAMPLE_PATH


def test_default_is_demo_mode():
    cfg = load_config(environ={})
    assert cfg.is_demo
    assert cfg.devices.printer.url == "sim://"
    assert cfg.session.idle_seconds == 60
    assert cfg.session.prompt_seconds >= 20


def test_site_example_loads_as_site_mode():
    cfg = load_config(SITE_EXAMPLE_PATH, environ={})
    assert cfg.kiosk.mode == "site"
    assert cfg.kiosk.data_dir == "/var/lib/jinjinban-kiosk"


def test_environment_overrides_are_coerced_to_the_field_type():
    cfg = load_config(
        environ={"KIOSK__SESSION__IDLE_SECONDS": "90", "KIOSK__DISPLAY__FULLSCREEN": "false"}
    )
    assert cfg.session.idle_seconds == 90
    assert cfg.display.fullscreen is False


@pytest.mark.parametrize(
    ("toml", "key", "value"),
    [
        ('[display]\norientation = "sideways"\n', "display.orientation", "'sideways'"),
        ('[session]\nidle_seconds = "sixty"\n', "session.idle_seconds", "'sixty'"),
        ("[devices.printer]\ncut = 3\n", "devices.printer.cut", "3"),
        ("[session]\nidle_secs = 10\n", "session.idle_secs", ""),
    ],
)
def test_bad_values_name_the_key_and_value(tmp_path, toml, key, value):
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert str(path) in message
    assert key in message
    assert value in message


def test_bad_environment_value_names_the_variable():
    with pytest.raises(ConfigError, match="KIOSK__SESSION__IDLE_SECONDS"):
        load_config(environ={"KIOSK__SESSION__IDLE_SECONDS": "soon"})


def test_invalid_toml_is_a_config_error(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[kiosk\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path, environ={})


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("KIOSK__SESSION__IDLE_SECONDS", "-5"),
        ("KIOSK__DEVICES__IDCARD__POLL_INTERVAL", "-0.3"),
        ("KIOSK__DEVICES__IDCARD__POLL_INTERVAL", "nan"),
        ("KIOSK__DEVICES__SSCARD__READ_TIMEOUT", "inf"),
    ],
)
def test_environment_numbers_are_range_checked_like_file_numbers(variable, raw):
    with pytest.raises(ConfigError, match=variable):
        load_config(environ={variable: raw})


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_non_finite_number_in_the_file_is_refused(tmp_path, value):
    path = tmp_path / "site.toml"
    path.write_text(f"[devices.idcard]\npoll_interval = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="devices.idcard.poll_interval"):
        load_config(path, environ={})


def test_an_unreadable_config_file_is_a_config_error(tmp_path):
    not_utf8 = tmp_path / "latin1.toml"
    not_utf8.write_bytes('[kiosk]\nservice_point = "\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(not_utf8, environ={})
    directory = tmp_path / "dir.toml"
    directory.mkdir()
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(directory, environ={})
