// The shadow panel: where a candidate model, classifying beside the live one without routing
// anything, would type needs otherwise; what a promotion would change. Data: /v1/dashboard/shadow.
import { h } from "./charts.js";

/** Draw `panel` (null when it could not be read) into `container`. */
export function renderShadow(container, panel, { t, date, number, typeName }) {
  if (!panel) return container.replaceChildren(h("p", { class: "empty" }, t("shadow_unavailable")));
  if (!panel.shadow_version) return container.replaceChildren(h("p", { class: "empty" }, t("shadow_none")));
  const types = (list) => (list.length ? list.map(typeName).join(", ") : t("shadow_manual"));
  const line = (item) =>
    h(
      "li",
      { "data-need": item.need_id },
      h("div", {}, item.description),
      h("div", { class: "where" }, `${t("shadow_live")}: ${types(item.live_types)} → ${t("shadow_would")}: ${types(item.shadow_types)}`),
      h("div", { class: "when" }, date(item.screened_at, true)),
    );
  container.replaceChildren(
    h("p", { class: "overdue-summary" }, `${t("shadow_model")}: `, h("code", {}, panel.shadow_version),
      ` · ${t("shadow_disagreements")}: ${number(panel.disagreements)}`),
    panel.latest.length ? h("ol", { class: "cases" }, panel.latest.map(line)) : h("p", { class: "empty" }, t("shadow_agrees")),
  );
}
