"""QR versions of the printed card link (cards/qr.py) at level Q: README "Size and the QR".

Signs real tokens (a throwaway Ed25519 key; nothing touches the database) for names of a few
lengths and three base URLs, and prints the QR version each card reaches, for version 2
tokens (new cards) and version 1 tokens (older cards, still printed again by a retried
job), with the 8-character prefix, the longest a campaign can have.

    CAMPAIGNID_LAPTOP=1 .venv/bin/python bench/qr_sizes.py
"""

import datetime
import os
import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
CODE = "ABCD-EFG-23456789"  # an 8-character prefix: the longest code
BASE_URLS = [
    "http://127.0.0.1:8000",
    "https://verify.sante.gouv.sn",
    "https://verification.programme-sante.gouv.sn",
]
NAMES = ["Awa Ba", "Aïssatou N'Diaye", "Ndèye Fatou Mbaye S", "Mame Diarra Bousso Ndiaye",
         "Aïssatou Ndèye Fatou Mbaye N'Diaye Diallo"]


def main():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
    import django

    django.setup()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.conf import settings

    from cards.qr import qr, qr_url
    from cards.tokens import CardClaims, CardSigner, card_token_decode

    signer = CardSigner(SimpleNamespace(kid="EH7DDX5B"), private_key=Ed25519PrivateKey.generate())

    def claims(name):
        return CardClaims(name=name, birth_date=datetime.date(2019, 5, 17), program_id=300,
                          campaign_type="vaccination", issued_on=datetime.date(2026, 1, 15),
                          expires_on=datetime.date(2027, 1, 15))

    for version in (2, 1):
        tokens = [signer.sign(code=CODE, payload=claims(name), version=version) for name in NAMES]
        carried = [len(card_token_decode(token)[0].name.encode()) for token in tokens]
        print(f"token version {version}: name bytes carried {carried}, "
              f"token characters {[len(token) for token in tokens]}")
        for base_url in BASE_URLS:
            settings.PUBLIC_BASE_URL = base_url
            versions = []
            for token in tokens:
                symbol = qr(qr_url(SimpleNamespace(code=CODE, token=token)))
                versions.append(f"{symbol.version}-{symbol.error}")
            print(f"  {base_url} ({len(base_url)}): {versions}")

    # The margin of the worst case (longest name, 44-character base URL): how many more
    # characters the base URL could take before the QR grows past version 10.
    worst = max((signer.sign(code=CODE, payload=claims(name)) for name in NAMES), key=len)
    extra = 0
    while True:
        settings.PUBLIC_BASE_URL = BASE_URLS[-1] + "X" * (extra + 1)
        if qr(qr_url(SimpleNamespace(code=CODE, token=worst))).version > 10:
            break
        extra += 1
    print(f"worst case margin: the 44-character base URL could take {extra} more characters "
          "and stay at version 10-Q")


if __name__ == "__main__":
    main()
