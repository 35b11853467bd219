"""The subject of the jobs BatteryDB started before jobs had one: a decoding's BMS file, an
analysis' EIS test (``core.jobs`` keeps each subject's latest job when it prunes old ones)."""

from django.db import migrations

SUBJECTS = {
    "batterydb.bms_decode": ("bms_file", "bms_file"),
    "batterydb.eis_analysis": ("test", "eis_test"),
}


def name_subjects(apps, schema_editor):
    Job = apps.get_model("core", "Job")
    for kind, (key, noun) in SUBJECTS.items():
        for job in Job.objects.filter(kind=kind, subject="").only("pk", "params").iterator():
            value = (job.params or {}).get(key)
            if isinstance(value, int):
                Job.objects.filter(pk=job.pk).update(subject=f"{noun}:{value}")


class Migration(migrations.Migration):
    dependencies = [
        ("batterydb", "0007_eis_analysis_job"),
        ("core", "0005_job_subject"),
    ]

    operations = [migrations.RunPython(name_subjects, migrations.RunPython.noop)]
