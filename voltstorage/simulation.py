"""A simulated home energy storage: PV, household, grid and a vanadium flow battery, with NumPy.

:func:`simulate` gives the samples of one product at a chosen interval over a span of time:

- **PV**: the sun's elevation for the site's latitude by day of the year and time of day
  (solar time from the longitude), times the array's peak power, times a clearness that
  varies from day to day and drifts within the day (passing clouds);
- **household**: a base load with a morning and an evening peak, larger in winter, plus
  appliances switching on for a few minutes and measurement noise;
- **storage**: charged from the PV surplus and discharged into the deficit, each at most
  ``storage_power_w``, between 5 % and 100 % state of charge, computed minute by minute (the
  only sequential step) with the losses of the inverter and of the stack; its pumps draw
  their own power while it works;
- **measurements**: grid power = household + pumps - PV - storage AC power, with the
  original's signs (grid import positive; the storage's powers positive while it discharges,
  negative while it charges, as in its documented CSV sample), stack voltage from the state of
  charge and the current, electrolyte and pump temperatures warming with the work done and
  following the day, and a state code.

A month of 1 Hz samples (2.6 million) takes a few seconds; ``manage.py voltstorage_simulate``
writes them through the same path as ingestion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from voltstorage import catalogue

MINUTE_MS = 60_000
DAY_MS = 86_400_000

STANDBY, CHARGING, DISCHARGING, FULL, EMPTY = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Site:
    latitude: float = 50.1
    longitude: float = 8.7
    pv_peak_w: float = 6000.0
    storage_power_w: float = 1500.0
    capacity_ws: float = 6.2 * 3_600_000  # 6.2 kWh
    inverter_efficiency: float = 0.92
    stack_efficiency: float = 0.88
    pump_power_w: float = 45.0
    nominal_voltage: float = 48.0


def sun_elevation_sine(epoch_ms: np.ndarray, site: Site) -> np.ndarray:
    """The sine of the sun's elevation at each instant (negative at night)."""
    days = epoch_ms / DAY_MS
    day_of_year = (days - 0.5 + 1) % 365.2425  # close enough for a simulation
    declination = np.radians(23.44) * np.sin(2 * np.pi * (284 + day_of_year) / 365.2425)
    solar_hours = (epoch_ms % DAY_MS) / 3_600_000 + site.longitude / 15
    hour_angle = np.radians(15 * (solar_hours - 12))
    latitude = math.radians(site.latitude)
    return np.sin(latitude) * np.sin(declination) + np.cos(latitude) * np.cos(declination) * np.cos(
        hour_angle
    )


def _smooth_noise(rng, count: int, scale: int) -> np.ndarray:
    """Noise that drifts over about ``scale`` steps, between -1 and 1."""
    raw = rng.normal(size=count + scale)
    kernel = np.hanning(max(scale, 3))
    smooth = np.convolve(raw, kernel / kernel.sum(), mode="same")[:count]
    return np.clip(smooth / (smooth.std() or 1) / 3, -1, 1)


def _minutes(start_ms: int, end_ms: int, site: Site, rng) -> dict[str, np.ndarray]:
    """The energy flows minute by minute (the battery's dispatch is sequential)."""
    minutes = np.arange(start_ms // MINUTE_MS, -(-end_ms // MINUTE_MS) + 1, dtype=np.int64)
    epoch = minutes * MINUTE_MS
    count = len(minutes)
    day_index = (epoch // DAY_MS) - (epoch[0] // DAY_MS)
    clearness_by_day = rng.uniform(0.35, 1.0, size=int(day_index[-1]) + 1)
    clearness = np.clip(clearness_by_day[day_index] + 0.25 * _smooth_noise(rng, count, 45), 0.05, 1)
    pv = site.pv_peak_w * np.clip(sun_elevation_sine(epoch, site), 0, None) ** 1.15 * clearness

    local_hours = ((epoch % DAY_MS) / 3_600_000 + site.longitude / 15) % 24
    season = 1 + 0.3 * np.cos(2 * np.pi * ((epoch / DAY_MS) % 365.2425) / 365.2425)
    morning = 700 * np.exp(-(((local_hours - 7.3) / 0.9) ** 2))
    evening = 1300 * np.exp(-(((local_hours - 19.0) / 1.8) ** 2))
    household = (260 + morning + evening) * season
    appliances = np.zeros(count)
    starts = np.flatnonzero(rng.random(count) < 0.012)
    for start in starts.tolist():  # a few dozen per day
        appliances[start : start + int(rng.integers(2, 12))] += rng.choice([800, 1200, 2000])
    household = household + appliances

    soc = np.empty(count)
    # Computed here as flows into the storage (charging positive); ``simulate`` turns them to the
    # original's signs (discharging positive).
    ac = np.empty(count)  # storage AC power, charging positive
    dc = np.empty(count)  # power into the stack, charging positive
    level = 0.5
    surplus = pv - household
    limit = site.storage_power_w
    for i in range(count):
        wanted = surplus[i]
        if wanted > 0 and level < 1.0:
            power = min(wanted, limit)
            stack = power * site.inverter_efficiency * site.stack_efficiency
            room = (1.0 - level) * site.capacity_ws / 60
            if stack > room:
                stack = room
                power = stack / (site.inverter_efficiency * site.stack_efficiency)
        elif wanted < 0 and level > 0.05:
            power = max(wanted, -limit)
            stack = power / (site.inverter_efficiency * site.stack_efficiency)
            room = (level - 0.05) * site.capacity_ws / 60
            if -stack > room:
                stack = -room
                power = stack * site.inverter_efficiency * site.stack_efficiency
        else:
            power = stack = 0.0
        level = min(1.0, max(0.0, level + stack * 60 / site.capacity_ws))
        soc[i], ac[i], dc[i] = level, power, stack
    return {"epoch": epoch, "pv": pv, "household": household, "soc": soc, "ac": ac, "dc": dc}


def simulate(
    *, start_ms: int, end_ms: int, interval_ms: int, seed: int = 0, site: Site | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Samples from ``start_ms`` (included) to ``end_ms`` (excluded) every ``interval_ms``: times
    in milliseconds and a matrix with a column per catalogue field (every field present)."""
    site = site or Site()
    rng = np.random.default_rng(seed)
    times = np.arange(start_ms, end_ms, interval_ms, dtype=np.int64)
    flows = _minutes(start_ms, end_ms, site, rng)
    position = np.clip(
        np.searchsorted(flows["epoch"], times, side="right") - 1, 0, len(flows["epoch"]) - 1
    )
    fraction = (times - flows["epoch"][position]) / MINUTE_MS
    following = np.minimum(position + 1, len(flows["epoch"]) - 1)

    def at(name: str) -> np.ndarray:
        series = flows[name]
        return series[position] + (series[following] - series[position]) * fraction

    count = len(times)
    noise = rng.normal(size=(count, 4))
    pv = np.clip(at("pv") * (1 + 0.01 * noise[:, 0]), 0, None)
    household = np.clip(at("household") + 15 * noise[:, 1], 60, None)
    # The storage's powers with the original's signs: positive while it discharges.
    inverter = -at("ac")
    storage = -at("dc")
    working = np.abs(inverter) > 1
    pumps = np.where(working, site.pump_power_w, 4.0)
    # The DC side: more than the AC side while discharging, less while charging.
    electronics = np.where(
        inverter >= 0, inverter / site.inverter_efficiency, inverter * site.inverter_efficiency
    )
    grid = household + pumps - pv - inverter + 8 * noise[:, 2]
    soc = np.clip(at("soc"), 0, 1)
    current = -storage / site.nominal_voltage  # into the stack
    voltage = site.nominal_voltage + 6 * (soc - 0.5) + 0.02 * current + 0.05 * noise[:, 3]
    hours = ((times % DAY_MS) / 3_600_000 + site.longitude / 15) % 24
    # The stack's recent work (a moving mean over up to 600 samples; fewer in a short window).
    window = max(1, min(600, count))
    activity = (
        np.convolve(np.abs(storage), np.ones(window) / window, mode="same") if count else storage
    )
    electrolyte = 24 + 4 * np.sin(2 * np.pi * (hours - 9) / 24) + activity / 200
    pump = electrolyte + 3 + 6 * working + rng.normal(scale=0.1, size=count)
    idle = np.where(soc >= 0.999, FULL, np.where(soc <= 0.051, EMPTY, STANDBY))
    status = np.where(inverter > 1, DISCHARGING, np.where(inverter < -1, CHARGING, idle))
    columns = {
        "gridPower": grid,
        "householdPower": household,
        "inverterPower": inverter,
        "pvPower": pv,
        "powerElectronicsPower": electronics,
        "stateOfCharge": soc,
        "status": status.astype(np.float64),
        "storagePower": storage,
        "dcVoltage": voltage,
        "electrolyteTemperature": electrolyte,
        "pumpTemperature": pump,
    }
    values = np.empty((count, len(catalogue.FIELDS)))
    for index, spec in enumerate(catalogue.FIELDS):
        column = columns[spec.name]
        values[:, index] = column if spec.integer else np.round(column, 4)
    return times, values
