"""The follow-up set-up file named by `followup = "…"` in gateway.toml's [gateway] table.

Tables: [followup] (gateway/followup/config.py), [upload] (gateway/upload/config.py; leave it
out and nothing is uploaded) and [alerts]:

    [alerts]
    long_wait_min = 30                       # a ticket waiting this long alerts (needs the queue)
    webhook = "https://duty.example/hook"    # optional: every alert POSTed here
    webhook_secret = "…"                     # optional: HMAC-SHA256 signature header

docs/followup.example.toml is a complete example.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.alerts.webhook import WebhookConfig
from gateway.followup.config import FollowupConfig, FollowupConfigError
from gateway.upload.config import UploadConfig

TABLES = ("followup", "upload", "alerts")
ALERT_KEYS = ("long_wait_min", "webhook", "webhook_secret", "webhook_attempts", "webhook_backoff_s")


@dataclass(frozen=True)
class AlertsConfig:
    long_wait_min: int = 30
    webhook: WebhookConfig | None = None

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> AlertsConfig:
        unknown = sorted(set(table) - set(ALERT_KEYS))
        if unknown:
            raise FollowupConfigError(f"unknown setting(s) in [alerts]: {', '.join(unknown)}")
        hook = None
        if table.get("webhook"):
            hook = WebhookConfig(
                table["webhook"], table.get("webhook_secret"),
                attempts=int(table.get("webhook_attempts", 6)),
                backoff_s=float(table.get("webhook_backoff_s", 1.0)),
            )  # fmt: skip
        return cls(int(table.get("long_wait_min", 30)), hook)


@dataclass(frozen=True)
class Settings:
    followup: FollowupConfig = field(default_factory=FollowupConfig)
    upload: UploadConfig | None = None
    alerts: AlertsConfig = field(default_factory=AlertsConfig)

    @classmethod
    def load(cls, path: str | Path | None) -> Settings:
        """Read the file; None gives follow-up with defaults, no upload, no webhook."""
        if path is None:
            return cls()
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise FollowupConfigError(f"cannot read follow-up settings {path}: {exc}") from exc
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "settings") -> Settings:
        unknown = sorted(set(data) - set(TABLES))
        if unknown:
            raise FollowupConfigError(f"unknown table(s) in {where}: {', '.join(unknown)}")
        try:
            return cls(
                FollowupConfig.from_table(data.get("followup", {})),
                UploadConfig.from_table(data["upload"]) if "upload" in data else None,
                AlertsConfig.from_table(data.get("alerts", {})),
            )
        except ValueError as exc:
            raise FollowupConfigError(f"{where}: {exc}") from exc
