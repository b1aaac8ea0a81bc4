#!/usr/bin/env python3
"""Make the input PDFs for the PDF signer's tests (see README.md next to this file).

The committed PDFs are what the tests use; CI never runs this. It is here so that a reader can
see exactly how each file was made, and remake them.

Needs:
  * qpdf (11.x; `apt-get install qpdf`) for xref-stream.pdf and encrypted.pdf, and to check
    every output (`qpdf --check`);
  * pyHanko (`python3 -m pip install pyhanko`, with its dependency `cryptography`) for
    signed-by-pyhanko.pdf.

Usage: python3 tests/vectors/pdf/make.py [OUTDIR]     (OUTDIR defaults to this directory)

Everything except signed-by-pyhanko.pdf and signed-by-pyhanko.ca.crt comes out byte for byte
the same on every run. Those two change on every run: the throwaway CA and signer keys are made
fresh in a temporary directory and deleted afterwards (only the CA *certificate* is kept, so
that a test can validate the first signature), and ECDSA signatures and the signing time differ.
"""

import datetime
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
A4 = b"[0 0 595 842]"
PRODUCER = b"(qrid tests/vectors/pdf/make.py)"
FIXED_ID = b"[<7172696474657374766563746f723031> <7172696474657374766563746f723031>]"


# --- a tiny PDF writer: objects in order, classic xref table, offsets computed ---------------


def stream(body, extra=b"", compress=False):
    if compress:
        body = zlib.compress(body, 9)
        extra = b"/Filter /FlateDecode " + extra
    return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(body), extra, body)


def write_body(out, objects):
    """Append `N 0 obj ... endobj` for each (num, bytes); return {num: offset}."""
    offsets = {}
    for num, body in objects:
        offsets[num] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (num, body)
    return offsets


def xref_table(offsets, with_zero):
    """A classic xref section, one subsection per run of consecutive object numbers."""
    entries = dict(offsets)
    nums = sorted(entries)
    out = bytearray(b"xref\n")
    runs = []
    if with_zero:
        runs.append([0])
    for n in nums:
        if runs and runs[-1][-1] + 1 == n:
            runs[-1].append(n)
        else:
            runs.append([n])
    for run in runs:
        out += b"%d %d\n" % (run[0], len(run))
        for n in run:
            if n == 0:
                out += b"0000000000 65535 f\r\n"
            else:
                out += b"%010d 00000 n\r\n" % entries[n]
    return bytes(out)


def classic_pdf(version, objects, root=1, info=None):
    out = bytearray(b"%%PDF-%s\n%%\xe2\xe3\xcf\xd3\n" % version)
    offsets = write_body(out, objects)
    xref_at = len(out)
    out += xref_table(offsets, with_zero=True)
    size = max(offsets) + 1
    trailer = b"/Size %d /Root %d 0 R" % (size, root)
    if info:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n<< %s /ID %s >>\nstartxref\n%d\n%%%%EOF\n" % (trailer, FIXED_ID, xref_at)
    return bytes(out), offsets, xref_at, size


def text_content(lines, x=72, y=770, size=14):
    ops = [b"BT", b"/F1 %d Tf" % size, b"%d TL" % (size + 6), b"%d %d Td" % (x, y)]
    for line in lines:
        ops.append(b"(%s) '" % line)
    ops.append(b"ET")
    return b"\n".join(ops)


HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def info(title):
    return b"<< /Title (%s) /Producer %s /CreationDate (D:20250101000000Z) >>" % (title, PRODUCER)


# --- the vectors ----------------------------------------------------------------------------


def simple_objects():
    content = text_content(
        [
            b"qrid test document",
            b"One A4 page, Helvetica, classic cross-reference table.",
            b"Prove who you are; sign what you mean.",
        ]
    )
    return [
        (1, b"<< /Type /Catalog /Pages 2 0 R >>"),
        (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
        (
            3,
            b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources << /Font << /F1 5 0 R >> >>"
            b" /Contents 4 0 R >>" % A4,
        ),
        (4, stream(content)),
        (5, HELVETICA),
        (6, info(b"simple")),
    ]


def make_simple():
    pdf, _, _, _ = classic_pdf(b"1.4", simple_objects(), info=6)
    return pdf


def make_three_pages():
    def page_content(n):
        return stream(text_content([b"Page %d of 3" % n, b"qrid three-page test document"]), compress=True)

    objects = [
        (1, b"<< /Type /Catalog /Pages 2 0 R >>"),
        # Root of the page tree: MediaBox and Resources are inherited by every page.
        (
            2,
            b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 3 /MediaBox %s"
            b" /Resources << /Font << /F1 8 0 R >> >> >>" % A4,
        ),
        (3, b"<< /Type /Page /Parent 2 0 R /Contents 5 0 R >>"),
        # A /Pages node inside the root /Pages, holding pages 2 and 3.
        (4, b"<< /Type /Pages /Parent 2 0 R /Kids [9 0 R 10 0 R] /Count 2 >>"),
        (5, page_content(1)),
        (6, page_content(2)),
        (7, page_content(3)),
        (8, HELVETICA),
        (9, b"<< /Type /Page /Parent 4 0 R /Contents 6 0 R >>"),
        (10, b"<< /Type /Page /Parent 4 0 R /Contents 7 0 R >>"),
        (11, info(b"three pages")),
    ]
    pdf, _, _, _ = classic_pdf(b"1.4", objects, info=11)
    return pdf


def make_incremental():
    base, _, xref_at, size = classic_pdf(b"1.4", simple_objects(), info=6)
    out = bytearray(base)
    # Revision 2: a sticky-note annotation on the page (new object 7, the page rewritten).
    objects = [
        (
            3,
            b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources << /Font << /F1 5 0 R >> >>"
            b" /Contents 4 0 R /Annots [7 0 R] >>" % A4,
        ),
        (
            7,
            b"<< /Type /Annot /Subtype /Text /Rect [500 780 520 800] /P 3 0 R"
            b" /Contents (Added in an incremental update) /T (make.py) /F 4"
            b" /M (D:20250102000000Z) /Name /Comment >>",
        ),
    ]
    offsets = write_body(out, objects)
    new_xref = len(out)
    out += xref_table(offsets, with_zero=True)
    out += (
        b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R /Prev %d /ID %s >>\nstartxref\n%d\n%%%%EOF\n"
        % (max(size, 8), xref_at, FIXED_ID, new_xref)
    )
    return bytes(out)


def make_annots():
    content = text_content([b"qrid form test document", b"Name:"], size=14)
    appearance = (
        b"/Tx BMC\nq\n1 1 226 22 re W n\nBT\n/Helv 12 Tf 0 g\n2 7 Td\n(Ada Lovelace) Tj\nET\nQ\nEMC"
    )
    objects = [
        (1, b"<< /Type /Catalog /Pages 2 0 R /AcroForm 7 0 R >>"),
        (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
        (
            3,
            b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources << /Font << /F1 5 0 R >> >>"
            b" /Contents 4 0 R /Annots 6 0 R >>" % A4,
        ),
        (4, stream(content)),
        (5, HELVETICA),
        # The page's /Annots is this indirect array: a text field's widget and a link.
        (6, b"[8 0 R 11 0 R]"),
        (
            7,
            b"<< /Fields [8 0 R] /DA (/Helv 0 Tf 0 g) /DR << /Font << /Helv 9 0 R >> >> >>",
        ),
        # A text field merged with its widget annotation.
        (
            8,
            b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /V (Ada Lovelace)"
            b" /DA (/Helv 12 Tf 0 g) /Rect [120 722 348 746] /F 4 /P 3 0 R /MK << >>"
            b" /AP << /N 10 0 R >> >>",
        ),
        (9, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"),
        (
            10,
            stream(
                appearance,
                b"/Type /XObject /Subtype /Form /BBox [0 0 228 24]"
                b" /Resources << /Font << /Helv 9 0 R >> >> ",
            ),
        ),
        (
            11,
            b"<< /Type /Annot /Subtype /Link /Rect [72 60 300 80] /Border [0 0 0]"
            b" /A << /S /URI /URI (https://example.org/) >> >>",
        ),
        (12, info(b"annots")),
    ]
    pdf, _, _, _ = classic_pdf(b"1.4", objects, info=12)
    return pdf


def tiny_png():
    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    idat = zlib.compress(b"\x00\x00\x66\xcc", 9)  # filter 0, one pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def qpdf(*args):
    subprocess.run(["qpdf", *args], check=True)


def make_signed(simple_path, out_path, ca_out_path):
    """simple.pdf signed once by pyHanko (PAdES B-B) with a throwaway P-256 CA and signer."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    not_before = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    not_after = datetime.datetime(2050, 1, 1, tzinfo=datetime.timezone.utc)

    def name(cn):
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "XX"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "qrid test vectors"),
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
            ]
        )

    def ku(ca):
        return x509.KeyUsage(
            digital_signature=not ca,
            content_commitment=not ca,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=ca,
            crl_sign=ca,
            encipher_only=False,
            decipher_only=False,
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("Throwaway PDF test CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(ku(True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("Throwaway pyHanko signer"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(ku(False), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    tmp = tempfile.mkdtemp(prefix="qrid-pdf-vectors-")
    try:
        pem = serialization.Encoding.PEM
        key_path = os.path.join(tmp, "signer.key.pem")
        cert_path = os.path.join(tmp, "signer.pem")
        ca_path = os.path.join(tmp, "ca.pem")
        with open(key_path, "wb") as f:
            f.write(
                key.private_bytes(
                    pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )
        with open(cert_path, "wb") as f:
            f.write(cert.public_bytes(pem))
        with open(ca_path, "wb") as f:
            f.write(ca_cert.public_bytes(pem))

        signer = signers.SimpleSigner.load(key_path, cert_path, ca_chain_files=(ca_path,))
        meta = signers.PdfSignatureMetadata(
            field_name="Signature1",
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason="qrid test vector: first signature",
        )
        with open(simple_path, "rb") as inf:
            w = IncrementalPdfFileWriter(inf)
            with open(out_path, "wb") as outf:
                signers.sign_pdf(w, meta, signer=signer, output=outf)
        shutil.copyfile(ca_path, ca_out_path)
    finally:
        shutil.rmtree(tmp)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    os.makedirs(out, exist_ok=True)

    def path(name):
        return os.path.join(out, name)

    def write(name, data):
        with open(path(name), "wb") as f:
            f.write(data)

    simple = make_simple()
    write("simple.pdf", simple)
    write("three-pages.pdf", make_three_pages())
    write("incremental.pdf", make_incremental())
    write("annots.pdf", make_annots())
    # Cross-reference stream with a PNG predictor, and every non-stream object (catalog and
    # page included) inside object streams. --deterministic-id: the /ID is a hash of the
    # content, so the output is reproducible.
    qpdf("--object-streams=generate", "--deterministic-id", path("simple.pdf"), path("xref-stream.pdf"))
    # Empty user password, owner password "owner", 128-bit AES. --static-id and --static-aes-iv
    # are qpdf's testing options that make the output reproducible (never for real documents).
    qpdf(
        "--static-id",
        "--static-aes-iv",
        "--encrypt",
        "",
        "owner",
        "128",
        "--use-aes=y",
        "--",
        path("simple.pdf"),
        path("encrypted.pdf"),
    )
    make_signed(path("simple.pdf"), path("signed-by-pyhanko.pdf"), path("signed-by-pyhanko.ca.crt"))
    write("truncated.pdf", simple[: len(simple) // 2])
    write("not-a-pdf.pdf", tiny_png())

    for name in (
        "simple.pdf",
        "three-pages.pdf",
        "xref-stream.pdf",
        "incremental.pdf",
        "annots.pdf",
        "encrypted.pdf",
        "signed-by-pyhanko.pdf",
    ):
        r = subprocess.run(["qpdf", "--check", path(name)], capture_output=True, text=True)
        if r.returncode != 0 or "No syntax or stream encoding errors" not in r.stdout:
            sys.exit(f"qpdf --check {name} failed:\n{r.stdout}{r.stderr}")
        print(f"ok   {name} ({os.path.getsize(path(name))} bytes)")
    for name in ("truncated.pdf", "not-a-pdf.pdf"):
        print(f"bad  {name} ({os.path.getsize(path(name))} bytes, broken on purpose)")


if __name__ == "__main__":
    main()
