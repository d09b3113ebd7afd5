"""Errors of the follow-up subsystem: one root, leaves that are also the built-in they resemble."""

from __future__ import annotations

from gateway.hooks import GatewayError


class FollowupError(GatewayError):
    """Root of the follow-up subsystem's errors (cases, calendar, statistics)."""


class CalendarError(FollowupError, ValueError):
    """A date the holiday calendar cannot decide (a year it has no data for)."""


class CaseNotFound(FollowupError, LookupError):
    """No follow-up case with that id."""


class TransitionError(FollowupError, ValueError):
    """A step that the case's state, or the actor's role, does not allow. Nothing was changed."""


class NotAllowed(TransitionError):
    """A step this person may not take (not the assignee, not a manager, not the clerk rated)."""


class InvalidInput(TransitionError):
    """A step with a value it cannot take (unknown finding, empty note …)."""


class StatsError(FollowupError, ValueError):
    """A statistics request that makes no sense (unknown grouping, empty range …)."""
