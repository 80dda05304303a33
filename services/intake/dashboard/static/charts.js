// Small SVG charts drawn in the browser: no library, no network. Every text goes in with
// textContent, never as markup, so data (a dead letter's error, say) cannot inject any.
//
// A bar chart is a CSS grid: each row is a label line, then an SVG bar and its value. The values
// share one column sized to the widest, so every bar has the same scale at any screen width,
// and a phone turned sideways needs no redrawing.

const SVG = "http://www.w3.org/2000/svg";

/** An HTML element with attributes and children (strings become text). */
export function h(tag, attributes = {}, ...children) {
  return fill(document.createElement(tag), attributes, children);
}

/** An SVG element with attributes and children (strings become text). */
export function s(tag, attributes = {}, ...children) {
  return fill(document.createElementNS(SVG, tag), attributes, children);
}

function fill(element, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null && value !== false) element.setAttribute(name, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child !== undefined && child !== null) element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

function scale(max) {
  return (value) => (max > 0 && value > 0 ? Math.min(100, (value / max) * 100) : 0);
}

function bar(title, ...shapes) {
  return s(
    "svg",
    { class: "bar", width: "100%", height: 14, "aria-hidden": "true" },
    s("title", {}, title),
    s("rect", { class: "track", x: 0, y: 0, width: "100%", height: 14, rx: 3 }),
    ...shapes,
  );
}

function rows(label, kind, lines) {
  return h(
    "div",
    { class: `bars ${kind}`, role: "group", "aria-label": label },
    lines.map(({ text, shape, value }) => [h("span", { class: "bar-label" }, text), shape, h("span", { class: "bar-value" }, value)]),
  );
}

/** Horizontal bars, one per item {label, value, title?}; `format` writes the value. */
export function barChart(items, { label, format = String, tone = "a" }) {
  const percent = scale(Math.max(0, ...items.map((item) => item.value)));
  return rows(
    label,
    `tone-${tone}`,
    items.map((item) => ({
      text: item.label,
      value: format(item.value),
      shape: bar(`${item.title ?? item.label}: ${format(item.value)}`, s("rect", { class: "fill", x: 0, y: 0, width: `${percent(item.value)}%`, height: 14, rx: 3 })),
    })),
  );
}

/**
 * Stacked bars: rows of {label, total, caption?, segments: [{key, value}]}; each key is coloured
 * by the class `seg-<key>`; `names` names the keys for the tooltip.
 */
export function stackedBars(lines, { label, format = String, names }) {
  const percent = scale(Math.max(0, ...lines.map((line) => line.total)));
  return rows(
    label,
    "stacked",
    lines.map((line) => {
      let x = 0;
      const parts = line.segments.map((part) => {
        const width = percent(part.value);
        const shape = width > 0 ? s("rect", { class: `seg-${part.key}`, x: `${x}%`, y: 0, width: `${width}%`, height: 14 }) : null;
        x += width;
        return shape;
      });
      const title = [line.label, ...line.segments.map((part) => `${names[part.key]}: ${format(part.value)}`)].join("\n");
      return { text: line.label, value: line.caption ?? format(line.total), shape: bar(title, ...parts) };
    }),
  );
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
 * the 90th percentile, and a dashed line at the service level `level`.
 */
export function durationChart(lines, { label, level, format, levelCaption, empty }) {
  const percent = scale(Math.max(level, ...lines.map((line) => line.p90 ?? 0)) * 1.05);
  const at = `${percent(level)}%`;
  const anchor = percent(level) > 70 ? "end" : "middle";
  const marker = () => s("line", { class: "level", x1: at, x2: at, y1: -4, y2: 18 });
  const header = {
    text: "",
    value: "",
    shape: s("svg", { class: "bar level-head", width: "100%", height: 14, "aria-hidden": "true" }, s("text", { x: at, y: 11, "text-anchor": anchor }, levelCaption)),
  };
  return rows(label, "durations", [
    header,
    ...lines.map((line) => {
      const known = line.median !== null && line.median !== undefined;
      const value = known ? `${format(line.median)} · ${format(line.p90)}` : empty;
      const shapes = known
        ? [
            s("rect", { class: "p90", x: 0, y: 0, width: `${percent(line.p90)}%`, height: 14, rx: 3 }),
            s("rect", { class: "median", x: 0, y: 0, width: `${percent(line.median)}%`, height: 14, rx: 3 }),
          ]
        : [];
      return { text: line.label, value, shape: bar(`${line.label}: ${value}`, ...shapes, marker()) };
    }),
  ]);
}

/** The province tile map: {code: [column, row]} positions, values by code, names by code. */
export function tileMap(tiles, values, names, { label, format = String }) {
  const size = 40;
  const columns = Math.max(...Object.values(tiles).map(([column]) => column)) + 1;
  const height = Math.max(...Object.values(tiles).map(([, row]) => row)) + 1;
  const max = Math.max(0, ...Object.values(values));
  const svg = s("svg", { class: "tiles", role: "img", "aria-label": label, viewBox: `0 0 ${columns * size} ${height * size}` });
  for (const [code, [column, row]] of Object.entries(tiles)) {
    const value = values[code] ?? 0;
    const x = column * size;
    const y = row * size;
    svg.append(
      s(
        "g",
        { class: `tile shade-${shade(value, max)}`, "data-province": code },
        s("title", {}, `${names[code] ?? code} (${code}): ${format(value)}`),
        s("rect", { x: x + 1, y: y + 1, width: size - 2, height: size - 2, rx: 4 }),
        s("text", { x: x + 5, y: y + 11, class: "code" }, code),
        value > 0 ? s("text", { x: x + size / 2, y: y + 30, class: "count", "text-anchor": "middle" }, format(value)) : null,
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

/** A table sorted by clicking a column header. columns: [{key, name, numeric?, cell?(row)}]. */
export function sortableTable(columns, lines, { label, sortKey, descending = true }) {
  let key = sortKey;
  let down = descending;
  const head = h("tr");
  const body = h("tbody");
  const table = h("table", { class: "sortable" }, h("caption", { class: "visually-hidden" }, label), h("thead", {}, head), body);

  function render() {
    const column = columns.find((candidate) => candidate.key === key);
    const sorted = [...lines].sort((a, b) => {
      const order = column.numeric ? a[key] - b[key] : String(a[key]).localeCompare(String(b[key]), "th");
      return (down ? -order : order) || String(a.code ?? "").localeCompare(String(b.code ?? ""));
    });
    head.replaceChildren(
      ...columns.map((candidate) => {
        const sorting = candidate.key === key;
        const arrow = h("span", { "aria-hidden": "true" }, sorting ? (down ? " ▼" : " ▲") : "");
        const button = h("button", { type: "button" }, candidate.name, arrow);
        button.addEventListener("click", () => {
          down = sorting ? !down : Boolean(candidate.numeric);
          key = candidate.key;
          render();
        });
        const sort = sorting ? (down ? "descending" : "ascending") : null;
        return h("th", { scope: "col", class: candidate.numeric ? "num" : null, "aria-sort": sort }, button);
      }),
    );
    body.replaceChildren(
      ...sorted.map((line) =>
        h(
          "tr",
          {},
          columns.map((candidate) => h("td", { class: candidate.numeric ? "num" : null }, candidate.cell ? candidate.cell(line) : line[candidate.key])),
        ),
      ),
    );
  }

  render();
  return table;
}
