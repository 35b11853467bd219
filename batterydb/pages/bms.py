"""The BMS test list, one BMS test's page, and the form that decodes a BMS file's CAN log.

A test's page shows its facts, its default DBC file and its BMS files (a page of
``FILES_PER_PAGE`` at a time), each with its latest decoding: the job's progress while it is
queued or running (``core/job_progress.html``, which reloads the page when the job ends), its
error when it failed, its summary when it succeeded (frames, messages, signals, rows, the time
span, the frames of ids the DBC lacks).

Members of the test's organization (and staff) decode a file from its row: the DBC file among
the organization's (the test's default DBC preselected) and whether the log's values replace
overlapping points of other sources. The form posts to ``bms_file_decode``, which validates
it with the API's :class:`~batterydb.views.decode.BMSDecodeSerializer` and starts the job with
the same service as ``POST /api/v2/bms/files/{id}/decode/``
(:func:`~batterydb.services.decode.bms_file_decode_start`), then sends the browser back to
the test's page.

Login required; other organizations' tests and files are 404; viewers see everything but no
form, and their posts are 403. Each page costs a fixed number of queries, whatever the
number of tests or files (the files' latest decodings are read by one subquery).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import CharField, Count, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from batterydb.models import BMSFile, BMSTest, DBCFile
from batterydb.pages.common import BadFilter, bad_request, by_battery_or_device, visible
from batterydb.services.decode import (
    DECODE_JOB,
    DecodeBusy,
    DecodeRefused,
    bms_file_decode_dbc,
    bms_file_decode_start,
    decode_subject,
)
from batterydb.views.decode import BMSDecodeSerializer
from core.jobs import Job
from core.models import Membership
from core.tenancy import has_role

TESTS_PER_PAGE = 50
FILES_PER_PAGE = 50
#: Unknown frame ids a file's summary names (the job keeps the 100 most frequent).
UNKNOWN_IDS_SHOWN = 10
#: DBC files the decode form offers (the organization's, newest first).
MAX_DBC_CHOICES = 500


def can_decode(request: HttpRequest, organization_id: int) -> bool:
    """Whether the user may decode the organization's files: member or owner, or staff."""
    return has_role(request, organization_id, Membership.Role.MEMBER)


def _visible_tests(request: HttpRequest):
    return visible(request, BMSTest).select_related(
        "organization", "battery", "device", "default_dbc"
    )


@login_required
def bms_test_list(request: HttpRequest) -> HttpResponse:
    """The user's BMS tests, newest first, with their number of files; ``?battery=<id>`` or
    ``?device=<id>`` narrows the list to one battery's or device's tests."""
    tests = _visible_tests(request).annotate(file_count=Count("files")).order_by("-id")
    try:
        tests, context = by_battery_or_device(request, tests)
    except BadFilter as exc:
        return bad_request(request, str(exc))
    page = Paginator(tests, TESTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "batterydb/bms_test_list.html", {"page": page, **context})


def _latest_decodings(files: list[BMSFile]) -> dict[int, Job]:
    """Each file's latest decoding job, read in one query (the ids by a subquery on the
    jobs' subject index)."""
    if not files:
        return {}
    subject = Concat(Value(decode_subject("")), Cast(OuterRef("pk"), CharField()))
    latest = (
        Job.objects.filter(
            kind=DECODE_JOB, organization=OuterRef("organization_id"), subject=subject
        )
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    job_ids = (
        BMSFile.objects.filter(pk__in=[f.pk for f in files])
        .annotate(job_id=Subquery(latest))
        .values_list("pk", "job_id")
    )
    by_file = {file_id: job_id for file_id, job_id in job_ids if job_id is not None}
    jobs = Job.objects.in_bulk(by_file.values())
    return {file_id: jobs[job_id] for file_id, job_id in by_file.items() if job_id in jobs}


def duration_text(seconds: float) -> str:
    """A span as a person reads it: ``0.49 s``, ``12 min 5 s``, ``3 h 20 min``."""
    if seconds < 60:
        return f"{seconds:.3g} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _summary(result: dict | None, dbc_names: dict[int, str]) -> dict | None:
    """A succeeded decoding's summary as the page shows it."""
    if not result:
        return None
    unknown_ids = list((result.get("unknown_frame_ids") or {}).items())
    start = parse_datetime(result["start"]) if result.get("start") else None
    end = parse_datetime(result["end"]) if result.get("end") else None
    return {
        **result,
        "dbc_name": dbc_names.get(result.get("dbc"), f"DBC file {result.get('dbc')}"),
        "start": start,
        "end": end,
        "duration": duration_text((end - start).total_seconds()) if start and end else "",
        "unknown_ids": unknown_ids[:UNKNOWN_IDS_SHOWN],
        "more_unknown_ids": max(len(unknown_ids) - UNKNOWN_IDS_SHOWN, 0),
    }


@login_required
def bms_test_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One BMS test: its facts, its files with their latest decoding, the decode forms."""
    test = get_object_or_404(_visible_tests(request), pk=pk)
    files = BMSFile.objects.filter(bms_test=test).select_related("file").order_by("-id")
    files_page = Paginator(files, FILES_PER_PAGE).get_page(request.GET.get("page"))
    page_files = list(files_page.object_list)
    decodings = _latest_decodings(page_files)
    allowed = can_decode(request, test.organization_id)
    dbcs = []
    if allowed:
        dbcs = list(
            DBCFile.objects.filter(organization=test.organization_id)
            .order_by("-id")
            .values_list("pk", "name")[:MAX_DBC_CHOICES]
        )
    dbc_names = {pk: name or f"DBC file {pk}" for pk, name in dbcs}
    if test.default_dbc is not None:
        dbc_names[test.default_dbc_id] = str(test.default_dbc)
    missing = {
        job.result["dbc"]
        for job in decodings.values()
        if job.result and job.result.get("dbc") not in dbc_names
    }
    if missing:
        dbc_names.update(
            (pk, name or f"DBC file {pk}")
            for pk, name in DBCFile.objects.filter(pk__in=missing).values_list("pk", "name")
        )
    rows = []
    for bms_file in page_files:
        job = decodings.get(bms_file.pk)
        rows.append(
            {
                "file": bms_file,
                "job": job,
                "active": job is not None and not job.done,
                "summary": _summary(job.result, dbc_names)
                if job is not None and job.status == Job.Status.SUCCEEDED
                else None,
                "download_url": reverse("batterydb:bms-file-download", args=[bms_file.pk]),
                "decode_url": reverse("batterydb-pages:bms-file-decode", args=[bms_file.pk]),
            }
        )
    context = {
        "test": test,
        "files_page": files_page,
        "rows": rows,
        "can_decode": allowed,
        "dbc_choices": [(pk, dbc_names[pk]) for pk, _ in dbcs],
        "api_url": reverse("batterydb:bms-test-detail", args=[test.pk]),
        "results_url": f"{reverse('batterydb:bms-result-list')}?bms_test={test.pk}",
        "files_api_url": f"{reverse('batterydb:bms-file-list')}?bms_test={test.pk}",
        "default_dbc_url": (
            reverse("batterydb:dbc-file-download", args=[test.default_dbc_id])
            if test.default_dbc_id
            else None
        ),
    }
    return render(request, "batterydb/bms_test_page.html", context)


@login_required
@require_POST
def bms_file_decode(request: HttpRequest, pk: int) -> HttpResponse:
    """Start decoding the file with the form's DBC file (default the test's default DBC),
    replacing overlapping points of other sources when ``replace`` is ticked; back to the
    test's page, where the job's progress, then its outcome, shows."""
    files = visible(request, BMSFile).select_related("bms_test", "file")
    bms_file = get_object_or_404(files, pk=pk)
    if not can_decode(request, bms_file.organization_id):
        raise PermissionDenied("Decoding a file needs the member role.")
    if bms_file.bms_test is None:
        messages.error(request, "This BMS file belongs to no BMS test; set its bms_test first.")
        return redirect("batterydb-pages:bms-test-list")
    page = reverse("batterydb-pages:bms-test-page", args=[bms_file.bms_test_id])
    page += f"#file-{bms_file.pk}"
    data = {"on_conflict": "replace" if request.POST.get("replace") else "error"}
    if raw := request.POST.get("dbc", "").strip():
        data["dbc"] = raw
    serializer = BMSDecodeSerializer(data=data)
    if not serializer.is_valid():
        for name, problems in serializer.errors.items():
            label = "DBC file" if name == "dbc" else name
            messages.error(request, f"{label}: {' '.join(str(p) for p in problems)}")
        return redirect(page)
    options = serializer.validated_data
    try:
        dbc = bms_file_decode_dbc(bms_file=bms_file, dbc_id=options.get("dbc"))
    except DecodeRefused as exc:
        messages.error(request, f"DBC file: {exc}")
        return redirect(page)
    try:
        job = bms_file_decode_start(
            bms_file=bms_file,
            dbc=dbc,
            replace=options["on_conflict"] == "replace",
            user=request.user,
        )
    except DecodeBusy as exc:
        messages.error(request, f"{exc} Wait for it to end before decoding the file again.")
        return redirect(page)
    messages.success(
        request, f"Decoding of {bms_file.file.name} with {dbc} has started (job {job.pk})."
    )
    return redirect(page)
