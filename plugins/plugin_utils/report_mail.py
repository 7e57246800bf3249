# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The billing report by e-mail: one message through an SMTP server, Python's standard library only.

For AWX, whose job file system is thrown away with the job: the mail is how the report reaches
finance. The SMTP password is a secret: it is sent only over an encrypted connection (STARTTLS or
TLS), except to a server on this machine (loopback), and never appears in a message or a result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import mimetypes
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ansible_collections.mbs.connectwise.plugins.module_utils.errors import MailError
from ansible_collections.mbs.connectwise.plugins.module_utils.printable import printable

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
ENVIRONMENT = {"host": "BILLING_SMTP_HOST", "username": "BILLING_SMTP_USERNAME", "password": "BILLING_SMTP_PASSWORD"}


def is_loopback(host):
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def settings(options, environ=None):
    """The options with the environment's defaults, checked before any connection; MailError names the option."""
    environ = os.environ if environ is None else environ
    found = dict(options)
    for key, variable in ENVIRONMENT.items():
        if not found.get(key):
            found[key] = environ.get(variable) or None
    if not found.get("host"):
        raise MailError("host: no SMTP server to mail the report through. Set host (the billing role: billing_mail.host) "
                        "or the %s environment variable." % ENVIRONMENT["host"])
    if not found.get("sender"):
        raise MailError("from: no sender address for the report's mail. Set from (the billing role: billing_mail.from).")
    if not found.get("to"):
        raise MailError("to: no recipient for the report. Set to (the billing role: billing_mail.to).")
    for key in ("host", "sender", "subject"):
        if printable(found[key]) != found[key]:
            raise MailError("%s: %r holds a control character (a line break would forge a mail header)"
                            % (key, printable(found[key])))
    for address in found["to"]:
        if printable(address) != address or "," in address:
            raise MailError("to: %r is not one address" % printable(address))
    if found.get("password") and not found.get("username"):
        raise MailError("username: a password is set but no username to log in with (the billing role: billing_mail.username "
                        "or the %s environment variable)." % ENVIRONMENT["username"])
    if found.get("password") and found["security"] == "none" and not is_loopback(found["host"]):
        raise MailError("security: none would send the SMTP password to %s unencrypted. Use security: starttls or tls "
                        "(plain SMTP with a password is accepted only for a server on this machine)." % found["host"])
    found["port"] = found.get("port") or DEFAULT_PORTS[found["security"]]
    return found


def message(found):
    """The e-mail: the body as text, each attachment as a file of its own type."""
    mail = EmailMessage()
    mail["From"] = found["sender"]
    mail["To"] = ", ".join(found["to"])
    mail["Subject"] = found["subject"]
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = make_msgid(domain="mbs-connectwise.invalid")
    mail.set_content(found.get("body") or "")
    for path in found.get("attachments") or []:
        kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
        try:
            with open(path, "rb") as stream:
                data = stream.read()
        except OSError as exc:
            raise MailError("attachments: cannot read %r: %s" % (printable(path), exc.strerror or exc))
        maintype, subtype = kind.split("/", 1)
        if maintype == "text":
            mail.add_attachment(data.decode("utf-8", errors="replace"), subtype=subtype,
                                filename=os.path.basename(path))
        else:
            mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=os.path.basename(path))
    return mail


def _context(validate_certs):
    context = ssl.create_default_context()
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _connect(found):
    timeout = found.get("timeout") or 30
    if found["security"] == "tls":
        return smtplib.SMTP_SSL(found["host"], found["port"], timeout=timeout, context=_context(found["validate_certs"]))
    server = smtplib.SMTP(found["host"], found["port"], timeout=timeout)
    if found["security"] == "starttls":
        server.starttls(context=_context(found["validate_certs"]))
    return server


def send(found, mail):
    """Send ``mail``; the recipients the server refused (the others got it). MailError when nobody did."""
    where = "%s:%s" % (found["host"], found["port"])
    try:
        server = _connect(found)
        try:
            if found.get("username"):
                server.login(found["username"], found.get("password") or "")
            refused = server.send_message(mail)
        finally:
            try:
                server.quit()
            except (smtplib.SMTPException, OSError):
                pass
    except smtplib.SMTPNotSupportedError as exc:
        hint = ("; set security to tls (a TLS port such as 465) or, for a server on this machine, none"
                if "STARTTLS" in str(exc) else "; leave username and password out for a server that takes mail without a login")
        raise MailError("%s: %s%s" % (where, exc, hint))
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError("%s refused the login of %s (%s %s): check username and password"
                        % (where, found["username"], exc.smtp_code, printable(_text(exc.smtp_error))))
    except ssl.SSLCertVerificationError as exc:
        raise MailError("%s: TLS certificate verification failed (%s); fix the server's certificate, or set "
                        "validate_certs: false for a server you trust" % (where, exc.verify_message))
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError("%s: %s" % (where, printable(_text(exc))))
    return sorted(refused)


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, smtplib.SMTPRecipientsRefused):
        return "every recipient was refused: %s" % ", ".join(sorted(value.recipients))
    return str(value)
