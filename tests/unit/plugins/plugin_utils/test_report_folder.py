"""The report folder on real folders, files and symbolic links (plugins/plugin_utils/report_folder.py)."""

import os
import stat

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ReportFolderError
from ansible_collections.mbs.connectwise.plugins.plugin_utils import report_folder


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    """The loosest umask: what the folder gets must not depend on the user's."""
    old = os.umask(0)
    yield
    os.umask(old)


def test_a_missing_folder_is_created_private_with_its_parents(tmp_path, open_umask):
    path, created = report_folder.prepare(str(tmp_path / "a" / "b" / "reports"), "billing_report_dir")
    assert created and path == str(tmp_path / "a" / "b" / "reports")
    assert mode(path) == 0o700
    assert os.listdir(path) == []                          # the probe file is gone
    assert report_folder.prepare(path, "billing_report_dir") == (path, False)


def test_an_existing_folder_and_a_link_to_a_private_one_are_never_chmodded(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    ssh = tmp_path / "ssh"
    ssh.mkdir()
    os.chmod(ssh, 0o700)
    (tmp_path / "link").symlink_to(ssh)
    assert report_folder.prepare(str(shared), "billing_report_dir") == (str(shared), False)
    assert report_folder.prepare(str(tmp_path / "link"), "billing_report_dir") == (str(tmp_path / "link"), False)
    assert mode(shared) == 0o755 and mode(ssh) == 0o700


@pytest.mark.parametrize("make, message", [
    (lambda p, t: ((t / "file").write_text("x"), p.symlink_to(t / "file")),
     r"billing_report_dir '.*/reports' is a symbolic link to a file \('.*/file'\), not to a folder"),
    (lambda p, t: p.symlink_to(t / "gone"), r"is a symbolic link to '.*/gone', which does not exist"),
    (lambda p, t: p.write_text("x"), r"billing_report_dir '.*/reports' is a file, not a folder"),
])
def test_what_cannot_hold_reports_is_refused_naming_the_setting(tmp_path, make, message):
    path = tmp_path / "reports"
    make(path, tmp_path)
    for check_mode in (True, False):
        with pytest.raises(ReportFolderError, match=message):
            report_folder.prepare(str(path), "billing_report_dir", check_mode=check_mode)


def test_a_folder_that_cannot_be_created_is_refused_and_check_mode_creates_nothing(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ReportFolderError, match=r"billing_report_dir .*/file/reports. cannot be (created|used): "):
        report_folder.prepare(str(tmp_path / "file" / "reports"), "billing_report_dir")
    path, created = report_folder.prepare(str(tmp_path / "new" / "reports"), "billing_report_dir", check_mode=True)
    assert created and not os.path.exists(tmp_path / "new")


def test_a_folder_on_a_read_only_file_system_is_refused(tmp_path):
    if not os.path.isdir("/proc/self"):
        pytest.skip("no /proc")
    with pytest.raises(ReportFolderError, match=r"billing_report_dir '/proc/self' cannot be written: "):
        report_folder.prepare("/proc/self", "billing_report_dir")


def test_a_report_is_written_private_whole_and_replaces_a_link_in_its_place(tmp_path, open_umask):
    folder, _created = report_folder.prepare(str(tmp_path / "reports"), "billing_report_dir")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    os.chmod(victim, 0o644)
    os.symlink(victim, os.path.join(folder, "billing-2026-10.csv"))
    target = report_folder.write(folder, "billing-2026-10.csv", "row,company\n", "billing_report_dir")
    assert not os.path.islink(target) and open(target).read() == "row,company\n" and mode(target) == 0o600
    assert victim.read_text() == "keep me" and mode(victim) == 0o644
    report_folder.write(folder, "billing-2026-10.csv", "second\n", "billing_report_dir")
    assert open(target).read() == "second\n" and sorted(os.listdir(folder)) == ["billing-2026-10.csv"]


def test_the_run_log_is_appended_private_and_a_link_is_replaced(tmp_path, open_umask):
    folder, _created = report_folder.prepare(str(tmp_path / "reports"), "billing_report_dir")
    log = report_folder.append(folder, "billing-runs.log", "one", "billing_report_dir")
    report_folder.append(folder, "billing-runs.log", "two", "billing_report_dir")
    assert open(log).read() == "one\ntwo\n" and mode(log) == 0o600
    os.unlink(log)
    victim = tmp_path / "victim.log"
    victim.write_text("keep me\n")
    os.symlink(victim, log)
    report_folder.append(folder, "billing-runs.log", "three", "billing_report_dir")
    assert not os.path.islink(log) and open(log).read() == "three\n" and victim.read_text() == "keep me\n"
    with pytest.raises(ReportFolderError, match="must be one line"):
        report_folder.append(folder, "billing-runs.log", "four\nPLAY RECAP", "billing_report_dir")


def test_read_back_takes_regular_files_only(tmp_path):
    folder, _created = report_folder.prepare(str(tmp_path / "reports"), "billing_report_dir")
    report_folder.write(folder, "state.json", "{}", "billing_report_dir")
    (tmp_path / "elsewhere.json").write_text('{"format": 1}')
    os.symlink(tmp_path / "elsewhere.json", os.path.join(folder, "linked.json"))
    assert report_folder.read(folder, "state.json") == "{}"
    assert report_folder.read(folder, "linked.json") is None and report_folder.read(folder, "missing.json") is None


@pytest.mark.parametrize("name", ["../escape.csv", "a/b.csv", "..", "", "bad\nname.csv"])
def test_a_file_name_is_never_a_path(tmp_path, name):
    with pytest.raises(ReportFolderError, match="is not a plain file name"):
        report_folder.write(str(tmp_path), name, "x", "billing_report_dir")
