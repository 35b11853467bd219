"""BatteryDB resource routes under ``/api/v2/``, with trailing slashes and integer ids.

Route names are ``batterydb:<resource>-list``/``-detail`` (and ``-download``), in the
``batterydb`` namespace (``batterydb.urls``). The aliases and
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
router.register("projects", ProjectViewSet, basename="project")
router.register("types/batteries", BatteryTypeViewSet, basename="battery-type")
router.register("batteries/types", BatteryTypeViewSet, basename="battery-type-alias")
router.register("batteries", BatteryViewSet, basename="battery")
router.register("eis/devices", EISDeviceViewSet, basename="eis-device")
router.register("eis/tests", EISTestViewSet, basename="eis-test")
router.register("bms/tests", BMSTestViewSet, basename="bms-test")
router.register("bms/dbc/files", DBCFileViewSet, basename="dbc-file")
router.register("bms/files", BMSFileViewSet, basename="bms-file")
router.register("models/versions", ModelVersionViewSet, basename="model-version")
router.register("models/predictions", ModelPredictionViewSet, basename="model-prediction")
router.register("models", BatteryModelViewSet, basename="model")

urlpatterns = router.urls
