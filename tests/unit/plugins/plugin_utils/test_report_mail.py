"""The report's mail against a real SMTP server on 127.0.0.1 (plugins/plugin_utils/report_mail.py)."""

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils.errors import MailError
from ansible_collections.mbs.connectwise.plugins.plugin_utils import report_mail
from tests.smtp_server import PASSWORD, USERNAME, SmtpServer, free_port


def options(port, **more):
    found = dict(host="127.0.0.1", port=port, security="none", username=USERNAME, password=PASSWORD,
                 validate_certs=True, timeout=10, sender="billing@msp.test", to=["finance@msp.test"],
                 subject="Backup billing 2026-10: 5 billed, USD 602.83", body="billing 2026-10 - 5 billed\n",
                 attachments=[])
    found.update(more)
    return found


def send(found):
    settled = report_mail.settings(found, environ={})
    return report_mail.send(settled, report_mail.message(settled))


@pytest.fixture
def reports(tmp_path):
    (tmp_path / "billing-2026-10.csv").write_text("row,company\ncompany,AcmeCorp\n")
    (tmp_path / "billing-2026-10.html").write_text("<!DOCTYPE html><p>Acme &amp; Co</p>")
    return [str(tmp_path / "billing-2026-10.csv"), str(tmp_path / "billing-2026-10.html")]


def test_the_report_is_mailed_with_its_files_after_a_login(tmp_path, reports):
    with SmtpServer(tmp_path, security="none") as server:
        assert send(options(server.port, attachments=reports)) == []
    [got] = server.inbox.messages
    assert got["login"] == USERNAME and got["to"] == ["finance@msp.test"] and got["from"] == "billing@msp.test"
    message = got["message"]
    assert message["Subject"] == "Backup billing 2026-10: 5 billed, USD 602.83"
    # SMTP carries lines ending in CRLF.
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == "billing 2026-10 - 5 billed\n"
    files = dict((part.get_filename(), part) for part in message.iter_attachments())
    assert sorted(files) == ["billing-2026-10.csv", "billing-2026-10.html"]
    assert files["billing-2026-10.csv"].get_content_type() == "text/csv"
    assert files["billing-2026-10.csv"].get_content().replace("\r\n", "\n") == "row,company\ncompany,AcmeCorp\n"
    assert files["billing-2026-10.html"].get_content_type() == "text/html"


def test_starttls_checks_the_certificate_unless_told_not_to(tmp_path):
    with SmtpServer(tmp_path, security="starttls") as server:
        with pytest.raises(MailError, match=r"127\.0\.0\.1:\d+: TLS certificate verification failed \(self.signed"):
            send(options(server.port, security="starttls"))
        assert server.inbox.messages == []
        send(options(server.port, security="starttls", validate_certs=False))
    [got] = server.inbox.messages
    assert got["tls"] and got["login"] == USERNAME


def test_tls_from_the_first_byte(tmp_path):
    with SmtpServer(tmp_path, security="tls") as server:
        send(options(server.port, security="tls", validate_certs=False))
    assert server.inbox.messages[0]["tls"]


def test_a_refused_login_says_so_without_the_password(tmp_path):
    with SmtpServer(tmp_path, security="none") as server:
        with pytest.raises(MailError, match=r"refused the login of billing@msp\.test \(535 ") as caught:
            send(options(server.port, password="wrong-password"))
    assert "wrong-password" not in str(caught.value) and server.inbox.messages == []


def test_a_server_that_does_not_answer_is_named():
    with pytest.raises(MailError, match=r"^127\.0\.0\.1:\d+: .*[Cc]onnection refused"):
        send(options(free_port()))


def test_starttls_asked_of_a_server_without_it_says_what_to_set(tmp_path):
    with SmtpServer(tmp_path, security="none", login=False) as server:
        with pytest.raises(MailError, match=r"STARTTLS extension not supported by server.*set security to tls"):
            send(options(server.port, security="starttls", username=None, password=None))


@pytest.mark.parametrize("more, message", [
    ({"host": "smtp.msp.test", "security": "none"}, r"security: none would send the SMTP password to smtp\.msp\.test "
                                                    r"unencrypted"),
    ({"subject": "Billing\nBcc: everyone@example.com"}, r"subject: 'Billing\\\\nBcc: everyone@example.com' holds a "
                                                        r"control character"),
    ({"to": ["a@msp.test, b@msp.test"]}, r"to: 'a@msp.test, b@msp.test' is not one address"),
    ({"host": None}, r"host: no SMTP server .* BILLING_SMTP_HOST"),
    ({"sender": ""}, r"from: no sender address"),
    ({"to": []}, r"to: no recipient"),
    ({"username": None}, r"username: a password is set but no username"),
])
def test_settings_that_cannot_be_right_are_refused_before_any_connection(more, message):
    with pytest.raises(MailError, match=message):
        report_mail.settings(options(1, **more), environ={})


def test_the_environment_gives_host_login_and_password():
    found = report_mail.settings(options(None, host=None, username=None, password=None, security="starttls"),
                                 environ={"BILLING_SMTP_HOST": "smtp.msp.test", "BILLING_SMTP_USERNAME": "u",
                                          "BILLING_SMTP_PASSWORD": "p"})
    assert (found["host"], found["username"], found["password"], found["port"]) == ("smtp.msp.test", "u", "p", 587)
    assert report_mail.is_loopback("localhost") and report_mail.is_loopback("127.0.0.2") and report_mail.is_loopback("::1")
    assert not report_mail.is_loopback("smtp.msp.test") and not report_mail.is_loopback("10.0.0.1")
