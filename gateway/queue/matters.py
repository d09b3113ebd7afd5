"""The catalogue of matters (事项): their materials for the one-time written notice
(一次性书面告知单) and whether their result may be mailed (结果免费寄).

Loaded from TOML (see matters.sample.toml) or CSV with the columns
code,name,service,time_limit_days,mailable,pickup,materials (materials separated by "；" or ";").
"""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.queue.errors import ConfigError, UnknownMatter

SAMPLE = Path(__file__).resolve().parent / "matters.sample.toml"
_TRUE = {"true", "1", "yes", "是"}
_FALSE = {"false", "0", "no", "否", ""}


@dataclass(frozen=True)
class Matter:
    code: str
    name: str
    service: str
    materials: tuple[str, ...]
    mailable: bool = True
    time_limit_days: int = 0  # 承诺时限 in working days; 0: 即办 (done on the spot)
    pickup: str = ""  # where the result is collected when it cannot be mailed


class Catalogue:
    def __init__(self, matters: list[Matter]):
        self._matters: dict[str, Matter] = {}
        for matter in matters:
            if matter.code in self._matters:
                raise ConfigError(f"matter {matter.code} listed twice")
            self._matters[matter.code] = matter

    def get(self, code: str) -> Matter:
        try:
            return self._matters[code]
        except KeyError:
            raise UnknownMatter(f"事项目录中没有 {code}") from None

    def find(self, code: str | None) -> Matter | None:
        return self._matters.get(code) if code else None

    def all(self) -> list[Matter]:
        return list(self._matters.values())

    def for_service(self, service: str) -> list[Matter]:
        return [m for m in self._matters.values() if m.service == service]

    def __len__(self) -> int:
        return len(self._matters)


def load(path: str | Path) -> Catalogue:
    path = Path(path)
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as fh:
            return Catalogue([_from_csv(row) for row in csv.DictReader(fh)])
    with open(path, "rb") as fh:
        return Catalogue([_from_dict(row) for row in tomllib.load(fh).get("matters", [])])


def _from_dict(row: dict[str, Any]) -> Matter:
    try:
        matter = Matter(**dict(row, materials=tuple(row.get("materials", ()))))
    except TypeError as exc:
        raise ConfigError(f"matter {row.get('code')!r}: {exc}") from None
    if not matter.code or not matter.name or not matter.materials:
        raise ConfigError(f"matter {matter.code!r} needs a code, a name and its materials")
    if not matter.mailable and not matter.pickup:
        raise ConfigError(f"matter {matter.code}: not mailable, so say where to collect (pickup)")
    return matter


def _from_csv(row: dict[str, str]) -> Matter:
    mailable = (row.get("mailable") or "").strip().lower()
    if mailable not in _TRUE | _FALSE:
        raise ConfigError(f"matter {row.get('code')!r}: mailable must be true/false")
    try:
        days = int(row.get("time_limit_days") or 0)
    except ValueError:
        raise ConfigError(f"matter {row.get('code')!r}: time_limit_days must be a number") from None
    materials = [m.strip() for m in re.split("[；;]", row.get("materials") or "") if m.strip()]
    return _from_dict(
        {
            "code": (row.get("code") or "").strip(),
            "name": (row.get("name") or "").strip(),
            "service": (row.get("service") or "").strip(),
            "materials": materials,
            "mailable": mailable in _TRUE,
            "time_limit_days": days,
            "pickup": (row.get("pickup") or "").strip(),
        }
    )
