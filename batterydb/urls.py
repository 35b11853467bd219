"""URLs of the BatteryDB API (filled in by its issue)."""

urlpatterns: list = []
