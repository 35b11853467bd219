"""URLs of the Digital Battery Passport API (filled in by its issue)."""

urlpatterns: list = []
