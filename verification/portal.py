"""The offline verification portal: a ZIP of static files that verifies the campaign's cards
from file:// with the network off (a USB stick, a phone's files, a laptop in the field).

    index.html  verify.css  verify.js  portal.js       the page (static/verification/)
    vendor/noble-crypto.js + licences                  Ed25519 / SHA-256 fallback, no CDN
    registry.json                                      statuses by code hash (registry.py)
    registry.js                                        the same data as a script: a file://
                                                       page cannot fetch() registry.json
    keys.json                                          the program's public keys (JWKS)
    README.txt                                         how to open it, in fr / en / wo

`portal_build` is one of cards.packaging.EXTRA_ARTIFACT_BUILDERS (registered in apps.py).
"""

import os
import zipfile

from django.contrib.staticfiles import finders

from verification.registry import registry_for, registry_json

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
    write_portal_zip(registry_for(job=job), path)
    return "portal", portal_storage_name(job), path


def write_portal_zip(registry: dict, path: str) -> None:
    data = registry_json(registry)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for static_path, name in PORTAL_FILES:
            source = finders.find(static_path)
            if source is None:
                raise FileNotFoundError(f"portal file missing from static files: {static_path}")
            archive.write(source, name)
        archive.writestr("registry.json", data)
        # The registry JSON is ASCII-only (registry_json), so it is a valid script literal.
        script = b"window." + REGISTRY_GLOBAL.encode() + b" = " + data + b";\n"
        archive.writestr("registry.js", script)
        archive.writestr("keys.json", registry_json(registry["keys"]))
