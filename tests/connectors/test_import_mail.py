"""`manage.py import_mail PATH`: a .eml file, a folder of them, an mbox, a Maildir.

Running it twice imports nothing new."""

import mailbox
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from connectors.models import InboundMail
from core.models import Message
from tests.connectors import mails

pytestmark = pytest.mark.django_db


def three_mails() -> list[bytes]:
    return [
        mails.mail(message_id="<one@client.example>", subject="One"),
        mails.mail(message_id="<two@client.example>", subject="Two"),
        mails.no_message_id(),
    ]


def import_mail(path) -> str:
    out = StringIO()
    call_command("import_mail", str(path), "--no-progress", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_one_eml_file(tmp_path):
    file = tmp_path / "inquiry.eml"
    file.write_bytes(mails.mail())

    output = import_mail(file)

    assert output.strip().endswith(f"1 mails from file {file}: 1 imported, 0 duplicates, 0 review.")
    inbound = InboundMail.objects.get()
    assert (inbound.path, inbound.source, inbound.status) == ("file", str(file), "imported")


def test_a_folder_of_eml_files_recursively_then_again_imports_nothing_new(tmp_path):
    one, two, bad = three_mails()
    (tmp_path / "2026" / "11").mkdir(parents=True)
    (tmp_path / "one.eml").write_bytes(one)
    (tmp_path / "2026" / "11" / "two.eml").write_bytes(two)
    (tmp_path / "2026" / "bad.eml").write_bytes(bad)
    (tmp_path / "notes.txt").write_text("not a mail")

    first = import_mail(tmp_path)
    second = import_mail(tmp_path)

    assert first.strip().endswith(f"3 mails from folder {tmp_path}: 2 imported, 0 duplicates, 1 review.")
    review = InboundMail.objects.get(status="review")
    assert f"review #{review.pk} {tmp_path / '2026' / 'bad.eml'}: The mail has no Message-ID header" in first
    assert second.strip().endswith(f"3 mails from folder {tmp_path}: 0 imported, 2 duplicates, 1 review.")
    assert Message.objects.count() == 2
    assert InboundMail.objects.filter(status="review").count() == 1


def test_an_mbox_then_again_imports_nothing_new(tmp_path):
    path = tmp_path / "archive.mbox"
    box = mailbox.mbox(path)
    for raw in three_mails():
        box.add(raw)
    box.flush()
    box.close()

    first = import_mail(path)
    second = import_mail(path)

    assert first.strip().endswith(f"3 mails from mbox {path}: 2 imported, 0 duplicates, 1 review.")
    assert second.strip().endswith(f"3 mails from mbox {path}: 0 imported, 2 duplicates, 1 review.")
    assert sorted(Message.objects.values_list("subject", flat=True)) == ["One", "Two"]
    assert Message.objects.get(subject="One").body_text.startswith("Hello, we need a new website")
    assert sorted(InboundMail.objects.filter(status="imported").values_list("source", flat=True)) == [
        f"{path}#0",
        f"{path}#1",
    ]


def test_a_maildir_then_again_imports_nothing_new(tmp_path):
    path = tmp_path / "Maildir"
    box = mailbox.Maildir(path, create=True)
    for raw in three_mails():
        box.add(raw)
    box.close()

    first = import_mail(path)
    second = import_mail(path)

    assert first.strip().endswith(f"3 mails from Maildir {path}: 2 imported, 0 duplicates, 1 review.")
    assert second.strip().endswith(f"3 mails from Maildir {path}: 0 imported, 2 duplicates, 1 review.")
    assert Message.objects.count() == 2


def test_a_path_that_does_not_exist_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        import_mail(tmp_path / "missing.mbox")
    assert InboundMail.objects.count() == 0


def test_the_progress_bar_is_drawn_on_stderr(tmp_path, capsys):
    (tmp_path / "one.eml").write_bytes(mails.mail())

    call_command("import_mail", str(tmp_path), stdout=StringIO())

    assert "Importing folder: 100%" in capsys.readouterr().err
    assert InboundMail.objects.count() == 1
