"""Offline portal at 10,000 cards: registry size, and how fast the page answers.

Run against the database DATABASE_URL names (migrated), e.g.
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/campaignid .venv/bin/python \
        bench/verification_portal.py
It creates a throwaway program, campaign and job with N cards (codes assigned and tokens
signed like a real job, 1 % revoked), builds the job's portal.zip, prints the sizes, then opens
the portal from file:// in headless Chromium (/usr/bin/chromium) with the network blocked and
checks random cards by QR link (signature verified) and by typed code, with WebCrypto and
with the pure-JS fallback: page load and per-answer milliseconds. Targets: registry.json under
1 MB and an answer under 50 ms. It deletes what it created.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import django  # noqa: E402

django.setup()

from datetime import date  # noqa: E402

from django.utils import timezone  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from campaigns.models import Beneficiary, Campaign, Job, QuotaTransaction  # noqa: E402
from campaigns.services import program_create  # noqa: E402
from cards.issuing import cards_assign  # noqa: E402
from cards.models import Card  # noqa: E402
from verification.portal import portal_build  # noqa: E402

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


def timed_answers(browser, index_uri, queries, *, webcrypto):
    context = browser.new_context()
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://")
                  else r.abort())
    if not webcrypto:
        context.add_init_script(WITHOUT_WEBCRYPTO_ED25519)
    page = context.new_page()
    started = time.perf_counter()
    page.goto(index_uri)
    page.wait_for_selector("body[data-ready]")
    load_ms = (time.perf_counter() - started) * 1000
    answers = []
    for text in queries:
        page.fill("#query", text)
        page.click("#check")
        page.wait_for_selector("#result[data-checked]")
        answers.append(float(page.get_attribute("#result", "data-ms")))
    engine = page.get_attribute("#result", "data-engine")
    context.close()
    return load_ms, answers, engine


def report(label, load_ms, answers):
    print(f"{label:<42} load {load_ms:7.1f} ms   answer median {statistics.median(answers):6.2f}"
          f" ms  p95 {sorted(answers)[int(len(answers) * 0.95) - 1]:6.2f} ms"
          f"  max {max(answers):6.2f} ms  (first {answers[0]:.2f} ms)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--checks", type=int, default=100)
    args = parser.parse_args()

    tag = uuid.uuid4().hex[:6].upper()
    program = program_create(slug=f"bench-{tag.lower()}", name=f"Bench {tag}", country="SN")
    campaign = Campaign.objects.create(
        program=program, name=f"Portal bench {tag}", campaign_type="vaccination",
        prefix=f"P{tag}", card_validity_months=12,
    )
    try:
        people = Beneficiary.objects.bulk_create(
            Beneficiary(campaign=campaign, first_name="Awa", last_name=f"Ndiaye {n}",
                        date_of_birth=date(1990, 1, 1), sex="F", external_id=f"b{n}")
            for n in range(args.cards)
        )
        job = Job.objects.create(campaign=campaign)
        started = time.perf_counter()
        cards = cards_assign(job=job, beneficiaries=people)
        print(f"{len(cards):,} cards assigned and signed in {time.perf_counter() - started:.2f} s")
        Card.objects.filter(pk__in=[c.pk for c in cards[: len(cards) // 100]]).update(
            revoked_at=timezone.now()
        )
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            _kind, _name, path = portal_build(job=job, workdir=tmp)
            print(f"portal.zip built in {time.perf_counter() - started:.2f} s")
            with zipfile.ZipFile(path) as archive:
                for name in ("registry.json", "registry.js", "keys.json"):
                    size = archive.getinfo(name).file_size
                    print(f"  {name:<14} {size:>10,} bytes")
                archive.extractall(Path(tmp) / "portal")
            registry_size = (Path(tmp) / "portal" / "registry.json").stat().st_size
            print(f"  portal.zip     {os.path.getsize(path):>10,} bytes (deflated)")
            print(f"registry.json under 1 MB: {'OK' if registry_size < 1_000_000 else 'TOO BIG'}")

            rng = random.Random(1)
            sample = rng.sample(cards, args.checks)
            links = [f"https://verify.example.sn/v/c/{c.code}#{c.token}" for c in sample]
            codes = [c.code for c in sample]
            index = (Path(tmp) / "portal" / "index.html").as_uri()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                     args=CHROMIUM_ARGS)
                worst = 0.0
                for label, queries, webcrypto in (
                    ("QR link, WebCrypto Ed25519", links, True),
                    ("QR link, pure-JS fallback", links, False),
                    ("typed code (registry only)", codes, True),
                ):
                    load_ms, answers, engine = timed_answers(browser, index, queries,
                                                             webcrypto=webcrypto)
                    report(f"{label} [{engine or '-'}]", load_ms, answers)
                    worst = max(worst, statistics.median(answers))
                browser.close()
            print(f"median answer under 50 ms: {'OK' if worst < 50 else 'TOO SLOW'}")
    finally:
        campaign.delete()
        QuotaTransaction.objects.filter(program=program).delete()
        program.delete()


if __name__ == "__main__":
    main()
