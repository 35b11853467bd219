"""The import form of an EIS test's page: an instrument file's sweep as the test's EIS data.

The form posts to ``eis_test_import`` (members of the test's organization, and staff), which
validates the fields with the API's own
:class:`~batterydb.views.imports.EISImportSerializer` and writes the sweep through the same
service as ``POST /api/v2/eis/tests/{id}/import/`` (``batterydb.services.instruments``):
read in a bounded child process, all rows or none. The browser goes back to the test's page
with a message: the format, sweep and points written, or what is wrong with the file, or the
points already stored and the hint to tick "replace".

A body larger than the import's size limit (``EIS_IMPORT_MAX_SIZE``, plus room for the form's
other fields) is refused from its Content-Length before it is read: the CSRF check, which
reads the body, comes after that check (``csrf_exempt`` outside, ``csrf_protect`` inside).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Max, Min
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from batterydb.models import EISData
from batterydb.pages.analysis import can_analyse
from batterydb.pages.common import visible_tests
from batterydb.pages.units import format_number
from batterydb.services import instruments
from batterydb.services.ingest import ConcurrentChange, DuplicatePoints
from batterydb.services.instruments import InstrumentFileError, SweepOutOfRange
from batterydb.views.imports import EISImportSerializer

#: What a multipart body may hold besides the file (boundaries, headers, the other fields).
FORM_OVERHEAD = 64 * 1024
#: The file names the instrument reader takes, for the file input's ``accept``.
ACCEPTED_EXTENSIONS = (".mpr", ".mpt", ".dta", ".csv", ".txt", ".xlsx")
#: How the page names the serializer's fields.
FIELD_LABELS = {"file": "File", "sweep": "Sweep", "on_conflict": "Replace"}


def import_context(request: HttpRequest, test) -> dict:
    """What the test's page needs for the import form (``can_import`` False: no form)."""
    return {
        "can_import": can_analyse(request, test),
        "import_url": reverse("batterydb-pages:eis-test-import", args=[test.pk]),
        "import_accept": ",".join(ACCEPTED_EXTENSIONS),
        "import_max_size": settings.EIS_IMPORT_MAX_SIZE,
    }


def _size_text(size: int) -> str:
    if size >= 2**20:
        return f"{size / 2**20:.3g} MB"
    if size >= 2**10:
        return f"{size / 2**10:.3g} kB"
    return f"{size} bytes"


def _stored_message(exc: DuplicatePoints, test) -> str:
    if exc.repeated:
        return (
            "Nothing was imported: the sweep repeats a frequency "
            f"({len(exc.repeated)} rows repeat earlier ones); each frequency may appear once."
        )
    held = EISData.objects.filter(test=test, frequency__isnull=False).aggregate(
        low=Min("frequency"), high=Max("frequency")
    )
    span = (
        f" (it holds data from {format_number(held['low'])} Hz to {format_number(held['high'])} Hz)"
        if held["low"] is not None
        else ""
    )
    return (
        f"Nothing was imported: {len(exc.stored)} of the sweep's values (the real or imaginary "
        f"part of Z at a frequency) are already stored for this test{span}. Tick “Replace "
        "points already stored” to give them the file's values."
    )


def _too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > settings.EIS_IMPORT_MAX_SIZE + FORM_OVERHEAD


@csrf_exempt
@login_required
@require_POST
def eis_test_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Import the posted file's sweep (``sweep``, default 1) as the test's data, replacing
    points already stored when ``replace`` is ticked; back to the test's page with the
    outcome as a message."""
    test = get_object_or_404(visible_tests(request), pk=pk)
    if not can_analyse(request, test):
        raise PermissionDenied("Importing data needs the member role.")
    if _too_large(request):
        # Nothing of the body is read (nor stored); the answer only sets a message.
        limit = settings.EIS_IMPORT_MAX_SIZE
        messages.error(
            request,
            f"Nothing was imported: instrument files are limited to {_size_text(limit)} "
            f"({limit} bytes).",
        )
        return redirect(_page(test))
    return _import(request, test)


@csrf_protect
def _import(request: HttpRequest, test) -> HttpResponse:
    data = {
        "sweep": request.POST.get("sweep", "").strip() or 1,
        "on_conflict": "replace" if request.POST.get("replace") else "error",
    }
    if "file" in request.FILES:
        data["file"] = request.FILES["file"]
    serializer = EISImportSerializer(data=data)
    if not serializer.is_valid():
        for name, problems in serializer.errors.items():
            why = " ".join(str(problem) for problem in problems)
            messages.error(request, f"{FIELD_LABELS.get(name, name)}: {why}")
        return redirect(_page(test))
    options = serializer.validated_data
    upload = options["file"]
    try:
        result = instruments.eis_test_import(
            test=test,
            upload=upload,
            sweep=options["sweep"],
            replace=options["on_conflict"] == "replace",
        )
    except SweepOutOfRange as exc:
        messages.error(request, f"Nothing was imported from {upload.name}: {exc}")
    except InstrumentFileError as exc:
        messages.error(request, f"Nothing was imported from {upload.name}: {exc}")
    except DuplicatePoints as exc:
        messages.error(request, _stored_message(exc, test))
    except ConcurrentChange:
        messages.error(request, "Nothing was imported: the test changed meanwhile; try again.")
    else:
        written = result.written
        replaced = f", {written.replaced} replaced" if written.replaced else ""
        messages.success(
            request,
            f"Imported sweep {result.sweep} of {result.sweeps} from {upload.name} "
            f"({result.format}): {result.points} frequencies, {written.created} rows "
            f"written{replaced}.",
        )
    return redirect(_page(test))


def _page(test) -> str:
    return reverse("batterydb-pages:eis-test-page", args=[test.pk]) + "#import"
