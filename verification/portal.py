"""The offline verification portal: a ZIP of static files that verifies the campaign's cards
from file:// with the network off (a USB stick, a phone's files, a laptop in the field).

    index.html  verify.css  verify.js  portal.js       the page (static/verification/)
    vendor/noble-crypto.js + licences                  Ed25519 / SHA-256 fallback, no CDN
    registry.js                                        the signed status list
                                                       (verification/status_list.py), base64
                                                       in a script: a file:// page cannot
                                                       fetch() a file beside it
    keys.json                                          the program's public keys (JWKS)
    README.txt                                         how to open it, in fr / en / wo

`portal_build` is one of settings.CARD_JOB_ARTIFACT_BUILDERS (run by cards/packaging.py): the
job's portal, kept as the record of that day. `current_portal_file` builds one from the cards'
statuses now, for the campaign page's "Download the offline portal" (no job, no quota), or
one portal per district (`split_by`: a beneficiary attribute) for a national round.
"""

import base64
import json
import os
import tempfile
import zipfile

from django.contrib.staticfiles import finders

from verification.status_list import status_list_decode, status_list_issue

# (path under static/, name in the ZIP)
PORTAL_FILES = (
    ("verification/portal/index.html", "index.html"),
    ("verification/portal/portal.js", "portal.js"),
    ("verification/portal/README.txt", "README.txt"),
    ("verification/verify.css", "verify.css"),
    ("verification/verify.js", "verify.js"),
    ("verification/vendor/noble-crypto.js", "vendor/noble-crypto.js"),
    ("verification/vendor/LICENSE-noble-ed25519", "vendor/LICENSE-noble-ed25519"),
    ("verification/vendor/LICENSE-noble-hashes", "vendor/LICENSE-noble-hashes"),
    ("verification/vendor/README.md", "vendor/README.md"),
)
STATUS_LIST_GLOBAL = "CAMPAIGNID_STATUS_LIST"
# base64 in slices of a multiple of 3 bytes (their encodings join into one): the script is
# written piece by piece, never one string of every card.
_SLICE = 3 << 20


def portal_storage_name(job) -> str:
    return f"jobs/{job.pk}/{job.campaign.prefix}-job{job.pk}-portal.zip"


def portal_build(*, job, workdir) -> tuple[str, str, str]:
    """Writes the job's portal ZIP into `workdir`: ("portal", storage name, local path)."""
    path = os.path.join(workdir, "portal.zip")
    write_portal_zip(status_list_issue(campaign=job.campaign, job=job), path)
    return "portal", portal_storage_name(job), path


def current_portal_file(*, campaign, beneficiaries=None, part=None):
    """(open temporary file, file name): the campaign's portal as of now, every job's cards
    with today's revocations (only `beneficiaries`' cards, named `part`, for one district's
    portal). On disk, not in memory (a national round makes a ZIP of megabytes); the file
    disappears when closed."""
    blob = status_list_issue(campaign=campaign, beneficiaries=beneficiaries, part=part)
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed open to the response, which closes it
    try:
        write_portal_zip(blob, out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    header = status_list_decode(blob)[0]
    stamp = header["status_at"].replace("-", "").replace(":", "").replace("T", "-")
    suffix = f"-{_file_part(part)}" if part else ""
    return out, f"{campaign.prefix}{suffix}-portal-{stamp}.zip"


def _file_part(part: str) -> str:
    safe = "".join(c if c.isalnum() else "-" for c in part)
    return safe.strip("-")[:40] or "part"


def write_portal_zip(blob: bytes, path) -> None:
    """The portal's files around the signed status list `blob`. `path`: a file name or a
    binary file."""
    header = status_list_decode(blob)[0]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for static_path, name in PORTAL_FILES:
            source = finders.find(static_path)
            if source is None:
                raise FileNotFoundError(f"portal file missing from static files: {static_path}")
            archive.write(source, name)
        with archive.open("registry.js", "w") as out:
            out.write(b"window." + STATUS_LIST_GLOBAL.encode() + b' = "')
            for start in range(0, len(blob), _SLICE):
                out.write(base64.b64encode(blob[start : start + _SLICE]))
            out.write(b'";\n')
        archive.writestr("keys.json", json.dumps(header["keys"], separators=(",", ":")))


def portal_status_list(archive: zipfile.ZipFile) -> bytes:
    """The signed list a portal ZIP carries (tools and tests)."""
    script = archive.read("registry.js")
    start = script.index(b'"') + 1
    return base64.b64decode(script[start : script.index(b'"', start)])
