"""Admin pages for every DMLF model, for staff.

Staff keep the catalogues (institutes, methods, funding bodies, sample types with their JSON
Schema, checked when saved) and the lab staff records, which the API never shows. Methods and
projects take a ZIP archive, checked as the API checks uploads and stored as
``<method|project>_files/<id>.zip``. The files of samples and experiments come through the
API; here they show their size and the ZIP archive's listing, read from its central directory
without extracting anything.
"""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.admin import OrganizationOwnedAdmin
from core.files import FileWrites
from dmlf import services
from dmlf.archives import ArchiveRejected, zip_entries, zip_inspect
from dmlf.models import (
    Experiment,
    FundingBody,
    Institute,
    Method,
    Project,
    Sample,
    SampleType,
    Staff,
)
from dmlf.sample_types import sample_type_info

#: Entries of a ZIP archive listed on a change page.
LISTED_ENTRIES = 200


def file_size(field_file) -> str:
    """A stored file's size, or why there is none."""
    if not field_file:
        return "—"
    try:
        size = field_file.size
    except OSError:
        return "missing from the storage"
    return f"{size:,} bytes"


def zip_listing(field_file):
    """The archive's entries (name, size, compressed size) as a table, from its central
    directory: nothing is extracted."""
    if not field_file:
        return "—"
    try:
        with field_file.storage.open(field_file.name, "rb") as handle:
            rows = []
            total = 0
            for entry in zip_entries(handle):
                total += 1
                if len(rows) < LISTED_ENTRIES:
                    rows.append((entry.name, f"{entry.size:,}", f"{entry.compressed_size:,}"))
    except OSError:
        return "missing from the storage"
    except ArchiveRejected as exc:
        return f"unreadable: {exc}"
    body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
    more = f"{total - len(rows):,} more entries not listed." if total > len(rows) else ""
    return format_html(
        "<table><thead><tr><th>entry</th><th>bytes</th><th>compressed</th></tr></thead>"
        "<tbody>{}</tbody></table><p>{} entries. {}</p>",
        body,
        f"{total:,}",
        more,
    )


def download_link(obj, field_name: str, url_name: str):
    """A link to the API's download view of the file (staff may read every record)."""
    if not getattr(obj, field_name):
        return "—"
    url = reverse(url_name, args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, getattr(obj, field_name).name)


class APIRecordAdmin(admin.ModelAdmin):
    """Samples and experiments come through the API, which checks their files: here they are
    changed and deleted, not added."""

    def has_add_permission(self, request):
        return False


class ZipFileForm(forms.ModelForm):
    """A model form whose ``zip_field`` takes a ZIP archive checked as the API checks one."""

    zip_field = ""

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get(self.zip_field)
        if isinstance(upload, UploadedFile):
            limit = settings.DMLF_ZIP_MAX_SIZE
            if (upload.size or 0) > limit:
                self.add_error(self.zip_field, f"The file is over the limit of {limit} bytes.")
            else:
                try:
                    zip_inspect(upload)
                except ArchiveRejected as exc:
                    self.add_error(self.zip_field, str(exc))
        return cleaned


class ZipFileAdmin(admin.ModelAdmin):
    """Stores a new archive as ``<folder>/<id>.zip`` once the row has its id, and removes the
    old one after the commit."""

    zip_field = ""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (ZipFileForm, form), {"zip_field": self.zip_field})

    def save_model(self, request, obj, form, change):
        field = self.zip_field
        if field not in form.changed_data:
            return super().save_model(request, obj, form, change)
        upload = form.cleaned_data.get(field)
        previous = None
        if change:
            previous = type(obj).objects.filter(pk=obj.pk).values_list(field, flat=True).first()
        setattr(obj, field, previous)
        with FileWrites() as files:
            super().save_model(request, obj, form, change)
            services.catalogue_file_attach(
                obj=obj, field_name=field, upload=upload or None, files=files
            )


@admin.register(Institute)
class InstituteAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "affiliation", "city", "email", "date_registered"]
    search_fields = ["name", "affiliation", "city"]


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ["id", "first_name", "last_name", "institute", "email", "user", "active"]
    list_filter = ["active", "institute"]
    list_select_related = ["institute", "user"]
    search_fields = ["first_name", "last_name", "email"]
    autocomplete_fields = ["institute", "user"]


@admin.register(Method)
class MethodAdmin(ZipFileAdmin):
    zip_field = "method_file"
    list_display = ["id", "name", "institute", "method_file_size", "date_registered"]
    list_select_related = ["institute"]
    search_fields = ["name"]
    autocomplete_fields = ["institute"]
    readonly_fields = ["method_file_size", "method_file_entries"]

    @admin.display(description="method file size")
    def method_file_size(self, obj):
        return file_size(obj.method_file)

    @admin.display(description="method file entries")
    def method_file_entries(self, obj):
        return zip_listing(obj.method_file)


@admin.register(FundingBody)
class FundingBodyAdmin(admin.ModelAdmin):
    list_display = ["id", "name"]
    search_fields = ["name"]


@admin.register(Project)
class ProjectAdmin(ZipFileAdmin, OrganizationOwnedAdmin):
    zip_field = "project_file"
    list_display = ["id", "name", "abbreviation", "organization", "funding_body"]
    list_select_related = ["organization", "funding_body"]
    list_filter = ["organization", "funding_body"]
    search_fields = ["name", "abbreviation", "funding_number"]
    autocomplete_fields = ["organization", "funding_body", "created_by"]
    date_hierarchy = "date_registered"
    readonly_fields = ["project_file_size", "project_file_entries"]

    @admin.display(description="project file size")
    def project_file_size(self, obj):
        return file_size(obj.project_file)

    @admin.display(description="project file entries")
    def project_file_entries(self, obj):
        return zip_listing(obj.project_file)


class SampleTypeForm(forms.ModelForm):
    class Meta:
        model = SampleType
        fields = ["name", "schema"]
        widgets = {"schema": forms.Textarea(attrs={"rows": 24, "cols": 90})}


@admin.register(SampleType)
class SampleTypeAdmin(admin.ModelAdmin):
    """Sample types with their JSON Schema (checked when saved) and the field description
    the API derives from it."""

    form = SampleTypeForm
    list_display = ["id", "name"]
    search_fields = ["name"]
    readonly_fields = ["sample_type_info"]

    @admin.display(description="sample-type-info (what the API answers)")
    def sample_type_info(self, obj):
        if obj is None or not obj.pk:
            return "—"
        info = sample_type_info(obj.json_schema)
        return format_html("<pre>{}</pre>", json.dumps(info, indent=2))


@admin.register(Sample)
class SampleAdmin(APIRecordAdmin):
    list_display = ["sample_id", "name", "project", "sample_type", "user", "date_registered"]
    list_select_related = ["project", "sample_type", "user"]
    list_filter = ["sample_type", "project__organization"]
    search_fields = ["=sample_id", "name"]
    autocomplete_fields = ["institute", "method", "project", "parent", "user"]
    date_hierarchy = "date_registered"
    exclude = ["sample_info", "supplementary_file"]
    readonly_fields = [
        "sample_id",
        "sample_info_file",
        "sample_info_size",
        "supplementary_file_link",
        "supplementary_file_size",
        "supplementary_file_entries",
    ]

    @admin.display(description="sample information file")
    def sample_info_file(self, obj):
        return download_link(obj, "sample_info", "dmlf:sample-sample-info")

    @admin.display(description="supplementary file")
    def supplementary_file_link(self, obj):
        return download_link(obj, "supplementary_file", "dmlf:sample-supplementary-file")

    @admin.display(description="sample info size")
    def sample_info_size(self, obj):
        return file_size(obj.sample_info)

    @admin.display(description="supplementary file size")
    def supplementary_file_size(self, obj):
        return file_size(obj.supplementary_file)

    @admin.display(description="supplementary file entries")
    def supplementary_file_entries(self, obj):
        return zip_listing(obj.supplementary_file)


@admin.register(Experiment)
class ExperimentAdmin(APIRecordAdmin):
    list_display = ["id", "name", "sample", "method", "project", "user", "date_registered"]
    list_select_related = ["sample", "method", "project", "user"]
    list_filter = ["method", "project__organization"]
    search_fields = ["name", "=sample__sample_id"]
    autocomplete_fields = ["sample", "method", "staff", "project", "user"]
    date_hierarchy = "date_registered"
    exclude = ["experiment_file"]
    readonly_fields = ["experiment_file_link", "experiment_file_size", "experiment_file_entries"]

    @admin.display(description="experimental data file")
    def experiment_file_link(self, obj):
        return download_link(obj, "experiment_file", "dmlf:experiment-experiment-file")

    @admin.display(description="experiment file size")
    def experiment_file_size(self, obj):
        return file_size(obj.experiment_file)

    @admin.display(description="experiment file entries")
    def experiment_file_entries(self, obj):
        return zip_listing(obj.experiment_file)
