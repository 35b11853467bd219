"""Django's SQLite backend with the process's idle SQLite connections reused (``base``)."""
