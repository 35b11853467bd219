"""URLs of the VoltStorage API (filled in by its issue)."""

urlpatterns: list = []
