"""Typed kiosk configuration loaded from TOML (``default.toml`` is demo mode)."""

from kiosk.config.schema import ConfigError, KioskConfig, load_config

__all__ = ["ConfigError", "KioskConfig", "load_config"]
