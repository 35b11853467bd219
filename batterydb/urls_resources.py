"""BatteryDB resources routes."""

urlpatterns: list = []
