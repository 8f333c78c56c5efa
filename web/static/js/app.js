/*
 * app.js - the console's start: the language, who is signed in, and the
 * pages by address (#/signin, #/enroll, #/admin, #/admin/requests/ID,
 * #/admin/files/ID, #/auditor; a link into a page is kept through the
 * sign-in); sign-in and enrolment (docs/WEB.md, "Sign-in and enrolment").
 *
 * Sign-in: the name -> /api/login/begin (a challenge and the person's
 * credential ids) -> the security key (navigator.credentials.get) -> the
 * secret and the assertion -> /api/login/finish, which sets the cookie.
 * Enrolment: the one-time code from `ssh -A NAME@bastion web-enroll` (or
 * `bastionctl web-enroll NAME`) -> /api/enroll/begin -> the key makes a
 * credential for this console -> /api/enroll/finish with the secret.
 */
"use strict";

B.pages.signin = function (main) {
  const user = B.el("input", {id: "signin-user", name: "user", autocomplete: "username", required: true});
  const secret = B.el("input", {id: "signin-secret", name: "secret", type: "password",
    autocomplete: "current-password", required: true});
  const go = B.el("button", {id: "signin-go", type: "submit", text: B.t("signin.go")});
  const form = B.el("form", {class: "signin", id: "signin-form"},
    B.el("label", {}, B.t("signin.user"), user),
    B.el("label", {}, B.t("signin.secret"), secret), go,
    B.el("p", {class: "empty"}, B.t("signin.hint")),
    B.el("a", {href: "#/enroll", id: "to-enroll", text: B.t("enroll.link")}));
  form.addEventListener("submit", B.guard(async ev => {
    ev.preventDefault();
    B.notice(B.t("signin.touch"));
    const begin = await B.api("POST", "/api/login/begin", {user: user.value});
    const how = begin.action || {};
    let assertion;
    try {
      assertion = await B.assert(begin.challenge, how.allow, how.rp_id,
        how.user_verification);
    } catch (e) {
      throw new Error(B.t("signin.failed"));
    }
    const me = await B.api("POST", "/api/login/finish",
      {user: user.value, secret: secret.value, assertion});
    secret.value = "";
    B.creds = (how.allow || []).map(c => typeof c === "string" ? c : c.id);
    B.rpId = how.rp_id || null;
    sessionStorage.setItem("bastion.creds", JSON.stringify({creds: B.creds, rpId: B.rpId}));
    B.notice("");
    await B.start(me);
  }));
  main.append(B.card("signin", "signin.title", form));
};

B.pages.enroll = function (main) {
  const user = B.el("input", {id: "enroll-user", required: true});
  const code = B.el("input", {id: "enroll-code", required: true, autocomplete: "one-time-code"});
  const secret = B.el("input", {id: "enroll-secret", type: "password", required: true});
  const form = B.el("form", {class: "signin", id: "enroll-form"},
    B.el("p", {}, B.t("enroll.how")),
    B.el("label", {}, B.t("signin.user"), user),
    B.el("label", {}, B.t("enroll.code"), code),
    B.el("label", {}, B.t("signin.secret"), secret),
    B.el("button", {id: "enroll-go", type: "submit", text: B.t("enroll.go")}),
    B.el("a", {href: "#/signin", text: B.t("signin.link")}));
  form.addEventListener("submit", B.guard(async ev => {
    ev.preventDefault();
    const begin = await B.api("POST", "/api/enroll/begin", {user: user.value, code: code.value});
    const o = begin.action || {};
    const pick = (...keys) => keys.map(k => o[k]).find(v => v !== undefined);
    const pk = {
      challenge: B.unb64u(begin.challenge),
      rp: {id: pick("rp_id", "rpId"), name: pick("rp_name", "rpName") || "bastion"},
      // the user handle is not checked by bastiond: given, or random
      user: {id: pick("user_id", "userId") ? B.unb64u(pick("user_id", "userId")) :
        crypto.getRandomValues(new Uint8Array(16)), name: user.value, displayName: user.value},
      pubKeyCredParams: [{type: "public-key", alg: -8}, {type: "public-key", alg: -7}],
      attestation: pick("attestation") || "none",
      authenticatorSelection: {residentKey: "discouraged",
        userVerification: pick("user_verification", "userVerification") || "discouraged"},
      excludeCredentials: B.idList(pick("exclude", "excludeCredentials")),
      timeout: 60000,
    };
    const c = await navigator.credentials.create({publicKey: pk});
    await B.api("POST", "/api/enroll/finish", {
      user: user.value, code: code.value, secret: secret.value,
      credential: {
        attestationObject: B.b64u(c.response.attestationObject),
        clientDataJSON: B.b64u(c.response.clientDataJSON),
      },
    });
    secret.value = "";
    B.notice(B.t("enroll.done"), "ok");
    location.hash = "#/signin";
  }));
  main.append(B.card("enroll", "enroll.title", form));
};

/* A link into a page (#/admin/requests/ID, #/admin/files/ID) opened
 * before signing in is where the sign-in leads. */
B.keepLink = function () {
  if (!B.me && /^#\/(admin|auditor)\/./.test(location.hash)) B.wanted = location.hash;
};

/* Draw the page the address names (or the one the role allows). */
B.route = function () {
  const main = B.clear(document.getElementById("main"));
  if (B.stopPage) {
    B.stopPage();
    B.stopPage = null;
  }
  const page = (location.hash.replace(/^#\//, "").split("/")[0]) || "";
  document.getElementById("logout").hidden = !B.me;
  document.getElementById("who").textContent = B.me ?
    B.t("who", {person: B.me.person, role: B.t("role." + B.me.role)}) : "";
  if (!B.me) {
    B.keepLink();
    (page === "enroll" ? B.pages.enroll : B.pages.signin)(main);
    return;
  }
  const parts = location.hash.replace(/^#\//, "").split("/");
  const one = {requests: B.pages.request, files: B.pages.file}[parts[1]];
  if (B.me.role === "admin" && one && /^[0-9]{1,18}$/.test(parts[2] || ""))
    one(main, parts[2]);
  else if (B.me.role === "admin") B.pages.admin(main);
  else if (B.me.role === "auditor") B.pages.auditor(main);
  else main.append(B.el("p", {text: B.t("role.none")}));
};

/* Signed in as me ({person, role, time_zone?, language?}). */
B.start = async function (me) {
  B.me = me && me.person ? me : null;
  if (B.me && B.me.time_zone) B.tz = B.me.time_zone;
  if (B.me && B.me.language && !localStorage.getItem("bastion.lang") && B.me.language !== B.lang) {
    await B.loadLang(B.me.language);
    B.labels();
  }
  B.keepLink();
  let want = B.me ? "#/" + B.me.role : (location.hash === "#/enroll" ? "#/enroll" : "#/signin");
  if (B.me && B.wanted && B.wanted.startsWith(want + "/")) want = B.wanted;
  if (B.me) B.wanted = null;
  if (location.hash !== want) location.hash = want;
  else B.route();
};

B.labels = function () {
  document.getElementById("logout").textContent = B.t("signout");
  document.getElementById("lang").value = B.lang;
  document.title = B.t("title");
};

window.addEventListener("DOMContentLoaded", async () => {
  window.addEventListener("hashchange", B.route);
  await B.loadLang(localStorage.getItem("bastion.lang") || "ja");
  B.labels();
  try {
    const saved = JSON.parse(sessionStorage.getItem("bastion.creds") || "{}");
    B.creds = saved.creds || [];
    B.rpId = saved.rpId || null;
  } catch (e) {
    B.creds = [];
  }
  document.getElementById("lang").addEventListener("change", async ev => {
    localStorage.setItem("bastion.lang", ev.target.value);
    await B.loadLang(ev.target.value);
    B.labels();
    B.route();
  });
  document.getElementById("logout").addEventListener("click", B.guard(async () => {
    await B.api("POST", "/api/logout", {});
    sessionStorage.removeItem("bastion.creds");
    await B.start(null);
  }));
  let me = null;
  try {
    me = await B.api("GET", "/api/whoami");
  } catch (e) {
    me = null;
  }
  await B.start(me);
  window.bastionReady = true;
});
