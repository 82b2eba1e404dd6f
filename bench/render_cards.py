"""Card generation throughput: QR, layout + PDF, raster, PNG, then PDF merge and ZIP.

Renders N cards with the real renderer (cards/rendering/renderer.py) in 1 or 2 processes, each a
stand-in for an RQ worker: one CardRenderer per process, chunks of --chunk cards. Nothing
is written to the database: the program and campaign are unsaved model instances.

    .venv/bin/python bench/render_cards.py --cards 2000 --processes 2 --dpi 300

bench/generate.py runs the whole job through real RQ workers; this one isolates rendering.

Prints cards/s per stage (per process, wall time of that stage), per CPU second of each
process, overall (wall clock, all processes together, then with merge and ZIP), and each
process's peak RSS. Run it on an idle machine: other processes on the two cores change the
wall-clock figures a lot; the per-CPU-second figure is the one that survives contention.
"""

import argparse
import csv
import datetime
import hashlib
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PEOPLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "beneficiaries-1000.csv"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def setup_django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
    import django

    django.setup()


def people():
    if SAMPLE_PEOPLE.exists():
        with SAMPLE_PEOPLE.open(encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    return [{"first_name": "Aïssatou", "last_name": "N'Diaye", "date_of_birth": "2019-05-17",
             "sex": "F", "mpi_id": "MPI-100234567", "district": "Thiès"}]


def card_rows(start, count, prefix):
    """Plain card dicts as the orchestrator builds them, QR excluded (timed separately)."""
    rows, sample = [], people()
    issued = datetime.date(2025, 3, 1)
    for n in range(start, start + count):
        person = sample[n % len(sample)]
        digest = hashlib.sha256(str(n).encode()).digest()
        code = prefix + "-" + "".join(BASE32[b % 32] for b in digest[:8])
        # The printed QR's URL with a version 2 token of a long name (~94 bytes = 227 digits).
        token = str(int.from_bytes(hashlib.sha512(code.encode()).digest() * 2, "big"))[:227]
        rows.append({
            "code": code,
            "first_name": person["first_name"],
            "last_name": person["last_name"],
            "date_of_birth": datetime.date.fromisoformat(person["date_of_birth"]),
            "sex": person["sex"],
            "mpi_id": person.get("mpi_id", ""),
            "attributes": {"vaccine": "Penta 3", "doses": n % 4 + 1},
            "issued_on": issued,
            "expires_on": issued.replace(year=2027) if n % 2 else None,
            "url": f"HTTPS://VERIFY.CAMPAIGNID.ORG/V/C/{code}#{token}",
        })
    return rows


def worker(index, start, count, options, out_dir, barrier, results):
    setup_django()
    from campaigns.models import Campaign, Program
    from cards.qr import qr_matrix
    from cards.rendering.renderer import CardRenderer

    program = Program(name="Ministère de la Santé - PEV Sénégal", slug="bench")
    campaign = Campaign(
        program=program, name="Bench", campaign_type=options.template, prefix="DKR-VAC",
        language=options.language,
    )
    rows = card_rows(start, count, campaign.prefix)
    set_up = time.perf_counter()
    renderer = CardRenderer(
        campaign=campaign, program=program, dpi=options.dpi, include_mpi_id=True
    )
    set_up = time.perf_counter() - set_up
    barrier.wait()
    began = time.perf_counter()
    cpu_began = time.process_time()
    qr_seconds = write_seconds = 0.0
    for offset in range(0, len(rows), options.chunk):
        chunk = rows[offset : offset + options.chunk]
        tick = time.perf_counter()
        for row in chunk:
            row["qr"] = qr_matrix(row["url"])
        qr_seconds += time.perf_counter() - tick
        pdf, pngs = renderer.render_fronts(chunk, with_backs=True)  # as a job's chunk
        tick = time.perf_counter()
        number = (start + offset) // options.chunk
        (out_dir / f"chunk-{number:05d}.pdf").write_bytes(pdf)
        for row, png in zip(chunk, pngs, strict=True):
            (out_dir / f"{row['code']}.png").write_bytes(png)
        write_seconds += time.perf_counter() - tick
    ended = time.perf_counter()
    cpu = time.process_time() - cpu_began
    results.put({
        "index": index,
        "cards": count,
        "setup": set_up,
        "began": began,
        "ended": ended,
        "qr": qr_seconds,
        "write": write_seconds,
        "cpu": cpu,
        **{k: v for k, v in renderer.timings.items() if k != "cards"},
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    })


def package(out_dir):
    """Merge the chunk PDFs as packaging does (cards/print_pdf.py) and ZIP the PNGs (stored:
    PNG is already compressed)."""
    from cards.print_pdf import merge_chunk_pdfs

    tick = time.perf_counter()
    with (out_dir / "cards.pdf").open("wb") as out:
        merge_chunk_pdfs((path.read_bytes() for path in sorted(out_dir.glob("chunk-*.pdf"))), out)
    merge_seconds = time.perf_counter() - tick
    tick = time.perf_counter()
    with zipfile.ZipFile(out_dir / "cards.zip", "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(out_dir.glob("*.png")):
            archive.write(path, path.name)
    return merge_seconds, time.perf_counter() - tick


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=2000)
    parser.add_argument("--dpi", type=int, default=300, choices=(300, 450, 600))
    parser.add_argument("--chunk", type=int, default=50)
    parser.add_argument("--processes", type=int, default=1, choices=(1, 2))
    parser.add_argument("--template", default="vaccination")
    parser.add_argument("--language", default="fr", choices=("fr", "en", "wo"))
    parser.add_argument("--keep", action="store_true", help="keep the output directory")
    options = parser.parse_args()

    setup_django()

    out_dir = Path(tempfile.mkdtemp(prefix="bench-generate-"))
    # Split on chunk boundaries so each process renders whole chunks.
    chunks = -(-options.cards // options.chunk)
    per_process = -(-chunks // options.processes) * options.chunk
    shares = []
    for index in range(options.processes):
        start = index * per_process
        count = max(0, min(per_process, options.cards - start))
        shares.append((index, start, count))

    context = multiprocessing.get_context("spawn")  # a clean process, like an RQ worker
    barrier = context.Barrier(options.processes)
    results = context.Queue()
    processes = [
        context.Process(target=worker, args=(*share, options, out_dir, barrier, results))
        for share in shares
    ]
    for process in processes:
        process.start()
    reports = [results.get() for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode:
            sys.exit(f"a worker failed (exit code {process.exitcode})")
    reports.sort(key=lambda r: r["index"])

    merge_seconds, zip_seconds = package(out_dir)

    render_wall = max(r["ended"] for r in reports) - min(r["began"] for r in reports)
    print(f"{options.cards} cards, {options.dpi} dpi, chunks of {options.chunk}, "
          f"{options.processes} process(es), template {options.template}/{options.language}")
    print("stage cards/s per process (ms/card):")
    for r in reports:
        figures = "  ".join(
            f"{stage} {r['cards'] / r[stage]:6.1f} ({1000 * r[stage] / r['cards']:.2f})"
            for stage in ("qr", "layout_pdf", "raster", "png", "write")
        )
        busy = sum(r[s] for s in ("qr", "layout_pdf", "raster", "png", "write"))
        print(f"  process {r['index']}: {figures}  | all {r['cards'] / busy:.1f} cards/s "
              f"({r['cards'] / r['cpu']:.1f} per CPU second), setup {r['setup']:.2f} s, "
              f"peak RSS {r['peak_rss_mb']:.0f} MB")
    print(f"render, all processes: {options.cards / render_wall:.1f} cards/s "
          f"({render_wall:.2f} s wall)")
    print(f"package: merge PDF {merge_seconds:.2f} s, ZIP {zip_seconds:.2f} s "
          f"({(out_dir / 'cards.zip').stat().st_size / options.cards / 1024:.1f} KB/card PNG)")
    total = render_wall + merge_seconds + zip_seconds
    print(f"overall (render + merge + ZIP): {options.cards / total:.1f} cards/s ({total:.2f} s)")
    if options.keep:
        print(f"output kept in {out_dir}")
    else:
        shutil.rmtree(out_dir)


if __name__ == "__main__":
    main()
