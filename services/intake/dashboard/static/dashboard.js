// The dashboard page: takes an administrator's key, reads /v1/dashboard for a period, draws it.
// A link may carry the key (and the language) in its fragment: #key=<token>&lang=en. The page
// moves the key into sessionStorage and removes the fragment from the address straight away.

import { LABELS, LOCALES } from "./labels.js";
import { AGENCIES, CASE_STATES, STATUSES, TYPES } from "./vocabulary.js";
import { barChart, durationChart, h, legend, sortableTable, stackedBars, tileMap } from "./charts.js";
import { TILES } from "./tiles.js";
import { renderShadow } from "./shadow.js";
import { renderClusters } from "./clusters.js";

const KEY = "needs-router.dashboard.key";
const LANGUAGE = "needs-router.dashboard.language";
const STATUS_ORDER = CASE_STATES;
const MAP_METRICS = ["needs", "routed", "open", "overdue"];
const FIRST_CASES = 6; // the oldest overdue cases shown; the rest behind "more"

const page = {
  language: "th",
  data: null,
  shadow: null,
  clusters: null,
  metric: "needs",
};

const $ = (id) => document.getElementById(id);
const t = (key) => LABELS[page.language][key] ?? key;
const number = (value) => new Intl.NumberFormat(LOCALES[page.language]).format(value);
const agencyName = (code) => AGENCIES[page.language][code] ?? code;
const provinceName = (row) => (page.language === "th" ? row.name_th : row.name_en);

function date(value, withTime = false) {
  const options = withTime ? { dateStyle: "medium", timeStyle: "short" } : { dateStyle: "medium" };
  return new Intl.DateTimeFormat(LOCALES[page.language], { ...options, timeZone: "Asia/Bangkok" }).format(new Date(value));
}

function duration(hours) {
  if (hours === null || hours === undefined) return "–";
  const thai = page.language === "th";
  const digits = { maximumFractionDigits: 1, minimumFractionDigits: 1 };
  const format = new Intl.NumberFormat(LOCALES[page.language], digits);
  return hours < 48 ? `${format.format(hours)} ${thai ? "ชม." : "h"}` : `${format.format(hours / 24)} ${thai ? "วัน" : "d"}`;
}

function takeFragment() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("key")) sessionStorage.setItem(KEY, fragment.get("key"));
  if (fragment.get("lang") in LABELS) localStorage.setItem(LANGUAGE, fragment.get("lang"));
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
}

function setState(state, message = "", problem = false) {
  document.body.dataset.state = state;
  $("status").textContent = message;
  $("status").classList.toggle("problem", problem);
}

function translate() {
  document.documentElement.lang = page.language;
  document.title = `${t("title")} · needs-router`;
  for (const element of document.querySelectorAll("[data-t]")) element.textContent = t(element.dataset.t);
  $("language").textContent = t("switch");
  $("language").lang = page.language === "th" ? "en" : "th";
}

function askForKey(reason) {
  $("key-form").hidden = false;
  $("figures").hidden = true;
  setState("need-key", t(reason), reason !== "need_key");
  $("key").focus();
}

async function load() {
  const key = sessionStorage.getItem(KEY);
  if (!key) return askForKey("need_key");
  $("key-form").hidden = true;
  setState("loading", t("loading"));
  const query = new URLSearchParams();
  if ($("from").value) query.set("from", $("from").value);
  if ($("to").value) query.set("to", $("to").value);
  history.replaceState(null, "", `${location.pathname}${query.size ? `?${query}` : ""}`);
  let response;
  try {
    response = await fetch(`v1/dashboard?${query}`, { headers: { Authorization: `Bearer ${key}` }, cache: "no-store" });
  } catch (error) {
    return setState("error", `${t("failed")}: ${error.message}`, true);
  }
  if (response.status === 401 || response.status === 403) {
    sessionStorage.removeItem(KEY);
    return askForKey(response.status === 401 ? "bad_key" : "not_admin");
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({ errors: [] }));
    const problems = (body.errors ?? []).map((error) => `${error.field}: ${error.problem}`).join("; ");
    return setState("error", `${t("failed")} (${response.status}) ${problems}`, true);
  }
  page.data = await response.json();
  page.shadow = await loadPanel("v1/dashboard/shadow", key);
  page.clusters = await loadPanel("v1/dashboard/clusters", key);
  $("from").value = page.data.period.first_day;
  $("to").value = page.data.period.last_day;
  render();
}

async function loadPanel(path, key) {
  // The shadow and cluster panels are extra: if one cannot be read, the rest of the dashboard still shows.
  try {
    const response = await fetch(path, { headers: { Authorization: `Bearer ${key}` }, cache: "no-store" });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}
function render() {
  const data = page.data;
  if (!data) return;
  $("figures").hidden = false;
  setState("ready", `${date(data.period.start)} – ${date(data.period.last_day)}`);
  renderSummary(data);
  renderNeeds(data);
  renderAgencies(data);
  renderOverdue(data);
  renderMap(data);
  renderProvinceTable(data);
  renderDeadLetters(data);
  const typeName = (type) => TYPES[page.language][type] ?? type;
  renderClusters($("clusters"), page.clusters, { t, number, typeName, language: page.language });
  renderShadow($("shadow"), page.shadow, { t, date, number, typeName });
  $("generated").textContent = date(data.generated_at, true);
  $("generated").dateTime = data.generated_at;
}

function renderSummary(data) {
  const sum = (field) => data.agencies.reduce((total, agency) => total + agency[field], 0);
  const figures = [
    ["needs", data.needs.total, `${t("unscreened")} ${number(data.needs.unscreened)}`],
    ["routed", sum("routed"), null],
    ["open", sum("open"), null],
    ["overdue", data.overdue.total, `${t("escalated")} ${number(sum("escalated"))}`],
    ["dead_letters", data.dead_letters.total, null],
  ];
  $("summary").replaceChildren(
    ...figures.map(([key, value, note]) =>
      h(
        "div",
        { class: `kpi${key === "overdue" && value > 0 ? " alert" : ""}`, "data-figure": key },
        h("span", { class: "kpi-value" }, number(value)),
        h("span", { class: "kpi-label" }, t(key)),
        note ? h("span", { class: "kpi-note" }, note) : null,
      ),
    ),
  );
}

function renderNeeds(data) {
  const types = [...data.needs.by_type].sort((a, b) => b.needs - a.needs);
  $("types").replaceChildren(
    barChart(
      types.map((item) => ({ label: TYPES[page.language][item.type] ?? item.type, value: item.needs })),
      { label: t("needs_by_type"), format: number, tone: "a" },
    ),
    h("p", { class: "note" }, t("needs_by_type_note")),
  );
  const top = data.needs.by_province.slice(0, 10);
  $("top-provinces").replaceChildren(
    top.length
      ? barChart(
          top.map((row) => ({ label: provinceName(row), value: row.needs, title: `${provinceName(row)} (${row.code})` })),
          { label: t("needs_by_province"), format: number, tone: "b" },
        )
      : h("p", { class: "empty" }, t("no_provinces")),
  );
}

function renderAgencies(data) {
  const statusNames = STATUSES[page.language];
  $("agencies").replaceChildren(
    stackedBars(
      data.agencies.map((agency) => ({
        label: agencyName(agency.agency),
        total: agency.routed,
        caption: `${number(agency.routed)} · ${t("open_short")} ${number(agency.open)}`,
        segments: STATUS_ORDER.map((key) => ({ key, value: agency.by_status[key] ?? 0 })),
      })),
      { label: t("cases_by_agency"), format: number, names: statusNames },
    ),
    legend(STATUS_ORDER.map((key) => [key, statusNames[key]])),
    h("p", { class: "note" }, t("cases_by_agency_note")),
  );
  for (const [id, field, level] of [
    ["to-accept", "to_accept", data.service_levels.accept_within_hours],
    ["to-resolve", "to_resolve", data.service_levels.resolve_within_hours],
  ]) {
    $(id).replaceChildren(
      durationChart(
        data.agencies.map((agency) => ({
          label: `${agencyName(agency.agency)} (n=${number(agency[field].cases)})`,
          median: agency[field].median_hours,
          p90: agency[field].p90_hours,
          cases: agency[field].cases,
        })),
        { label: t(field === "to_accept" ? "time_to_accept" : "time_to_resolve"), level, format: duration,
          levelCaption: `${t("service_level")} ${duration(level)}`, empty: t("no_cases") },
      ),
      legend([["median", `${t("median")}`], ["p90", t("p90")], ["level", t("service_level")]]),
    );
  }
}

function renderOverdue(data) {
  const overdue = data.overdue;
  const levels = data.service_levels;
  const statuses = STATUSES[page.language];
  const provinces = Object.fromEntries(data.provinces.map((row) => [row.code, row]));
  const now = new Date(data.generated_at);
  const lateBy = (line) => {
    const limit = line.overdue === "not_accepted" ? levels.accept_within_hours : levels.resolve_within_hours;
    return duration((now - new Date(line.routed_at)) / 3_600_000 - limit);
  };
  const card = (line) =>
    h(
      "li",
      { "data-need": line.need_id },
      h("div", { class: "where" }, `${agencyName(line.agency)} · ${provinces[line.province_code] ? provinceName(provinces[line.province_code]) : line.province_code}`),
      h("div", {}, h("span", { class: "badge" }, statuses[line.overdue]), `${t("status")}: ${statuses[line.status]}`),
      h("div", { class: "when" }, `${t("routed_at")} ${date(line.routed_at)} · ${t("late_by")} ${lateBy(line)}`, line.escalated.length ? ` · ${t("escalated")}` : ""),
      h("div", { class: "when" }, h("code", {}, line.need_id)),
    );
  if (!overdue.oldest.length) return $("overdue").replaceChildren(h("p", { class: "empty" }, t("none_overdue")));
  $("overdue").replaceChildren(
    h("p", { class: "overdue-summary" }, `${statuses.not_accepted}: ${number(overdue.not_accepted)} · ${statuses.not_resolved}: ${number(overdue.not_resolved)}`),
    caseList(overdue.oldest.slice(0, FIRST_CASES), card),
    overdue.oldest.length > FIRST_CASES
      ? h("details", {}, h("summary", {}, t("more_cases").replace("{n}", number(overdue.oldest.length - FIRST_CASES))), caseList(overdue.oldest.slice(FIRST_CASES), card))
      : null,
  );
}

function caseList(lines, card) {
  return h("ol", { class: "cases" }, lines.map(card));
}

function renderMap(data) {
  const select = h("select", { id: "map-metric" }, MAP_METRICS.map((key) => h("option", { value: key, selected: key === page.metric }, t(key))));
  select.addEventListener("change", () => {
    page.metric = select.value;
    renderMap(page.data);
  });
  const values = Object.fromEntries(data.provinces.map((row) => [row.code, row[page.metric]]));
  const names = Object.fromEntries(data.provinces.map((row) => [row.code, provinceName(row)]));
  $("map").replaceChildren(
    h("label", { class: "metric" }, `${t("map_metric")} `, select),
    tileMap(TILES, values, names, { label: `${t("province_map")}: ${t(page.metric)}`, format: number }),
    h(
      "div",
      { class: "scale", "aria-hidden": "true" },
      h("span", {}, t("less")),
      [1, 2, 3, 4, 5].map((level) => h("span", { class: `swatch shade-${level}` })),
      h("span", {}, t("more")),
    ),
  );
}

function renderProvinceTable(data) {
  const rows = data.provinces.filter((row) => row.needs > 0 || row.routed > 0).map((row) => ({ ...row, name: provinceName(row) }));
  if (!rows.length) return $("provinces").replaceChildren(h("p", { class: "empty" }, t("no_provinces")));
  const columns = [
    { key: "name", name: t("province") },
    ...["needs", "routed", "open", "overdue", "resolved"].map((key) => ({ key, name: t(`column_${key}`), numeric: true, cell: (row) => number(row[key]) })),
  ];
  $("provinces").replaceChildren(sortableTable(columns, rows, { label: t("province_table"), sortKey: "needs" }));
}

function renderDeadLetters(data) {
  const letters = data.dead_letters;
  if (!letters.total) return $("dead-letters").replaceChildren(h("p", { class: "empty" }, t("none_dead")));
  $("dead-letters").replaceChildren(
    h("h3", {}, t("by_consumer")),
    barChart(
      letters.by_consumer.map((line) => ({ label: line.consumer, value: line.dead_letters, title: `${line.consumer} (${t("waiting")} ${line.not_replayed})` })),
      { label: t("dead_letters"), format: number, tone: "c" },
    ),
    h("h3", {}, t("latest")),
    h(
      "ol",
      { class: "letters" },
      letters.latest.map((line) =>
        h(
          "li",
          {},
          h("div", { class: "letter-head" }, h("time", { datetime: line.failed_at }, date(line.failed_at, true)), ` · ${line.consumer} · ${line.source_topic} `,
            h("span", { class: `badge ${line.replayed_at ? "done" : ""}` }, t(line.replayed_at ? "replayed" : "waiting"))),
          h("code", {}, line.error),
        ),
      ),
    ),
  );
}

function start() {
  takeFragment();
  page.language = localStorage.getItem(LANGUAGE) in LABELS ? localStorage.getItem(LANGUAGE) : "th";
  const query = new URLSearchParams(location.search);
  $("from").value = query.get("from") ?? "";
  $("to").value = query.get("to") ?? "";
  translate();
  $("language").addEventListener("click", () => {
    page.language = page.language === "th" ? "en" : "th";
    localStorage.setItem(LANGUAGE, page.language);
    translate();
    render();
  });
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("key").value.trim());
    $("key").value = "";
    load();
  });
  $("period-form").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  $("forget").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    page.data = null;
    askForKey("need_key");
  });
  load();
}

start();
