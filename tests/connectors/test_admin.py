"""The email-in back office: mailboxes with a write-only password and "Poll now"; inbound mail read-only
with the review queue, the raw download (staff only) and "Retry import"."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from connectors import services
from connectors.models import InboundMail, Mailbox
from core.models import Message
from tests.connectors import mails
from tests.connectors.imap_server import imap_server  # noqa: F401 - a fixture
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SECRET_PASSWORD = "s3cret-imap-passw0rd"


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def mailbox_form(**changes):
    data = {
        "name": "studio",
        "host": "imap.example.com",
        "port": "993",
        "use_ssl": "on",
        "username": "mara@northwind.studio",
        "password": SECRET_PASSWORD,
        "folder": "INBOX",
        "enabled": "on",
    }
    data.update(changes)
    return data


def test_the_mailbox_password_is_stored_but_never_shown_back(operator_client):
    added = operator_client.post("/admin/connectors/mailbox/add/", mailbox_form())
    assert added.status_code == 302, added.context["adminform"].form.errors if added.context else added
    mailbox = Mailbox.objects.get()
    assert mailbox.password == SECRET_PASSWORD

    page = operator_client.get(f"/admin/connectors/mailbox/{mailbox.pk}/change/")
    history = operator_client.get(f"/admin/connectors/mailbox/{mailbox.pk}/history/")
    listing = operator_client.get("/admin/connectors/mailbox/")

    for response in (page, history, listing):
        assert response.status_code == 200
        assert SECRET_PASSWORD.encode() not in response.content
    assert not hasattr(mailbox.history.model, "password")


def test_saving_a_mailbox_with_an_empty_password_keeps_the_stored_one(operator_client):
    operator_client.post("/admin/connectors/mailbox/add/", mailbox_form())
    mailbox = Mailbox.objects.get()

    changed = operator_client.post(
        f"/admin/connectors/mailbox/{mailbox.pk}/change/", mailbox_form(password="", folder="Clients")
    )

    assert changed.status_code == 302
    mailbox.refresh_from_db()
    assert (mailbox.folder, mailbox.password) == ("Clients", SECRET_PASSWORD)
    assert mailbox.history.count() == 2


def test_a_new_mailbox_needs_a_password(operator_client):
    response = operator_client.post("/admin/connectors/mailbox/add/", mailbox_form(password=""))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["password"] == [
        "A new mailbox needs the account's password."
    ]
    assert Mailbox.objects.count() == 0


def test_poll_now_imports_and_reports(operator_client, imap_server):  # noqa: F811
    imap_server.append(mails.mail())
    mailbox = Mailbox.objects.create(
        name="studio",
        host=imap_server.host,
        port=imap_server.port,
        use_ssl=False,
        username=imap_server.user,
        password=imap_server.password,
    )

    response = operator_client.post(
        "/admin/connectors/mailbox/",
        {"action": "poll_now", "_selected_action": [mailbox.pk]},
        follow=True,
    )

    assert messages_of(response) == ["studio: 1 fetched, 1 imported, 0 duplicates, 0 to review"]
    assert Message.objects.count() == 1


def test_the_review_queue_shows_why_and_offers_the_raw_bytes_to_staff_only(operator_client):
    raw = mails.no_message_id()
    inbound = services.mail_ingest(raw=raw, path="file", source="inbox/bad.eml")
    services.mail_ingest(raw=mails.mail(), path="file")

    queue = operator_client.get("/admin/connectors/inboundmail/?status__exact=review")
    detail = operator_client.get(f"/admin/connectors/inboundmail/{inbound.pk}/change/")
    download = operator_client.get(f"/admin/connectors/inboundmail/{inbound.pk}/raw/")

    assert queue.status_code == 200
    assert list(queue.context["cl"].result_list) == [inbound]
    assert b"The mail has no Message-ID header" in queue.content
    assert detail.status_code == 200
    assert f"/admin/connectors/inboundmail/{inbound.pk}/raw/".encode() in detail.content
    assert download.status_code == 200
    assert download.content == raw
    assert download["Content-Type"] == "message/rfc822"
    assert download["Content-Disposition"] == f'attachment; filename="inbound-{inbound.pk}.eml"'

    client = Client()
    anonymous = client.get(f"/admin/connectors/inboundmail/{inbound.pk}/raw/")
    assert anonymous.status_code == 302 and "login" in anonymous["Location"] and raw not in anonymous.content
    client.force_login(UserFactory())
    not_staff = client.get(f"/admin/connectors/inboundmail/{inbound.pk}/raw/")
    assert not_staff.status_code == 302 and not_staff["Location"].startswith("/admin/login/")
    assert raw not in not_staff.content


def test_inbound_mail_cannot_be_added_changed_or_deleted_in_the_admin(operator_client):
    inbound = services.mail_ingest(raw=mails.mail(), path="file")

    assert operator_client.get("/admin/connectors/inboundmail/add/").status_code == 403
    assert (
        operator_client.post(
            f"/admin/connectors/inboundmail/{inbound.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert InboundMail.objects.filter(pk=inbound.pk).exists()


def test_retry_import_runs_the_importer_again_on_the_stored_bytes(operator_client, settings):
    settings.AIOS_ATTACHMENT_MAX_BYTES = 1024
    inbound = services.mail_ingest(
        raw=mails.mail(attachments=(("brief.pdf", "application/pdf", b"%" * 4096),)), path="file"
    )
    imported = services.mail_ingest(raw=mails.mail(message_id="<fine@client.example>"), path="file")
    assert inbound.status == "review"
    settings.AIOS_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024

    response = operator_client.post(
        "/admin/connectors/inboundmail/",
        {"action": "retry_import", "_selected_action": [inbound.pk, imported.pk]},
        follow=True,
    )

    inbound.refresh_from_db()
    assert inbound.status == "imported"
    assert messages_of(response) == [
        f"#{inbound.pk}: imported.",
        f"#{imported.pk}: Only mail in review can be imported again; this one is Imported.",
    ]
