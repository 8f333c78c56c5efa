/*
 * stylenonce.js - loaded first: every <style> element a script creates
 * gets the page's style nonce, so xterm.js's renderer works under a
 * Content-Security-Policy that allows styles only from 'self' and that
 * nonce (docs/WEB.md, "Defences"). webd puts a fresh nonce into the
 * page's meta tag and its CSP header on every load.
 */
"use strict";
(function () {
  const meta = document.querySelector('meta[name="style-nonce"]');
  const nonce = meta ? meta.content : "";
  const create = Document.prototype.createElement;
  Document.prototype.createElement = function (tag, opts) {
    const e = create.call(this, tag, opts);
    if (String(tag).toLowerCase() === "style") e.nonce = nonce;
    return e;
  };
})();
