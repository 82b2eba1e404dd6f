"""Offline portal at 10,000 and 1,000,000 cards: size, and time to the first verdict.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench CAMPAIGNID_LAPTOP=1 \\
        .venv/bin/python bench/verification_portal.py [--cards 10000,1000000]

It migrates the database DATABASE_URL names, creates a throwaway program (its real signing
key) and campaign, and builds each portal through the product's own encoder and signer
(verification/status_list.py encode_records, status_list_header, sign_status_list;
verification/portal.py write_portal_zip).

The shortcut: the cards are synthetic rows (random codes under the campaign's prefix, one
issue and expiry day, 1 % revoked), not Card rows: signing and inserting a million tokens
would take the bench an hour and measure the generation, not the portal. Only the sampled
cards checked by QR link get a real token, signed with the program's key like a job's.

Each portal is unzipped and opened from file:// in headless Chromium (/usr/bin/chromium)
with every network request blocked. Printed: the ZIP's size, registry.js's bytes per card,
page load (list decoded and its signature checked), time from opening the page to its first
verdict (a QR link: token signature checked too), and the median answer afterwards, with
WebCrypto Ed25519 and with the pure-JS fallback. Targets: registry ≤ 40 bytes a card, first
verdict ≤ 2 s at 1,000,000 cards (WebCrypto). It deletes what it created.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
import zipfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from campaigns.models import Campaign, QuotaTransaction  # noqa: E402
from campaigns.services import program_create  # noqa: E402
from cards.codes import CODE_ALPHABET, CODE_RANDOM_LENGTH  # noqa: E402
from cards.signing_keys import signing_key_for  # noqa: E402
from cards.tokens import CardClaims, CardSigner  # noqa: E402
from verification.portal import write_portal_zip  # noqa: E402
from verification.status_list import (  # noqa: E402
    RECORD,
    encode_records,
    sign_status_list,
    status_list_header,
)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
WITHOUT_WEBCRYPTO_ED25519 = """
(() => {
  const subtle = crypto.subtle, importKey = subtle.importKey.bind(subtle);
  subtle.importKey = (f, k, a, ...r) => String(a && a.name || a).toLowerCase() === 'ed25519'
    ? Promise.reject(new DOMException('Unrecognized name', 'NotSupportedError'))
    : importKey(f, k, a, ...r);
})();
"""
ISSUED = date.today() - timedelta(days=10)
EXPIRES = ISSUED + timedelta(days=365)


def synthetic_codes(prefix, count, rng):
    codes = set()
    while len(codes) < count:
        codes.add(f"{prefix}-{''.join(rng.choices(CODE_ALPHABET, k=CODE_RANDOM_LENGTH))}")
    return list(codes)


def build_portal(campaign, count, folder, checks, rng):
    """Writes the portal; returns (zip path, QR links of sampled cards, their codes)."""
    key = signing_key_for(program=campaign.program)
    codes = synthetic_codes(campaign.prefix, count, rng)
    revoked = set(rng.sample(range(count), count // 100))
    rows = ((code, ISSUED, EXPIRES, ISSUED + timedelta(days=1) if n in revoked else None, False)
            for n, code in enumerate(codes))
    started = time.perf_counter()
    records = encode_records(rows)
    header = status_list_header(campaign=campaign, key=key, sequence=1, issued_at=timezone.now(),
                                count=len(records) // RECORD.size)
    blob = sign_status_list(header=header, records=records, key=key)
    signed = time.perf_counter() - started
    path = folder / "portal.zip"
    write_portal_zip(blob, str(path))
    built = (signed, time.perf_counter() - started - signed)
    signer = CardSigner(key)
    valid = [n for n in rng.sample(range(count), checks * 2) if n not in revoked][:checks]
    links = []
    for n in valid:
        claims = CardClaims(name=f"Awa Ndiaye {n}", birth_date=date(1990, 1, 1),
                            program_id=campaign.program_id, campaign_type="vaccination",
                            issued_on=ISSUED, expires_on=EXPIRES)
        token = signer.sign(code=codes[n], payload=claims)
        links.append(f"https://verify.example.sn/v/c/{codes[n]}#{token}")
    return path, built, links, [codes[n] for n in valid]


def first_verdict(browser, index_uri, queries, *, webcrypto):
    """(load ms, ms from opening the page to its first verdict, later answers' ms, engine)."""
    context = browser.new_context()
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://")
                  else r.abort())
    if not webcrypto:
        context.add_init_script(WITHOUT_WEBCRYPTO_ED25519)
    page = context.new_page()
    started = time.perf_counter()
    page.goto(index_uri)
    page.wait_for_selector("body[data-ready]", timeout=120_000)
    load_ms = (time.perf_counter() - started) * 1000
    page.fill("#query", queries[0])
    page.click("#check")
    page.wait_for_selector("#result[data-checked]")
    first_ms = (time.perf_counter() - started) * 1000
    verdict = page.get_attribute("#result", "data-verdict")
    answers = []
    for text in queries[1:]:
        page.fill("#query", text)
        page.click("#check")
        page.wait_for_selector("#result[data-checked]")
        answers.append(float(page.get_attribute("#result", "data-ms")))
    engine = page.get_attribute("#result", "data-engine")
    context.close()
    return load_ms, first_ms, answers, engine, verdict


def bench(browser, campaign, count, checks, rng):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path, built, links, codes = build_portal(campaign, count, folder, checks, rng)
        with zipfile.ZipFile(path) as archive:
            script = archive.getinfo("registry.js").file_size
            archive.extractall(folder / "portal")
        print(f"\n{count:,} cards: list encoded and signed in {built[0]:.2f} s, "
              f"portal.zip written in {built[1]:.2f} s (load average "
              f"{os.getloadavg()[0]:.1f}: figures on a busy machine are slower)")
        print(f"  portal.zip   {path.stat().st_size:>13,} bytes (deflated)")
        print(f"  registry.js  {script:>13,} bytes = {script / count:.1f} bytes a card "
              f"(signed list {RECORD.size} bytes a card + header, base64)")
        index = (folder / "portal" / "index.html").as_uri()
        worst_first = 0.0
        for label, queries, webcrypto in (
            ("QR link, WebCrypto Ed25519", links, True),
            ("typed code, WebCrypto Ed25519", codes, True),
            ("QR link, pure-JS fallback", links, False),
        ):
            load_ms, first_ms, answers, engine, verdict = first_verdict(
                browser, index, queries, webcrypto=webcrypto)
            print(f"  {label + ' [' + (engine or '-') + ']':<40} load {load_ms:8.1f} ms  "
                  f"first verdict ({verdict}) {first_ms:8.1f} ms  then median "
                  f"{statistics.median(answers):6.2f} ms")
            if webcrypto:
                worst_first = max(worst_first, first_ms)
        print(f"  registry ≤ 40 bytes a card: {'OK' if script / count <= 40 else 'TOO BIG'};"
              f" first verdict ≤ 2 s (WebCrypto): {'OK' if worst_first <= 2000 else 'TOO SLOW'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", default="10000,1000000",
                        help="comma-separated portal sizes (default 10000,1000000)")
    parser.add_argument("--checks", type=int, default=30)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)

    tag = uuid.uuid4().hex[:6].upper()
    program = program_create(slug=f"bench-{tag.lower()}", name=f"Bench {tag}", country="SN")
    campaign = Campaign.objects.create(
        program=program, name=f"Portal bench {tag}", campaign_type="vaccination",
        prefix=f"P{tag}", card_validity_months=12,
    )
    rng = random.Random(1)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                 args=CHROMIUM_ARGS)
            for count in (int(n) for n in args.cards.split(",")):
                bench(browser, campaign, count, args.checks, rng)
            browser.close()
    finally:
        campaign.delete()
        QuotaTransaction.objects.filter(program=program).delete()
        program.delete()


if __name__ == "__main__":
    main()
