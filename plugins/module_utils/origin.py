# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where credentials may go: the configured origin, and how a URL is shown.

An origin is a URL's scheme, host and port. The ConnectWise keys and the MSP360 password and
token are sent only to the origin the user configured (``site``, ``mbs.url``): a ``Link`` header,
a redirect or an absolute URL pointing elsewhere is never followed with them. A configured URL
holding a user name or password is refused (the API keys have their own options), and plain
``http://`` is refused outside loopback unless the user allows it, since the keys would then
cross the network readable by anyone on the way. URLs in messages never show userinfo.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible.module_utils.six.moves.urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
LOOPBACK_NAMES = frozenset(("localhost",))
_AUTHORITY_END = re.compile(r"[/?#]")


def origin_of(url):
    """``(scheme, host, port)`` of ``url``, the port made explicit; None for a URL without a host."""
    try:
        parts = urlsplit(str(url))
        port = parts.port
    except ValueError:
        return None
    scheme = (parts.scheme or "").lower()
    if not parts.hostname or scheme not in DEFAULT_PORTS:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def show_origin(origin):
    """``https://host:port`` of an :func:`origin_of` tuple (default ports left out)."""
    if origin is None:
        return "(no origin)"
    scheme, host, port = origin
    host = "[%s]" % host if ":" in host else host
    return "%s://%s" % (scheme, host) if DEFAULT_PORTS.get(scheme) == port else "%s://%s:%s" % (scheme, host, port)


def redact_url(url):
    """``url`` as messages may show it: a password in it becomes ``***`` (``http://user:***@host``).

    A user name alone is hidden too (``***@host``): some services take a token there. A string that
    is not a well-formed URL but holds an ``@`` is masked up to its last ``@``.
    """
    text = str(url)
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    else:
        scheme += sep
    end = _AUTHORITY_END.search(rest)
    authority, tail = (rest[:end.start()], rest[end.start():]) if end else (rest, "")
    if "@" in authority:
        userinfo, host = authority.rsplit("@", 1)
        user, colon, _password = userinfo.partition(":")
        return scheme + ("%s:***@" % user if colon and user else "***@") + host + tail
    if not sep and "@" in text:
        return "***@" + text.rsplit("@", 1)[1]
    return text


def url_secrets(value):
    """The user names and passwords written inside URLs anywhere in ``value`` (nested dicts and lists).

    A module adds them to its ``no_log_values`` so that even its invocation, printed at ``-vvv``, never
    shows a password someone wrote into ``site`` or ``mbs.url``.
    """
    found = set()
    if isinstance(value, dict):
        for item in value.values():
            found |= url_secrets(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            found |= url_secrets(item)
    elif isinstance(value, str) and "@" in value:
        redacted = redact_url(value)
        if redacted != value:
            userinfo = (value.partition("://")[2] or value).rsplit("@", 1)[0]
            _user, colon, password = userinfo.partition(":")
            # The user name alone stays visible (masking a common word everywhere would garble the output),
            # unless it is all there is: then it may well be a token.
            found.update(part for part in (userinfo, password if colon else None) if part)
    return found


def is_loopback(host):
    """Whether ``host`` is this machine: ``localhost``, 127.0.0.0/8 or ::1."""
    host = (host or "").strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_userinfo(url, option):
    """``ValueError`` naming ``option`` when ``url`` holds a user name or password (shown as ``user:***@``)."""
    text = str(url)
    authority = _AUTHORITY_END.split(text.partition("://")[2] or text, 1)[0]
    if "@" in authority or ("://" not in text and "@" in text):
        raise ValueError("%s must not hold a user name or password (%s): give the API credentials in their own "
                         "options, and the address alone in %s" % (option, redact_url(text), option))


def refuse_plain_http(url, option, allow_http=False, allow_option="allow_http"):
    """``ValueError`` naming ``option`` for ``http://`` to another machine than this one, unless ``allow_http``."""
    origin = origin_of(url)
    if origin is not None and origin[0] == "http" and not allow_http and not is_loopback(origin[1]):
        raise ValueError("%s %s uses plain HTTP: the credentials would cross the network unencrypted, readable by "
                         "anyone on the way. Use https://, or, only for a server on a network you trust, set %s: true"
                         % (option, show_origin(origin), allow_option))


def check_configured_url(url, option, allow_http=False, allow_option="allow_http"):
    """Refuse a configured base URL that would expose the credentials; ``ValueError`` naming ``option``.

    A user name or password inside the URL is refused (:func:`refuse_userinfo`), and so is plain
    ``http://`` to another machine than this one unless ``allow_http`` (:func:`refuse_plain_http`):
    the API keys would cross the network unencrypted. Returns ``url`` unchanged.
    """
    refuse_userinfo(url, option)
    refuse_plain_http(url, option, allow_http, allow_option)
    return url
