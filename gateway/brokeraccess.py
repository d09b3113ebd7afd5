"""How the gateway reaches its broker: address, TLS files and login, resolved from the Config
and checked before anything connects, so a wrong path or a half-given login fails at start with
a message that names it (rather than as a silent reconnect loop)."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gateway.config import Config, ConfigError, parse_broker_url
from gateway.mqtt import TlsFiles

PASSWORD_ENV = "YUPING_BROKER_PASSWORD"


@dataclass(frozen=True)
class BrokerAccess:
    host: str
    port: int
    tls: TlsFiles | None = None  # None: plain MQTT
    user: str | None = None
    password: str | None = None

    @property
    def address(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def broker_access(cfg: Config, environ: Mapping[str, str] | None = None) -> BrokerAccess:
    """The checked broker settings of `cfg`; ConfigError names what is wrong."""
    tls, host, port = parse_broker_url(cfg.broker)
    user, password = _login(cfg, os.environ if environ is None else environ)
    if not tls:
        _refuse_tls_files(cfg)
    return BrokerAccess(host, port, _tls_files(cfg) if tls else None, user, password)


def _login(cfg: Config, environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    if cfg.broker_password_file:
        password: str | None = _read_password(Path(cfg.broker_password_file))
    else:
        password = environ.get(PASSWORD_ENV) or cfg.broker_password
    if cfg.broker_user is None:
        if cfg.broker_password or cfg.broker_password_file:
            raise ConfigError("a broker password is set but no broker_user to log in as")
        return None, None
    if not cfg.broker_user or ":" in cfg.broker_user:
        raise ConfigError(f"broker_user may not be empty or contain ':': {cfg.broker_user!r}")
    if not password:
        raise ConfigError(
            f"broker_user {cfg.broker_user!r} has no password: set broker_password_file "
            f"(`yuping provision gateway` writes one), ${PASSWORD_ENV} or broker_password"
        )
    return cfg.broker_user, password


def _read_password(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the broker password file {path}: {exc}") from exc
    password = text.strip()
    if not password or "\n" in password:
        raise ConfigError(f"the broker password file {path} must hold the password on one line")
    return password


def _refuse_tls_files(cfg: Config) -> None:
    given = [name for name in ("broker_ca", "broker_cert", "broker_key") if getattr(cfg, name)]
    if given:
        raise ConfigError(
            f"{', '.join(given)} set but the broker {cfg.broker} is plain MQTT: use mqtts://"
        )


def _tls_files(cfg: Config) -> TlsFiles:
    """Load the files into a throw-away SSL context: a missing or unusable file is named now."""
    if bool(cfg.broker_cert) != bool(cfg.broker_key):
        raise ConfigError("a client certificate needs both broker_cert and broker_key")
    files = TlsFiles(cfg.broker_ca, cfg.broker_cert, cfg.broker_key)
    context = ssl.create_default_context()
    for what, path in (("broker_ca", files.ca), ("broker_cert", files.cert)):
        if path and not Path(path).is_file():
            raise ConfigError(f"{what} file not found: {path}")
    try:
        if files.ca:
            context.load_verify_locations(cafile=files.ca)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"broker_ca {files.ca} is not a PEM CA certificate: {exc}") from exc
    try:
        if files.cert:
            context.load_cert_chain(files.cert, files.key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot use the client certificate {files.cert} with key {files.key}: {exc}"
        ) from exc
    return files
