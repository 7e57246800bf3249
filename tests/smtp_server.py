"""A real SMTP server on 127.0.0.1 for the tests of the report's mail (aiosmtpd, test-only).

It speaks SMTP as a mail server does: EHLO, optional STARTTLS or TLS from the first byte with a
self-signed certificate made here, optional AUTH, and keeps every message it accepts, parsed.
"""

import datetime
import email
import email.policy
import ipaddress
import socket
import ssl

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USERNAME = "billing@msp.test"
PASSWORD = "smtp-secret-password"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def self_signed(directory):
    """A certificate for localhost/127.0.0.1 that no authority signed: ``(cert path, key path)``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Inbox:
    """aiosmtpd's handler: every message accepted, with who logged in and whether the session was encrypted."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({
            "from": envelope.mail_from, "to": list(envelope.rcpt_tos),
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "login": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
            "message": email.message_from_bytes(envelope.original_content, policy=email.policy.default)})
        return "250 OK"


def check_login(server, session, envelope, mechanism, auth_data):
    good = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USERNAME
            and auth_data.password.decode() == PASSWORD)
    return AuthResult(success=good, handled=False, auth_data=auth_data)


class SmtpServer:
    """``SmtpServer(tmp_path, security="none"|"starttls"|"tls", login=True)`` as a context manager; ``.port``, ``.inbox``."""

    def __init__(self, directory, security="none", login=True):
        self.inbox = Inbox()
        self.port = free_port()
        options = dict(hostname="127.0.0.1", port=self.port, server_hostname="localhost")
        if login:
            # AUTH only after STARTTLS when the server offers it, as a mail server would.
            options.update(authenticator=check_login, auth_require_tls=security == "starttls")
        if security != "none":
            cert, key = self_signed(directory)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(cert), str(key))
            options["tls_context" if security == "starttls" else "ssl_context"] = context
            self.cert = str(cert)
        self.controller = Controller(self.inbox, **options)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
