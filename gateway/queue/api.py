"""The queue's JSON API, mounted under /api/queue.

Public (read-only, for the hall display, the kiosk screen and the citizen's phone): services and
their queues, the matter catalogue, recent calls, a ticket's status by its secret token.
Any logged-in account (the kiosk logs in with its own): issue a ticket, appointment check-in.
Staff (manager, clerk): guide tickets (priority ones included), window and ticket actions. A clerk
acts only at the window where they are logged in; a manager at any staffed window.
Refusals answer {"detail": {"code": …, "message": "<Chinese>"}}: 404 for unknown things,
400 for bad input, 409 for actions the queue's state does not allow. Nothing changes on refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict

from gateway.http.auth import current_user, gateway_of, require
from gateway.queue import errors, mailing, notice, printing
from gateway.queue.engine import Outcome, QueueEngine, Ticket
from gateway.queue.integration import clerk_at, commands
from gateway.queue.service import QueueService
from gateway.queue.status import ticket_status
from gateway.store.tables import staff
from protocol.levels import AREA_LABELS, PRIORITY_LABELS

STAFF_ROLES = ("manager", "clerk")


class Strict(BaseModel):
    """Unknown fields are refused (422), never silently dropped: a kiosk asking for priority
    must learn it cannot."""

    model_config = ConfigDict(extra="forbid")


class IssueIn(Strict):
    service: str
    matter: str | None = None
    printer: str | None = None


class GuideIn(IssueIn):
    priority: str | None = None


class CheckinIn(IssueIn):
    appointment_ms: int


class CallIn(Strict):
    number: str | None = None  # a given number; none: call next


class NumberIn(Strict):
    number: str


class CompleteIn(Strict):
    matter: str | None = None
    case_no: str | None = None


class TransferIn(Strict):
    service: str | None = None
    window: str | None = None


class HelperIn(Strict):
    helper: str | None = None  # the 帮办 staff number, if one is named


class MailingIn(Strict):
    wants: bool
    address: str | None = None
    phone: str | None = None


class ReminderIn(Strict):
    window: str | None = None
    printer: str | None = None


class NoticeIn(Strict):
    matter: str
    ticket: str | None = None
    window: str | None = None
    printer: str | None = None


def refusal(exc: errors.QueueError) -> HTTPException:
    status = (
        404 if isinstance(exc, LookupError) else 400 if isinstance(exc, errors.BadInput) else 409
    )
    return HTTPException(status, {"code": exc.code, "message": exc.message})


def make_router(svc: QueueService) -> APIRouter:
    router = APIRouter(prefix="/api/queue", tags=["queue"])
    user_dep = Depends(current_user)
    staff_dep = Depends(require(*STAFF_ROLES))

    def act(gw: Any, op: Callable[[QueueEngine], Outcome]) -> Outcome:
        """Run an action, then send its commands to the window devices (after the commit)."""
        try:
            with svc.db.begin() as conn:
                outcome = svc.run(conn, op)
                sent = commands(conn, svc, outcome)
        except errors.QueueError as exc:
            raise refusal(exc) from exc
        for command in sent:
            gw.send(command.device, command.kind, **command.fields)
        return outcome

    def window_clerk(window: str, user: sa.Row) -> str | None:
        """Who is logged in at the window; a clerk may only act at their own."""
        with svc.db.connect() as conn:
            try:
                clerk = clerk_at(conn, svc.hall, window=window)
            except errors.QueueError as exc:
                raise refusal(exc) from exc
            own = conn.execute(
                sa.select(staff.c.staff_no).where(staff.c.id == user.staff_id)
            ).scalar()
        if user.role == "clerk" and (clerk is None or clerk != own):
            raise HTTPException(
                403, {"code": "not_your_window", "message": "只能操作本人登录的窗口"}
            )
        return clerk

    def issued(outcome: Outcome, printer: str | None) -> dict[str, Any]:
        ticket = outcome.ticket
        assert ticket is not None
        config = svc.config
        service = config.service(ticket.service)
        url = config.status_url.format(token=ticket.token)
        body = {
            "ticket": ticket.number,
            "service": service.id,
            "service_name": service.name,
            "area_label": service.area_label,
            "ahead": outcome.ahead,
            "token": ticket.token,
            "status_url": url,
            "printed": False,
            "print_error": None,
        }
        if printer is not None:
            slip = printing.ticket_slip(
                config.hall_name,
                service.name,
                service.area_label,
                ticket.number,
                outcome.ahead or 0,
                ticket.issued_ms,
                config.tz,
                url,
                PRIORITY_LABELS.get(ticket.priority or ""),
            )
            body["print_error"] = _print(svc, printer, slip)
            body["printed"] = body["print_error"] is None
        return body

    def check_printer(name: str | None) -> None:
        """An unknown printer is refused before anything is issued, not after."""
        if name is not None and name not in svc.config.printers:
            raise refusal(errors.BadInput(f"未配置打印机 {name}"))

    def matter_of(code: str | None) -> str | None:
        if code is not None:
            try:
                svc.matters.get(code)
            except errors.QueueError as exc:
                raise refusal(exc) from exc
        return code

    @router.get("/services")
    def services() -> list[dict[str, Any]]:
        def read(q: QueueEngine) -> list[dict[str, Any]]:
            return [
                {
                    "id": s.id,
                    "prefix": s.prefix,
                    "name": s.name,
                    "area": s.area,
                    "area_label": AREA_LABELS[s.area],
                    "waiting": q.waiting_count(s.id),
                }
                for s in q.config.services.values()
            ]

        return svc.read(read)  # type: ignore[return-value]

    @router.get("/matters")
    def matters(service: str | None = None) -> list[dict[str, Any]]:
        chosen = svc.matters.for_service(service) if service else svc.matters.all()
        return [
            {"code": m.code, "name": m.name, "service": m.service, "mailable": m.mailable}
            for m in chosen
        ]

    @router.get("/calls")
    def calls() -> list[dict[str, Any]]:
        """The latest calls, newest first: what the hall display shows and says."""
        recent = svc.read(lambda q: list(q.recent_calls))
        assert isinstance(recent, list)
        return [
            {"ticket": a.ticket, "window": a.window, "window_label": a.window_label,
             "display": a.display, "voice": a.voice, "at_ms": a.at_ms}
            for a in reversed(recent)
        ]  # fmt: skip

    @router.get("/status/{token}")
    def status(token: str) -> dict[str, Any]:
        ticket = svc.find_by_token(token)
        if ticket is None:
            raise HTTPException(404, {"code": "unknown_ticket", "message": "没有这张号票"})
        result = svc.read(lambda q: ticket_status(q, ticket, svc.matters, svc.clock()))
        assert isinstance(result, dict)
        return result

    def issue(gw: Any, body: Any, source: str, who: str, **extra: Any) -> dict:
        """Kiosk, guide and check-in differ only in the source, who and what else they pass."""
        matter = matter_of(body.matter)
        check_printer(body.printer)
        outcome = act(
            gw, lambda q: q.issue(body.service, source, who, svc.clock(), matter=matter, **extra)
        )
        return issued(outcome, body.printer)

    @router.post("/tickets", status_code=201)
    def kiosk_issue(body: IssueIn, gw: Any = Depends(gateway_of), user: Any = user_dep) -> dict:
        return issue(gw, body, "kiosk", f"kiosk:{user.username}")

    @router.post("/tickets/guide", status_code=201)
    def guide_issue(body: GuideIn, gw: Any = Depends(gateway_of), user: Any = staff_dep) -> dict:
        return issue(gw, body, "guide", user.username, priority=body.priority)

    @router.post("/checkin", status_code=201)
    def checkin(body: CheckinIn, gw: Any = Depends(gateway_of), user: Any = user_dep) -> dict:
        return issue(gw, body, "appointment", user.username, appointment_ms=body.appointment_ms)

    @router.get("/windows")
    def windows(_u: Any = user_dep) -> list[dict[str, Any]]:
        def read(q: QueueEngine) -> list[dict[str, Any]]:
            return [
                {
                    "id": w.id,
                    "label": w.label,
                    "services": list(w.services),
                    "may_pick": w.may_pick,
                    "current": _number(q.current(w.id)),
                }
                for w in q.config.windows.values()
            ]

        return svc.read(read)  # type: ignore[return-value]

    @router.post("/windows/{window}/call")
    def call(
        window: str, body: CallIn, gw: Any = Depends(gateway_of), user: Any = staff_dep
    ) -> dict:
        clerk = window_clerk(window, user)
        number = body.number
        if number is None:
            outcome = act(gw, lambda q: q.call_next(window, clerk, svc.clock()))
        else:
            outcome = act(gw, lambda q: q.call_number(window, clerk, number, svc.clock()))
        return _ticket(outcome)

    @router.post("/windows/{window}/recall")
    def recall(window: str, gw: Any = Depends(gateway_of), user: Any = staff_dep) -> dict:
        clerk = window_clerk(window, user)
        return _ticket(act(gw, lambda q: q.recall(window, clerk, svc.clock())))

    @router.post("/windows/{window}/no_show")
    def no_show(window: str, gw: Any = Depends(gateway_of), user: Any = staff_dep) -> dict:
        clerk = window_clerk(window, user)
        return _ticket(act(gw, lambda q: q.no_show(window, clerk, svc.clock())))

    @router.post("/windows/{window}/park")
    def park(window: str, gw: Any = Depends(gateway_of), user: Any = staff_dep) -> dict:
        clerk = window_clerk(window, user)
        return _ticket(act(gw, lambda q: q.park(window, clerk, svc.clock())))

    @router.post("/windows/{window}/resume")
    def resume(
        window: str, body: NumberIn, gw: Any = Depends(gateway_of), user: Any = staff_dep
    ) -> dict:
        clerk = window_clerk(window, user)
        return _ticket(act(gw, lambda q: q.resume(window, clerk, body.number, svc.clock())))

    @router.post("/windows/{window}/complete")
    def complete(
        window: str, body: CompleteIn, gw: Any = Depends(gateway_of), user: Any = staff_dep
    ) -> dict:
        clerk = window_clerk(window, user)
        matter = matter_of(body.matter)
        outcome = act(gw, lambda q: q.complete(window, clerk, svc.clock(), matter, body.case_no))
        result = _ticket(outcome)
        result["reminder"] = _reminder(svc, outcome.ticket, window)
        return result

    @router.post("/tickets/{number}/transfer")
    def transfer(
        number: str, body: TransferIn, gw: Any = Depends(gateway_of), user: Any = staff_dep
    ) -> dict:
        outcome = act(
            gw, lambda q: q.transfer(number, user.username, svc.clock(), body.service, body.window)
        )
        return _ticket(outcome)

    @router.post("/tickets/{number}/helper")
    def helper(
        number: str, body: HelperIn, gw: Any = Depends(gateway_of), user: Any = staff_dep
    ) -> dict:
        outcome = act(
            gw, lambda q: q.hand_to_helper(number, user.username, svc.clock(), body.helper)
        )
        return _ticket(outcome)

    @router.post("/tickets/{number}/mailing")
    def record_mailing(
        number: str, body: MailingIn, gw: Any = Depends(gateway_of), user: Any = staff_dep
    ) -> dict:
        def op(q: QueueEngine) -> Outcome:
            ticket = q.ticket(number)
            choice = mailing.check(
                svc.matters.find(ticket.matter), body.wants, body.address, body.phone
            )
            return q.record_mailing(number, user.username, svc.clock(), choice)

        outcome = act(gw, op)
        assert outcome.ticket is not None
        return {
            "ticket": number,
            "mailing": {"wants": bool(outcome.ticket.mailing and outcome.ticket.mailing["wants"])},
        }

    @router.post("/tickets/{number}/reminder")
    def print_reminder(number: str, body: ReminderIn, _u: Any = staff_dep) -> dict:
        """Print the 领取提醒 again, e.g. after a completion from the window device's key."""
        check_printer(body.printer)
        found = svc.read(lambda q: q.tickets.get(number))
        ticket = found if isinstance(found, Ticket) else None
        if ticket is None or ticket.state != "done":
            raise refusal(errors.WrongState(f"{number} 未办结，不能打印领取提醒"))
        reminder = _reminder(svc, ticket, body.window, body.printer)
        if reminder is None:
            raise refusal(errors.WrongState(f"{number} 的事项可以邮寄或未登记事项，无需领取提醒"))
        return reminder

    @router.post("/notice")
    def give_notice(body: NoticeIn, gw: Any = Depends(gateway_of), user: Any = staff_dep) -> dict:
        try:
            matter = svc.matters.get(body.matter)
        except errors.QueueError as exc:
            raise refusal(exc) from exc
        check_printer(body.printer)
        act(
            gw,
            lambda q: q.record_notice(
                body.ticket, matter.code, user.username, body.window, svc.clock()
            ),
        )
        lines = notice.notice_lines(matter, svc.config.hall_name, svc.clock(), svc.config.tz)
        printer = body.printer or _window_printer(svc, body.window)
        error = _print(svc, printer, printing.lines_slip(lines)) if printer else "未指定打印机"
        return {"lines": lines, "printed": error is None, "print_error": error}

    return router


def _number(ticket: Ticket | None) -> str | None:
    return ticket.number if ticket else None


def _ticket(outcome: Outcome) -> dict[str, Any]:
    ticket = outcome.ticket
    assert ticket is not None
    body: dict[str, Any] = {
        "ticket": ticket.number,
        "state": ticket.state,
        "service": ticket.service,
    }
    if outcome.announcement is not None:
        body["display"] = outcome.announcement.display
        body["voice"] = outcome.announcement.voice
    return body


def _print(svc: QueueService, printer: str, slip: bytes) -> str | None:
    try:
        return svc.print_slip(printer, slip)
    except errors.QueueError as exc:
        raise refusal(exc) from exc


def _window_printer(svc: QueueService, window: str | None) -> str | None:
    configured = svc.config.windows.get(window or "")
    return configured.printer if configured else None


def _reminder(
    svc: QueueService, ticket: Ticket | None, window: str | None, printer: str | None = None
) -> dict[str, Any] | None:
    """领取提醒 for a completed matter whose result cannot be mailed, printed at the window."""
    matter = svc.matters.find(ticket.matter if ticket else None)
    if ticket is None or matter is None or matter.mailable:
        return None
    config = svc.config
    lines = notice.reminder_lines(
        matter, ticket.number, config.hall_name, ticket.done_ms or svc.clock(), config.tz
    )
    printer = printer or _window_printer(svc, window)
    error = _print(svc, printer, printing.lines_slip(lines)) if printer else "未指定打印机"
    return {"lines": lines, "printed": error is None, "print_error": error}
