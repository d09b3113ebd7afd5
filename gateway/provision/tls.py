"""TLS for production brokers: one CA per hall (kept by the technician, never on the broker) and
a server certificate per broker host. EC P-256 keys, which OpenSSL (Mosquitto), paho and the
Pico W's mbedTLS all speak.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.provision.brokerfiles import broker_readable
from gateway.provision.errors import SiteError

CA_DAYS = 3650
SERVER_DAYS = 825  # the longest server lifetime clients commonly accept


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Yuping"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey, mode: int) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(mode)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.chmod(0o644)


def make_ca(folder: Path, hall: str) -> Path:
    """Create ca.crt/ca.key for a hall; refuses to overwrite an existing CA."""
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "ca.key").exists():
        raise SiteError(f"{folder} already holds a CA; remove it first to start a new one")
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(f"Yuping hall CA {hall}")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    _write_key(folder / "ca.key", key, 0o600)
    _write_cert(folder / "ca.crt", cert)
    return folder / "ca.crt"


def _load_ca(folder: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    try:
        cert = x509.load_pem_x509_certificate((folder / "ca.crt").read_bytes())
        key = serialization.load_pem_private_key((folder / "ca.key").read_bytes(), None)
    except FileNotFoundError:
        raise SiteError(f"no CA in {folder}: run `yuping provision tls-ca` first") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SiteError(f"{folder / 'ca.key'} is not an EC key")
    return cert, key


def _san(hosts: list[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def make_server_cert(folder: Path, name: str, hosts: list[str]) -> tuple[Path, Path]:
    """<name>.crt/<name>.key for a broker reachable at `hosts` (DNS names or IP addresses)."""
    if not hosts:
        raise SiteError("a server certificate needs at least one host name or address")
    ca_cert, ca_key = _load_ca(folder)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=SERVER_DAYS))
        .add_extension(_san(hosts), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_path, cert_path = folder / f"{name}.key", folder / f"{name}.crt"
    _write_key(key_path, key, 0o600)
    broker_readable(key_path)
    _write_cert(cert_path, cert)
    return cert_path, key_path


def listener_config(folder: Path, name: str, port: int = 8883) -> str:
    """The Mosquitto listener lines for a TLS broker using these files."""
    folder = folder.resolve()
    return (
        f"listener {port}\n"
        f"cafile {folder / 'ca.crt'}\n"
        f"certfile {folder / (name + '.crt')}\n"
        f"keyfile {folder / (name + '.key')}\n"
        "tls_version tlsv1.2\n"
    )
