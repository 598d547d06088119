"""What maintenance mode shows and does, as plain data, for the maintenance screens.

:class:`MaintenanceFacade` is the one object the maintenance screens talk to. It turns the live
parts of the kiosk (device drivers' health, the outbox, the print queue, the backend client,
the log file, the configuration) into :class:`Panel` snapshots — a title, rows of text with a
tone, and the actions the signed-in role may take — and carries out those actions.

Rules kept here, each tested without Kivy:

* every page view and every action first calls :meth:`MaintenanceSession.authorize`, so it is
  checked against the role (附件3, least privilege) and written to the audit log; a denied or
  expired session raises before anything is read or done;
* nothing shown is a resident's data: outbox and print-queue rows carry kinds, times, attempts
  and error codes only — never the payload or the receipt; log lines are reduced to time, level
  and message and scrubbed again; the configuration has its secrets replaced;
* restart and exit to desktop are *requests* (:class:`ShutdownRequest`): the app stops with the
  exit code and systemd does the rest (``Restart=always``; ``RestartPreventExitStatus`` for
  :data:`EXIT_TO_DESKTOP`).

Threads: every method may block (backend health, printing, diagnostics take seconds) — call
from a worker thread; the facade holds no UI state. Parts that are not wired in (no printer
driver, no outbox, no backend) are shown as "未接入", never faked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.devices.base import DeviceHealth, DeviceState
from kiosk.domain.acceptance import INSPECTOR_TEXT, AcceptanceReport, Verdict, receipt_lines
from kiosk.domain.clock import DEFAULT_ZONE, ServiceClock, zone_of
from kiosk.domain.problems import CATEGORY_LABELS, COMMON_PROBLEMS, common_problem
from kiosk.domain.roles import Permission
from kiosk.logsetup import LOG_FILE_NAME, scrub
from kiosk.services.audit import AuditLog
from kiosk.services.errors import BackendError
from kiosk.services.maintenance_auth import MaintenanceSession

EXIT_RESTART = 75  # EX_TEMPFAIL: systemd's Restart=always starts the kiosk again
EXIT_TO_DESKTOP = 80  # the unit lists it in RestartPreventExitStatus=
LOG_TAIL_LINES = 60
LOG_MESSAGE_MAX = 160
HIDDEN = "（已隐藏）"
_SECRET_WORDS = frozenset({"secret", "hash", "password", "passwd", "token", "key"})

OK, WARN, BAD, INFO = "ok", "warn", "bad", "info"  # row tones

DEVICE_LABELS = {
    "idcard": "身份证阅读器",
    "sscard": "社保卡读卡器",
    "printer": "凭条打印机",
    "scanner": "扫码器",
}
STATE_LABELS = {
    DeviceState.OK: ("正常", OK),
    DeviceState.FAULT: ("故障", BAD),
    DeviceState.OFFLINE: ("离线", BAD),
    DeviceState.UNKNOWN: ("状态未知", WARN),
    DeviceState.DISABLED: ("未启用", INFO),
}
# Device faults an operator can report with one tap (the kiosk also reports many by itself).
DEVICE_PROBLEMS = {
    "dev-printer": "打印机不出纸、卡纸或打印不清",
    "dev-idcard": "身份证阅读器读不出证件",
    "dev-sscard": "社保卡读卡器读不出卡",
    "dev-scanner": "扫码器扫不出二维码",
    "dev-screen": "触摸屏点击不灵或显示异常",
    "dev-network": "网络时常中断",
}
KIND_LABELS = {
    "registration": "登记",
    "application": "业务申请",
    "work_order": "柜台预约",
    "fault_ticket": "故障报修",
    "problem_report": "问题反映",
}


# -- what the screens show ----------------------------------------------------------------------


@dataclass(frozen=True)
class PanelRow:
    """One line of a page: a title, an optional detail line, a tone (ok/warn/bad/info)."""

    title: str
    detail: str = ""
    tone: str = INFO
    action: str = ""  # non-empty: tapping the row runs this action of the page (confirmed)


@dataclass(frozen=True)
class PanelAction:
    """A button on a page. ``confirm``: the screen asks 确定？ before doing it."""

    key: str
    label: str
    permission: Permission
    confirm: bool = False


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    rows: tuple[PanelRow, ...]
    actions: tuple[PanelAction, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class ShutdownRequest:
    """Stop the app with *exit_code* (restart or exit to desktop); *reason* for the log."""

    exit_code: int
    reason: str


@dataclass(frozen=True)
class ActionResult:
    """What an action did: a Chinese message, its tone, and a shutdown request if any."""

    message: str
    tone: str = OK
    shutdown: ShutdownRequest | None = None


@dataclass(frozen=True)
class MenuEntry:
    key: str
    label: str


@dataclass(frozen=True)
class LogLine:
    time: str
    level: str
    message: str


@dataclass(frozen=True)
class PageSpec:
    """A page and the permission that opens it."""

    label: str
    permission: Permission


PAGES: dict[str, PageSpec] = {
    "devices": PageSpec("设备状态", Permission.VIEW_DEVICE_HEALTH),
    "print_queue": PageSpec("打印纸和补打", Permission.VIEW_PRINT_QUEUE),
    "outbox": PageSpec("待上传业务", Permission.VIEW_OUTBOX),
    "tickets": PageSpec("问题反映和答复", Permission.VIEW_TICKETS),
    "report": PageSpec("反映问题", Permission.REPORT_FAULT),
    "network": PageSpec("网络和平台", Permission.VIEW_NETWORK_HEALTH),
    "logs": PageSpec("运行日志", Permission.VIEW_LOGS),
    "diagnostics": PageSpec("硬件诊断", Permission.RUN_DIAGNOSTICS),
    "acceptance": PageSpec("验收自查", Permission.RUN_ACCEPTANCE_CHECK),
    "sound": PageSpec("声音和语音", Permission.ADJUST_SOUND),
    "config": PageSpec("本机配置", Permission.VIEW_CONFIG),
    "audit": PageSpec("操作审计记录", Permission.VIEW_AUDIT_LOG),
    "system": PageSpec("重启和退出", Permission.RESTART_KIOSK),
}


class PageUnavailable(LookupError):
    """No such page; ``message`` is Chinese text for the screen."""

    def __init__(self, key: str) -> None:
        self.message = f"没有这个维护页面：{key}"
        super().__init__(self.message)


# -- pure helpers --------------------------------------------------------------------------------


def redacted_config(config: Any) -> dict:
    """The configuration as nested dicts with every secret-looking value replaced by 已隐藏.

    A key is secret when one of its ``_``-separated words is secret/hash/password/token/key
    (``pin_hash``, ``secret_file``); empty values stay empty (so "not set" is still visible).
    """

    def walk(value: Any, name: str) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        secret = bool(_SECRET_WORDS & set(name.lower().split("_")))
        if secret and value not in ("", None):
            return HIDDEN
        return value

    return walk(dataclasses.asdict(config), "")


def flatten(data: dict, prefix: str = "") -> list[tuple[str, Any]]:
    """``{"a": {"b": 1}}`` → ``[("a.b", 1)]``, in insertion order."""
    out: list[tuple[str, Any]] = []
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            out += flatten(value, dotted + ".")
        else:
            out.append((dotted, value))
    return out


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> list[LogLine]:
    """The last *lines* records of the JSON log, newest last, as time/level/message only.

    Messages are scrubbed again (ID/phone/long digit runs) and cut to LOG_MESSAGE_MAX
    characters; lines that are not JSON are skipped. A missing file gives an empty list.
    """
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 256 * 1024))
            raw = fh.read().decode("utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []
    out: list[LogLine] = []
    for text in raw[-lines * 2 :]:
        try:
            record = json.loads(text)
            stamp, level, message = str(record["ts"]), str(record["level"]), str(record["msg"])
        except (ValueError, KeyError, TypeError):
            continue
        message = scrub(" ".join(message.split()))[:LOG_MESSAGE_MAX]
        out.append(LogLine(stamp, level, message))
    return out[-lines:]


def health_rows(healths: Sequence[DeviceHealth]) -> tuple[PanelRow, ...]:
    rows = []
    for health in healths:
        label = DEVICE_LABELS.get(health.name, health.name)
        state, tone = STATE_LABELS.get(health.state, (health.state.value, WARN))
        parts = []
        if health.detail:
            parts.append(scrub(health.detail))
        if health.last_error:
            parts.append(f"最近错误：{scrub(health.last_error)}")
        if health.counters:
            parts.append(
                "计数：" + "，".join(f"{k} {v}" for k, v in sorted(health.counters.items()))
            )
        if health.transport:
            parts.append(f"连接：{health.transport}")
        rows.append(PanelRow(f"{label}：{state}", "\n".join(parts), tone))
    return tuple(rows)


def acceptance_rows(report: AcceptanceReport) -> tuple[PanelRow, ...]:
    """One row per line of the standard: verdict, points, evidence (inspector lines marked)."""
    rows = []
    for result in report.results:
        line = result.line
        verdict = result.verdict
        tone = {Verdict.PASS: OK, Verdict.FAIL: BAD}.get(verdict, INFO)
        label = INSPECTOR_TEXT if verdict is Verdict.INSPECTOR else verdict.label
        detail = "\n".join(f"· {item}" for item in result.evidence)
        rows.append(PanelRow(f"{line.no}. [{line.points}分] {label}  {line.text}", detail, tone))
    rows.append(
        PanelRow(
            f"本机自查得分 {report.auto_points}/{report.auto_possible} 分，"
            f"其余 {report.inspector_points} 分{INSPECTOR_TEXT}",
            tone=INFO,
        )
    )
    return tuple(rows)


def ticket_row(ticket: Any) -> PanelRow:
    """One ledger ticket: number, category, state, overdue flags, answer and who holds it.

    Free text (description, answer) is scrubbed; the platform sends phone numbers masked.
    """
    flags = []
    if ticket.answer_overdue:
        flags.append("答复超期")
    if ticket.feedback_overdue:
        flags.append("反馈超期")
    if ticket.overdue and not flags:
        flags.append("已超期")
    flag_text = f"【{'、'.join(flags)}】" if flags else ""
    title = f"{ticket.number} {ticket.category_label} · {ticket.state_label}{flag_text}"
    lines = [scrub(ticket.description)[:120]]
    holder = ticket.holder
    lines.append(f"承办：{holder.level_label} {holder.name or '（未配置责任人）'}")
    if ticket.answer is not None:
        answer = ticket.answer
        deadline = (
            f"，反馈时限 {answer.feedback_deadline:%Y-%m-%d}" if answer.feedback_deadline else ""
        )
        lines.append(f"答复：{scrub(answer.result)[:120]}{deadline}")
    else:
        lines.append(f"应于 {ticket.answer_due:%Y-%m-%d} 前答复")
    if ticket.closed_at is not None and ticket.resolution:
        lines.append(f"办结：{scrub(ticket.resolution)[:80]}")
    tone = BAD if flags else (OK if ticket.closed_at is not None else WARN)
    return PanelRow(title, "\n".join(lines), tone)


DIAG_LABELS = {**DEVICE_LABELS, "loopback": "串口回环", "sound": "声音输出"}
SKIP_REASONS = {
    "held by the running app": "设备由自助机程序占用，见上方实时状态；完整自检请在停止程序后运行 kiosk diag all",
    "disabled in config": "已在配置中停用",
}


def diagnostics_rows(report: dict) -> tuple[PanelRow, ...]:
    """The ``kiosk diag all`` report as rows: each self-test, then ports and readers.

    The report already holds no personal data (card and scan contents are dropped there);
    only whitelisted, non-personal keys are shown here.
    """
    rows = []
    for name, check in report.get("checks", {}).items():
        label = DIAG_LABELS.get(name, name)
        if check.get("skipped"):
            reason = SKIP_REASONS.get(check["skipped"], str(check["skipped"]))
            rows.append(PanelRow(f"自检 {label}：跳过", reason, INFO))
            continue
        facts = []
        for key, text in (("sam_status", "SAM状态"), ("sam_id", "SAM编号"), ("transport", "通道")):
            if check.get(key):
                facts.append(f"{text}：{check[key]}")
        if "card_read" in check:
            facts.append("读卡：" + ("成功" if check["card_read"] else "未读到"))
        if "scan_read" in check:
            facts.append("扫码：" + ("成功" if check["scan_read"] else "未读到"))
        if "bytes_sent" in check:
            facts.append(f"测试页：{check['bytes_sent']}字节")
        if not check.get("ok"):
            message = check.get("message") or check.get("error") or ""
            if isinstance(message, dict):
                message = message.get("message", "")
            facts.append(f"错误：{scrub(str(message))}")
        tone = OK if check.get("ok") else BAD
        rows.append(
            PanelRow(
                f"自检 {label}：{'通过' if check.get('ok') else '未通过'}", "\n".join(facts), tone
            )
        )
    inventory = report.get("inventory", {})
    ports = inventory.get("serial_ports", [])
    port_text = "\n".join(
        f"{p['device']} {p.get('vid_pid') or '-'} {p.get('description', '')}" for p in ports
    )
    rows.append(PanelRow(f"串口：{len(ports)}个", port_text, INFO))
    pcsc = inventory.get("pcsc", {})
    if pcsc.get("ok"):
        rows.append(
            PanelRow(
                f"PC/SC读卡器：{len(pcsc.get('readers', []))}个", "\n".join(pcsc["readers"]), INFO
            )
        )
    elif pcsc:
        rows.append(PanelRow("PC/SC服务不可用", scrub(str(pcsc.get("error", ""))), BAD))
    return tuple(rows)


def _print_reason(reason: str) -> str:
    from kiosk.services.printing import REASON_LABELS

    return REASON_LABELS.get(reason, reason or "未知")


VOLUME_STEP = 0.1
SOUND_ACTIONS = (
    PanelAction("louder", "音量加大", Permission.ADJUST_SOUND),
    PanelAction("quieter", "音量减小", Permission.ADJUST_SOUND),
    PanelAction("mute", "静音/取消静音", Permission.ADJUST_SOUND),
    PanelAction("test", "试听", Permission.ADJUST_SOUND),
)
SOUND_NOTE = "音量和静音在重启后保持；安静时段和自动播报请在站点配置文件 [voice] 中修改"


def sound_rows(status: Any) -> tuple[PanelRow, ...]:
    """The voice's state (a :class:`kiosk.services.voice.VoiceStatus`) as rows: nothing in it
    is personal (prompt keys, levels, the device)."""
    settings = status.settings
    if settings.muted:
        voice_row = PanelRow("语音提示：已静音", "群众点“朗读”也不会发声；帮助提示音不受影响", WARN)
    else:
        voice_row = PanelRow(f"语音提示：开，音量 {round(settings.volume * 100)}%", tone=OK)
    auto = "开（每个页面和事件自动播报）" if settings.auto else "关（只在群众点“朗读”时播报）"
    rows = [voice_row, PanelRow(f"自动播报：{auto}", tone=INFO)]
    if settings.quiet_hours is None:
        rows.append(PanelRow("安静时段：未设置", tone=INFO))
    else:
        now = "（现在是安静时段）" if status.quiet_now else ""
        detail = f"此时不自动播报；“朗读”音量 {round(settings.quiet_volume * 100)}%"
        rows.append(PanelRow(f"安静时段：{settings.quiet_hours}{now}", detail, INFO))
    device = {
        True: PanelRow("声音设备：正常", tone=OK),
        False: PanelRow(
            "声音设备：不可用", "本机静音运行；请检查喇叭和声卡（kiosk diag sound）", BAD
        ),
        None: PanelRow("声音设备：尚未播放过", "点“试听”检查", INFO),
    }[status.device_ok]
    rows.append(device)
    recorded = len(status.site_voices)
    detail = "、".join(status.site_voices[:8]) + ("……" if recorded > 8 else "")
    rows.append(
        PanelRow(
            f"站点录音：{recorded}条" if recorded else "站点录音：无（内置语音）", detail, INFO
        )
    )
    if status.last_played:
        rows.append(PanelRow("最近播放", "、".join(status.last_played), INFO))
    return tuple(rows)


def _age_text(seconds: float) -> str:
    if seconds < 90:
        return f"{int(seconds)}秒前"
    if seconds < 5400:
        return f"{int(seconds // 60)}分钟前"
    return f"{seconds / 3600:.1f}小时前"


def _local_time(unix: float, zone: ZoneInfo) -> str:
    """*unix* on the service point's wall clock (*zone*), never the OS's."""
    return dt.datetime.fromtimestamp(unix, zone).strftime("%m-%d %H:%M")


# -- the facade ----------------------------------------------------------------------------------


@dataclass
class MaintenanceParts:
    """The live parts maintenance looks at; any may be None when not wired in.

    ``devices()`` returns the drivers' current health; ``printer`` has ``status()`` and
    ``print_job(bytes)`` (the ESC/POS driver) and ``printer_profile`` its profile;
    ``diagnostics()`` returns the ``kiosk diag all`` report (dict) and ``export_bundle(dir)``
    writes the diagnostics zip and returns its path (both from :mod:`kiosk.diag`, injected by
    the composition root so services do not import the command layer).
    """

    devices: Callable[[], Sequence[DeviceHealth]] | None = None
    printing: Any = None  # kiosk.services.printing.PrintingService
    printer: Any = None
    printer_profile: Any = None
    font_path: str | Path | None = None
    outbox: Any = None  # kiosk.services.outbox.Outbox
    problem_reports: Any = None  # kiosk.services.problem_reports.ProblemReports
    backend: Any = None  # kiosk.services.backend_client.BackendClient
    diagnostics: Callable[[], dict] | None = None
    export_bundle: Callable[[Path], Path] | None = None
    load_catalogue: Callable[[], Any] | None = None
    voice: Any = None  # kiosk.services.voice.VoiceService
    extra: dict = field(default_factory=dict)


class MaintenanceFacade:
    """See the module docstring. *config* is the KioskConfig; *data_dir* the kiosk's data dir."""

    def __init__(
        self,
        config: Any,
        data_dir: Path,
        parts: MaintenanceParts | None = None,
        *,
        version: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.data_dir = Path(data_dir)
        self.parts = parts or MaintenanceParts()
        self.version = version
        self._clock = clock
        self._zone = zone_of(getattr(getattr(config, "kiosk", None), "timezone", DEFAULT_ZONE))
        self.log_path = self.data_dir / "logs" / LOG_FILE_NAME
        self.audit = AuditLog(self.data_dir)
        self.last_acceptance: AcceptanceReport | None = None
        self.last_diagnostics: dict | None = None

    # -- menu and pages ---------------------------------------------------------------------

    def menu(self, session: MaintenanceSession) -> list[MenuEntry]:
        """The pages this session's role may open, in a fixed order (nothing else is shown)."""
        return [
            MenuEntry(key, spec.label)
            for key, spec in PAGES.items()
            if session.can(spec.permission)
        ]

    def panel(self, session: MaintenanceSession, key: str) -> Panel:
        """Authorize viewing page *key* (audited) and build it. Raises PermissionDenied,
        SessionExpired or PageUnavailable."""
        spec = PAGES.get(key)
        if spec is None:
            raise PageUnavailable(key)
        session.authorize(spec.permission, f"view.{key}")
        builder = getattr(self, f"_page_{key}")
        panel: Panel = builder(session)
        allowed = tuple(a for a in panel.actions if session.can(a.permission))
        return dataclasses.replace(panel, actions=allowed)

    def act(self, session: MaintenanceSession, page: str, action: str) -> ActionResult:
        """Authorize and run *action* of *page* (audited). Raises PermissionDenied,
        SessionExpired or PageUnavailable; device/network failures come back as a BAD result."""
        spec = PAGES.get(page)
        if spec is None:
            raise PageUnavailable(page)
        name, _, argument = action.partition(":")
        handler = getattr(self, f"_do_{page}_{name}", None)
        if handler is None:
            raise PageUnavailable(f"{page}/{action}")
        return handler(session, argument) if argument else handler(session)

    # -- data the pages use (also the public API for tests and commands) -----------------------

    def device_healths(self) -> list[DeviceHealth]:
        if self.parts.devices is None:
            return []
        return list(self.parts.devices())

    def config_view(self) -> dict:
        return redacted_config(self.config)

    def logs(self, lines: int = LOG_TAIL_LINES) -> list[LogLine]:
        return log_tail(self.log_path, lines)

    def restart_request(self, session: MaintenanceSession) -> ShutdownRequest:
        session.authorize(Permission.RESTART_KIOSK, "kiosk.restart")
        return ShutdownRequest(EXIT_RESTART, "restart requested in maintenance mode")

    def exit_request(self, session: MaintenanceSession) -> ShutdownRequest:
        session.authorize(Permission.EXIT_TO_DESKTOP, "kiosk.exit_to_desktop")
        return ShutdownRequest(EXIT_TO_DESKTOP, "exit to desktop requested in maintenance mode")

    def print_text_lines(self, lines: Sequence[str]) -> ActionResult:
        """Print plain text *lines* on the receipt printer (wrapped to the paper), then cut.

        Uses the printer's own encoder and profile; characters outside the printer's font go
        out as raster. Returns a BAD result (with the printer's problem) when not printed.
        """
        from kiosk.devices.printer.driver import PrinterError, PrinterNotReady
        from kiosk.devices.printer.encoder import EscPosEncoder
        from kiosk.devices.printer.glyphs import GlyphRenderer
        from kiosk.devices.printer.layout import wrap
        from kiosk.devices.printer.status import PROBLEM_MESSAGES

        printer, profile = self.parts.printer, self.parts.printer_profile
        if printer is None or profile is None:
            return ActionResult("本机未接入凭条打印机", BAD)
        font = self.parts.font_path
        if font is None:
            from kiosk.fonts import find_cjk_font

            font = find_cjk_font()
        enc = EscPosEncoder(profile, GlyphRenderer(font)).initialize().align("left")
        for text in lines:
            for piece in wrap(text, profile.columns, indent=0):
                enc.line(piece)
        data = enc.feed(2).cut().to_bytes()
        try:
            printer.print_job(data)
        except PrinterNotReady as exc:
            problem = exc.status.problem or "error"
            return ActionResult(f"未打印：{PROBLEM_MESSAGES.get(problem, problem)}", BAD)
        except PrinterError as exc:
            return ActionResult(f"未打印：{exc}", BAD)
        return ActionResult(f"已打印（{len(lines)}行）")

    # -- pages ----------------------------------------------------------------------------------

    def _page_devices(self, session) -> Panel:
        healths = self.device_healths()
        if self.parts.devices is None:
            rows = (PanelRow("设备状态未接入", "本机程序未提供设备驱动的状态", WARN),)
        elif not healths:
            rows = (PanelRow("没有启用的外设", tone=WARN),)
        else:
            rows = health_rows(healths)
        return Panel("devices", PAGES["devices"].label, rows, (), "每次打开本页时刷新")

    def _page_print_queue(self, session) -> Panel:
        rows: list[PanelRow] = []
        printer = self.parts.printer
        if printer is not None:
            rows.append(self._printer_status_row(printer))
        printing = self.parts.printing
        if printing is None:
            rows.append(PanelRow("打印队列未接入", tone=WARN))
            return Panel("print_queue", PAGES["print_queue"].label, tuple(rows))
        pending = printing.pending()
        now = self._clock()
        tone = WARN if pending else OK
        rows.append(PanelRow(f"待补打凭条：{len(pending)}张", tone=tone))
        for job in pending:
            rows.append(
                PanelRow(
                    f"{_local_time(job.created_at)}（{_age_text(now - job.created_at)}）",
                    f"原因：{_print_reason(job.reason)}，已尝试{job.attempts}次",
                    f"{_local_time(job.created_at, self._zone)}（{_age_text(now - job.created_at)}）",
                    f"原因：{job.reason or '未知'}，已尝试{job.attempts}次",
                    WARN,
                )
            )
        actions = (
            PanelAction("reprint", "已换纸，补打凭条", Permission.REPRINT_FOR_PRESENT_RESIDENT),
        )
        note = "补打只为在场的群众进行；凭条内容不在此显示"
        return Panel("print_queue", PAGES["print_queue"].label, tuple(rows), actions, note)

    def _printer_status_row(self, printer) -> PanelRow:
        from kiosk.devices.printer.status import PROBLEM_MESSAGES

        try:
            status = printer.status()
        except Exception as exc:  # a driver fault must not break the page; show it
            return PanelRow("打印机：无法查询状态", scrub(str(exc)), BAD)
        if status.ready:
            detail = "纸将用尽，请准备换纸" if status.paper_near_end else "纸量正常"
            return PanelRow("打印机：就绪", detail, WARN if status.paper_near_end else OK)
        problem = status.problem or "no_reply"
        return PanelRow(f"打印机：{PROBLEM_MESSAGES.get(problem, problem)}", "", BAD)

    def _page_outbox(self, session) -> Panel:
        outbox = self.parts.outbox
        if outbox is None:
            return Panel(
                "outbox", PAGES["outbox"].label, (PanelRow("待上传队列未接入", tone=WARN),)
            )
        from kiosk.services.outbox import OutboxStatus

        summary = outbox.summary()
        rows = [
            PanelRow(
                f"待上传：{summary.pending}笔",
                (
                    f"最早一笔{_age_text(summary.oldest_pending_age_seconds)}提交"
                    if summary.oldest_pending_age_seconds is not None
                    else ""
                ),
                WARN if summary.pending else OK,
            ),
            PanelRow(f"平台拒收：{summary.failed}笔", tone=BAD if summary.failed else OK),
            PanelRow(f"已上传（保留期内）：{summary.delivered}笔", tone=INFO),
        ]
        now = self._clock()
        for entry in outbox.entries(OutboxStatus.FAILED, limit=20):
            kind = KIND_LABELS.get(entry.kind, entry.kind)
            rows.append(
                PanelRow(
                    f"拒收：{kind}（{_age_text(now - entry.created_at)}）",
                    f"错误：{entry.http_status or ''} {entry.error_code}".strip(),
                    BAD,
                )
            )
        rows += self._quarantine_rows()
        actions = (PanelAction("retry", "立即重传", Permission.RETRY_OUTBOX),)
        return Panel("outbox", PAGES["outbox"].label, tuple(rows), actions, "不显示群众提交的内容")

    def _quarantine_rows(self) -> list[PanelRow]:
        """Damaged database files set aside at start-up, until an engineer takes them away."""
        from kiosk.services.quarantine import quarantined_files

        rows = []
        for record in quarantined_files(self.data_dir):
            whole = "全部可读" if record.complete else "部分内容无法读取，请联系厂家工程师"
            rows.append(
                PanelRow(
                    f"数据库文件损坏，已隔离：{record.moved_to}",
                    f"已救回{record.salvaged}笔并继续上传；{whole}",
                    BAD,
                )
            )
        return rows

    def _page_tickets(self, session) -> Panel:
        reports = self.parts.problem_reports
        if reports is None:
            return Panel(
                "tickets", PAGES["tickets"].label, (PanelRow("问题台账未接入", tone=WARN),)
            )
        rows: list[PanelRow] = []
        unsent = reports.unsent()
        if unsent:
            rows.append(PanelRow(f"尚未送达平台：{len(unsent)}件", "联网后自动提交", WARN))
        try:
            tickets = reports.tickets("all")
        except BackendError as exc:
            rows.append(PanelRow("需联网才能查看处理情况和答复", exc.message, BAD))
            return Panel("tickets", PAGES["tickets"].label, tuple(rows))
        if not tickets:
            rows.append(PanelRow("本机没有问题反映或故障工单", tone=OK))
        for ticket in tickets[:40]:
            rows.append(ticket_row(ticket))
        note = "由平台计算是否超期；答复含处理结果和反馈时限"
        return Panel("tickets", PAGES["tickets"].label, tuple(rows), (), note)

    def _page_report(self, session) -> Panel:
        if self.parts.problem_reports is None:
            return Panel("report", PAGES["report"].label, (PanelRow("问题台账未接入", tone=WARN),))
        rows = [
            PanelRow(f"{CATEGORY_LABELS[p.category]}：{p.text}", "", INFO, f"send:{p.code}")
            for p in COMMON_PROBLEMS
        ]
        rows += [
            PanelRow(f"设备故障：{text}", "", INFO, f"send:{code}")
            for code, text in DEVICE_PROBLEMS.items()
        ]
        note = "点选遇到的问题，再点一次提交；按类别报省工作专班或县人社部门（附件5）"
        return Panel("report", PAGES["report"].label, tuple(rows), (), note)

    def _do_report_send(self, session, code: str) -> ActionResult:
        reports = self.parts.problem_reports
        session.authorize(Permission.REPORT_FAULT, "problem.report", {"code": code})
        if reports is None:
            return ActionResult("问题台账未接入", BAD)
        if code in DEVICE_PROBLEMS:
            category, text, problem_code = "device", DEVICE_PROBLEMS[code], ""
        else:
            try:
                problem = common_problem(code)
            except KeyError:
                return ActionResult("请选择遇到的问题", BAD)
            category, text, problem_code = problem.category.value, problem.text, problem.code
        entry = reports.submit_operator(
            category, f"服务点工作人员反映：{text}", problem_code=problem_code, wait_seconds=3.0
        )
        if entry.delivered:
            number = entry.reference_no or "已生成"
            return ActionResult(f"已提交平台，工单编号 {number}，可在“问题反映和答复”查看")
        return ActionResult("已保存，联网后自动提交", WARN)

    def _page_network(self, session) -> Panel:
        rows = [PanelRow(f"本机名：{socket.gethostname()}", tone=INFO)]
        rows.append(_default_route_row())
        backend = self.parts.backend
        url = self.config.backend.url or ("内置参考平台（演示）" if self.config.is_demo else "")
        if backend is None:
            rows.append(PanelRow("平台：未接入", url or "未配置平台地址", BAD))
        else:
            started = time.monotonic()
            try:
                health = backend.health()
                ms = int((time.monotonic() - started) * 1000)
                rows.append(
                    PanelRow(
                        f"平台：正常（{ms}毫秒）",
                        f"{url}\n接口版本 {health.api_version}，状态 {health.status}",
                        OK,
                    )
                )
            except BackendError as exc:
                rows.append(PanelRow("平台：不可达", f"{url}\n{exc.message}", BAD))
        outbox = self.parts.outbox
        if outbox is not None:
            summary = outbox.summary()
            rows.append(PanelRow(f"待上传：{summary.pending}笔", tone=INFO))
        return Panel("network", PAGES["network"].label, tuple(rows))

    def _page_logs(self, session) -> Panel:
        lines = self.logs()
        tones = {"ERROR": BAD, "CRITICAL": BAD, "WARNING": WARN}
        rows = tuple(
            PanelRow(f"{line.time} {line.level}", line.message, tones.get(line.level, INFO))
            for line in reversed(lines)
        ) or (PanelRow("日志为空", tone=INFO),)
        return Panel(
            "logs", PAGES["logs"].label, rows, (), "最新的在最上面；只显示时间、级别和内容"
        )

    def _page_diagnostics(self, session) -> Panel:
        rows = [*health_rows(self.device_healths())]
        if self.last_diagnostics is not None:
            rows += diagnostics_rows(self.last_diagnostics)
        else:
            rows.append(
                PanelRow("尚未运行自检", "点“运行全部自检”：读卡、扫码各需在提示后操作", INFO)
            )
        actions = []
        if self.parts.diagnostics is not None:
            actions.append(PanelAction("run", "运行全部自检", Permission.RUN_DIAGNOSTICS))
        if self.parts.export_bundle is not None:
            actions.append(PanelAction("bundle", "导出诊断包", Permission.EXPORT_DIAGNOSTICS))
        note = "自检结果不含任何群众信息；读卡测试只报告是否读到"
        return Panel("diagnostics", PAGES["diagnostics"].label, tuple(rows), tuple(actions), note)

    def _page_acceptance(self, session) -> Panel:
        report = self.acceptance_report()
        actions = (PanelAction("print", "打印", Permission.RUN_ACCEPTANCE_CHECK),)
        note = f"{report.service_point}  设备 {report.device_id}  {report.checked_at}"
        return Panel(
            "acceptance", PAGES["acceptance"].label, acceptance_rows(report), actions, note
        )

    def _page_config(self, session) -> Panel:
        sections: dict[str, list[str]] = {}
        for key, value in flatten(self.config_view()):
            section, _, name = key.rpartition(".")
            shown = repr(value) if isinstance(value, str) else str(value)
            sections.setdefault(section, []).append(f"{name} = {shown}")
        rows = tuple(PanelRow(f"[{name}]", "\n".join(lines)) for name, lines in sections.items())
        note = "密钥和密码已隐藏；修改请编辑站点配置文件"
        return Panel("config", PAGES["config"].label, rows, (), note)

    def _page_audit(self, session) -> Panel:
        result = self.audit.verify()
        head = (
            PanelRow(f"审计记录完整（{result.entries}条）", tone=OK)
            if result.ok
            else PanelRow(f"审计记录校验失败：第{result.broken_seq}条", result.reason, BAD)
        )
        entries = list(self.audit.entries())[-30:]
        rows = [head] + [
            PanelRow(f"{e.time} {e.action}", f"{e.account}（{e.role}）", INFO)
            for e in reversed(entries)
        ]
        return Panel("audit", PAGES["audit"].label, tuple(rows))

    def _page_sound(self, session) -> Panel:
        voice = self.parts.voice
        label = PAGES["sound"].label
        if voice is None:
            return Panel("sound", label, (PanelRow("语音提示未接入", tone=WARN),))
        return Panel("sound", label, sound_rows(voice.status()), SOUND_ACTIONS, SOUND_NOTE)

    def _do_sound_louder(self, session) -> ActionResult:
        return self._set_volume(session, +VOLUME_STEP)

    def _do_sound_quieter(self, session) -> ActionResult:
        return self._set_volume(session, -VOLUME_STEP)

    def _set_volume(self, session, step: float) -> ActionResult:
        voice = self.parts.voice
        if voice is None:
            return ActionResult("语音提示未接入", BAD)
        volume = round(max(0.0, min(1.0, voice.settings.volume + step)), 2)
        session.authorize(Permission.ADJUST_SOUND, "sound.volume", {"percent": round(volume * 100)})
        voice.set_volume(volume)
        voice.read_aloud(("take_receipt",))  # hear the new loudness at once
        return ActionResult(f"语音音量：{round(volume * 100)}%")

    def _do_sound_mute(self, session) -> ActionResult:
        voice = self.parts.voice
        if voice is None:
            return ActionResult("语音提示未接入", BAD)
        muted = not voice.settings.muted
        session.authorize(Permission.ADJUST_SOUND, "sound.mute", {"muted": muted})
        voice.set_muted(muted)
        return ActionResult("语音提示已关闭" if muted else "语音提示已打开", WARN if muted else OK)

    def _do_sound_test(self, session) -> ActionResult:
        voice = self.parts.voice
        session.authorize(Permission.ADJUST_SOUND, "sound.test")
        if voice is None:
            return ActionResult("语音提示未接入", BAD)
        if voice.settings.muted:
            return ActionResult("语音提示已关闭，请先打开", WARN)
        voice.read_aloud(("home",))
        if voice.worker.device_ok is False:
            return ActionResult("没有可用的声音设备，本机静音运行", BAD)
        return ActionResult("正在播放欢迎语，请听喇叭是否有声音")

    def _page_system(self, session) -> Panel:
        rows = (
            PanelRow("重启自助机程序", "约10秒后回到首页", INFO),
            PanelRow("退出到桌面", "仅系统管理员；自助机停止服务，直到重新启动", WARN),
        )
        actions = (
            PanelAction("restart", "重启程序", Permission.RESTART_KIOSK, confirm=True),
            PanelAction("exit", "退出到桌面", Permission.EXIT_TO_DESKTOP, confirm=True),
        )
        return Panel("system", PAGES["system"].label, rows, actions)

    # -- actions ---------------------------------------------------------------------------------

    def _do_print_queue_reprint(self, session) -> ActionResult:
        session.authorize(Permission.REPLACE_PAPER, "paper.replaced")
        printing = self.parts.printing
        if printing is None:
            return ActionResult("打印队列未接入", BAD)
        waiting = len(printing.pending())
        session.authorize(
            Permission.REPRINT_FOR_PRESENT_RESIDENT, "print_queue.reprint", {"pending": waiting}
        )
        report = printing.reprint_pending()
        if report.still_pending:
            return ActionResult(
                f"补打{len(report.printed)}张，仍有{len(report.still_pending)}张未打出，"
                "请检查打印机",
                BAD,
            )
        if not report.printed:
            return ActionResult("没有待补打的凭条")
        return ActionResult(f"已补打{len(report.printed)}张凭条")

    def _do_outbox_retry(self, session) -> ActionResult:
        outbox = self.parts.outbox
        session.authorize(Permission.RETRY_OUTBOX, "outbox.retry")
        if outbox is None:
            return ActionResult("待上传队列未接入", BAD)
        from kiosk.services.outbox import OutboxStatus

        requeued = sum(outbox.requeue(e.local_ref) for e in outbox.entries(OutboxStatus.FAILED))
        outbox.wake()
        pending = outbox.summary().pending
        return ActionResult(f"已重新排队{requeued}笔，正在上传（待上传{pending}笔）")

    def _do_diagnostics_run(self, session) -> ActionResult:
        session.authorize(Permission.RUN_DIAGNOSTICS, "diagnostics.run")
        if self.parts.diagnostics is None:
            return ActionResult("硬件自检未接入", BAD)
        report = self.parts.diagnostics()
        self.last_diagnostics = report
        failed = [name for name, check in report.get("checks", {}).items() if not check.get("ok")]
        summary = "全部通过" if not failed else "未通过：" + "、".join(failed)
        return ActionResult(f"自检完成，{summary}", BAD if failed else OK)

    def _do_diagnostics_bundle(self, session) -> ActionResult:
        session.authorize(Permission.EXPORT_DIAGNOSTICS, "diagnostics.bundle")
        if self.parts.export_bundle is None:
            return ActionResult("诊断包导出未接入", BAD)
        path = self.parts.export_bundle(self.data_dir / "diag-bundles")
        return ActionResult(f"诊断包已保存：{path}")

    def _do_acceptance_print(self, session) -> ActionResult:
        session.authorize(PAGES["acceptance"].permission, "acceptance.print")
        report = self.last_acceptance or self.acceptance_report()
        return self.print_text_lines(receipt_lines(report))

    def _do_system_restart(self, session) -> ActionResult:
        return ActionResult("正在重启自助机程序", OK, self.restart_request(session))

    def _do_system_exit(self, session) -> ActionResult:
        return ActionResult("正在退出到桌面", WARN, self.exit_request(session))

    # -- acceptance -------------------------------------------------------------------------------

    def acceptance_report(self) -> AcceptanceReport:
        """Run H's acceptance self-check on the live parts (blocking: platform calls)."""
        from kiosk.domain.catalogue import load_catalogue
        from kiosk.services.acceptance import AcceptanceInputs, ClientPlatformProbe, run_acceptance

        devices = self.config.devices
        enabled = [
            n for n in ("idcard", "sscard", "printer", "scanner") if getattr(devices, n).enabled
        ]
        probe = None
        if self.parts.backend is not None:
            announce = {
                "version": self.version or "0",
                "service_point": self.config.kiosk.service_point,
                "region_code": self.config.kiosk.region_code,
                "capabilities": enabled,
            }
            probe = ClientPlatformProbe(self.parts.backend, announce)
        note = "" if self.parts.devices is not None else "本机程序未提供设备状态"
        inputs = AcceptanceInputs(
            service_point=self.config.kiosk.service_point,
            device_id=self.config.kiosk.device_id,
            devices=self.device_healths(),
            enabled_devices=enabled,
            platform_url=self.config.backend.url,
            demo_mode=self.config.is_demo,
            platform=probe,
            load_catalogue=self.parts.load_catalogue or load_catalogue,
            audit=self.audit,
            device_note=note,
            now=ServiceClock(self._zone).now,
        )
        self.last_acceptance = run_acceptance(inputs)
        return self.last_acceptance


def _default_route_row() -> PanelRow:
    """Whether the kernel has a default route (Linux /proc/net/route)."""
    try:
        with open("/proc/net/route", encoding="ascii") as fh:
            routes = [line.split() for line in fh.readlines()[1:]]
    except OSError:
        return PanelRow("网络：无法读取路由表", tone=WARN)
    default = [r for r in routes if len(r) > 1 and r[1] == "00000000"]
    if default:
        return PanelRow(f"网络：已连接（经 {default[0][0]}）", tone=OK)
    return PanelRow("网络：没有默认路由（未联网）", tone=BAD)


class LazyClient:
    """Stands in for the BackendClient while it is being set up: every attribute is looked up
    on ``client_of()`` at call time (which raises ``BackendUnavailable`` until it is ready)."""

    def __init__(self, client_of: Callable[[], Any]) -> None:
        self._client_of = client_of

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client_of(), name)


def parts_from_runtime(runtime: Any) -> tuple[MaintenanceParts, Any]:
    """``(MaintenanceParts, backend client or None)`` from a
    :class:`kiosk.services.runtime.KioskRuntime`: live device health, the printer driver and
    profile, the print queue, the outbox, the ticket ledger and the platform client."""
    devices = dict(getattr(runtime, "devices", {}) or {})
    parts = MaintenanceParts(
        devices=lambda: [device.health() for device in devices.values()],
        printing=getattr(runtime, "printing", None),
    )
    printer = getattr(devices.get("printer"), "runtime", None)
    if printer is not None:
        parts.printer = printer.driver
        parts.printer_profile = printer.profile
    backend_runtime = getattr(runtime, "backend", None)
    client = None
    if backend_runtime is not None:
        from kiosk.services.problem_reports import ProblemReports

        client = LazyClient(backend_runtime.client)
        parts.backend = client
        parts.outbox = backend_runtime.outbox
        parts.problem_reports = ProblemReports(backend_runtime.outbox, backend_runtime.client)
    return parts, client
