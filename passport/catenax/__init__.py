"""A passport as a Catena-X battery pass 3.0.1 (``?format=catenax`` on a passport).

The target is the aspect model ``io.catenax.battery.battery_pass:3.0.1`` as its JSON Schema
defines it (``passport/schemas/``). The documented passport maps onto most of it field by
field (:data:`FIELDS`: the electrochemical, dimensional, cycle-life and state properties, the
six material lists of the cell chemistry, the carbon footprint, the idle temperature range,
the warranty and the documents). What Catena-X requires beyond the documented passport comes
from two places, never from a guess:

* the **manufacturer** (name, contact, postal address): the owning organization's profile
  (``core.models.Organization``);
* the **passport's extension fields** (``passport.definitions.EXTENSION_FIELDS``):
  ``batteryType`` and ``batteryModel``, ``datePlacedOnMarket``, the address of the place of
  manufacture, the full composition as a list of materials, and each supplier's address.

Conversions are readings, not inventions: the voltages, strings in the documented passport,
are read as numbers (a trailing ``V`` allowed); an address becomes Catena-X's parts (street,
city, regular postcode in lower case, ISO 3166 country); material lists keep name, mass
fraction and weight, each material once. A value Catena-X requires that is missing, or that
cannot be read as Catena-X needs it (a month where it needs a day), is a problem named by its
Catena-X path, with what to fill in: the export then answers 422 with every problem at once.
An attachment without a URL is left out of ``document`` (Catena-X needs one; the documents
are optional there).

Trimming: the export is made from what the reader may see (``passport.classes``). What the
reader may not see is left out, also where Catena-X requires it, and is not reported as
missing, so only a reader who sees every point gets an export that is complete; any other
export validates against the schema with ``required`` relaxed. Every export is validated
before it is answered (the full schema for a complete reader, the relaxed one otherwise).

The package: ``model`` (the published schema, validation, what it requires), ``conversions``
(readings of passport values), ``mapping`` (:data:`FIELDS`), ``export`` (:func:`catenax_export`
and its 422). Importers use the names below, from ``passport.catenax``.
"""

from passport.catenax.conversions import ADDRESS_PARTS, Convert, Export, Source
from passport.catenax.export import ExportIncomplete, catenax_export
from passport.catenax.mapping import FIELDS
from passport.catenax.model import (
    FORMAT,
    MEDIA_TYPE,
    MODEL,
    SCHEMA_FILE,
    required,
    schema,
    validator,
    without_required,
)

__all__ = [
    "ADDRESS_PARTS",
    "FIELDS",
    "FORMAT",
    "MEDIA_TYPE",
    "MODEL",
    "SCHEMA_FILE",
    "Convert",
    "Export",
    "ExportIncomplete",
    "Source",
    "catenax_export",
    "required",
    "schema",
    "validator",
    "without_required",
]
