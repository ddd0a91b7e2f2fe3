"""Temporal over mutual TLS: the API, the worker and the CLI present the configured client certificate.

The dev server speaks plain gRPC, so a real TLS terminator (Python's ssl, client certificates
required, ALPN h2) stands in front of it, as a TLS frontend or proxy does in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from temporalio.testing import WorkflowEnvironment

import cli
from bootstrap import connect_temporal, temporal_answers
from settings import Settings

SERVER_NAME = "temporal.duban.test"


def _issue(
    name: str, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None, *, ca: bool = False
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer or (subject, key)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        names = [x509.DNSName(name), x509.IPAddress(IPv4Address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()), key


def _write(directory: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    (directory / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / f"{name}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


@dataclass
class Pki:
    """A CA, the frontend's certificate, a client certificate it signed, and one it did not."""

    directory: Path

    def path(self, name: str) -> Path:
        """A file of the PKI."""
        return self.directory / name


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca_cert, ca_key = _issue("duban test CA", None, ca=True)
    _write(directory, "ca", ca_cert, ca_key)
    for name in (SERVER_NAME, "duban-worker"):
        cert, key = _issue(name, (ca_cert.subject, ca_key))
        _write(directory, name, cert, key)
    stranger, stranger_key = _issue("stranger", None)
    _write(directory, "stranger", stranger, stranger_key)
    return Pki(directory)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    writer.close()


@pytest.fixture
async def mtls_frontend(pki: Pki, dev_server: WorkflowEnvironment) -> AsyncIterator[str]:
    """host:port of a TLS terminator that requires a client certificate of the CA; plain gRPC behind."""
    target_host, target_port = dev_server.client.service_client.config.target_host.rsplit(":", 1)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.path(f"{SERVER_NAME}.pem"), pki.path(f"{SERVER_NAME}.key"))
    context.load_verify_locations(pki.path("ca.pem"))
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])

    async def relay(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(target_host, int(target_port))
        await asyncio.gather(_pipe(client_reader, server_writer), _pipe(server_reader, client_writer))

    server = await asyncio.start_server(relay, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 2)


def _settings(address: str, pki: Pki, client: str | None) -> Settings:
    return Settings(
        _env_file=None,
        temporal_address=address,
        temporal_tls_ca_file=pki.path("ca.pem"),
        temporal_tls_cert_file=pki.path(f"{client}.pem") if client else None,
        temporal_tls_key_file=pki.path(f"{client}.key") if client else None,
        temporal_tls_server_name=SERVER_NAME,
    )


async def test_api_worker_and_cli_connect_with_the_configured_client_certificate(
    mtls_frontend: str, pki: Pki
) -> None:
    settings = _settings(mtls_frontend, pki, "duban-worker")

    worker_client = await connect_temporal(settings)
    api_client = await connect_temporal(settings, lazy=True)  # as the API connects
    await api_client.count_workflows()

    assert (await worker_client.count_workflows()).count >= 0
    assert await temporal_answers(settings)


@pytest.mark.parametrize("client", [None, "stranger"], ids=["no-client-cert", "cert-of-another-ca"])
async def test_the_frontend_turns_away_a_client_without_a_certificate_of_its_ca(
    mtls_frontend: str, pki: Pki, client: str | None
) -> None:
    settings = _settings(mtls_frontend, pki, client)

    with pytest.raises(RuntimeError):
        await connect_temporal(settings)
    assert not await temporal_answers(settings)


def test_a_missing_tls_file_is_one_line_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEMPORAL_TLS_CA_FILE", str(tmp_path / "ca.pem"))

    assert cli.main(["worker"]) == 2

    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "TEMPORAL_TLS_CA_FILE" in error
    assert str(tmp_path / "ca.pem") in error
