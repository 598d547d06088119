"""Staff accounts of 附件3 on the platform: rules (:mod:`.rules`), credentials
(:mod:`.credentials`), the account lifecycle (:mod:`.accounts`), 用户申请（变更）单
(:mod:`.requests`) and 每月核查 (:mod:`.review`). Used by the web console
(:mod:`kiosk_backend.console`), the kiosk's e-SSC sign-in, the scheduled idle lock and
``kiosk backend staff``.
"""
