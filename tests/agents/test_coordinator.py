"""The coordinator sends to review what no rule should answer or file unseen: calendar invitations, mail that
is only images, and any intent the intake is unsure of — "other" included. Sure "other" (a newsletter)
is still filed, and an automatic reply or bounce is filed whatever it carries."""

from __future__ import annotations

import pytest

from agents.coordinator import REVIEW_BELOW, route_for
from agents.intake.reader import MailRead


def read(**flags) -> MailRead:
    return MailRead(
        message_pk=1,
        conversation_id=1,
        client_id=None,
        message_id="<m@example.com>",
        references="",
        received_at="2026-11-10T09:00:00+00:00",
        from_email="ana@client.example",
        from_name="Ana",
        subject="Hello",
        date=None,
        new_text="Hello",
        quoted_text="",
        is_auto_reply=flags.pop("is_auto_reply", False),
        is_bounce=False,
        services=[],
        **flags,
    )


def intake(intent: str, confidence: float) -> dict:
    return {"intent": intent, "evidence": {"intent": {"confidence": confidence}}, "services": ["website"]}


@pytest.mark.parametrize("intent", ["new_inquiry", "scheduling", "other"])
def test_a_calendar_invitation_goes_to_review_whatever_its_intent(intent):
    route = route_for(read=read(is_calendar=True), intake=intake(intent, 0.95))

    assert route.route == "review"
    assert "calendar invitation" in route.reasons[-1]


def test_mail_that_is_only_images_goes_to_review():
    route = route_for(read=read(is_image_only=True), intake=intake("other", 0.4))

    assert route.route == "review"
    assert "Only images" in route.reasons[-1]


def test_an_unsure_other_goes_to_review_and_a_sure_other_is_filed():
    unsure = route_for(read=read(), intake=intake("other", REVIEW_BELOW - 0.1))
    sure = route_for(read=read(), intake=intake("other", 0.99))

    assert unsure.route == "review" and f"Below {REVIEW_BELOW:.0%}" in unsure.reasons[-1]
    assert sure.route == "filed"


def test_an_automatic_reply_is_filed_even_with_an_invitation():
    route = route_for(read=read(is_auto_reply=True, is_calendar=True), intake=intake("other", 0.2))

    assert route.route == "filed"
