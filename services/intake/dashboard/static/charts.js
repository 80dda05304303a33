// Small SVG charts drawn in the browser: no library, no network. Every text goes in with
// textContent, never as markup, so data (a dead letter's error, say) cannot inject any.

const SVG = "http://www.w3.org/2000/svg";
const ROW = 44; // a label line above a bar line: long Thai names wrap nothing on a phone
const BAR_WIDTH = 80; // per cent of the chart; the value is written in the rest

/** An HTML element with attributes and children (strings become text). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  return fill(element, attributes, children);
}

/** An SVG element with attributes and children (strings become text). */
export function s(tag, attributes = {}, ...children) {
  return fill(document.createElementNS(SVG, tag), attributes, children);
}

function fill(element, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null && value !== false) element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

function percent(value, max) {
  return max > 0 ? Math.max(0, (value / max) * BAR_WIDTH) : 0;
}

function chart(rows, label, extra = 0) {
  return s("svg", { class: "chart", role: "img", "aria-label": label, width: "100%", height: rows * ROW + extra });
}

/**
 * Horizontal bars, one per item: {label, value, title?}; `format` writes the value.
 */
export function barChart(items, { label, format = String, tone = "a" } = {}) {
  const max = Math.max(0, ...items.map((item) => item.value));
  const svg = chart(items.length, label);
  items.forEach((item, index) => {
    const y = index * ROW;
    svg.append(
      s(
        "g",
        { class: `bar tone-${tone}` },
        s("title", {}, `${item.title ?? item.label}: ${format(item.value)}`),
        s("text", { x: 0, y: y + 15, class: "label" }, item.label),
        s("rect", { x: 0, y: y + 22, width: `${BAR_WIDTH}%`, height: 14, rx: 3, class: "track" }),
        s("rect", { x: 0, y: y + 22, width: `${percent(item.value, max)}%`, height: 14, rx: 3, class: "fill" }),
        s("text", { x: "100%", y: y + 34, class: "value", "text-anchor": "end" }, format(item.value)),
      ),
    );
  });
  return svg;
}

/**
 * Stacked horizontal bars: rows of {label, total, segments: [{key, value}]}; each key has a
 * colour class `seg-<key>`; `total` is written at the end (segments may be a part of it).
 */
export function stackedBars(rows, { label, format = String, names }) {
  const max = Math.max(0, ...rows.map((row) => row.total));
  const svg = chart(rows.length, label);
  rows.forEach((row, index) => {
    const y = index * ROW;
    const group = s(
      "g",
      { class: "stack" },
      s("title", {}, [row.label, ...row.segments.map((part) => `${names[part.key]}: ${format(part.value)}`)].join("\n")),
      s("text", { x: 0, y: y + 15, class: "label" }, row.label),
      s("rect", { x: 0, y: y + 22, width: `${percent(row.total, max)}%`, height: 14, rx: 3, class: "seg-total" }),
    );
    let x = 0;
    for (const part of row.segments) {
      const width = percent(part.value, max);
      if (width > 0) group.append(s("rect", { x: `${x}%`, y: y + 22, width: `${width}%`, height: 14, class: `seg-${part.key}` }));
      x += width;
    }
    group.append(s("text", { x: "100%", y: y + 34, class: "value", "text-anchor": "end" }, row.caption ?? format(row.total)));
    svg.append(group);
  });
  return svg;
}

/** A legend for coloured keys: [[key, name], ...]. */
export function legend(entries) {
  return h(
    "ul",
    { class: "legend" },
    entries.map(([key, name]) => h("li", {}, h("span", { class: `swatch seg-${key}`, "aria-hidden": "true" }), name)),
  );
}

/**
 * Durations per row {label, median, p90, cases}: a solid bar to the median, a lighter one on to
 * the 90th percentile, and a dashed line at the service level.
 */
export function durationChart(rows, { label, level, format, levelCaption, empty }) {
  const max = Math.max(level, ...rows.map((row) => row.p90 ?? 0)) * 1.05;
  const top = 18;
  const svg = chart(rows.length, label, top);
  const levelX = `${percent(level, max)}%`;
  svg.append(
    s("line", { x1: levelX, x2: levelX, y1: top - 4, y2: rows.length * ROW + top, class: "level" }),
    s("text", { x: levelX, y: 11, class: "level-label", "text-anchor": "middle" }, levelCaption),
  );
  rows.forEach((row, index) => {
    const y = top + index * ROW;
    const known = row.median !== null && row.median !== undefined;
    svg.append(
      s(
        "g",
        { class: "duration" },
        s("title", {}, known ? `${row.label}: ${format(row.median)} / ${format(row.p90)} (n=${row.cases})` : row.label),
        s("text", { x: 0, y: y + 15, class: "label" }, row.label),
        s("rect", { x: 0, y: y + 22, width: `${BAR_WIDTH}%`, height: 14, rx: 3, class: "track" }),
        known ? s("rect", { x: 0, y: y + 22, width: `${percent(row.p90, max)}%`, height: 14, rx: 3, class: "p90" }) : null,
        known ? s("rect", { x: 0, y: y + 22, width: `${percent(row.median, max)}%`, height: 14, rx: 3, class: "median" }) : null,
        s("text", { x: "100%", y: y + 34, class: "value", "text-anchor": "end" }, known ? `${format(row.median)} · ${format(row.p90)}` : empty),
      ),
    );
  });
  return svg;
}

/**
 * The province tile map: {code: [column, row]} positions, values by code, names by code.
 */
export function tileMap(tiles, values, names, { label, format = String }) {
  const size = 40;
  const columns = Math.max(...Object.values(tiles).map(([column]) => column)) + 1;
  const rows = Math.max(...Object.values(tiles).map(([, row]) => row)) + 1;
  const max = Math.max(0, ...Object.values(values));
  const svg = s("svg", { class: "tiles", role: "img", "aria-label": label, viewBox: `0 0 ${columns * size} ${rows * size}` });
  for (const [code, [column, row]] of Object.entries(tiles)) {
    const value = values[code] ?? 0;
    const level = shade(value, max);
    svg.append(
      s(
        "g",
        { class: `tile shade-${level}`, "data-province": code },
        s("title", {}, `${names[code] ?? code} (${code}): ${format(value)}`),
        s("rect", { x: column * size + 1, y: row * size + 1, width: size - 2, height: size - 2, rx: 4 }),
        s("text", { x: column * size + 5, y: row * size + 11, class: "code" }, code),
        value > 0 ? s("text", { x: column * size + size / 2, y: row * size + 29, class: "count", "text-anchor": "middle" }, format(value)) : null,
      ),
    );
  }
  return svg;
}

/** 0 for nothing, else 1-5 by the square root of the share of the largest value. */
export function shade(value, max) {
  if (!(value > 0) || !(max > 0)) return 0;
  return Math.max(1, Math.ceil(Math.sqrt(value / max) * 5));
}

/**
 * A table sorted by clicking a column header. columns: [{key, name, numeric?, cell?(row)}].
 */
export function sortableTable(columns, rows, { label, sortKey, descending = true }) {
  let key = sortKey;
  let down = descending;
  const head = h("tr");
  const body = h("tbody");
  const table = h("table", { class: "sortable" }, h("caption", { class: "visually-hidden" }, label), h("thead", {}, head), body);

  function render() {
    const column = columns.find((candidate) => candidate.key === key);
    const sorted = [...rows].sort((a, b) => {
      const order = column.numeric ? a[key] - b[key] : String(a[key]).localeCompare(String(b[key]), "th");
      return (down ? -order : order) || String(a.code ?? "").localeCompare(String(b.code ?? ""));
    });
    head.replaceChildren(
      ...columns.map((candidate) => {
        const sorting = candidate.key === key;
        const button = h("button", { type: "button" }, candidate.name, h("span", { "aria-hidden": "true" }, sorting ? (down ? " ▼" : " ▲") : ""));
        button.addEventListener("click", () => {
          down = sorting ? !down : Boolean(candidate.numeric);
          key = candidate.key;
          render();
        });
        return h("th", { scope: "col", class: candidate.numeric ? "num" : null, "aria-sort": sorting ? (down ? "descending" : "ascending") : null }, button);
      }),
    );
    body.replaceChildren(
      ...sorted.map((row) =>
        h("tr", {}, columns.map((candidate) => h("td", { class: candidate.numeric ? "num" : null }, candidate.cell ? candidate.cell(row) : row[candidate.key]))),
      ),
    );
  }

  render();
  return table;
}
