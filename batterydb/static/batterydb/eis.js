// EIS plots of the BatteryDB pages, drawn with uPlot (vendor/uPlot.iife.min.js, MIT).
//
// The test page (#eis-plot-data) draws its sweep as a Nyquist plot (−Z″ against Z′ on equal
// scales, −Z″ up) and two Bode plots (|Z| and phase against log frequency); the comparison
// page (#eis-compare-data) overlays several tests' sweeps in one Nyquist plot. The data come
// in JSON data blocks written by the server (no inline script); impedances are already in the
// page's unit. Each figure gets data-points (points drawn) and data-series once drawn.
// Colours come from the .swatch-N classes of eis.css, so that tables and plots agree.
(function () {
  "use strict";

  if (typeof window.uPlot === "undefined") return;
  const uPlot = window.uPlot;

  // --- Numbers: four significant digits, as the server's format_number ----------------------

  function formatNumber(value) {
    if (value == null || !Number.isFinite(value)) return "";
    if (value === 0) return "0";
    const magnitude = Math.abs(value);
    if (magnitude < 1e-4 || magnitude >= 1e6) {
      return value.toExponential(3).replace(/e([+-])(\d)$/, "e$10$2");
    }
    const exponent = Math.floor(Math.log10(magnitude));
    let decimals = Math.max(0, 3 - exponent);
    let text = value.toFixed(decimals);
    if (decimals && text.replace(/^-/, "").replace(".", "").replace(/^0+/, "").length > 4) {
      text = value.toFixed(decimals - 1);
    }
    return text;
  }

  // Axis ticks: short, without trailing zeros (the grid shows their spacing).
  function tickValues(u, splits) {
    return splits.map((v) => (v == null ? "" : String(Number(v.toPrecision(6)))));
  }

  function readJSON(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  const colourCache = {};
  function colour(index) {
    if (!(index in colourCache)) {
      const probe = document.createElement("span");
      probe.className = `swatch swatch-${index}`;
      probe.hidden = true;
      document.body.appendChild(probe);
      colourCache[index] = getComputedStyle(probe).backgroundColor || "#1f6feb";
      probe.remove();
    }
    return colourCache[index];
  }

  // Says what the axes show in the plot's accessible name ("…: −Z″ (mΩ) against Z′ (mΩ)").
  function nameAxes(holder, xLabel, yLabel) {
    const name = holder.getAttribute("aria-label") || "Plot";
    holder.setAttribute("aria-label", `${name}: ${yLabel} against ${xLabel}`);
  }

  function figureWidth(figure) {
    return Math.max(200, Math.floor(figure.clientWidth));
  }

  // Redraws a chart at its figure's width when that changes (phones turning, windows).
  function followWidth(figure, chart, height) {
    if (typeof ResizeObserver === "undefined") return;
    let width = figureWidth(figure);
    new ResizeObserver(() => {
      const next = figureWidth(figure);
      if (next !== width) {
        width = next;
        chart.setSize({ width: next, height: height(next) });
      }
    }).observe(figure);
  }

  function axisFont() {
    return `12px ${getComputedStyle(document.body).fontFamily}`;
  }

  function axis(label, extra) {
    return Object.assign(
      {
        label: label,
        labelFont: `600 ${axisFont()}`,
        font: axisFont(),
        values: tickValues,
        grid: { stroke: "#e6e9ee", width: 1 },
        ticks: { stroke: "#c3cad4", width: 1, size: 4 },
      },
      extra || {}
    );
  }

  // --- Nyquist: mode 2 (x and y per series), equal scales -----------------------------------

  function extent(values) {
    let min = Infinity;
    let max = -Infinity;
    values.forEach((v) => {
      if (v != null && Number.isFinite(v)) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
    });
    return min <= max ? [min, max] : [0, 1];
  }

  // Axis ranges with the same units per pixel on both axes, around the data with a margin.
  function equalRanges(u, xs, ys) {
    const [x0, x1] = extent(xs);
    const [y0, y1] = extent(ys);
    const width = u.bbox.width || 1;
    const height = u.bbox.height || 1;
    const span = Math.max(x1 - x0, y1 - y0, 1e-12);
    const perPixel = (Math.max((x1 - x0) / width, (y1 - y0) / height) || span / width) * 1.08;
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    return {
      x: [cx - (perPixel * width) / 2, cx + (perPixel * width) / 2],
      y: [cy - (perPixel * height) / 2, cy + (perPixel * height) / 2],
    };
  }

  const LINEAR = uPlot.paths.linear();
  const MARKER_RADIUS = 2.5; // CSS pixels

  // uPlot's own point markers need an index range that a mode 2 chart lacks: the line's
  // path gets a hollow circle at every point instead, stroked with the line.
  function lineAndMarkers(u, seriesIdx, idx0, idx1) {
    const paths = LINEAR(u, seriesIdx, idx0, idx1);
    uPlot.orient(u, seriesIdx, (series, xs, ys, sx, sy, toX, toY, xOff, yOff, xDim, yDim, moveTo, lineTo, rect, arc) => {
      const radius = MARKER_RADIUS * uPlot.pxRatio;
      for (let i = 0; i < xs.length; i++) {
        if (xs[i] == null || ys[i] == null) continue;
        const cx = toX(xs[i], sx, xDim, xOff);
        const cy = toY(ys[i], sy, yDim, yOff);
        if (!paths.stroke) break;
        moveTo(paths.stroke, cx + radius, cy);
        arc(paths.stroke, cx, cy, radius, 0, 2 * Math.PI);
      }
    });
    return paths;
  }

  // lines: [{label, colour, x: [...], y: [...], dash, points}]
  function nyquist(figure, unit, lines) {
    const holder = figure.querySelector(".eis-canvas");
    const xs = [].concat(...lines.map((line) => line.x));
    const ys = [].concat(...lines.map((line) => line.y));
    const [x0, x1] = extent(xs);
    const [y0, y1] = extent(ys);
    const aspect = Math.max(0.35, Math.min(1, (y1 - y0) / Math.max(x1 - x0, 1e-12)));
    const height = (width) => Math.round(Math.min(520, Math.max(240, width * aspect + 90)));
    const range = (key) => (u) => equalRanges(u, xs, ys)[key];
    const width = figureWidth(figure);
    const options = {
      mode: 2,
      width: width,
      height: height(width),
      legend: { live: false, show: lines.length > 1 || lines.some((line) => line.dash) },
      cursor: { drag: { x: false, y: false, setScale: false }, points: { show: false } },
      scales: {
        x: { time: false, range: range("x") },
        y: { range: range("y") },
      },
      axes: [axis(`Z′ (${unit})`), axis(`−Z″ (${unit})`, { size: 56 })],
      series: [
        null,
        ...lines.map((line) => ({
          label: line.label,
          stroke: line.colour,
          width: line.dash ? 2 : 1.5,
          dash: line.dash ? [6, 4] : undefined,
          facets: [
            { scale: "x", auto: true },
            { scale: "y", auto: true },
          ],
          paths: line.points === false ? LINEAR : lineAndMarkers,
          points: { show: false },
        })),
      ],
      hooks: {
        // The equal scales need the plot's size in pixels, known once laid out.
        ready: [(u) => u.setData(u.data)],
        setSize: [(u) => u.setData(u.data)],
      },
    };
    const data = [null, ...lines.map((line) => [line.x, line.y])];
    nameAxes(holder, `Z′ (${unit})`, `−Z″ (${unit})`);
    const chart = new uPlot(options, data, holder);
    followWidth(figure, chart, height);
    return chart;
  }

  // --- Bode: frequency on a log axis, shared by every series -----------------------------------

  // lines: [{label, colour, frequency: [...ascending], y: [...], dash, points}]; the x axis is
  // frequency unless xLabel says otherwise (the DRT's relaxation time).
  function bode(figure, label, lines, xLabel) {
    xLabel = xLabel || "Frequency (Hz)";
    const holder = figure.querySelector(".eis-canvas");
    const joined = uPlot.join(lines.map((line) => [line.frequency, line.y]));
    const height = (width) => Math.round(Math.min(320, Math.max(200, width * 0.45)));
    const width = figureWidth(figure);
    const options = {
      width: width,
      height: height(width),
      legend: { show: lines.length > 1 },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: false, distr: 3, log: 10 } },
      axes: [axis(xLabel), axis(label, { size: 56 })],
      series: [
        { label: xLabel, value: (u, v) => formatNumber(v) },
        ...lines.map((line) => ({
          label: line.label,
          stroke: line.colour,
          width: line.dash ? 2 : 1.5,
          dash: line.dash ? [6, 4] : undefined,
          spanGaps: true,
          value: (u, v) => formatNumber(v),
          points: { show: line.points !== false, size: 5, stroke: line.colour, fill: "#fff" },
        })),
      ],
    };
    nameAxes(holder, xLabel, label);
    const chart = new uPlot(options, joined, holder);
    followWidth(figure, chart, height);
    return chart;
  }

  function drawn(figure, points, series) {
    figure.dataset.points = String(points);
    figure.dataset.series = String(series);
    figure.classList.add("drawn");
  }

  // --- The test page --------------------------------------------------------------------------

  function testPage(plot) {
    const sweep = plot.sweep;
    const unit = plot.unit;
    const fit = plot.fit;
    const negative = (values) => values.map((v) => (v == null ? null : -v));
    const measured = { label: "Measured", colour: colour(0) };
    const fitted = { label: "Fitted", colour: colour(1), dash: true, points: false };
    const withFit = (line, fitLine) => (fit ? [line, Object.assign({}, fitted, fitLine)] : [line]);
    const series = fit ? 2 : 1;

    const nyquistFigure = document.getElementById("eis-nyquist");
    if (nyquistFigure) {
      nyquist(
        nyquistFigure,
        unit,
        withFit(
          Object.assign({}, measured, { x: sweep.z_real, y: negative(sweep.z_imag) }),
          fit && { x: fit.z_real, y: negative(fit.z_imag) }
        )
      );
      drawn(nyquistFigure, sweep.points, series);
    }
    const magnitudeFigure = document.getElementById("eis-bode-magnitude");
    if (magnitudeFigure) {
      bode(
        magnitudeFigure,
        `|Z| (${unit})`,
        withFit(
          Object.assign({}, measured, { frequency: sweep.frequency, y: sweep.z_mod }),
          fit && { frequency: fit.frequency, y: fit.z_mod }
        )
      );
      drawn(magnitudeFigure, sweep.points, series);
    }
    const phaseFigure = document.getElementById("eis-bode-phase");
    if (phaseFigure) {
      bode(
        phaseFigure,
        "Phase (°)",
        withFit(
          Object.assign({}, measured, { frequency: sweep.frequency, y: sweep.z_phase }),
          fit && { frequency: fit.frequency, y: fit.z_phase }
        )
      );
      drawn(phaseFigure, sweep.points, series);
    }
    const kkFigure = document.getElementById("eis-kk");
    if (kkFigure && plot.kk) {
      const kk = plot.kk;
      const level = (value) => kk.frequency.map(() => value);
      const limit = { colour: colour(7), dash: true, points: false, frequency: kk.frequency };
      bode(kkFigure, "Residual (% of |Z|)", [
        { label: "Z′", colour: colour(0), frequency: kk.frequency, y: kk.real },
        { label: "Z″", colour: colour(1), frequency: kk.frequency, y: kk.imag },
        Object.assign({ label: "+threshold", y: level(kk.threshold) }, limit),
        Object.assign({ label: "−threshold", y: level(-kk.threshold) }, limit),
      ]);
      drawn(kkFigure, kk.frequency.length, 2);
    }
    const drtFigure = document.getElementById("eis-drt");
    if (drtFigure && plot.drt) {
      bode(
        drtFigure,
        `γ (${unit})`,
        [{ label: "γ", colour: colour(4), frequency: plot.drt.tau, y: plot.drt.gamma, points: false }],
        "τ (s)"
      );
      drawn(drtFigure, plot.drt.tau.length, 1);
    }
  }

  // --- The comparison page --------------------------------------------------------------------

  function comparePage(plot) {
    const figure = document.getElementById("eis-compare-nyquist");
    if (!figure || !plot.tests.length) return;
    const lines = plot.tests.map((test) => ({
      label: test.label,
      colour: colour(test.colour),
      x: test.z_real,
      y: test.z_imag.map((v) => (v == null ? null : -v)),
    }));
    nyquist(figure, plot.unit, lines);
    drawn(
      figure,
      plot.tests.reduce((sum, test) => sum + test.frequency.length, 0),
      plot.tests.length
    );
    const fitsFigure = document.getElementById("eis-compare-fits");
    if (fitsFigure && plot.fits && plot.fits.length) {
      resistances(fitsFigure, plot.unit, plot.fits);
      drawn(fitsFigure, plot.fits.length, 2);
    }
  }

  // Fitted R0 and R1 against the test date (a time axis, in the browser's time zone).
  function resistances(figure, unit, fits) {
    const holder = figure.querySelector(".eis-canvas");
    const height = (width) => Math.round(Math.min(320, Math.max(200, width * 0.45)));
    const width = figureWidth(figure);
    const line = (label, index) => ({
      label: label,
      stroke: colour(index),
      width: 1.5,
      value: (u, v) => formatNumber(v),
      points: { show: true, size: 6, stroke: colour(index), fill: "#fff" },
    });
    nameAxes(holder, "Test date", `Resistance (${unit})`);
    const chart = new uPlot(
      {
        width: width,
        height: height(width),
        cursor: { drag: { x: true, y: false } },
        axes: [
          { font: axisFont(), grid: { stroke: "#e6e9ee", width: 1 } },
          axis(`Resistance (${unit})`, { size: 56 }),
        ],
        series: [{ label: "Date" }, line(`R0 (${unit})`, 0), line(`R1 (${unit})`, 1)],
      },
      [
        fits.map((fit) => fit.date),
        fits.map((fit) => fit.ohmic),
        fits.map((fit) => fit.charge_transfer),
      ],
      holder
    );
    followWidth(figure, chart, height);
  }

  const testPlot = readJSON("eis-plot-data");
  if (testPlot) testPage(testPlot);
  const comparePlot = readJSON("eis-compare-data");
  if (comparePlot) comparePage(comparePlot);

  window.batterydbEIS = { formatNumber: formatNumber };
})();
