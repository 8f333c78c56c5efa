/*
 * admin.js - the admin's page: pending requests as they arrive (the live
 * feed, /api/feed), approve for a duration or deny with a reason;
 * downloads held by export approval (file-approve, file-deny); live
 * sessions, watched live (read-only) or ended with a reason; engineers
 * locked and unlocked; grants and their revocation; vendors and devices.
 * And one request's own page (#/admin/requests/ID) and one file
 * request's (#/admin/files/ID), where the notification mails lead.
 *
 * Lists are the verbs' own --json output; every button that changes
 * something goes through B.act (prepare -> confirm -> security key ->
 * commit), so what is approved is exactly what was shown.
 */
"use strict";

/* The reason and the deny button (verb: deny, file-deny; ids VERB-ID and
 * VERB-reason-ID): a reason is needed, then B.act; done(promise, notice
 * key) reports and redraws */
B.denyParts = (verb, id, done, key) => [
  B.el("input", {class: "reason", id: verb + "-reason-" + id, placeholder: B.t("reason")}),
  B.el("button", {class: "deny danger", id: verb + "-" + id, text: B.t("deny"),
    onclick: B.guard(() => {
      const why = document.getElementById(verb + "-reason-" + id).value.trim();
      if (!why) throw new Error(B.t("reason.needed"));
      return done(B.act(verb, [String(id), why]), key);
    })}),
];

/* approve (for a duration) or deny (with a reason) one pending request */
B.requestButtons = (row, done) => row.status && row.status !== "pending" ? [] : [
  B.el("select", {class: "duration", id: "duration-" + row.id},
    ...["1h", "2h", "4h", "8h"].map(d => B.el("option", {value: d, text: d}))),
  B.el("button", {class: "approve", id: "approve-" + row.id, text: B.t("approve"),
    onclick: B.guard(() => done(B.act("approve",
      [String(row.id), document.getElementById("duration-" + row.id).value]), "approved"))}),
  ...B.denyParts("deny", row.id, done, "denied"),
];

/* release (file-approve) or refuse (file-deny, with a reason) one held
 * download: the file, its size and SHA-256 are in the action the key
 * signs (prepare/commit), so what leaves is what was shown */
B.fileButtons = (row, done) => row.status !== "pending" ? [] : [
  B.el("button", {class: "approve", id: "file-approve-" + row.id, text: B.t("approve"),
    onclick: B.guard(() => done(B.act("file-approve", [String(row.id)]), "file.approved"))}),
  ...B.denyParts("file-deny", row.id, done, "file.denied"),
];

/* One request's own page, the one the notification mails link to: the
 * row numbered id of list (from the last 200 of every status) with its
 * buttons while it is pending; the feed redraws it when it is decided
 * elsewhere. name: its element ids and i18n keys (NAME.title, .one,
 * .missing). */
B.onePage = (main, id, list, name, buttons) => {
  const box = B.el("div", {id: name + "-detail"});
  const show = B.guard(async () => {
    const rows = await B.api("GET", "/api/list/" + list + "?all=1");
    const row = (Array.isArray(rows) ? rows : []).find(r => String(r.id) === id);
    if (!row) {
      B.clear(box).append(B.el("p", {class: "empty", id: name + "-missing",
        text: B.t(name + ".missing", {id})}));
      return;
    }
    B.clear(box).append(B.table([row], null, r => buttons(r, done)));
  });
  const done = async (p, key) => {
    const r = await p;
    if (r !== null) B.notice(B.t(key), "ok");
    await show();
  };
  main.append(B.card(name, name + ".title",
    B.el("p", {text: B.t(name + ".one", {id})}), box,
    B.el("a", {href: "#/admin", id: "to-admin", text: B.t("request.all")})));
  show();
  const feed = new EventSource("/api/feed");
  feed.addEventListener("change", show);
  B.stopPage = () => feed.close();
};

/* #/admin/requests/ID: a session request, approve (for a duration) or
 * deny */
B.pages.request = (main, id) => B.onePage(main, id, "requests", "request",
  B.requestButtons);

/* #/admin/files/ID: a download held by export approval, with its path,
 * size and SHA-256; file-approve or file-deny */
B.pages.file = (main, id) => B.onePage(main, id, "file-requests", "file",
  B.fileButtons);

B.pages.admin = function (main) {
  const boxes = {
    requests: B.el("div", {id: "requests-list"}),
    "file-requests": B.el("div", {id: "file-requests-list"}),
    sessions: B.el("div", {id: "sessions-list"}),
    grants: B.el("div", {id: "grants-list"}),
    vendors: B.el("div", {id: "vendors-list"}),
  };
  const watch = B.el("div", {id: "watch"});
  let feed = null, term = null, stream = null;

  /* the columns shown of each verb's JSON (the rest stays out of the way) */
  const cols = {
    requests: ["id", "engineer", "vendor", "device", "reason", "created", "status"],
    "file-requests": ["id", "engineer", "device", "path", "size", "sha256", "created", "status"],
    sessions: ["sid", "engineer", "vendor", "device", "from", "started",
      "recorded_bytes", "idle_seconds", "command"],
    grants: ["id", "request", "engineer", "device", "created", "until"],
    vendors: null,
  };
  const pick = (rows, w) => cols[w] && Array.isArray(rows) && rows.length ?
    cols[w].filter(c => c in rows[0]) : null;

  const reload = B.guard(async which => {
    for (const w of which || Object.keys(boxes)) {
      const rows = await B.api("GET", "/api/list/" + w);
      B.clear(boxes[w]).append(B.table(rows, pick(rows, w), row => buttons[w](row)));
    }
  });

  const done = async (p, key) => {
    const r = await p;
    if (r !== null) B.notice(B.t(key), "ok");
    await reload();
  };

  const reasonInput = id => B.el("input", {class: "reason", id, placeholder: B.t("reason")});

  const stopWatch = () => {
    if (stream) stream.close();
    stream = null;
    if (term) term.dispose();
    term = null;
    B.clear(watch);
  };

  const startWatch = id => {
    stopWatch();
    const box = B.el("div", {class: "term", id: "watch-term"});
    watch.append(B.card("watch-card", "watch.title",
      B.el("p", {text: B.t("watch.session", {id})}), box,
      B.el("button", {class: "secondary", id: "watch-stop", text: B.t("watch.stop"), onclick: stopWatch})));
    term = new Terminal({cols: 100, rows: 24, fontSize: 13, disableStdin: true, convertEol: true});
    term.open(box);
    stream = new EventSource("/api/watch/" + encodeURIComponent(id));
    stream.addEventListener("term", ev => term && term.write(B.unb64u(ev.data)));
    stream.addEventListener("end", ev => {
      if (stream) stream.close();
      stream = null;
      let st = 0;
      try {
        st = JSON.parse(ev.data).status;
      } catch (e) {
        st = -1;
      }
      if (st !== 0) B.notice(B.t("watch.failed"), "error");
      if (term) term.write("\r\n[" + B.t(st === 0 ? "watch.ended" : "watch.failed") + "]\r\n");
    });
    window.bastionWatch = {term: () => term};
  };

  const buttons = {
    requests: row => B.requestButtons(row, done),
    /* export approval */
    "file-requests": row => B.fileButtons(row, done),
    sessions: row => {
      const sid = String(row.sid !== undefined ? row.sid : row.id);
      return [
        B.el("button", {class: "watch secondary", id: "watch-" + sid, text: B.t("watch"),
          onclick: () => startWatch(sid)}),
        reasonInput("kill-reason-" + sid),
        B.el("button", {class: "kill danger", id: "kill-" + sid, text: B.t("kill"),
          onclick: B.guard(() => {
            const why = document.getElementById("kill-reason-" + sid).value.trim();
            return done(B.act("kill", why ? [sid, why] : [sid]), "killed");
          })}),
      ];
    },
    grants: row => [
      B.el("button", {class: "revoke danger", id: "revoke-" + row.id, text: B.t("revoke"),
        onclick: B.guard(() => done(B.act("revoke", [String(row.id)]), "revoked"))}),
    ],
    vendors: () => [],
  };

  const engineer = B.el("input", {id: "engineer-name", placeholder: B.t("col.engineer")});
  const lockForm = B.el("form", {class: "inline", id: "lock-form"}, engineer,
    B.el("button", {type: "button", class: "danger", id: "lock-go", text: B.t("lock"),
      onclick: B.guard(() => done(B.act("lock", [engineer.value.trim()]), "locked"))}),
    B.el("button", {type: "button", class: "secondary", id: "unlock-go", text: B.t("unlock"),
      onclick: B.guard(() => done(B.act("unlock", [engineer.value.trim()]), "unlocked"))}));

  main.append(
    B.card("requests", "requests.title", boxes.requests),
    B.card("file-requests", "files.title", boxes["file-requests"]),
    B.card("sessions", "sessions.title", boxes.sessions), watch,
    B.card("engineers", "engineers.title", lockForm),
    B.card("grants", "grants.title", boxes.grants),
    B.card("vendors", "vendors.title", boxes.vendors));
  reload();

  /* the live feed: each change re-reads requests and sessions. Where
   * the feed is not there (it ends, or fails), the lists are read again
   * every few seconds instead: the page still never needs a reload. */
  let poll = null;
  const live = () => reload(["requests", "file-requests", "sessions", "grants"]);
  /* sessions change by themselves too (a start, bytes, idle) */
  const tick = setInterval(() => reload(["sessions"]), 5000);
  const fallBack = () => {
    if (feed) feed.close();
    feed = null;
    if (!poll) poll = setInterval(live, 3000);
  };
  feed = new EventSource("/api/feed");
  feed.addEventListener("change", live);
  feed.addEventListener("end", fallBack);
  feed.addEventListener("error", fallBack);
  B.stopPage = () => {
    if (feed) feed.close();
    feed = null;
    if (poll) clearInterval(poll);
    poll = null;
    clearInterval(tick);
    stopWatch();
  };
};
