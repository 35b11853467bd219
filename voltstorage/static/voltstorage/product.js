// A VoltStorage product's page: its latest data live over the product's WebSocket stream, and
// the day's power curves and state of charge drawn as SVG from the export (maxPoints).
// No dependencies; everything the page knows comes in data- attributes of #voltstorage-product.
(function () {
  "use strict";

  const root = document.getElementById("voltstorage-product");
  if (!root) return;

  const SVG = "http://www.w3.org/2000/svg";
  const COLORS = {
    pvPower: "#e5a50a",
    householdPower: "#1f6feb",
    gridPower: "#8250df",
    inverterPower: "#1a7f37",
    stateOfCharge: "#cf222e",
  };
  const LABELS = {
    pvPower: "PV (W)",
    householdPower: "Household (W)",
    gridPower: "Grid, import + (W)",
    inverterPower: "Storage AC, discharging + (W)",
    stateOfCharge: "State of charge (%, right)",
  };

  // --- Latest data, live ----------------------------------------------------------------------

  const status = document.getElementById("voltstorage-live");
  const updated = document.getElementById("voltstorage-time");

  function formatValue(value) {
    if (typeof value !== "number") return "–";
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  }

  function showLatest(message) {
    Object.entries(message.data || {}).forEach(([field, value]) => {
      const cell = root.querySelector(`td[data-field="${field}"]`);
      if (!cell) return;
      const text = formatValue(value);
      if (cell.textContent !== text) {
        cell.textContent = text;
        cell.classList.add("flash");
        window.setTimeout(() => cell.classList.remove("flash"), 800);
      }
    });
    if (typeof message.time === "number") {
      updated.textContent = new Date(message.time * 1000).toLocaleString();
      updated.setAttribute("datetime", new Date(message.time * 1000).toISOString());
    }
  }

  function connect(delay) {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${window.location.host}${root.dataset.streamPath}`);
    socket.addEventListener("open", () => {
      status.textContent = "live";
      status.classList.add("ok");
      delay = 1000;
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "latest-data") showLatest(message);
    });
    socket.addEventListener("close", (event) => {
      status.textContent = "not connected";
      status.classList.remove("ok");
      // 4401/4403/4404: the stream refused this page; do not insist.
      if (event.code >= 4400 && event.code < 4500) return;
      window.setTimeout(() => connect(Math.min(delay * 2, 30000)), delay);
    });
  }

  // --- The day's chart ------------------------------------------------------------------------

  const chart = document.getElementById("voltstorage-chart");
  const legend = document.getElementById("voltstorage-legend");
  const WIDTH = 900;
  const HEIGHT = 320;
  const PAD = { left: 56, right: 44, top: 12, bottom: 28 };

  function element(name, attributes, text) {
    const node = document.createElementNS(SVG, name);
    Object.entries(attributes).forEach(([key, value]) => node.setAttribute(key, String(value)));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function parseTime(text) {
    // "2024-03-25T12:00:00.000+01:00": the instant, whatever the offset.
    return Date.parse(text) / 1000;
  }

  function draw(rows) {
    const fields = root.dataset.chartFields.split(",");
    const start = Number(root.dataset.dayStart);
    const end = Number(root.dataset.dayEnd);
    const series = {};
    fields.forEach((field) => (series[field] = []));
    rows.forEach((row) => {
      const t = parseTime(row.time);
      fields.forEach((field) => {
        if (typeof row[field] === "number") series[field].push([t, row[field]]);
      });
    });
    const powers = fields.filter((field) => field !== "stateOfCharge");
    let low = 0;
    let high = 0;
    powers.forEach((field) =>
      series[field].forEach(([, value]) => {
        low = Math.min(low, value);
        high = Math.max(high, value);
      })
    );
    if (high === low) high = low + 1;
    const x = (t) => PAD.left + ((t - start) / (end - start)) * (WIDTH - PAD.left - PAD.right);
    const yPower = (v) => PAD.top + (1 - (v - low) / (high - low)) * (HEIGHT - PAD.top - PAD.bottom);
    const ySoc = (v) => PAD.top + (1 - v) * (HEIGHT - PAD.top - PAD.bottom);

    const svg = element("svg", {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: "img",
      "aria-label": "Power and state of charge over the day",
    });
    svg.appendChild(element("line", { class: "axis", x1: PAD.left, x2: WIDTH - PAD.right, y1: yPower(0), y2: yPower(0) }));
    [low, 0, high].forEach((value) =>
      svg.appendChild(element("text", { class: "label", x: 4, y: yPower(value) + 4 }, `${Math.round(value)} W`))
    );
    [0, 0.5, 1].forEach((value) =>
      svg.appendChild(element("text", { class: "label", x: WIDTH - PAD.right + 6, y: ySoc(value) + 4 }, `${value * 100}%`))
    );
    for (let hour = 0; hour <= 24; hour += 6) {
      const t = start + ((end - start) * hour) / 24;
      svg.appendChild(element("line", { class: "axis", x1: x(t), x2: x(t), y1: PAD.top, y2: HEIGHT - PAD.bottom }));
      svg.appendChild(element("text", { class: "label", x: x(t) - 12, y: HEIGHT - 8 }, `${String(hour).padStart(2, "0")}:00`));
    }
    let points = 0;
    fields.forEach((field) => {
      const y = field === "stateOfCharge" ? ySoc : yPower;
      const coordinates = series[field].map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`);
      points += coordinates.length;
      if (coordinates.length) {
        svg.appendChild(element("polyline", { points: coordinates.join(" "), stroke: COLORS[field] || "#444", "data-field": field }));
      }
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = COLORS[field] || "#444";
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(LABELS[field] || field));
      legend.appendChild(item);
    });
    chart.replaceChildren(svg);
    chart.dataset.points = String(points);
    if (!points) {
      const note = document.createElement("p");
      note.className = "muted small";
      note.textContent = "No data on this day.";
      chart.appendChild(note);
    }
  }

  function loadChart() {
    fetch(root.dataset.exportUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.json();
      })
      .then(draw)
      .catch((error) => {
        const note = document.createElement("p");
        note.className = "muted small";
        note.textContent = `The day's data could not be loaded (${error.message}).`;
        chart.replaceChildren(note);
      });
  }

  connect(1000);
  loadChart();
})();
