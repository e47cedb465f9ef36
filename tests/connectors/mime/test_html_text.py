"""HTML bodies as readable text, blockquotes as quoted history."""

from connectors.mime import html_to_text
from tests.connectors.mime.raw import parse


def test_html_only_mail_becomes_readable_text():
    html = """<html><head><title>Hi</title><style>p { color: red }</style>
    <script>alert("x")</script></head><body>
    <p>Hello&nbsp;Mara,</p><p>We need:<br>a <b>logo</b> and
       a website.</p><ul><li>home</li><li>about &amp; team</li></ul>
    <div>Best,<br/>Chlo&eacute;</div></body></html>"""

    mail = parse(html, content_type="text/html")

    assert mail.text == "Hello Mara,\n\nWe need:\na logo and a website.\n\nhome\nabout & team\n\nBest,\nChloé"
    assert mail.html == html
    assert mail.new_text == mail.text


def test_html_blockquotes_become_quoted_history():
    html = (
        "<div>Sounds good, go ahead!</div><div class=gmail_quote><div>On Mon, 2 Nov 2026 at 09:14, Mara "
        "&lt;mara@northwind.studio&gt; wrote:<br></div><blockquote><p>Here is the proposal.</p>"
        "<p>7 pages, 4,550 EUR.</p></blockquote></div>"
    )

    assert html_to_text(html) == (
        "Sounds good, go ahead!\nOn Mon, 2 Nov 2026 at 09:14, Mara <mara@northwind.studio> wrote:\n\n"
        "> Here is the proposal.\n>\n> 7 pages, 4,550 EUR."
    )
    mail = parse(html, content_type="text/html")
    assert mail.new_text == "Sounds good, go ahead!"
    assert "7 pages, 4,550 EUR" in mail.quoted_text
