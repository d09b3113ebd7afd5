"""Errors of the queue. One root, `QueueError`, also a `ValueError`; each leaf carries the
Chinese text a clerk or citizen sees (`message`) and a stable `code` for clients."""

from __future__ import annotations

from gateway.hooks import GatewayError


class QueueError(GatewayError, ValueError):
    """An action the queue cannot do now. Raised before anything changes."""

    code = "queue_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ConfigError(QueueError):
    code = "bad_config"


class UnknownService(QueueError, LookupError):
    code = "unknown_service"


class UnknownWindow(QueueError, LookupError):
    code = "unknown_window"


class UnknownTicket(QueueError, LookupError):
    code = "unknown_ticket"


class UnknownMatter(QueueError, LookupError):
    code = "unknown_matter"


class NoClerk(QueueError):
    """A window action with nobody logged in at that window."""

    code = "no_clerk"


class NothingWaiting(QueueError):
    code = "nothing_waiting"


class WindowBusy(QueueError):
    """Calling while the window still has a ticket that is neither completed nor skipped."""

    code = "window_busy"


class WindowIdle(QueueError):
    """Recall, complete, skip or park with no ticket at the window."""

    code = "window_idle"


class TicketClosed(QueueError):
    """The ticket is finished (done, expired): it cannot be moved or called any more."""

    code = "ticket_closed"


class WrongState(QueueError):
    code = "wrong_state"


class NotAllowed(QueueError):
    """The action is possible in principle but not for this window or source."""

    code = "not_allowed"


class MailingNotPossible(QueueError):
    code = "mailing_not_possible"


class BadInput(QueueError):
    code = "bad_input"


class WindowPaused(QueueError):
    """The clerk at the window has paused service (暂停)."""

    code = "paused"
