"""URLs of the Data Mining Lab Freiberg API (filled in by its issue)."""

urlpatterns: list = []
