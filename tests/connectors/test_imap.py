"""IMAP polling against a real dovecot on loopback (tests/connectors/imap_server.py).

Polling imports every mail once, polling again imports nothing new, a new UIDVALIDITY re-reads the folder
without duplicating, and failures end on the mailbox (`last_error`), never raised into the scheduler.
"""

import hashlib
import socket

import pytest

from connectors import imap, services, tasks
from connectors.models import InboundMail, Mailbox
from core.models import Message
from tests.connectors import mails
from tests.connectors.imap_server import imap_server  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db


def inquiry(n: int) -> bytes:
    return mails.mail(message_id=f"<inquiry-{n}@client.example>", subject=f"Inquiry {n}")


def mailbox_for(server, *, folder="INBOX", name="studio", **fields) -> Mailbox:
    values = {
        "host": server.host,
        "port": server.port,
        "use_ssl": False,
        "username": server.user,
        "password": server.password,
        **fields,
    }
    return Mailbox.objects.create(name=name, folder=folder, **values)


def test_polling_imports_every_mail_once_and_polling_again_imports_nothing_new(imap_server):  # noqa: F811
    for n in (1, 2, 3):
        imap_server.append(inquiry(n))
    imap_server.append(mails.no_message_id())
    mailbox = mailbox_for(imap_server)

    first = imap.mailbox_poll(mailbox=mailbox)
    second = imap.mailbox_poll(mailbox=mailbox)

    assert (first.fetched, first.imported, first.duplicates, first.review, first.error) == (4, 3, 0, 1, "")
    assert (second.fetched, second.imported, second.error) == (0, 0, "")
    assert sorted(Message.objects.values_list("subject", flat=True)) == [
        "Inquiry 1",
        "Inquiry 2",
        "Inquiry 3",
    ]
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 4 and mailbox.last_uidvalidity > 0
    assert mailbox.last_polled_at is not None and mailbox.last_error == ""
    sources = sorted(InboundMail.objects.values_list("source", flat=True))
    assert sources == [f"{mailbox.pk}:{mailbox.last_uidvalidity}:{uid}" for uid in (1, 2, 3, 4)]
    assert set(InboundMail.objects.values_list("path", "mailbox")) == {("imap", mailbox.pk)}
    # The mail that cannot be imported waits for review; the cursor did not stop at it.
    assert InboundMail.objects.get(status="review").source.endswith(":4")


def test_only_mail_that_arrived_since_the_last_poll_is_fetched(imap_server):  # noqa: F811
    imap_server.append(inquiry(1))
    mailbox = mailbox_for(imap_server)
    imap.mailbox_poll(mailbox=mailbox)
    imap_server.append(inquiry(2))

    result = imap.mailbox_poll(mailbox=mailbox)

    assert (result.fetched, result.imported) == (1, 1)
    assert Message.objects.count() == 2
    assert InboundMail.objects.count() == 2


def test_polling_leaves_the_mail_unread_on_the_server(imap_server):  # noqa: F811
    imap_server.append(inquiry(1))
    imap.mailbox_poll(mailbox=mailbox_for(imap_server))

    with imap_server.client() as conn:
        conn.select("INBOX", readonly=True)
        _, data = conn.uid("FETCH", "1", "(FLAGS)")
    assert b"\\Seen" not in data[0]


def test_a_new_uidvalidity_reads_the_folder_again_without_duplicating(imap_server):  # noqa: F811
    folder = "Client Work"
    imap_server.create(folder)
    imap_server.append(inquiry(1), folder)
    imap_server.append(inquiry(2), folder)
    mailbox = mailbox_for(imap_server, folder=folder)
    imap.mailbox_poll(mailbox=mailbox)
    mailbox.refresh_from_db()
    old_validity = mailbox.last_uidvalidity

    # The server rebuilt the folder: new UIDVALIDITY, UIDs from 1 again, one mail more than before.
    imap_server.recreate(folder)
    for n in (1, 2, 3):
        imap_server.append(inquiry(n), folder)
    result = imap.mailbox_poll(mailbox=mailbox)

    mailbox.refresh_from_db()
    assert mailbox.last_uidvalidity != old_validity
    assert (result.uidvalidity_reset, result.fetched, result.imported, result.duplicates) == (True, 3, 1, 2)
    assert mailbox.last_uid == 3
    assert Message.objects.count() == 3
    assert InboundMail.objects.filter(status="imported").count() == 3


def test_a_poll_that_died_resumes_without_importing_twice_and_sets_aside_the_mail_it_died_on(
    imap_server,  # noqa: F811
):
    imap_server.append(inquiry(1))
    mailbox = mailbox_for(imap_server)
    imap.mailbox_poll(mailbox=mailbox)
    mailbox.refresh_from_db()
    # What a process killed mid-poll leaves: UID 1 stored but the cursor not saved, and the receipt of
    # UID 2 committed while its import never finished.
    services.mailbox_cursor_set(mailbox=mailbox, uidvalidity=mailbox.last_uidvalidity, last_uid=0)
    imap_server.append(inquiry(2))
    imap_server.append(inquiry(3))
    raw = inquiry(2)
    stale = InboundMail.objects.create(
        path="imap",
        mailbox=mailbox,
        source=f"{mailbox.pk}:{mailbox.last_uidvalidity}:2",
        raw=raw,
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
    )

    result = imap.mailbox_poll(mailbox=mailbox)

    assert (result.fetched, result.imported, result.error) == (1, 1, "")
    assert sorted(Message.objects.values_list("subject", flat=True)) == ["Inquiry 1", "Inquiry 3"]
    stale.refresh_from_db()
    assert (stale.status, stale.reason) == ("review", services.ABANDONED_REASON)
    assert InboundMail.objects.count() == 3
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 3


def test_a_poll_stops_inside_the_workers_timeout_and_the_next_one_goes_on(imap_server, settings):  # noqa: F811
    imap_server.append(inquiry(1))
    mailbox = mailbox_for(imap_server)
    timeout = settings.Q_CLUSTER["timeout"]
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 0}

    first = imap.mailbox_poll(mailbox=mailbox)
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": timeout}
    second = imap.mailbox_poll(mailbox=mailbox)

    assert (first.fetched, first.more) == (0, True)
    assert str(first).endswith("0 to review, more next time")
    assert (second.fetched, second.imported, second.more) == (1, 1, False)


def test_a_wrong_password_is_recorded_on_the_mailbox_not_raised(imap_server):  # noqa: F811
    imap_server.append(inquiry(1))
    mailbox = mailbox_for(imap_server, password="wrong")

    result = imap.mailbox_poll(mailbox=mailbox)

    mailbox.refresh_from_db()
    assert result.error.startswith("LOGIN failed")
    assert mailbox.last_error == result.error
    assert (mailbox.last_uid, mailbox.last_uidvalidity) == (0, None)
    assert InboundMail.objects.count() == 0


def test_an_unknown_folder_is_recorded_on_the_mailbox(imap_server):  # noqa: F811
    mailbox = mailbox_for(imap_server, folder="Nowhere")

    result = imap.mailbox_poll(mailbox=mailbox)

    assert result.error.startswith("SELECT Nowhere failed: NO")
    mailbox.refresh_from_db()
    assert mailbox.last_error == result.error


def test_a_server_that_does_not_answer_is_recorded_on_the_mailbox():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    mailbox = Mailbox.objects.create(
        name="gone", host="127.0.0.1", port=closed_port, use_ssl=False, username="u", password="p"
    )

    result = imap.mailbox_poll(mailbox=mailbox)

    mailbox.refresh_from_db()
    assert result.error.startswith("ConnectionRefusedError")
    assert mailbox.last_error == result.error and mailbox.last_polled_at is not None


def test_the_scheduled_job_polls_enabled_mailboxes_and_the_one_from_the_environment(
    imap_server,  # noqa: F811
    settings,
):
    imap_server.create("Archive")
    imap_server.append(inquiry(1))
    imap_server.append(inquiry(2), "Archive")
    settings.AIOS_IMAP_HOST = imap_server.host
    settings.AIOS_IMAP_PORT = imap_server.port
    settings.AIOS_IMAP_SSL = False
    settings.AIOS_IMAP_USER = imap_server.user
    settings.AIOS_IMAP_PASSWORD = imap_server.password
    settings.AIOS_IMAP_FOLDER = "INBOX"
    mailbox_for(imap_server, name="archive", folder="Archive", enabled=False)

    report = tasks.imap_poll_all()

    env = Mailbox.objects.get(name="env")
    assert (env.host, env.port, env.username, env.folder, env.use_ssl) == (
        imap_server.host,
        imap_server.port,
        imap_server.user,
        "INBOX",
        False,
    )
    assert report == ["env: 1 fetched, 1 imported, 0 duplicates, 0 to review"]
    assert list(Message.objects.values_list("subject", flat=True)) == ["Inquiry 1"]

    # Pointed at another folder, the env mailbox starts its cursor over there.
    settings.AIOS_IMAP_FOLDER = "Archive"
    assert tasks.imap_poll_all() == ["env: 1 fetched, 1 imported, 0 duplicates, 0 to review"]
    assert Mailbox.objects.filter(name="env").count() == 1
    assert Message.objects.count() == 2
