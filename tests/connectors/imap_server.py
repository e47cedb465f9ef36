"""A real IMAP server on loopback for the email-in tests: Debian's dovecot with a throw-away config.

`make test` installs it (scripts/system-packages.sh); this fixture installs nothing. Dovecot runs in the
foreground (`dovecot -F -c <config>`) from a temporary folder: plaintext login on 127.0.0.1 with a fixed
test password, no TLS, Maildir storage, its log in a file. Run as root (CI), dovecot refuses to run its
login processes or touch mail as root, so those run as `nobody`, which then owns the mail folder.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "studio"
PASSWORD = "imap-test-password"

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = aios-test-{port}
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""


def _dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next(
        (path for path in ("/usr/sbin/dovecot",) if os.access(path, os.X_OK)), None
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str
    root: Path

    @contextlib.contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        """A signed-in connection, logged out afterwards (IMAP4.close() is the CLOSE command)."""
        conn = imaplib.IMAP4(self.host, self.port, timeout=5)
        try:
            conn.login(self.user, self.password)
            yield conn
        finally:
            conn.logout()

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver a mail into `folder` the way a mail server would (IMAP APPEND)."""
        with self.client() as conn:
            conn.append(f'"{folder}"', None, None, raw)

    def recreate(self, folder: str) -> None:
        """Delete and create `folder` again: it gets a new UIDVALIDITY and starts from UID 1."""
        with self.client() as conn:
            conn.delete(f'"{folder}"')
            kind, data = conn.create(f'"{folder}"')
            assert kind == "OK", data

    def create(self, folder: str) -> None:
        with self.client() as conn:
            kind, data = conn.create(f'"{folder}"')
            assert kind == "OK", data


def _wait_until_serving(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"dovecot exited with {process.returncode}: {log.read_text() if log.exists() else ''}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                if conn.recv(64).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"dovecot did not answer on port {port}: {log.read_text() if log.exists() else ''}")


@pytest.fixture
def imap_server():
    binary = _dovecot_binary()
    if binary is None:
        pytest.fail("dovecot is not installed: run scripts/system-packages.sh (make test does it)")
    # Not pytest's tmp_path: its folders are private to the current user, and dovecot's `nobody`
    # processes must reach the mail folder.
    root = Path(tempfile.mkdtemp(prefix="aios-dovecot-"))
    root.chmod(0o755)
    account = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    group = grp.getgrgid(account.pw_gid).gr_name
    for folder in ("run", "state", "mail", "home"):
        (root / folder).mkdir()
    for folder in ("mail", "home"):
        os.chown(root / folder, account.pw_uid, account.pw_gid)
    port = _free_port()
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            root=root,
            port=port,
            user=account.pw_name,
            group=group,
            uid=account.pw_uid,
            gid=account.pw_gid,
            password=PASSWORD,
        )
    )
    log = root / "dovecot.log"
    # Before its log file is open (a bad config), dovecot reports on stderr: into the same log.
    with log.open("ab") as early_output:
        process = subprocess.Popen(
            [binary, "-F", "-c", str(config)], stdout=early_output, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_serving(process, port, log)
        yield ImapServer(host="127.0.0.1", port=port, user=USER, password=PASSWORD, root=root)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
