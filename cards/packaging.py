"""Files of a generation job, written through Django's storage API.

A chunk writes `chunks/<job id>/<n>.pdf` (front then back of its cards), `<n>.zip` (one
PNG per card, stored: PNG is already compressed) and `<n>.jsonl` (its manifest lines). Names
are fixed, so a chunk that runs twice overwrites its own files. Packaging then streams
them into the job's artifacts: the PDF (front then back of each card), the ZIP of PNGs,
manifest.json and what settings.CARD_JOB_ARTIFACT_BUILDERS add (the offline portal).

Chunks and artifacts travel only through the storage (MEDIA_ROOT, or a bucket with
STORAGE_URL), never a path: the worker that packages may run on another machine than the
ones that rendered. Its local files live in settings.SCRATCH_DIR until they are stored.
"""

import hashlib
import io
import json
import os
import tempfile
import time
import zipfile

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.module_loading import import_string

from cards import stage_timings
from cards.models import Card
from cards.print_pdf import merge_chunk_pdfs
from cards.qr import qr_matrix, qr_url
from cards.rendering.renderer import CardRenderer


def job_dir(job):
    return f"jobs/{job.pk}"


def chunk_name(job, index, ext):
    # Under a top-level folder of their own: a bucket's lifecycle rule (by prefix) can expire
    # what a failed job left without touching the artifacts under jobs/.
    return f"chunks/{job.pk}/{index:05d}.{ext}"


def legacy_chunk_name(job, index, ext):
    # Where releases before the chunks/ folder wrote them: a job rendering across an upgrade.
    return f"{job_dir(job)}/chunks/{index:05d}.{ext}"


def open_chunk(job, index, ext):
    try:
        return default_storage.open(chunk_name(job, index, ext), "rb")
    except FileNotFoundError:
        return default_storage.open(legacy_chunk_name(job, index, ext), "rb")


def storage_put(name, content):
    """Write `content` (bytes or a file) under exactly `name`, replacing what was there."""
    if default_storage.exists(name):
        default_storage.delete(name)
    if isinstance(content, bytes):
        content = ContentFile(content)
    elif not isinstance(content, File):
        content = File(content)
    saved = default_storage.save(name, content)
    if saved != name:
        raise RuntimeError(f"storage wrote {saved} instead of {name}")
    return saved


def job_cards(job):
    return Card.objects.filter(job=job).select_related("beneficiary").order_by("beneficiary_id")


def chunk_cards(job, chunk):
    if chunk.first_beneficiary_id is None:  # planned before chunks recorded their range
        return job_cards(job)[chunk.first_card : chunk.first_card + chunk.card_count]
    return job_cards(job).filter(
        beneficiary_id__gte=chunk.first_beneficiary_id,
        beneficiary_id__lte=chunk.last_beneficiary_id,
    )


# One renderer per worker process and job: fonts, CSS, back side and palette are built once.
_renderer_cache = {}


def renderer_for(job):
    key = (job.pk, job.campaign.updated_at)
    renderer = _renderer_cache.get(key)
    if renderer is None:
        _renderer_cache.clear()
        renderer = CardRenderer(
            campaign=job.campaign,
            program=job.campaign.program,
            dpi=job.dpi,
            include_mpi_id=job.include_mpi_id,
        )
        _renderer_cache[key] = renderer
    return renderer


def card_render_data(card):
    person = card.beneficiary
    return {
        "code": card.code,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "date_of_birth": person.date_of_birth,
        "sex": person.sex,
        "mpi_id": person.mpi_id,
        "attributes": person.attributes or {},
        "issued_on": card.issued_on,
        "expires_on": card.expires_on,
        "qr": qr_matrix(qr_url(card)),
    }


RENDER_STAGES = ("layout_pdf", "raster", "png")


def render_chunk(job, index):
    chunk = job.chunks.get(index=index)
    cards = list(chunk_cards(job, chunk))
    renderer = renderer_for(job)
    started = time.perf_counter()
    cards_data = [card_render_data(card) for card in cards]
    qr_seconds = time.perf_counter() - started
    before = dict(renderer.timings)
    pdf_bytes, pngs = renderer.render_fronts(cards_data, with_backs=True)
    started = time.perf_counter()
    archive = io.BytesIO()
    lines = []
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        for position, (card, png) in enumerate(zip(cards, pngs, strict=True)):
            zf.writestr(card_png_info(card.code), png)
            page = 2 * (chunk.first_card + position) + 1
            lines.append(
                json.dumps(
                    {
                        "code": card.code,
                        "external_id": card.beneficiary.external_id,
                        "first_name": card.beneficiary.first_name,
                        "last_name": card.beneficiary.last_name,
                        "png": f"{card.code}.png",
                        "png_sha256": hashlib.sha256(png).hexdigest(),
                        "pdf_pages": [page, page + 1],
                        "issued_on": card.issued_on.isoformat(),
                        "expires_on": card.expires_on.isoformat() if card.expires_on else None,
                    },
                    ensure_ascii=False,
                )
            )
    storage_put(chunk_name(job, index, "pdf"), pdf_bytes)
    storage_put(chunk_name(job, index, "zip"), archive.getvalue())
    storage_put(chunk_name(job, index, "jsonl"), ("\n".join(lines) + "\n").encode())
    stage_timings.record(
        job.pk,
        qr=qr_seconds,
        store=time.perf_counter() - started,
        **{stage: renderer.timings[stage] - before[stage] for stage in RENDER_STAGES},
    )


def card_png_info(name):
    # A fixed timestamp keeps a re-rendered chunk byte-identical.
    info = zipfile.ZipInfo(name if name.endswith(".png") else f"{name}.png", (2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    return info


def extra_artifact_builders():
    """Steps after the PDF, ZIP and manifest, declared in settings.CARD_JOB_ARTIFACT_BUILDERS
    (the verification app's offline portal)."""
    return [import_string(path) for path in settings.CARD_JOB_ARTIFACT_BUILDERS]


def build_artifacts(job):
    """Merge the chunks into the job's artifacts; returns {artifact kind: storage name}."""
    chunk_indexes = list(job.chunks.order_by("index").values_list("index", flat=True))
    renderer = renderer_for(job)
    prefix = job.campaign.prefix
    artifacts = {}
    # The worker's own scratch folder: another machine's worker never reads it; every file
    # the job keeps goes through the storage (MEDIA_ROOT or the bucket).
    with tempfile.TemporaryDirectory(dir=settings.SCRATCH_DIR, prefix=f"job{job.pk}-") as tmp:
        pdf_path = os.path.join(tmp, "cards.pdf")
        with stage_timings.timed(job.pk, "merge_pdf"):
            merge_pdf(job, chunk_indexes, pdf_path)
            artifacts["pdf"] = store_file(f"{job_dir(job)}/{prefix}-job{job.pk}-cards.pdf",
                                          pdf_path)

        zip_path = os.path.join(tmp, "cards.zip")
        with stage_timings.timed(job.pk, "merge_zip"):
            merge_zip(job, chunk_indexes, renderer.back_png_bytes(), zip_path)
            artifacts["zip"] = store_file(f"{job_dir(job)}/{prefix}-job{job.pk}-png.zip",
                                          zip_path)

        manifest_path = os.path.join(tmp, "manifest.json")
        with stage_timings.timed(job.pk, "manifest"):
            write_manifest(job, chunk_indexes, manifest_path)
            artifacts["manifest"] = store_file(f"{job_dir(job)}/manifest.json", manifest_path)

        for build in extra_artifact_builders():
            with stage_timings.timed(job.pk, build.__name__):
                kind, name, path = build(job=job, workdir=tmp)
                artifacts[kind] = store_file(name, path)
    return artifacts


def delete_chunks(job):
    """Once the job has ended, not before: a packaging that runs again meanwhile (a retry, a
    Redis that lost its tasks and had them queued again) still finds every chunk."""
    for index in job.chunks.values_list("index", flat=True):
        for ext in ("pdf", "zip", "jsonl"):
            default_storage.delete(chunk_name(job, index, ext))
            default_storage.delete(legacy_chunk_name(job, index, ext))


def store_file(name, path):
    """Store the finished local file `path` under `name`; the file may be gone afterwards."""
    with open(path, "rb") as fh:
        return storage_put(name, _ScratchFile(fh))


class _ScratchFile(File):
    """A finished file of the scratch folder. FileSystemStorage moves a file that tells its
    temporary_file_path rather than copying it: a rename when MEDIA_ROOT is on the same disk,
    so the ZIP (360 MB at 10,000 cards) is not written twice. A bucket uploads it as before."""

    def temporary_file_path(self):
        return self.file.name


def merge_pdf(job, chunk_indexes, out_path):
    """The chunks already hold front then back of each card: copy them whole, in order, one
    chunk in memory at a time (cards/print_pdf.py; each chunk keeps its fonts and art shared
    by its pages)."""

    def chunks():
        for index in chunk_indexes:
            with open_chunk(job, index, "pdf") as fh:
                yield fh  # read whole by the merger before the next one is opened

    with open(out_path, "wb", buffering=1024 * 1024) as out:
        merge_chunk_pdfs(chunks(), out)


def merge_zip(job, chunk_indexes, back_png, out_path):
    """back.png, then every chunk's entries in order. A chunk ZIP holds stored entries
    (render_chunk), so its local headers and data are copied as one block of bytes; only
    the central directory is written anew, with each entry's offset moved. One chunk in
    memory at a time."""
    with zipfile.ZipFile(out_path, "w", compression=zipfile.ZIP_STORED) as out:
        out.writestr(card_png_info("back.png"), back_png)
        for index in chunk_indexes:
            with open_chunk(job, index, "zip") as fh:
                _append_entries(out, fh.read(), label=chunk_name(job, index, "zip"))


def _append_entries(out, data, *, label):
    """Copy the entries of the ZIP `data` to the end of the ZIP being written, `out`.
    zipfile has no public way to add an entry already encoded, so this extends what it
    writes as the central directory on close (its filelist, from start_dir on)."""
    chunk = zipfile.ZipFile(io.BytesIO(data))
    entries = chunk.infolist()
    entries_end = chunk.start_dir
    if entries and (entries[0].header_offset != 0 or data[:4] != b"PK\x03\x04"):
        raise ValueError(f"{label}: its entries do not start the file")
    if any(info.compress_type != zipfile.ZIP_STORED for info in entries):
        raise ValueError(f"{label}: a compressed entry (chunks store their PNGs)")
    base = out.fp.tell()
    out.fp.write(memoryview(data)[:entries_end])
    for info in entries:
        info.header_offset += base
        out.filelist.append(info)
        out.NameToInfo[info.filename] = info
    out.start_dir = out.fp.tell()


def write_manifest(job, chunk_indexes, out_path):
    campaign = job.campaign
    head = {
        "job": job.pk,
        "campaign": {"id": campaign.pk, "name": campaign.name, "prefix": campaign.prefix,
                     "campaign_type": campaign.campaign_type, "language": campaign.language},
        "program": campaign.program.slug,
        "dpi": job.dpi,
        "include_mpi_id": job.include_mpi_id,
        "total_cards": job.total_cards,
        "back_png": "back.png",
    }
    with open(out_path, "w", encoding="utf-8") as out:
        # Streamed: the cards list is written line by line, never held whole in memory.
        out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "cards": [\n')
        first = True
        for index in chunk_indexes:
            with open_chunk(job, index, "jsonl") as fh:
                for line in fh:
                    line = line.decode().strip()
                    if not line:
                        continue
                    out.write(("" if first else ",\n") + line)
                    first = False
        out.write("\n]}\n")
