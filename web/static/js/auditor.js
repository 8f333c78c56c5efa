/*
 * auditor.js - the auditor's page: recordings searched by engineer,
 * vendor, device and date; one replayed in the browser (player.js),
 * verified (signature and chain status shown plainly), its evidence
 * bundle downloaded (an export: prepared, confirmed with the security
 * key, committed; the bundle is what `bastion-verify` checks offline);
 * the month's report, and the same as CSV.
 */
"use strict";

B.pages.auditor = function (main) {
  const list = B.el("div", {id: "recordings-list"});
  const detail = B.el("div", {id: "recording-detail"});
  const report = B.el("div", {id: "report-list"});
  let player = null;
  const f = {};
  for (const k of ["engineer", "vendor", "device", "date"])
    f[k] = B.el("input", {id: "search-" + k, placeholder: B.t("col." + k)});

  const search = B.guard(async () => {
    const q = new URLSearchParams();
    for (const [k, e] of Object.entries(f)) if (e.value.trim()) q.set(k, e.value.trim());
    const rows = await B.api("GET", "/api/list/recordings?" + q.toString());
    B.clear(list).append(B.table(rows, null, row => [
      B.el("button", {class: "replay secondary", id: "replay-" + row.id, text: B.t("replay"),
        onclick: () => open(row.id, "replay")}),
      B.el("button", {class: "verify secondary", id: "verify-" + row.id, text: B.t("verify"),
        onclick: () => open(row.id, "verify")}),
      B.el("button", {class: "bundle", id: "bundle-" + row.id, text: B.t("bundle"),
        onclick: () => bundle(row.id)}),
    ]));
  });

  const open = B.guard(async (id, what) => {
    if (player) player.stop();
    player = null;
    B.clear(detail);
    if (what === "replay") {
      const blob = await B.api("GET", "/api/recordings/" + id + "/cast");
      const cast = B.parseCast(await blob.text());
      const box = B.el("div", {});
      detail.append(B.card("replay-card", "replay.title", B.el("p", {text: "#" + id}), box));
      player = B.player(box, cast);
      return;
    }
    const v = await B.api("GET", "/api/recordings/" + id + "/verify");
    const ok = v.ok === true || v.status === "ok" || v.verified === true;
    detail.append(B.card("verify-card", "verify.title",
      B.el("p", {id: "verify-status", class: ok ? "status-ok" : "status-bad",
        text: ok ? B.t("verify.ok") : B.t("verify.bad")}),
      B.el("pre", {id: "verify-detail", text: B.describe(v)})));
  });

  const bundle = B.guard(async id => {
    const p = await B.api("POST", "/api/prepare", {verb: "export", args: [String(id)]});
    if (!await B.confirm(B.t("action.export"), B.describe(p.action))) return;
    const a = p.action || {};
    const assertion = await B.assert(p.challenge, a.allow, a.rp_id, a.user_verification);
    const blob = await B.api("POST", "/api/export", {id: String(id), challenge: p.challenge, assertion});
    B.save(blob, "bastion-recording-" + id + ".tar");
    B.notice(B.t("bundle.done"), "ok");
  });

  const month = B.el("input", {id: "report-month", type: "month"});
  const loadReport = B.guard(async () => {
    const q = month.value ? "?month=" + encodeURIComponent(month.value) : "";
    const rows = await B.api("GET", "/api/list/report" + q);
    B.clear(report).append(B.table(Array.isArray(rows) ? rows : rows.sessions || []));
  });
  const csv = B.guard(async () => {
    const q = month.value ? "?month=" + encodeURIComponent(month.value) : "";
    B.save(await B.api("GET", "/api/report.csv" + q), "bastion-report" + (month.value ? "-" + month.value : "") + ".csv");
  });

  main.append(
    B.card("recordings", "recordings.title",
      B.el("form", {class: "inline", id: "search-form", onsubmit: ev => {
        ev.preventDefault();
        search();
      }}, ...Object.values(f), B.el("button", {type: "submit", id: "search-go", text: B.t("search")})),
      list),
    detail,
    B.card("report", "report.title",
      B.el("form", {class: "inline"}, month,
        B.el("button", {type: "button", id: "report-go", text: B.t("report.show"), onclick: loadReport}),
        B.el("button", {type: "button", class: "secondary", id: "report-csv", text: B.t("report.csv"), onclick: csv})),
      report));
  search();
  loadReport();
  B.stopPage = () => {
    if (player) player.stop();
    player = null;
  };
};
