"""Serializers of BatteryDB: ``resources`` (this module's engineer) and ``measurements``."""
