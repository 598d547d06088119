"""Pure rules and data: catalogue, identity, working days, eligibility, receipts, session state.

Nothing here imports another layer of the kiosk, Kivy, or does I/O beyond reading its own data files.
"""
