# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report folder on the controller: checked before billing, private, written atomically.

The reports list every customer's usage and revenue. A folder this collection creates is private
to its owner (0700); a folder that exists is used as it is and never chmodded (it may be the
administrator's, shared on purpose, or a symbolic link to one). Each report file is written to a
temporary file of the folder, created 0600, then renamed over the report: a reader sees the old
report or the new one, never half of one, and a symbolic link in the report's place is replaced
(the rename replaces the link itself), never followed to overwrite what it points at.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat
import tempfile

from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ReportFolderError
from ansible_collections.mbs.connectwise.plugins.module_utils.printable import printable

FOLDER_MODE = 0o700
FILE_MODE = 0o600
# A file read back (the month's state) larger than this is not one this collection wrote.
READ_LIMIT = 16 * 1024 * 1024


def _shown(path):
    return repr(printable(path))


def check_name(name, setting):
    """A report file's name: a plain file name inside the folder, never a path."""
    if not name or name in (".", "..") or "/" in name or "\0" in name or printable(name) != name:
        raise ReportFolderError("%s: %s is not a plain file name" % (setting, _shown(name)))
    return name


def _probe(path, setting):
    """Prove the folder takes a new file (permissions, a read-only mount, a full disk) by making and removing one."""
    try:
        handle, probe = tempfile.mkstemp(prefix=".mbs-connectwise-probe-", dir=path)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise ReportFolderError("%s %s cannot be written: %s. Choose a folder you can write to, or give this user "
                                "the right to write there." % (setting, _shown(path), exc.strerror or exc))


def _existing(path, setting):
    """``True`` when ``path`` is a usable folder (or a link to one), ``False`` when nothing is there."""
    try:
        link = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        # A file where a parent folder should be (ENOTDIR), a path too long, a loop of links...
        raise ReportFolderError("%s %s cannot be used: %s. Point %s at a folder (it is created when missing)."
                                % (setting, _shown(path), exc.strerror or exc, setting))
    if stat.S_ISLNK(link.st_mode):
        target = os.path.realpath(path)
        try:
            pointed = os.stat(path)
        except FileNotFoundError:
            raise ReportFolderError("%s %s is a symbolic link to %s, which does not exist. Create that folder, or "
                                    "point %s at a folder." % (setting, _shown(path), _shown(target), setting))
        if not stat.S_ISDIR(pointed.st_mode):
            raise ReportFolderError("%s %s is a symbolic link to a file (%s), not to a folder. Point %s at a "
                                    "folder; the reports are never written through a link to a file."
                                    % (setting, _shown(path), _shown(target), setting))
        return True
    if not stat.S_ISDIR(link.st_mode):
        raise ReportFolderError("%s %s is a file, not a folder. Point %s at a folder (it is created when missing)."
                                % (setting, _shown(path), setting))
    return True


def _create(path, setting):
    """Create the folder private to its owner; missing parents get the default permissions."""
    try:
        parent = os.path.dirname(path)
        if parent and not os.path.isdir(parent):
            os.makedirs(parent)
        os.mkdir(path, FOLDER_MODE)
        # The umask may have taken more than group and other bits away: the folder is exactly 0700.
        # Through a descriptor of the folder just made, never through a path a link could replace.
        handle = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            os.fchmod(handle, FOLDER_MODE)
        finally:
            os.close(handle)
    except FileExistsError:
        # Made meanwhile by another run: used as it is, like any existing folder (or refused like one).
        _existing(path, setting)
        return False
    except OSError as exc:
        raise ReportFolderError("%s %s cannot be created: %s. Choose a folder you can create, or create it first."
                                % (setting, _shown(path), exc.strerror or exc))
    return True


def prepare(path, setting="dir", check_mode=False):
    """Check (and create when missing) the report folder; ``(absolute path, created)``.

    In check mode nothing is created: a missing folder is checked by its nearest existing parent.
    """
    path = os.path.abspath(os.path.expanduser(path))
    if _existing(path, setting):
        _probe(path, setting)
        return path, False
    if check_mode:
        parent = os.path.dirname(path)
        while parent and not os.path.exists(parent):
            parent = os.path.dirname(parent)
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
            raise ReportFolderError("%s %s cannot be created: %s is not a folder you can write to."
                                    % (setting, _shown(path), _shown(parent)))
        return path, True
    created = _create(path, setting)
    _probe(path, setting)
    return path, created


def _sync_folder(path):
    handle = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def write(folder, name, content, setting="dir"):
    """Write ``content`` (text) as ``folder/name``, 0600, atomically; a link in its place is replaced, not followed."""
    target = os.path.join(folder, check_name(name, setting))
    handle, temporary = tempfile.mkstemp(prefix="." + name + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content.encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except OSError as exc:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise ReportFolderError("%s: cannot write %s: %s" % (setting, _shown(target), exc.strerror or exc))
    _sync_folder(folder)
    return target


def append(folder, name, line, setting="dir"):
    """Add ``line`` to ``folder/name`` (created 0600); a link in its place is replaced by a new log, not followed."""
    if "\n" in line or "\r" in line:
        raise ReportFolderError("%s: a line of %s must be one line" % (setting, _shown(name)))
    target = os.path.join(folder, check_name(name, setting))
    data = (line + "\n").encode("utf-8")
    try:
        handle = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise ReportFolderError("%s: cannot write %s: %s" % (setting, _shown(target), exc.strerror or exc))
        return write(folder, name, line + "\n", setting)
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise ReportFolderError("%s: %s is not a regular file" % (setting, _shown(target)))
        os.write(handle, data)
        os.fsync(handle)
    finally:
        os.close(handle)
    return target


def read(folder, name, setting="dir"):
    """The text of ``folder/name`` when it is a regular file (a link is not followed); None otherwise."""
    target = os.path.join(folder, check_name(name, setting))
    try:
        handle = os.open(target, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ELOOP):
            return None
        raise ReportFolderError("%s: cannot read %s: %s" % (setting, _shown(target), exc.strerror or exc))
    with os.fdopen(handle, "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            return None
        data = stream.read(READ_LIMIT + 1)
    if len(data) > READ_LIMIT:
        return None
    return data.decode("utf-8", errors="replace")
