"""Polling an IMAP folder (stdlib `imaplib`): every mail not read before goes through `mail_ingest`.

```
connect (IMAP4 / IMAP4_SSL, socket timeout) → LOGIN → SELECT folder (read-only) → UIDVALIDITY
  changed since last time ⇒ start over from UID 1 (the UIDs of before mean nothing now; Message-IDs
  dedupe what was already imported)
UID SEARCH UID <last+1>:* → for each UID, in order: UID FETCH (BODY.PEEK[]) → mail_ingest
  → cursor saved after each mail, so a crash resumes after the last one stored (a UID whose receipt
    exists is not imported again; one whose import never finished goes to review)
errors ⇒ mailbox.last_error (never raised into the scheduler)
```

BODY.PEEK and a read-only SELECT leave the server's \\Seen flags as they were: the operator's own mail
client still shows the mail as new.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from connectors import services
from connectors.models import InboundMail, Mailbox

logger = logging.getLogger(__name__)


@dataclass
class PollResult:
    mailbox: str
    fetched: int = 0
    imported: int = 0
    duplicates: int = 0
    review: int = 0
    uidvalidity_reset: bool = False
    skipped: bool = False
    more: bool = False  # stopped for time; the next poll goes on
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def __str__(self) -> str:
        if self.skipped:
            return f"{self.mailbox}: skipped (another poll of it is running)"
        if self.error:
            return f"{self.mailbox}: {self.error}"
        reset = ", UIDVALIDITY changed: read again from the start" if self.uidvalidity_reset else ""
        more = ", more next time" if self.more else ""
        return (
            f"{self.mailbox}: {self.fetched} fetched, {self.imported} imported, "
            f"{self.duplicates} duplicates, {self.review} to review{reset}{more}"
        )


class _PollError(Exception):
    pass


def _quoted(folder: str) -> str:
    # imaplib sends arguments as they are; a folder name with spaces or quotes must be a quoted string.
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(response: tuple[str, list], what: str) -> list:
    kind, data = response
    if kind != "OK":
        detail = b" ".join(part for part in data if isinstance(part, bytes)).decode(errors="replace")
        raise _PollError(f"{what} failed: {kind} {detail}".strip())
    return data


def _connect(mailbox: Mailbox) -> imaplib.IMAP4:
    timeout = settings.AIOS_IMAP_TIMEOUT_SECONDS
    if mailbox.use_ssl:
        return imaplib.IMAP4_SSL(mailbox.host, mailbox.port, timeout=timeout)
    return imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)


def _uidvalidity(conn: imaplib.IMAP4) -> int:
    _, values = conn.response("UIDVALIDITY")
    try:
        return int(values[0])
    except (TypeError, ValueError, IndexError):
        raise _PollError("The server did not report the folder's UIDVALIDITY.") from None


def _uids_after(conn: imaplib.IMAP4, last_uid: int) -> list[int]:
    data = _check(conn.uid("SEARCH", "UID", f"{last_uid + 1}:*"), "UID SEARCH")
    uids = sorted({int(value) for value in b" ".join(data or [b""]).split() if value.isdigit()})
    # `N:*` always matches the newest message, even when its UID is below N.
    return [uid for uid in uids if uid > last_uid]


_UID_IN_FETCH = re.compile(rb"UID (\d+)")


def _fetch(conn: imaplib.IMAP4, uid: int) -> bytes | None:
    """The raw bytes of one mail, or None when it was expunged meanwhile."""
    data = _check(conn.uid("FETCH", str(uid), "(UID BODY.PEEK[])"), "UID FETCH")
    for part in data:
        if isinstance(part, tuple) and len(part) == 2:
            match = _UID_IN_FETCH.search(part[0])
            if match and int(match.group(1)) == uid:
                return part[1]
    return None


def _poll(conn: imaplib.IMAP4, mailbox: Mailbox, result: PollResult) -> None:
    try:
        conn.login(mailbox.username, mailbox.password)
    except imaplib.IMAP4.error as exc:
        raise _PollError(f"LOGIN failed: {exc}") from None
    _check(conn.select(_quoted(mailbox.folder), readonly=True), f"SELECT {mailbox.folder}")
    uidvalidity = _uidvalidity(conn)
    if mailbox.last_uidvalidity != uidvalidity:
        result.uidvalidity_reset = mailbox.last_uidvalidity is not None
        services.mailbox_cursor_set(mailbox=mailbox, uidvalidity=uidvalidity, last_uid=0)
    # A poll stops well inside the worker's timeout and the next one goes on: a killed poll would leave
    # its current mail looking like one the importer died on.
    deadline = time.monotonic() + settings.Q_CLUSTER["timeout"] / 2
    # One mail per FETCH: a mail may be tens of megabytes, so only one is held in memory at a time.
    for uid in _uids_after(conn, mailbox.last_uid):
        if time.monotonic() > deadline:
            result.more = True
            break
        source = f"{mailbox.pk}:{uidvalidity}:{uid}"
        received_before = services.inbound_resume(source=source) is not None
        raw = None if received_before else _fetch(conn, uid)
        if raw is not None:
            inbound = services.mail_ingest(
                raw=raw, path=InboundMail.Path.IMAP, source=source, mailbox=mailbox
            )
            result.fetched += 1
            if inbound.status == InboundMail.Status.IMPORTED:
                result.imported += 1
            elif inbound.status == InboundMail.Status.DUPLICATE:
                result.duplicates += 1
            else:
                result.review += 1
        services.mailbox_cursor_set(mailbox=mailbox, uidvalidity=uidvalidity, last_uid=uid)


def _lock(mailbox: Mailbox) -> bool:
    # Two polls of one mailbox at once (a slow poll overrunning its minute) would fetch everything twice.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext('aios.mailbox_poll'), %s)", [mailbox.pk])
        return bool(cursor.fetchone()[0])


def _unlock(mailbox: Mailbox) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(hashtext('aios.mailbox_poll'), %s)", [mailbox.pk])


def mailbox_poll(*, mailbox: Mailbox) -> PollResult:
    """Import the mail that arrived in `mailbox` since the last poll. Never raises: a failure is recorded on
    the mailbox (`last_error`) and in the result, and the next poll tries again from the same place."""
    result = PollResult(mailbox=mailbox.name)
    if not _lock(mailbox):
        result.skipped = True
        return result
    conn = None
    try:
        mailbox.refresh_from_db()
        conn = _connect(mailbox)
        _poll(conn, mailbox, result)
    except _PollError as exc:
        result.error = str(exc)
    except (imaplib.IMAP4.error, OSError) as exc:
        # OSError covers refused connections, DNS failures, timeouts and TLS errors.
        result.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - a scheduled job reports its failure, it does not crash the cluster
        logger.exception("polling mailbox %s failed", mailbox.name)
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        if conn is not None:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                conn.logout()
        try:
            services.mailbox_poll_finish(mailbox=mailbox, error=result.error)
            _unlock(mailbox)
        except Exception:  # noqa: BLE001 - the database is gone; the session (and its lock) ends with it
            logger.exception("could not record the poll of mailbox %s", mailbox.name)
    if result.error:
        logger.warning("mailbox %s: %s", mailbox.name, result.error)
    return result


def imap_poll_all() -> list[PollResult]:
    """Poll every enabled mailbox (the "env" one first brought up to date from the settings)."""
    services.mailbox_env_sync()
    return [
        mailbox_poll(mailbox=mailbox) for mailbox in Mailbox.objects.filter(enabled=True).order_by("name")
    ]
