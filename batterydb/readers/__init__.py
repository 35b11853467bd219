"""Readers of instrument files and CAN logs, free of Django.

``instruments`` reads EIS sweeps from BioLogic, Gamry, CSV and spreadsheet files; it runs in
the bounded child process (``core.bounded``), so it and this package import nothing of Django.
``can_logs`` reads CAN frames from candump, Vector ASC and BLF, PCAN TRC and MF4 (ASAM MDF)
logs, streaming.
"""
