"""Reading a rendered invoice the way its recipients do: Debian's poppler (pdftotext, pdftoppm) for the
text and the page image, zbar (zbarimg) for the QR code, factur-x / pypdf for the embedded XML."""

from __future__ import annotations

import subprocess
from pathlib import Path

from lxml import etree

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=60
    )
    return result.stdout.decode()


def first_page_png(pdf: bytes, tmp_path: Path, *, name: str = "page", dpi: int = 150) -> Path:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            str(dpi),
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(path),
            str(tmp_path / name),
        ],
        check=True,
        timeout=60,
    )
    return tmp_path / f"{name}.png"


def qr_codes(png: Path) -> list[str]:
    """The payloads of the QR codes on the image (zbarimg exits 4 when it finds none)."""
    result = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sbinary", str(png)], capture_output=True, timeout=60
    )
    if result.returncode == 4:
        return []
    assert result.returncode == 0, result.stderr
    return [result.stdout.decode("utf-8")]


def xpath(xml: bytes, path: str) -> list[str]:
    tree = etree.fromstring(xml)
    return [node if isinstance(node, str) else node.text for node in tree.xpath(path, namespaces=NS)]
