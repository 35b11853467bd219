"""BatteryDB measurements routes."""

urlpatterns: list = []
