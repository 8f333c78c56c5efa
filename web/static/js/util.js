/*
 * util.js - what every page of the console uses: building DOM (with
 * textContent only: nothing from bastiond is ever parsed as HTML), the
 * language catalogues, times in the hospital's time zone, the /api
 * client, base64url and WebAuthn.
 *
 * Everything hangs off one global, B, so the page scripts stay plain
 * files (no build step, no modules).
 */
"use strict";
const B = {
  lang: "ja",
  tz: "Asia/Tokyo",
  text: {},
  me: null,                 // {person, role} after sign-in
  creds: [],                // the signed-in person's credential ids (b64u)
  rpId: null,
  pages: {},               // page name -> function(main), one file each
  stopPage: null,          // what the current page stops when left
};

/* el("td", {class: "x", onclick: f}, "text", child, ...) */
B.el = function (tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const kid of kids) {
    if (kid === undefined || kid === null) continue;
    e.append(typeof kid === "string" || typeof kid === "number" ?
      document.createTextNode(String(kid)) : kid);
  }
  return e;
};

B.clear = function (e) {
  while (e.firstChild) e.removeChild(e.firstChild);
  return e;
};

/* The catalogue's text for key, with {name} replaced by vars.name. */
B.t = function (key, vars) {
  let s = Object.prototype.hasOwnProperty.call(B.text, key) ? B.text[key] : key;
  for (const [k, v] of Object.entries(vars || {})) s = s.split("{" + k + "}").join(String(v));
  return s;
};

B.loadLang = async function (lang) {
  const r = await fetch("/i18n/" + (lang === "en" ? "en" : "ja") + ".json",
    {credentials: "same-origin"});
  B.text = await r.json();
  B.lang = lang === "en" ? "en" : "ja";
  document.documentElement.lang = B.lang;
};

/* Unix seconds as the hospital's local time, in the page's language. */
B.time = function (secs) {
  if (typeof secs !== "number" || !isFinite(secs) || secs <= 0) return "";
  try {
    return new Intl.DateTimeFormat(B.lang === "en" ? "en-GB" : "ja-JP", {
      timeZone: B.tz, dateStyle: "medium", timeStyle: "medium",
    }).format(new Date(secs * 1000));
  } catch (e) {
    return new Date(secs * 1000).toISOString();
  }
};

B.notice = function (msg, kind) {
  const n = document.getElementById("notice");
  n.textContent = msg || "";
  n.className = kind || "";
};

/* An /api call: JSON in, JSON out. A refusal throws an Error whose
 * message is bastiond's (or its translation by code). */
B.api = async function (method, path, body) {
  const opts = {
    method, credentials: "same-origin", cache: "no-store",
    headers: {"X-Bastion-Lang": B.lang},
  };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  const type = r.headers.get("Content-Type") || "";
  if (!r.ok) {
    let msg = r.status + " " + r.statusText, code = "http";
    if (type.startsWith("application/json")) {
      const j = await r.json().catch(() => ({}));
      code = j.error || code;
      msg = Object.prototype.hasOwnProperty.call(B.text, "err." + code) &&
        !j.message ? B.t("err." + code) : (j.message || msg);
    }
    const e = new Error(msg);
    e.code = code;
    e.status = r.status;
    throw e;
  }
  return type.startsWith("application/json") ? r.json() : r.blob();
};

B.b64u = function (buf) {
  const bytes = new Uint8Array(buf);
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

B.unb64u = function (s) {
  const t = String(s).replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(t + "===".slice((t.length + 3) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
};

/* A credential id list from bastiond: strings, or objects with id. */
B.idList = function (list) {
  return (Array.isArray(list) ? list : []).map(c =>
    ({type: "public-key", id: B.unb64u(typeof c === "string" ? c : c.id)}));
};

/* navigator.credentials.get over challenge (base64url); the assertion
 * as webd wants it. */
B.assert = async function (challenge, allow, rpId, uv) {
  const pk = {
    challenge: B.unb64u(challenge),
    allowCredentials: B.idList(allow && allow.length ? allow : B.creds),
    userVerification: uv || "discouraged",
    timeout: 60000,
  };
  if (rpId || B.rpId) pk.rpId = rpId || B.rpId;
  const a = await navigator.credentials.get({publicKey: pk});
  return {
    id: B.b64u(a.rawId),
    authenticatorData: B.b64u(a.response.authenticatorData),
    clientDataJSON: B.b64u(a.response.clientDataJSON),
    signature: B.b64u(a.response.signature),
    userHandle: a.response.userHandle ? B.b64u(a.response.userHandle) : "",
  };
};

/* The confirmation dialog: resolves true (confirmed) or false. */
B.confirm = function (title, body) {
  return new Promise(resolve => {
    const d = document.getElementById("dialog");
    document.getElementById("dialog-title").textContent = title;
    document.getElementById("dialog-body").textContent = body;
    const ok = document.getElementById("dialog-ok");
    const cancel = document.getElementById("dialog-cancel");
    ok.textContent = B.t("dialog.confirm");
    cancel.textContent = B.t("dialog.cancel");
    const done = v => {
      d.hidden = true;
      ok.onclick = cancel.onclick = null;
      resolve(v);
    };
    ok.onclick = () => done(true);
    cancel.onclick = () => done(false);
    d.hidden = false;
    ok.focus();
  });
};

/* The action summary bastiond made, as lines of "key: value". */
B.describe = function (action) {
  if (action === null || typeof action !== "object") return String(action);
  return Object.entries(action).map(([k, v]) =>
    k + ": " + (typeof v === "number" && /(^|_)(at|created|started|since|until|expires)$/.test(k) ?
      B.time(v) : typeof v === "object" ? JSON.stringify(v) : String(v))).join("\n");
};

/*
 * A state change, the only way the console makes one: prepare (bastiond
 * computes the exact action and its challenge) -> the person confirms
 * what is shown -> the security key signs that challenge -> commit.
 * Resolves to the commit's answer, or null when cancelled.
 */
B.act = async function (verb, args) {
  const p = await B.api("POST", "/api/prepare", {verb, args});
  const ok = await B.confirm(B.t("action." + verb), B.describe(p.action));
  if (!ok) return null;
  const a = p.action || {};
  const assertion = await B.assert(p.challenge, a.allow, a.rp_id,
    a.user_verification);
  return B.api("POST", "/api/commit", {challenge: p.challenge, assertion});
};

/* Save a Blob as a file. */
B.save = function (blob, name) {
  const url = URL.createObjectURL(blob);
  const a = B.el("a", {href: url, download: name});
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
};

const TIME_KEY = /(^|_)(at|created|started|since|until|expires|time|start|end)$/;

/* A table of objects: columns are the keys of the first (or cols), times
 * formatted; extra(row) gives a last cell of buttons. */
B.table = function (rows, cols, extra) {
  if (!Array.isArray(rows) || rows.length === 0)
    return B.el("p", {class: "empty", text: B.t("list.empty")});
  cols = cols || Object.keys(rows[0]).filter(k => typeof rows[0][k] !== "object");
  const head = B.el("tr", {}, ...cols.map(c => B.el("th", {text: B.text["col." + c] || c})));
  if (extra) head.append(B.el("th", {text: ""}));
  const body = rows.map(r => {
    const tr = B.el("tr", {}, ...cols.map(c => {
      const v = r[c];
      return B.el("td", {"data-col": c, text:
        typeof v === "number" && TIME_KEY.test(c) ? B.time(v) :
        v === null || v === undefined ? "" : String(v)});
    }));
    if (extra) tr.append(B.el("td", {class: "actions"}, ...extra(r)));
    return tr;
  });
  return B.el("table", {}, B.el("thead", {}, head), B.el("tbody", {}, ...body));
};

/* A card with a heading and a body element. */
B.card = function (id, titleKey, ...kids) {
  return B.el("section", {class: "card", id}, B.el("h2", {text: B.t(titleKey)}), ...kids);
};

/* Errors shown, never thrown further. */
B.guard = function (f) {
  return async function (...a) {
    try {
      return await f.apply(this, a);
    } catch (e) {
      B.notice(e.message || String(e), "error");
      return null;
    }
  };
};
