"""Subcommands of the ``kiosk`` command, one module each.

Each module defines ``register(subparsers)`` that adds its parser and sets ``func`` (a callable
taking the parsed args and returning an exit code). Modules import heavy things (Kivy, devices,
the backend) only inside their handlers so that ``kiosk catalog`` stays fast and Kivy-free.
"""
