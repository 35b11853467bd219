"""Serializers of BatteryDB: ``resources`` (the CRUD resources) and ``measurements``."""
