"""BatteryDB resource routes under ``/api/v2/``, with trailing slashes and integer ids.

Route names are ``batterydb-<resource>-list``/``-detail`` (and ``-download``). The aliases and
the nested collections (``batteries/types/``, ``models/versions/``,
``models/predictions/``) are registered before the collections whose detail route they would
otherwise look like.
"""

from batterydb.views.files import BMSFileViewSet, DBCFileViewSet, ModelVersionViewSet
from batterydb.views.resources import (
    BatteryModelViewSet,
    BatteryTypeViewSet,
    BatteryViewSet,
    BMSTestViewSet,
    EISDeviceViewSet,
    EISTestViewSet,
    ModelPredictionViewSet,
    ProjectViewSet,
)
from core.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("projects", ProjectViewSet, basename="batterydb-project")
router.register("types/batteries", BatteryTypeViewSet, basename="batterydb-battery-type")
router.register("batteries/types", BatteryTypeViewSet, basename="batterydb-battery-type-alias")
router.register("batteries", BatteryViewSet, basename="batterydb-battery")
router.register("eis/devices", EISDeviceViewSet, basename="batterydb-eis-device")
router.register("eis/tests", EISTestViewSet, basename="batterydb-eis-test")
router.register("bms/tests", BMSTestViewSet, basename="batterydb-bms-test")
router.register("bms/dbc/files", DBCFileViewSet, basename="batterydb-dbc-file")
router.register("bms/files", BMSFileViewSet, basename="batterydb-bms-file")
router.register("models/versions", ModelVersionViewSet, basename="batterydb-model-version")
router.register("models/predictions", ModelPredictionViewSet, basename="batterydb-model-prediction")
router.register("models", BatteryModelViewSet, basename="batterydb-model")

urlpatterns = router.urls
