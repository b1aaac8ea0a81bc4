#!/usr/bin/env python3
"""Writes a valid PDF 1.4 of PAGES A4 pages, each showing one uncompressed 8-bit gray image of
noise (as incompressible as a scan's JPEG), WIDTHxHEIGHT bytes each, with a classic
cross-reference table: the same layout as crates/pdf/benches/pades.rs makes in memory. The
defaults, 20 pages of 1024x512, are 10 MiB of image data.

Usage: python3 bench/make_pdf.py OUT.pdf [PAGES] [WIDTH] [HEIGHT]   (used by bench/sign_pdf.sh)
"""
import os
import sys


def make(pages: int, width: int, height: int) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}

    def obj(num: int, body: bytes) -> None:
        offsets[num] = len(out)
        out.extend(b"%d 0 obj\n" % num)
        out.extend(body)
        out.extend(b"\nendobj\n")

    page_num = lambda i: 3 + 3 * i  # noqa: E731 page, then its content, then its image
    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = b" ".join(b"%d 0 R" % page_num(i) for i in range(pages))
    obj(2, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages))
    for i in range(pages):
        page, content, image = page_num(i), page_num(i) + 1, page_num(i) + 2
        obj(page, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                  b"/Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>" % (image, content))
        ops = b"q 595 0 0 842 0 0 cm /Im0 Do Q"
        obj(content, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(ops), ops))
        noise = os.urandom(width * height)
        obj(image, b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                   b"/BitsPerComponent 8 /Length %d >>\nstream\n%s\nendstream" % (width, height, len(noise), noise))
    size = page_num(pages)
    assert sorted(offsets) == list(range(1, size))
    xref = len(out)
    out.extend(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    for num in range(1, size):
        out.extend(b"%010d 00000 n \n" % offsets[num])
    out.extend(b"trailer\n<< /Size %d /Root 1 0 R /ID [<71726964626967> <71726964626967>] >>\n"
               b"startxref\n%d\n%%%%EOF\n" % (size, xref))
    return bytes(out)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    args = [int(a) for a in sys.argv[2:5]]
    pages, width, height = (args + [20, 1024, 512][len(args):])[:3]
    with open(sys.argv[1], "wb") as f:
        f.write(make(pages, width, height))
