"""Upload settings: the `[upload]` table of the gateway's TOML file (docs/upload.md).

[upload]
url = "https://hcp.henan.example/api/evaluation"   # the provincial interface
token = "…"                    # sent as Authorization: Bearer …  (or username + password)
ca_file = "/etc/yuping/province-ca.pem"   # the province's CA, if not a public one
timeout_s = 10
backoff_s = 30                 # first retry after 30 s, then 60, 120 … up to backoff_max_s
backoff_max_s = 1800
batch = 50                     # ratings sent per pass
time_format = "%Y-%m-%d %H:%M:%S"   # how evaluateTime is written (China time)

[upload.levels]                # our level name -> the province's code, in ITS direction
very_satisfied = 5             # the national 好差评 system: 非常满意 = 5 … 非常不满意 = 1
…
[upload.channels]              # how the rating was given -> the province's channel code
keys = "政务大厅其他终端"
[upload.fields]                # our record's field -> the province's field name ("" = omit)
case_no = "projectNo"
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from gateway.config import ConfigError
from gateway.hooks import GatewayError
from protocol.levels import LEVELS

# The national 好差评 numbering: best = 5. Our protocol never uses these numbers.
NATIONAL_LEVELS: dict[str, int | str] = {
    "very_satisfied": 5,
    "satisfied": 4,
    "basic": 3,
    "dissatisfied": 2,
    "very_dissatisfied": 1,
}
# Placeholders: a deployment puts the province's own channel codes here.
DEFAULT_CHANNELS: dict[str, int | str] = {"keys": "政务大厅其他终端", "phone": "二维码"}
# Our record's fields (gateway/upload/outbox.py) -> the province's names.
DEFAULT_FIELDS = {
    "idem_key": "requestId",
    "hall": "hallCode",
    "rated_at": "evaluateTime",
    "level": "evaluateLevel",
    "channel": "evaluateChannel",
    "reasons": "evaluateReasons",
    "service": "serviceName",
    "service_code": "serviceCode",
    "matter": "matterCode",
    "case_no": "projectNo",
    "window": "windowNo",
    "staff_no": "staffNo",
}


class UploadError(GatewayError):
    """Root of the upload subsystem's errors."""


class UploadConfigError(UploadError, ConfigError):
    """An [upload] setting that cannot be used."""


@dataclass(frozen=True)
class UploadConfig:
    url: str
    token: str | None = None
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    timeout_s: float = 10.0
    backoff_s: float = 30.0
    backoff_max_s: float = 1800.0
    batch: int = 50
    poll_s: float = 5.0  # how often the outbox is looked at (also woken by each new rating)
    time_format: str = "%Y-%m-%d %H:%M:%S"  # China time
    levels: dict[str, int | str] = field(default_factory=lambda: dict(NATIONAL_LEVELS))
    channels: dict[str, int | str] = field(default_factory=lambda: dict(DEFAULT_CHANNELS))
    fields: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELDS))

    def __post_init__(self) -> None:
        if not self.url.startswith(("https://", "http://")):
            raise UploadConfigError(f"upload.url must be https://…, not {self.url!r}")
        if bool(self.username) != bool(self.password):
            raise UploadConfigError("upload.username and upload.password go together")
        _check_levels(self.levels)
        missing = sorted(set(DEFAULT_CHANNELS) - set(self.channels))
        if missing:
            raise UploadConfigError(f"upload.channels lacks a code for: {', '.join(missing)}")
        unknown = sorted(set(self.fields) - set(DEFAULT_FIELDS))
        if unknown:
            raise UploadConfigError(f"upload.fields names unknown field(s): {', '.join(unknown)}")
        if not self.fields.get("idem_key"):
            raise UploadConfigError("upload.fields must send idem_key (it makes retries safe)")
        if self.backoff_s <= 0 or self.backoff_max_s < self.backoff_s or self.batch < 1:
            raise UploadConfigError("upload: need 0 < backoff_s <= backoff_max_s and batch >= 1")

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> UploadConfig:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(table) - names)
        if unknown:
            raise UploadConfigError(f"unknown setting(s) in [upload]: {', '.join(unknown)}")
        if "url" not in table:
            raise UploadConfigError("[upload] needs url, the provincial interface's address")
        values = dict(table)
        for name, default in (
            ("levels", {}),
            ("channels", DEFAULT_CHANNELS),
            ("fields", DEFAULT_FIELDS),
        ):
            if name in values:
                values[name] = {**default, **values[name]}
        return cls(**values)


def _check_levels(levels: dict[str, int | str]) -> None:
    if set(levels) != set(LEVELS):
        raise UploadConfigError(
            f"upload.levels must give a code for exactly {', '.join(LEVELS)}"
            f" (got {', '.join(sorted(levels)) or 'none'})"
        )
    if len(set(levels.values())) != len(LEVELS):
        raise UploadConfigError("upload.levels gives two levels the same code")
