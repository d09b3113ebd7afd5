"""The site registry a technician keeps: which devices exist, in which hall, at which window, with
which broker credentials; and the broker files derived from it.

Layout of a site directory (default /etc/yuping, or $YUPING_SITE):

    site.toml               broker_url, gateway_url, release public key (set by `provision init`)
    devices/<device>.toml   hall, device, kind, window, paired, password (0600)
    gateways/<hall>.toml    the hall gateway's broker account (0600)
    gateways/<hall>.password  its password alone, for `yuping gateway` (0600)
    broker/passwd           Mosquitto password file ($7$ hashes only)
    broker/acl              Mosquitto ACL file (%u patterns)
    broker/yuping.conf      the snippet to include from mosquitto.conf
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gateway.provision import acl, mqttpass, tomlfile
from gateway.provision.brokerfiles import broker_readable
from gateway.provision.errors import DeviceExists, SiteError, UnknownDevice
from protocol import topics
from protocol.messages import DEVICE_KINDS


def new_password() -> str:
    return secrets.token_urlsafe(18)


@dataclass
class DeviceRecord:
    hall: str
    device: str
    kind: str
    window: str = ""
    paired: str = ""  # a rating box names the window terminal it serves
    password: str = ""

    def check(self) -> None:
        topics.check_id(self.hall, "hall")
        if self.device == topics.GATEWAY:
            raise SiteError("device id 'gateway' is reserved")
        topics.check_id(self.device, "device")
        if self.kind not in DEVICE_KINDS:
            raise SiteError(f"device kind must be one of {', '.join(DEVICE_KINDS)}: {self.kind!r}")
        if self.paired:
            topics.check_id(self.paired, "paired device")
        if self.kind == "ratingbox" and not self.paired:
            raise SiteError("a rating box must be paired with a window terminal (--paired)")


@dataclass
class GatewayAccount:
    hall: str
    user: str
    password: str


class Site:
    def __init__(self, root: Path | str):
        self.root = Path(root)

    # --- settings -------------------------------------------------------------------------
    @property
    def settings_path(self) -> Path:
        return self.root / "site.toml"

    def settings(self) -> dict[str, Any]:
        try:
            return tomlfile.read(self.settings_path)
        except FileNotFoundError:
            return {}

    def update_settings(self, **values: Any) -> dict[str, Any]:
        merged = self.settings()
        merged.update({k: v for k, v in values.items() if v is not None})
        tomlfile.write(self.settings_path, merged, mode=0o644)
        return merged

    # --- devices --------------------------------------------------------------------------
    def _device_path(self, device: str) -> Path:
        return self.root / "devices" / f"{topics.check_id(device, 'device')}.toml"

    def check_new(self, record: DeviceRecord) -> None:
        """Raise unless `record` could be added (nothing is written)."""
        record.check()
        if self._device_path(record.device).exists():
            raise DeviceExists(f"device {record.device} is already provisioned")
        if record.paired:
            self._check_pairing(record)

    def add_device(self, record: DeviceRecord) -> DeviceRecord:
        self.check_new(record)
        record.password = record.password or new_password()
        self.gateway(record.hall, create=True)
        tomlfile.write(self._device_path(record.device), asdict(record))
        self.write_broker_files()
        return record

    def _check_pairing(self, record: DeviceRecord) -> None:
        partner = self.device(record.paired)
        if partner.kind != "terminal" or partner.hall != record.hall:
            raise SiteError(f"{record.paired} is not a window terminal of hall {record.hall}")

    def device(self, device: str) -> DeviceRecord:
        try:
            data = tomlfile.read(self._device_path(device))
        except FileNotFoundError:
            raise UnknownDevice(
                f"device {device} is not provisioned in {self.root} (run `yuping provision device`)"
            ) from None
        return DeviceRecord(**data)

    def devices(self) -> list[DeviceRecord]:
        folder = self.root / "devices"
        names = sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []
        return [self.device(name) for name in names]

    def remove_device(self, device: str) -> None:
        self.device(device)
        self._device_path(device).unlink()
        self.write_broker_files()

    def rotate_password(self, device: str) -> DeviceRecord:
        record = self.device(device)
        record.password = new_password()
        tomlfile.write(self._device_path(device), asdict(record))
        self.write_broker_files()
        return record

    # --- gateways -------------------------------------------------------------------------
    def gateway(self, hall: str, create: bool = False) -> GatewayAccount:
        path = self.root / "gateways" / f"{topics.check_id(hall, 'hall')}.toml"
        if path.exists():
            return GatewayAccount(**tomlfile.read(path))
        if not create:
            raise UnknownDevice(f"hall {hall} has no gateway account yet")
        account = GatewayAccount(hall, acl.gateway_user(hall), new_password())
        tomlfile.write(path, asdict(account))
        return account

    def write_gateway_password(self, hall: str, path: Path | None = None) -> tuple[Path, bool]:
        """The hall gateway's broker password, alone on one line in `path` (0600; default
        gateways/<hall>.password), as `yuping gateway` reads it (broker_password_file). Creates
        the account, and rewrites the broker files, when the hall had none; returns whether."""
        topics.check_id(hall, "hall")
        created = not (self.root / "gateways" / f"{hall}.toml").exists()
        account = self.gateway(hall, create=True)
        if created:
            self.write_broker_files()
        path = path or self.root / "gateways" / f"{hall}.password"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.touch(mode=0o600)
        tmp.chmod(0o600)
        tmp.write_text(account.password + "\n", encoding="utf-8")
        tmp.replace(path)
        return path, created

    def gateways(self) -> list[GatewayAccount]:
        folder = self.root / "gateways"
        halls = sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []
        return [self.gateway(hall) for hall in halls]

    # --- broker files ---------------------------------------------------------------------
    @property
    def broker_dir(self) -> Path:
        return self.root / "broker"

    def write_broker_files(self) -> None:
        """Rewrite passwd, acl and the config snippet from the registry (reload Mosquitto after)."""
        users = [(g.user, g.password) for g in self.gateways()]
        users += [(d.device, d.password) for d in self.devices()]
        passwd = "".join(mqttpass.password_line(u, p) + "\n" for u, p in users)
        self._write(self.broker_dir / "passwd", passwd)
        self._write(self.broker_dir / "acl", acl.render(g.hall for g in self.gateways()))
        self._write(self.broker_dir / "yuping.conf", self.broker_snippet())

    def broker_snippet(self) -> str:
        return (
            "# Include from mosquitto.conf (Mosquitto 2.x): every client must log in.\n"
            "allow_anonymous false\n"
            f"password_file {self.broker_dir.resolve() / 'passwd'}\n"
            f"acl_file {self.broker_dir.resolve() / 'acl'}\n"
        )

    @staticmethod
    def _write(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        broker_readable(tmp)
        tmp.replace(path)
