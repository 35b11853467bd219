"""The original API's four sample types, with their ``sample_info`` schemas, in the order of
their ids there (Battery 1, Solids 2, Liquid 3, Suspension 4 on a new database)."""

from django.db import migrations

from dmlf.sample_types import BUILTIN_SAMPLE_TYPES, schema_text


def create_builtin_sample_types(apps, schema_editor):
    SampleType = apps.get_model("dmlf", "SampleType")
    for name, schema in BUILTIN_SAMPLE_TYPES.items():
        if not SampleType.objects.filter(name__iexact=name).exists():
            SampleType.objects.create(name=name, schema=schema_text(schema))


def remove_builtin_sample_types(apps, schema_editor):
    SampleType = apps.get_model("dmlf", "SampleType")
    SampleType.objects.filter(name__in=list(BUILTIN_SAMPLE_TYPES), samples__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("dmlf", "0001_initial")]

    operations = [
        migrations.RunPython(create_builtin_sample_types, remove_builtin_sample_types),
    ]
