/*
 * auditor.js - the auditor's page: recordings searched by engineer,
 * vendor, device and date; one replayed in the browser (player.js),
 * verified (signature and chain status shown plainly), its evidence
 * bundle downloaded (an export: prepared, confirmed with the security
 * key, committed; the bundle is what `bastion-verify` checks offline);
 * the month's report (its sessions, then its files section: the files
 * moved per vendor and direction, and the file declarations still open,
 * docs/FILES.md), and the same as CSV. An encrypted recording plays
 * only where bastiond may unlock it (audited); else the page says to
 * replay it offline with the auditor's key.
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

  const actions = id => [
    B.el("button", {class: "replay secondary", id: "replay-" + id, text: B.t("replay"),
      onclick: () => open(id, "replay")}),
    B.el("button", {class: "verify secondary", id: "verify-" + id, text: B.t("verify"),
      onclick: () => open(id, "verify")}),
    B.el("button", {class: "bundle", id: "bundle-" + id, text: B.t("bundle"),
      onclick: () => bundle(id)}),
  ];

  /* `recordings --json` as a table with buttons per row */
  const cols = ["session", "start", "duration", "status", "engineer", "vendor",
    "device", "from", "approval", "encrypted"];
  const known = {};
  const search = B.guard(async () => {
    const q = new URLSearchParams();
    for (const [k, e] of Object.entries(f)) if (e.value.trim()) q.set(k, e.value.trim());
    const rows = await B.api("GET", "/api/list/recordings?" + q.toString());
    const shown = (Array.isArray(rows) ? rows : []).map(r => {
      known[String(r.session)] = r;
      return Object.assign({}, r, {encrypted: r.encrypted ? "\u{1F512}" : ""});
    });
    B.clear(list).append(B.table(shown, cols, row => actions(String(row.session))));
  });

  const open = B.guard(async (id, what) => {
    if (player) player.stop();
    player = null;
    B.clear(detail);
    if (what === "replay") {
      let blob;
      try {
        blob = await B.api("GET", "/api/recordings/" + id + "/cast");
      } catch (e) {
        /* encrypted, and this server may not decrypt it: say so plainly */
        if (e.status !== 403 || !(known[id] || {}).encrypted) throw e;
        detail.append(B.card("replay-card", "replay.title",
          B.el("p", {id: "replay-offline", class: "status-bad", text: B.t("replay.encrypted")}),
          B.el("pre", {id: "replay-refusal", text: e.message})));
        return;
      }
      const cast = B.parseCast(await blob.text());
      const box = B.el("div", {});
      detail.append(B.card("replay-card", "replay.title", B.el("p", {text: "#" + id}), box));
      player = B.player(box, cast);
      return;
    }
    /* bastiond's verdict: exit status 0 (200) verified, 1 (403) not */
    let ok = true, words;
    try {
      const v = await B.api("GET", "/api/recordings/" + id + "/verify");
      words = typeof v.message === "string" ? v.message : B.describe(v);
      ok = v.ok !== false;
    } catch (e) {
      if (e.status !== 403) throw e;
      ok = false;
      words = e.message;
    }
    detail.append(B.card("verify-card", "verify.title",
      B.el("p", {id: "verify-status", class: ok ? "status-ok" : "status-bad",
        text: (ok ? B.t("verify.ok") : B.t("verify.bad")) + " (#" + id + ")"}),
      B.el("pre", {id: "verify-detail", text: words})));
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

  /* `report --json`'s "files": {moved: [{vendor, direction, files,
   * bytes, refused}], truncated, open_declarations: [...] or null when
   * the state store could not be read} */
  const filesSection = files => {
    const moved = (Array.isArray(files.moved) ? files.moved : []).map(m =>
      Object.assign({}, m, {direction: B.t(m.direction === "out" ? "report.files.out" : "report.files.in")}));
    const open = files.open_declarations;
    return B.el("div", {id: "report-files"},
      B.el("h3", {text: B.t("report.files.moved")}),
      B.el("div", {id: "report-files-moved"},
        B.table(moved, ["vendor", "direction", "files", "bytes", "refused"])),
      files.truncated ? B.el("p", {class: "status-bad", id: "report-files-truncated",
        text: B.t("report.files.truncated")}) : null,
      B.el("h3", {text: B.t("report.files.open")}),
      Array.isArray(open) ?
        B.el("div", {id: "report-declarations"},
          B.table(open, ["session", "engineer", "vendor", "device", "since", "files", "bytes", "list"])) :
        B.el("p", {class: "status-bad", id: "report-declarations-unread", text: B.t("report.files.unread")}));
  };

  const month = B.el("input", {id: "report-month", type: "month"});
  const loadReport = B.guard(async () => {
    const q = month.value ? "?month=" + encodeURIComponent(month.value) : "";
    const doc = await B.api("GET", "/api/list/report" + q);
    B.clear(report).append(B.table(Array.isArray(doc) ? doc : doc.sessions || []));
    if (doc && typeof doc.files === "object" && doc.files !== null)
      report.append(filesSection(doc.files));
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
