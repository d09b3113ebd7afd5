"""Reading and writing the small TOML files of the site registry and device configs.

Python reads TOML (tomllib) but does not write it; these files hold only strings, numbers,
booleans, lists of those and one level of tables, which is all `dumps` supports.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

from gateway.provision.errors import SiteError


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dumps(data: dict[str, Any]) -> str:
    plain = [f"{k} = {_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    tables = [
        f"\n[{name}]\n" + "\n".join(f"{k} = {_value(v)}" for k, v in table.items())
        for name, table in data.items()
        if isinstance(table, dict)
    ]
    return "\n".join(plain) + "\n" + "\n".join(tables) + ("\n" if tables else "")


def write(path: Path, data: dict[str, Any], mode: int = 0o600) -> None:
    """Write atomically (a half-written credentials file must never be left behind)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dumps(data), encoding="utf-8")
    tmp.chmod(mode)
    os.replace(tmp, path)


def read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SiteError(f"{path}: not a readable TOML file ({exc})") from exc
