"""Auto-replies and bounces."""

import pytest

from connectors.mime import parse_message
from tests.connectors.mime.raw import DATA, parse


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "yes"},
        {"Precedence": "auto_reply"},
        {"Precedence": "bulk", "Subject": "Out of Office: New website"},
        {"Subject": "Automatic reply: New website"},
        {"Subject": "Abwesenheitsnotiz: Ihre Anfrage"},
        {"Subject": "Autosvar: Webshop"},
        {"Subject": "Réponse automatique : Rebranding"},
    ],
)
def test_auto_replies_are_recognised(headers):
    mail = parse("I am away until Monday.", headers=headers)

    assert mail.is_auto_reply is True
    assert mail.is_bounce is False


@pytest.mark.parametrize(
    "headers",
    [{}, {"Auto-Submitted": "no"}, {"Precedence": "bulk"}, {"Subject": "Re: the office website"}],
)
def test_ordinary_mail_is_not_an_auto_reply(headers):
    assert parse("We need a website.", headers=headers).is_auto_reply is False


def test_a_delivery_status_report_is_a_bounce():
    mail = parse_message((DATA / "bounce.eml").read_bytes())

    assert mail.is_bounce is True
    assert mail.text == (
        "This is the mail system at host mx.example.net.\nI'm sorry to have to inform you that your message "
        "could not be delivered.\n\n<nobody@example.net>: host mx.example.net said: 550 5.1.1 User unknown"
    )
    assert [(a.filename, a.mime_type) for a in mail.attachments] == [
        ("delivery-status.txt", "message/delivery-status"),
        ("forwarded-message.eml", "message/rfc822"),
    ]
    assert b"Status: 5.1.1" in mail.attachments[0].content
    assert "Hi, here is the proposal." in mail.quoted_text


@pytest.mark.parametrize(
    "headers",
    [
        {"From": "MAILER-DAEMON@mail.example.com"},
        {"From": "Mail Delivery Subsystem <postmaster@example.org>"},
        {"Subject": "Delivery Status Notification (Failure)"},
        {"Subject": "Undelivered Mail Returned to Sender"},
        {"Subject": "Mail delivery failed: returning message to sender"},
    ],
)
def test_bounces_are_recognised_by_sender_or_subject(headers):
    assert parse("Your message could not be delivered.", headers=headers).is_bounce is True


def test_ordinary_mail_is_not_a_bounce():
    assert (
        parse("Please deliver the logo by Friday.", headers={"Subject": "Delivery date"}).is_bounce is False
    )
