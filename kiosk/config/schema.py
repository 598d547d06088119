"""One typed schema for the kiosk's TOML configuration.

Sources, later ones winning: ``config/default.toml`` (demo mode; the shipped ``config/`` folder,
found by :func:`kiosk.paths.shipped_dir`), the file given with
``--config`` (or ``$KIOSK_CONFIG``), then environment variables ``KIOSK__SECTION__KEY=value``
(``__`` separates levels, e.g. ``KIOSK__DEVICES__PRINTER__URL=/dev/ttyUSB1``).

Every problem raises :class:`ConfigError` naming the source, the dotted key and the bad value.
Device URLs: ``sim://`` means "start the built-in simulator and connect to it over a real
transport" (a pty pair for serial devices); anything else is a pyserial URL or device path.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kiosk.domain.quiet_hours import QuietHoursError, parse_quiet_hours
from kiosk.paths import shipped_dir

ENV_PREFIX = "KIOSK__"
# DEFAULT_CONFIG_PATH and SITE_EXAMPLE_PATH are module attributes computed on first use
# (:func:`__getattr__`): finding the shipped config/ folder looks at the file system.
_SHIPPED_FILES = {"DEFAULT_CONFIG_PATH": "default.toml", "SITE_EXAMPLE_PATH": "site.example.toml"}


def __getattr__(name: str) -> Path:
    if name in _SHIPPED_FILES:
        return shipped_dir("config") / _SHIPPED_FILES[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ConfigError(ValueError):
    """A configuration value is missing, unknown or of the wrong type (message names key+value)."""


@dataclass(frozen=True)
class KioskSection:
    mode: Literal["demo", "site"] = "demo"
    device_id: str = "demo-kiosk-0001"
    service_point: str = "沁源县沁河镇城关社区就业社保服务点"
    region_code: str = "140431"
    # Empty: $KIOSK_DATA_DIR, else $XDG_DATA_HOME/jinjinban-kiosk (see kiosk.paths).
    data_dir: str = ""
    counter_hours: str = "周一至周五 上午8:30-12:00 下午14:30-17:30（法定节假日除外）"
    operator_phone: str = ""
    # IANA zone of the service point: every time and date a resident sees or takes home.
    timezone: str = "Asia/Shanghai"


@dataclass(frozen=True)
class DisplaySection:
    orientation: Literal["portrait", "landscape"] = "portrait"
    fullscreen: bool = True
    # Empty: the bundled font, else a system CJK font found at start-up.
    font: str = ""
    # Loudness of the 请工作人员帮忙 chime, 0 (silent) to 1.
    chime_volume: float = 0.8


@dataclass(frozen=True)
class ReceiptSection:
    # The receipt QR's progress URL: {number} and {check} (the platform's check code) are
    # filled in; {backend} is the platform root. Empty: the QR holds the bare number and its
    # caption says to scan it at the kiosk (kiosk.domain.progress_link).
    progress_url: str = ""


@dataclass(frozen=True)
class SessionSection:
    idle_seconds: int = 60
    prompt_seconds: int = 20
    spinner_delay_ms: int = 300


@dataclass(frozen=True)
class IdCardSection:
    enabled: bool = True
    url: str = "sim://"
    baudrate: int = 115200
    read_fingerprint: bool = False
    read_appended_address: bool = True
    poll_interval: float = 0.3


@dataclass(frozen=True)
class SsCardSection:
    enabled: bool = True
    # Substring of the PC/SC reader name; empty = the first reader found.
    reader: str = ""
    # "sim://": the virtual card, through pcscd+vpcd when pcscd runs, else in-process.
    url: str = "sim://"
    authenticator: Literal["none", "psam"] = "none"
    psam_reader: str = ""
    # Seconds a card may take to answer the whole read before it counts as mute.
    read_timeout: float = 5.0


@dataclass(frozen=True)
class PrinterSection:
    enabled: bool = True
    url: str = "sim://"
    baudrate: int = 115200
    paper_width_dots: int = 576
    native_qr: bool = True
    cut: bool = True
    # What the printer's font can print; other characters go out as a small raster line.
    charset: Literal["gb18030", "gbk", "gb2312"] = "gb18030"
    job_expiry_seconds: int = 3600
    # Ask the printer (GS r 1) to confirm each job once processed; off for printers without GS r.
    confirm_printed: bool = True
    status_timeout_seconds: float = 1.0


@dataclass(frozen=True)
class ScannerSection:
    enabled: bool = True
    url: str = "sim://"
    baudrate: int = 9600
    terminator: Literal["CR", "LF", "CRLF"] = "CR"
    max_length: int = 4096
    debounce_seconds: float = 2.0


@dataclass(frozen=True)
class DevicesSection:
    idcard: IdCardSection = field(default_factory=IdCardSection)
    sscard: SsCardSection = field(default_factory=SsCardSection)
    printer: PrinterSection = field(default_factory=PrinterSection)
    scanner: ScannerSection = field(default_factory=ScannerSection)


@dataclass(frozen=True)
class BackendSection:
    # Empty: demo mode runs the reference server in-process on 127.0.0.1 (free port).
    url: str = ""
    # File holding the device's HMAC secret (0600). Empty: <data_dir>/device.secret.
    secret_file: str = ""
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    verify_tls: bool = True
    ca_bundle: str = ""
    heartbeat_seconds: int = 60


@dataclass(frozen=True)
class OutboxSection:
    retention_days: int = 30
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 300.0


@dataclass(frozen=True)
class LoggingSection:
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_bytes: int = 2_000_000
    backup_count: int = 5


@dataclass(frozen=True)
class MaintenanceSection:
    idle_seconds: int = 120
    # argon2 hash of the offline maintenance PIN; empty = no offline unlock.
    pin_hash: str = ""
    pin_max_tries: int = 5
    pin_lock_minutes: int = 15
    # `kiosk maintenance restart-if-idle` restarts only after this long without a touch.
    restart_idle_minutes: int = 30


@dataclass(frozen=True)
class FaultsSection:
    consecutive_failures: int = 3
    backend_unreachable_seconds: int = 300
    # Card read failures in a row (no good read between) before a reader ticket opens.
    read_failures: int = 5
    # How often device states are re-checked; a state fault counts once per check.
    check_interval_seconds: float = 10.0
    # Changing a paper roll means opening the cover for a minute or so: not a fault.
    cover_open_grace_seconds: float = 120.0
    # The kiosk's clock this far from the platform's (seen at each heartbeat) is a fault.
    clock_skew_seconds: float = 120.0
    # Less free space than this in the data directory is a fault (submissions need room).
    min_free_bytes: int = 20_000_000


def _fraction(value: float) -> str | None:
    return None if value <= 1.0 else "a number from 0 to 1"


def _quiet_hours(value: str) -> str | None:
    try:
        parse_quiet_hours(value)
    except QuietHoursError:
        return 'a span "HH:MM-HH:MM" of local time (e.g. "22:00-07:00"), or ""'
    return None


def checked(default: Any, check: typing.Callable[[Any], str | None]) -> Any:
    """A field whose coerced value *check* also judges (returns what was expected, or None)."""
    return field(default=default, metadata={"check": check})


@dataclass(frozen=True)
class VoiceSection:
    # Loudness of the spoken prompts, 0 to 1; `muted` silences them (maintenance can change
    # both; its choice is kept in <data_dir>/voice-settings.json and wins over this file).
    volume: float = checked(0.8, _fraction)
    muted: bool = False
    # Speak each screen's guidance when it opens, and events (card, receipt, idle warning ...).
    # false: the kiosk speaks only when a resident taps 朗读.
    auto: bool = True
    # Local time span with no automatic prompts, e.g. "22:00-07:00"; 朗读 still speaks then,
    # at quiet_volume.
    quiet_hours: str = checked("", _quiet_hours)
    quiet_volume: float = checked(0.4, _fraction)


@dataclass(frozen=True)
class AssetsSection:
    # A site folder laid out like the shipped assets/ (voice/<key>.wav, sounds/help-chime.wav,
    # logo.png): each file found there replaces the shipped one. Empty: none.
    site_dir: str = ""


@dataclass(frozen=True)
class KioskConfig:
    kiosk: KioskSection = field(default_factory=KioskSection)
    display: DisplaySection = field(default_factory=DisplaySection)
    receipt: ReceiptSection = field(default_factory=ReceiptSection)
    session: SessionSection = field(default_factory=SessionSection)
    devices: DevicesSection = field(default_factory=DevicesSection)
    backend: BackendSection = field(default_factory=BackendSection)
    outbox: OutboxSection = field(default_factory=OutboxSection)
    logging: LoggingSection = field(default_factory=LoggingSection)
    maintenance: MaintenanceSection = field(default_factory=MaintenanceSection)
    faults: FaultsSection = field(default_factory=FaultsSection)
    voice: VoiceSection = field(default_factory=VoiceSection)
    assets: AssetsSection = field(default_factory=AssetsSection)

    @property
    def is_demo(self) -> bool:
        return self.kiosk.mode == "demo"


def load_config(
    path: str | Path | None = None,
    environ: typing.Mapping[str, str] | None = None,
) -> KioskConfig:
    """Load default.toml, overlay *path* (or ``$KIOSK_CONFIG``) and ``KIOSK__*`` variables."""
    environ = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    default_path = shipped_dir("config") / _SHIPPED_FILES["DEFAULT_CONFIG_PATH"]
    _merge(merged, _read_toml(default_path), sources, str(default_path))
    path = path or environ.get("KIOSK_CONFIG") or None
    if path:
        _merge(merged, _read_toml(Path(path)), sources, str(path))
    for name, raw in environ.items():
        if name.startswith(ENV_PREFIX):
            keys = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
            _set_from_env(merged, keys, raw, sources, name)
    config = _build(KioskConfig, merged, "", sources)
    _check_values(config, sources)
    return config


def _check_values(config: KioskConfig, sources: dict[str, str]) -> None:
    """Values whose type is right but whose meaning is checked by the domain."""
    from kiosk.domain.clock import UnknownZone, zone_of
    from kiosk.domain.progress_link import ProgressTemplateError, check_template

    checks = (
        ("kiosk.timezone", config.kiosk.timezone, zone_of, UnknownZone),
        (
            "receipt.progress_url",
            config.receipt.progress_url,
            check_template,
            ProgressTemplateError,
        ),
    )
    for dotted, value, check, error in checks:
        try:
            check(value)
        except error as exc:
            source = sources.get(dotted, "config")
            raise ConfigError(f"{source}: {dotted} = {value!r} is invalid: {exc}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as exc:  # a directory, no permission, an I/O error
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML: the file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _merge(into: dict, new: dict, sources: dict[str, str], source: str, prefix: str = "") -> None:
    for key, value in new.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            # A table default.toml lacks still gets a source for each key (errors name it).
            if not isinstance(into.get(key), dict):
                into[key] = {}
            _merge(into[key], value, sources, source, dotted + ".")
        else:
            into[key] = value
            sources[dotted] = source


def _set_from_env(
    merged: dict, keys: list[str], raw: str, sources: dict[str, str], var: str
) -> None:
    node = merged
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{var}: {'.'.join(keys)} is not a table")
    node[keys[-1]] = _EnvString(raw)
    sources[".".join(keys)] = f"environment variable {var}"


class _EnvString(str):
    """A value from the environment: coerced to the field's type instead of type-checked."""


def _build(cls: type, data: Any, prefix: str, sources: dict[str, str]) -> Any:
    where = prefix.rstrip(".") or "(top level)"
    if not isinstance(data, dict):
        raise ConfigError(f"{sources.get(where, 'config')}: {where} must be a table")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in names:
            src = sources.get(f"{prefix}{key}", "config")
            raise ConfigError(
                f"{src}: unknown key {prefix}{key!s} (known: {', '.join(sorted(names))})"
            )
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        dotted = f"{prefix}{f.name}"
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            values[f.name] = _build(hint, data[f.name], dotted + ".", sources)
        else:
            source = sources.get(dotted, "config")
            values[f.name] = _coerce(hint, data[f.name], dotted, source)
            expected = f.metadata["check"](values[f.name]) if "check" in f.metadata else None
            if expected:
                raise ConfigError(
                    f"{source}: {dotted} = {data[f.name]!r} is invalid: expected {expected}"
                )
    return cls(**values)


def _coerce(hint: Any, value: Any, dotted: str, source: str) -> Any:
    def bad(expected: str) -> ConfigError:
        return ConfigError(f"{source}: {dotted} = {value!r} is invalid: expected {expected}")

    from_env = isinstance(value, _EnvString)
    origin = typing.get_origin(hint)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            raise bad("one of " + ", ".join(repr(a) for a in allowed))
        return str(value)
    if origin in (types.UnionType, typing.Union):
        raise bad("a supported type")  # the schema uses no unions; guard against drift
    if hint is bool:
        if from_env:
            lowered = value.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
        if isinstance(value, bool):
            return value
        raise bad("true or false")
    if hint is int:
        if from_env:
            try:
                value = int(value)
            except ValueError:
                raise bad("an integer") from None
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                raise bad("a non-negative integer")
            return value
        raise bad("an integer")
    if hint is float:
        if from_env:
            try:
                value = float(value)
            except ValueError:
                raise bad("a number") from None
        if isinstance(value, int | float) and not isinstance(value, bool):
            # nan slips through "< 0" and would reach timers and Event.wait(); inf never ends
            if not math.isfinite(value) or value < 0:
                raise bad("a finite, non-negative number")
            return float(value)
        raise bad("a number")
    if hint is str:
        if isinstance(value, str):
            return str(value)
        raise bad("a string")
    raise bad(f"a value of type {hint}")
