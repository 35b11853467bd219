"""Server-rendered pages of BatteryDB, mounted at ``/batterydb/`` (``batterydb.urls_pages``):

- ``eis``: the user's EIS tests and one test's page (Nyquist and Bode plots, data table, CSV);
- ``analysis``: a test's analysis on its page, and the form that starts it;
- ``imports``: the form on a test's page that imports an instrument file's sweep;
- ``compare``: several tests' sweeps overlaid, fitted resistances against the test date;
- ``bms``: the user's BMS tests and one test's page (its files, each one's latest decoding of
  its CAN log), and the form that decodes a file.

The plots are drawn in the browser by ``static/batterydb/eis.js`` with uPlot, served from the
platform's own static files (``static/batterydb/vendor/``).
"""

from batterydb.pages.analysis import eis_test_analyse
from batterydb.pages.bms import bms_file_decode, bms_test_list, bms_test_page
from batterydb.pages.compare import eis_compare
from batterydb.pages.eis import eis_test_list, eis_test_page
from batterydb.pages.imports import eis_test_import

__all__ = [
    "bms_file_decode",
    "bms_test_list",
    "bms_test_page",
    "eis_compare",
    "eis_test_analyse",
    "eis_test_import",
    "eis_test_list",
    "eis_test_page",
]
