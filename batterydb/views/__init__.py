"""Views of BatteryDB: ``resources`` and ``files`` (the CRUD resources) and ``measurements``."""
