// New cases appear without a reload: the table's rows are fetched again every few seconds.
"use strict";
(function () {
  const rows = document.getElementById("case-rows");
  if (!rows) return;
  const every = Math.max(1, Number(rows.dataset.every || "5")) * 1000;
  async function refresh() {
    try {
      const response = await fetch(rows.dataset.refresh, { credentials: "same-origin" });
      if (response.status === 401) { window.location.assign("/inbox/login"); return; }
      if (response.ok) rows.innerHTML = await response.text();
    } catch (error) {
      // Offline for a moment: the next round tries again.
    }
    window.setTimeout(refresh, every);
  }
  window.setTimeout(refresh, every);
})();
