"""Reference implementation of the 就近办 platform API that the kiosk talks to.

Public entry points: :func:`kiosk_backend.app.create_app`, :class:`kiosk_backend.settings.ServerSettings`,
:func:`kiosk_backend.server.serve_in_thread` and :func:`kiosk_backend.provision.add_kiosk`.
The kiosk imports this package only in demo mode (its composition root) and in tests.
"""
