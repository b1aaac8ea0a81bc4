#!/usr/bin/env python3
"""Interoperability: check the PDF signatures qrid makes with pyHanko, an independent validator.

Every signature field that has a value is validated with pyHanko's
`pyhanko.sign.validation.validate_pdf_signature` (a `/DocTimeStamp` with
`validate_pdf_timestamp`), against a `pyhanko_certvalidator.ValidationContext` built from the
CA certificate(s) given, the CRL(s) given, and no network access (`allow_fetching=False`).

It prints one JSON object on stdout:

    {"signatures": [{"field": NAME, "intact": bool, "valid": bool, "trusted": bool,
                     "coverage": "ENTIRE_FILE" | "ENTIRE_REVISION" | ...,
                     "modification_level": "NONE" | "LTA_UPDATES" | "FORM_FILLING" | ... | null,
                     "docmdp_ok": bool | null, "pades_level": "B-B" | "B-T" | "B-LT" | "B-LTA" | null,
                     "signer_subject": str, "summary": str, "bottom_line": bool, ...}],
     "all_valid": bool}

(each signature also carries a few more keys: "type", "subfilter", "signed_revision",
"revoked", "trust_problem", "timestamp", "pades_notes", "trailing_unsigned_bytes",
"pyhanko_bottom_line", "error").

"bottom_line" is ours, not only pyHanko's: pyHanko's own judgment (intact, valid, trusted, a
valid timestamp if there is one, seed values, DocMDP) AND a coverage of ENTIRE_FILE, or
ENTIRE_REVISION with pyHanko's difference analysis saying the later revisions hold only allowed
modifications (docmdp_ok is true; e.g. a further signature, or DSS / document timestamps).

"pades_level": pyHanko 0.38 has no PAdES baseline-level detector (its `ades` module runs the
ETSI EN 319 102-1 validation processes, it does not classify), so the level is derived here:
B-B when the SubFilter is /ETSI.CAdES.detached, the signature is intact and valid, and the
signed attributes have content-type id-data, message-digest and signing-certificate-v2 and no
signing-time (EN 319 142-1 forbids it in PAdES; the time goes in /M); B-T when there is also a
valid, trusted signature timestamp (or a later valid document timestamp); B-LT when there is
also a /DSS with certificates and CRLs or OCSP responses; B-LTA when a valid document
timestamp was added after the /DSS. Anything that stops a level is listed in "pades_notes".

Exit status: 0 when there is at least one signature and every bottom_line is true; 1
otherwise; 2 on a usage or input error (unreadable CA/CRL, not a PDF, a PDF pyHanko cannot
parse), with {"error": "..."} on stdout.

Usage:

    python3 tests/interop/pades_validate.py SIGNED.pdf --ca CA.pem [--ca CA2.pem ...] \
        [--crl CRL.der ...] [--revocation soft-fail|hard-fail|require|none] \
        [--key-usage non_repudiation,digital_signature] [--password PW] [--details]

--ca and --crl take PEM or DER and may be given more than once (a PEM file may hold several).
--revocation defaults to soft-fail without --crl and hard-fail with one (hard-fail or require
without --crl is a usage error: pyhanko-certvalidator refuses it). Note that in
pyhanko-certvalidator "hard-fail" checks a certificate only if it declares where its
revocation information is (CRL distribution points / OCSP): a signer certificate without a
CRL distribution point is TRUSTED in hard-fail mode even if the CRL given lists it as revoked.
"require" checks every certificate in the path, so use it to test revocation of such a
certificate. With soft-fail and no CRL, a signature is TRUSTED without any revocation check.
--key-usage: the key usages the signer certificate must have at least one of; the default is
pyHanko's default for PDF signatures (non_repudiation only).
--details: pyHanko's human-readable report of each signature on stderr.

Needs: python3 -m pip install pyhanko   (tested with pyHanko 0.38, pyhanko-certvalidator 0.33)
"""

import argparse
import json
import logging
import sys


class UsageError(Exception):
    pass


def fail_usage(message):
    print(json.dumps({"error": message}))
    sys.exit(2)


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        fail_usage(f"usage: {message}")


def read_der_objects(path, what):
    """The DER bodies in a PEM (possibly several blocks) or DER file."""
    from asn1crypto import pem

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise UsageError(f"cannot read {what} {path}: {e}")
    if pem.detect(data):
        try:
            return [der for _, _, der in pem.unarmor(data, multiple=True)]
        except ValueError as e:
            raise UsageError(f"{what} {path}: bad PEM: {e}")
    return [data]


def load_certs(paths):
    from asn1crypto import x509

    certs = []
    for path in paths:
        for der in read_der_objects(path, "CA certificate"):
            try:
                cert = x509.Certificate.load(der)
                cert.native  # parse it all now
            except Exception as e:
                raise UsageError(f"CA certificate {path}: not an X.509 certificate: {e}")
            certs.append(cert)
    return certs


def load_crls(paths):
    from asn1crypto import crl

    crls = []
    for path in paths:
        for der in read_der_objects(path, "CRL"):
            try:
                c = crl.CertificateList.load(der)
                c.native
            except Exception as e:
                raise UsageError(f"CRL {path}: not an X.509 CRL: {e}")
            crls.append(c)
    return crls


def enum_name(value):
    return None if value is None else value.name


def attr_types(attrs):
    if attrs is None or not attrs:
        return []
    return [a["type"].native for a in attrs]


def ts_ok(ts_status):
    return (
        ts_status is not None
        and ts_status.intact
        and ts_status.valid
        and ts_status.trusted
    )


def pades_level(emb, status, reader, doc_ts_results):
    """Derive the PAdES baseline level (see the module docstring). Returns (level, notes)."""
    notes = []
    subfilter = emb.sig_object.get("/SubFilter")
    if subfilter != "/ETSI.CAdES.detached":
        return None, [f"SubFilter is {subfilter}, not /ETSI.CAdES.detached"]
    if not (status.intact and status.valid):
        return None, ["signature not intact and valid"]
    si = emb.signer_info
    signed = attr_types(si["signed_attrs"])
    if "content_type" not in signed:
        notes.append("no content-type signed attribute")
    else:
        ct = [a for a in si["signed_attrs"] if a["type"].native == "content_type"]
        if ct[0]["values"][0].native != "data":
            notes.append("content-type is not id-data")
    if "message_digest" not in signed:
        notes.append("no message-digest signed attribute")
    if "signing_certificate_v2" not in signed:
        if "signing_certificate" in signed:
            notes.append("signing-certificate (v1) instead of signing-certificate-v2")
        else:
            notes.append("no signing-certificate-v2 signed attribute")
    if "signing_time" in signed:
        notes.append("signing-time signed attribute present (PAdES uses /M instead)")
    if notes:
        return None, notes
    level = "B-B"

    sig_ts = getattr(status, "timestamp_validity", None)
    later_doc_ts = [
        (ts_emb, ts_status)
        for ts_emb, ts_status in doc_ts_results
        if ts_emb.signed_revision > emb.signed_revision and ts_ok(ts_status)
    ]
    if ts_ok(sig_ts):
        pass
    elif sig_ts is not None:
        notes.append("signature timestamp present but not intact, valid and trusted")
        return level, notes
    elif not later_doc_ts:
        return level, notes
    level = "B-T"

    # B-LT: validation data in a /DSS added at or after the signature's revision.
    dss_revision = None
    for rev in range(emb.signed_revision, reader.xrefs.total_revisions):
        root = reader.get_historical_root(rev)
        if "/DSS" in root:
            dss = root["/DSS"]
            if "/Certs" in dss and ("/CRLs" in dss or "/OCSPs" in dss):
                dss_revision = rev
                break
    if dss_revision is None:
        notes.append("no /DSS with certificates and revocation data")
        return level, notes
    level = "B-LT"
    if any(ts_emb.signed_revision > dss_revision for ts_emb, _ in later_doc_ts):
        level = "B-LTA"
    return level, notes


def coverage_ok(coverage, docmdp_ok):
    from pyhanko.sign.validation import SignatureCoverageLevel

    if coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return True
    return coverage == SignatureCoverageLevel.ENTIRE_REVISION and docmdp_ok is True


def trailing_unsigned_bytes(emb, reader, file_size):
    """Bytes after the end of the signed range that no later revision accounts for.

    pyHanko calls a signature that is followed by anything at all (even one newline) after its
    %%EOF ENTIRE_REVISION, and when no revision follows, its difference analysis finds no
    change (modification level NONE), so such bytes do not make the signature fail. A signer
    should leave none after the last signature; tests can check this is 0.
    """
    if emb.signed_revision != reader.xrefs.total_revisions - 1:
        return 0
    br = emb.byte_range
    return max(0, file_size - (br[2] + br[3]))


def failed_entry(field, message, **extra):
    entry = {
        "field": field,
        "intact": False,
        "valid": False,
        "trusted": False,
        "coverage": None,
        "modification_level": None,
        "docmdp_ok": None,
        "pades_level": None,
        "signer_subject": None,
        "summary": f"ERROR: {message}",
        "bottom_line": False,
        "error": message,
    }
    entry.update(extra)
    return entry


def main(argv=None):
    parser = Parser(
        description="Validate every signature of a PDF with pyHanko; print JSON.",
    )
    parser.add_argument("pdf", help="signed PDF")
    parser.add_argument("--ca", action="append", required=True, help="trust root (PEM/DER)")
    parser.add_argument("--crl", action="append", default=[], help="CRL (DER/PEM)")
    parser.add_argument(
        "--revocation", choices=["soft-fail", "hard-fail", "require", "none"], default=None
    )
    parser.add_argument(
        "--key-usage",
        default=None,
        help="comma-separated key usages the signer cert needs one of "
        "(asn1crypto names, e.g. non_repudiation,digital_signature)",
    )
    parser.add_argument("--password", default="", help="user password of an encrypted PDF")
    parser.add_argument("--details", action="store_true", help="pyHanko's report on stderr")
    args = parser.parse_args(argv)

    # pyHanko logs through `logging` (with tracebacks, e.g. for every untrusted signer); keep
    # that off stdout, which carries only the JSON, and quiet unless --details.
    logging.basicConfig(level=logging.WARNING if args.details else logging.ERROR, stream=sys.stderr)

    try:
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.fields import enumerate_sig_fields
        from pyhanko.sign.validation import (
            validate_pdf_signature,
            validate_pdf_timestamp,
        )
        from pyhanko.sign.validation.settings import KeyUsageConstraints
        from pyhanko_certvalidator import ValidationContext
    except ImportError as e:
        fail_usage(f"pyHanko is not installed: {e}")

    try:
        trust_roots = load_certs(args.ca)
        crls = load_crls(args.crl)
    except UsageError as e:
        fail_usage(str(e))
    revocation = args.revocation or ("hard-fail" if crls else "soft-fail")
    key_usage = None
    if args.key_usage is not None:
        key_usage = KeyUsageConstraints(
            key_usage={k.strip() for k in args.key_usage.split(",") if k.strip()}
        )

    def new_context():
        # A fresh context per signature: pyHanko's synchronous wrappers release the
        # context's resources when they finish.
        return ValidationContext(
            trust_roots=trust_roots,
            crls=crls if crls else None,
            allow_fetching=False,
            revocation_mode=revocation,
        )

    try:
        new_context()
    except ValueError as e:
        # e.g. hard-fail or require without a CRL: pyhanko-certvalidator refuses the context.
        fail_usage(f"--revocation {revocation}: {e}")

    try:
        f = open(args.pdf, "rb")
    except OSError as e:
        fail_usage(f"cannot read {args.pdf}: {e}")
    with f:
        head = f.read(1024)
        if b"%PDF-" not in head:
            fail_usage(f"{args.pdf} is not a PDF (no %PDF- header)")
        file_size = f.seek(0, 2)
        f.seek(0)
        try:
            reader = PdfFileReader(f)
            if reader.encrypt_dict is not None:
                from pyhanko.pdf_utils.crypt import AuthStatus

                if reader.decrypt(args.password).status == AuthStatus.FAILED:
                    fail_usage(f"{args.pdf} is encrypted and --password is not its password")
            filled = [name for name, _, _ in enumerate_sig_fields(reader, filled_status=True)]
            embedded = list(reader.embedded_signatures)
        except Exception as e:
            fail_usage(f"cannot parse {args.pdf}: {type(e).__name__}: {e}")

        results = []
        # Document timestamps first, so that signatures can count them for B-T/B-LTA.
        doc_ts_results = []
        statuses = {}
        for emb in embedded:
            if emb.sig_object_type == "/DocTimeStamp":
                try:
                    st = validate_pdf_timestamp(emb, validation_context=new_context())
                except Exception as e:
                    statuses[id(emb)] = e
                    continue
                statuses[id(emb)] = st
                doc_ts_results.append((emb, st))

        for emb in embedded:
            name = emb.field_name
            common = {
                "type": str(emb.sig_object_type),
                "subfilter": str(emb.sig_object.get("/SubFilter")),
                "signed_revision": emb.signed_revision,
            }
            try:
                if emb.sig_object_type == "/DocTimeStamp":
                    st = statuses[id(emb)]
                    if isinstance(st, Exception):
                        raise st
                    level, notes = None, ["document timestamp"]
                    # pyHanko leaves docmdp_ok unset in a DocumentTimestampStatus; the
                    # embedded signature's own summary has it.
                    docmdp_ok = emb.summarise_integrity_info()["docmdp_ok"]
                    pyhanko_bl = ts_ok(st) and (docmdp_ok or st.modification_level is None)
                    ts_info = None
                else:
                    st = validate_pdf_signature(
                        emb,
                        signer_validation_context=new_context(),
                        key_usage_settings=key_usage,
                    )
                    level, notes = pades_level(emb, st, reader, doc_ts_results)
                    pyhanko_bl = st.bottom_line
                    docmdp_ok = st.docmdp_ok
                    tsv = st.timestamp_validity
                    ts_info = (
                        None
                        if tsv is None
                        else {
                            "intact": tsv.intact,
                            "valid": tsv.valid,
                            "trusted": tsv.trusted,
                            "time": tsv.timestamp.isoformat(),
                        }
                    )
            except Exception as e:
                results.append(failed_entry(name, f"{type(e).__name__}: {e}", **common))
                continue

            entry = {
                "field": name,
                "intact": bool(st.intact),
                "valid": bool(st.valid),
                "trusted": bool(st.trusted),
                "coverage": enum_name(st.coverage),
                "modification_level": enum_name(st.modification_level),
                "docmdp_ok": docmdp_ok,
                "pades_level": level,
                "signer_subject": st.signing_cert.subject.human_friendly,
                "summary": st.summary(),
                "bottom_line": bool(pyhanko_bl and coverage_ok(st.coverage, docmdp_ok)),
                "pyhanko_bottom_line": bool(pyhanko_bl),
                "revoked": bool(st.revoked),
                "trust_problem": enum_name(st.trust_problem_indic),
                "timestamp": ts_info,
                "pades_notes": notes,
                "trailing_unsigned_bytes": trailing_unsigned_bytes(emb, reader, file_size),
            }
            entry.update(common)
            results.append(entry)
            if args.details:
                print(f"=== {name} ===", file=sys.stderr)
                print(st.pretty_print_details(), file=sys.stderr)

        # Filled signature fields pyHanko would not validate (it skips, with a warning, a
        # SubFilter it does not know): they count, and they fail.
        seen = {emb.field_name for emb in embedded}
        for name in filled:
            if name not in seen:
                results.append(
                    failed_entry(name, "pyHanko does not recognise this signature (SubFilter?)")
                )

    all_valid = bool(results) and all(r["bottom_line"] for r in results)
    print(json.dumps({"signatures": results, "all_valid": all_valid}, indent=1))
    return 0 if all_valid else 1


if __name__ == "__main__":
    sys.exit(main())
