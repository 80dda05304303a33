// The cluster panel: the largest open clusters of related needs (probably the same problem: the
// same type and province, similar words), with their type, place, size and age.
// Data: /v1/dashboard/clusters. Workplace drug tips are never clustered, so none shows here.
import { h } from "./charts.js";

/** Draw `panel` (null when it could not be read) into `container`. */
export function renderClusters(container, panel, { t, number, typeName, language }) {
  if (!panel) return container.replaceChildren(h("p", { class: "empty" }, t("clusters_unavailable")));
  if (!panel.largest.length) return container.replaceChildren(h("p", { class: "empty" }, t("clusters_none")));
  const line = (cluster) =>
    h(
      "li",
      { "data-cluster": cluster.cluster_id },
      h("div", {}, `${typeName(cluster.need_type)} · ${number(cluster.size)} ${t("clusters_needs")}`),
      h("div", { class: "where" }, language === "th" ? cluster.place_th : cluster.place_en),
      h("div", { class: "when" }, `${t("clusters_age")} ${number(cluster.age_days)} ${t("clusters_days")}`),
    );
  container.replaceChildren(h("ol", { class: "cases" }, panel.largest.map(line)));
}
