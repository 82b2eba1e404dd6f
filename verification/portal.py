"""The offline verification portal: a ZIP of static files that verifies the campaign's cards
from file:// with the network off (a USB stick, a phone's files, a laptop in the field).

    index.html  verify.css  verify.js  portal.js       the page (static/verification/)
    vendor/noble-crypto.js + licences                  Ed25519 / SHA-256 fallback, no CDN
    registry.json                                      statuses by code hash (registry.py)
    registry.js                                        the same data as a script: a file://
                                                       page cannot fetch() registry.json
    keys.json                                          the program's public keys (JWKS)
    README.txt                                         how to open it, in fr / en / wo

`portal_build` is one of settings.CARD_JOB_ARTIFACT_BUILDERS (run by cards/packaging.py): the
job's portal, kept as the record of that day. `current_portal_file` builds one from the cards'
statuses now, for the campaign page's "Download the offline portal" (no job, no quota).
"""

import os
import tempfile
import zipfile
from zoneinfo import ZoneInfo

from django.contrib.staticfiles import finders
from django.utils import timezone

from verification.registry import (
    registry_card_members,
    registry_head,
    registry_json,
    write_registry_json,
)

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
REGISTRY_GLOBAL = "CAMPAIGNID_REGISTRY"


def portal_storage_name(job) -> str:
    return f"jobs/{job.pk}/{job.campaign.prefix}-job{job.pk}-portal.zip"


def portal_build(*, job, workdir) -> tuple[str, str, str]:
    """Writes the job's portal ZIP into `workdir`: ("portal", storage name, local path)."""
    path = os.path.join(workdir, "portal.zip")
    head = _with_status_at(registry_head(job=job), job.campaign)
    write_portal_zip(head, registry_card_members(campaign=job.campaign), path)
    return "portal", portal_storage_name(job), path


def current_portal_file(*, campaign):
    """(open temporary file, file name): the campaign's portal as of now, every job's cards
    with today's revocations. On disk, not in memory (200,000 cards make a ZIP of megabytes);
    the file disappears when closed."""
    head = _with_status_at(registry_head(campaign=campaign), campaign)
    members = registry_card_members(campaign=campaign)
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed open to the response, which closes it
    try:
        write_portal_zip(head, members, out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    stamp = head["status_at"].replace("-", "").replace(":", "").replace("T", "-")
    return out, f"{campaign.prefix}-portal-{stamp}.zip"


def _with_status_at(head: dict, campaign) -> dict:
    """The portal prints when its statuses were read, in the program's local time (the field
    reads a wall clock there, not UTC): "YYYY-MM-DDTHH:MM"."""
    zone = ZoneInfo(campaign.program.timezone)
    head["status_at"] = timezone.localtime(timezone.now(), zone).strftime("%Y-%m-%dT%H:%M")
    return head


def write_portal_zip(head: dict, members: list[bytes], path) -> None:
    """The portal's files, with the registry (`head` and its card `members`) written twice:
    as registry.json and as the script registry.js. `path`: a file name or a binary file."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for static_path, name in PORTAL_FILES:
            source = finders.find(static_path)
            if source is None:
                raise FileNotFoundError(f"portal file missing from static files: {static_path}")
            archive.write(source, name)
        with archive.open("registry.json", "w") as out:
            write_registry_json(head, members, out)
        # The registry JSON is ASCII-only (registry_json), so it is a valid script literal.
        with archive.open("registry.js", "w") as out:
            out.write(b"window." + REGISTRY_GLOBAL.encode() + b" = ")
            write_registry_json(head, members, out)
            out.write(b";\n")
        archive.writestr("keys.json", registry_json(head["keys"]))
