"""The web console's test harness: bastion-webd as a process, an HTTPS
client that shows every header, and a headless Chromium with Selenium's
virtual authenticator (docs/TESTING.md, "Web").
"""

import http.client
import json
import os
import pathlib
import shutil
import signal
import ssl
import subprocess
import time

from selenium.common.exceptions import (NoSuchElementException,
                                        StaleElementReferenceException)

from harness import util

REPO = pathlib.Path(__file__).resolve().parents[2]
WEB_CERT = REPO / "scripts" / "web-cert.sh"


class Webd:
    """bastion-webd --listen 127.0.0.1:PORT for origin https://localhost:PORT."""

    def __init__(self, binary, static, workdir, ctl_path, host="localhost"):
        self.binary = str(binary)
        self.static = str(static)
        self.dir = pathlib.Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ctl_path = ctl_path
        self.host = host
        self.port = util.free_port()
        self.origin = "https://%s:%d" % (host, self.port)
        self.log = self.dir / "webd.log"
        self.proc = None

    def start(self):
        subprocess.run([str(WEB_CERT), self.host, str(self.dir)], check=True,
                       stdout=subprocess.DEVNULL)
        self.proc = subprocess.Popen(
            [self.binary, "--listen", "127.0.0.1:%d" % self.port,
             "--origin", self.origin, "--key", str(self.dir / "key.pem"),
             "--cert", str(self.dir / "cert.pem"), "--static", self.static,
             "--control", self.ctl_path, "-d"],
            stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        util.wait_tcp("127.0.0.1", self.port, alive=self.alive,
                      what="bastion-webd", log=self.log)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM; then a sanitizer build's report (make SAN=1) fails the
        test that ran it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log.exists():
            text = self.log_text()
            for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                         "runtime error:"):
                if mark in text:
                    raise AssertionError("bastion-webd: %s\n%s" % (
                        mark, text[text.index(mark):][:4000]))

    def log_text(self):
        return self.log.read_text(errors="replace")

    def request(self, method, path, body=None, headers=None, origin=True):
        """One HTTPS request: (status, headers dict (lower-case names,
        repeated ones joined by '\\n'), body bytes). origin=True sends our
        own Origin; a string sends that one; False none."""
        ctx = ssl.create_default_context(cafile=str(self.dir / "cert.pem"))
        ctx.check_hostname = False
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx,
                                        timeout=15)
        h = dict(headers or {})
        if origin is True:
            h.setdefault("Origin", self.origin)
        elif origin:
            h.setdefault("Origin", origin)
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        hdrs = {}
        for k, v in r.getheaders():
            k = k.lower()
            hdrs[k] = hdrs[k] + "\n" + v if k in hdrs else v
        c.close()
        return r.status, hdrs, data


class Browser:
    """Headless Chromium through chromedriver; screenshots in shots/."""

    def __init__(self, shots):
        try:
            from selenium import webdriver
            from selenium.webdriver.chrome.service import Service
        except ImportError:
            util.missing("python3-selenium", "/usr/lib/python3/dist-packages/selenium")
        for p in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
            if not os.access(p, os.X_OK):
                util.missing("chromium and chromium-driver", p)
        self.shots = pathlib.Path(shots)
        self.shots.mkdir(parents=True, exist_ok=True)
        self.downloads = pathlib.Path(util.short_tmpdir("bst-dl-"))
        o = webdriver.ChromeOptions()
        o.binary_location = "/usr/bin/chromium"
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
                  "--ignore-certificate-errors", "--window-size=1280,1000",
                  "--disable-dev-shm-usage", "--lang=ja"):
            o.add_argument(a)
        o.add_experimental_option("prefs", {
            "download.default_directory": str(self.downloads),
            "download.prompt_for_download": False})
        self.d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                                  options=o)
        self.d.set_script_timeout(30)
        self.d.execute_cdp_cmd("Page.setDownloadBehavior", {
            "behavior": "allow", "downloadPath": str(self.downloads)})

    def authenticator(self, uv=False):
        from selenium.webdriver.common.virtual_authenticator import \
            VirtualAuthenticatorOptions
        va = VirtualAuthenticatorOptions()
        va.protocol = VirtualAuthenticatorOptions.Protocol.CTAP2
        va.transport = VirtualAuthenticatorOptions.Transport.USB
        va.has_resident_key = False
        va.has_user_verification = uv
        va.is_user_consenting = True
        va.is_user_verified = uv
        self.d.add_virtual_authenticator(va)

    def open(self, url):
        """Load url and record CSP violations from the first moment."""
        self.d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {
            "source": "window.__viol = []; document.addEventListener("
                      "'securitypolicyviolation', e => window.__viol.push("
                      "e.violatedDirective + ' ' + e.blockedURI));"})
        self.d.get(url)
        util.wait_until(lambda: self.d.execute_script(
            "return window.bastionReady === true"), timeout=15,
            what="the console's page to start")

    def violations(self):
        return self.d.execute_script("return window.__viol || []")

    def text(self, css):
        return self.d.find_element("css selector", css).text

    def wait_text(self, css, want, timeout=20):
        def seen():
            try:
                return want in self.d.find_element("css selector", css).text
            except Exception:
                return False
        util.wait_until(seen, timeout=timeout,
                        what="%r in %s" % (want, css))

    def shot(self, name):
        self.d.save_screenshot(str(self.shots / (name + ".png")))

    def quit(self):
        try:
            self.d.quit()
        finally:
            shutil.rmtree(self.downloads, ignore_errors=True)


class Console:
    """The console as a person uses it, through Browser b at webd's origin."""

    def __init__(self, browser, webd):
        self.b = browser
        self.webd = webd

    def find(self, css):
        return self.b.d.find_element("css selector", css)

    def click(self, css):
        """Click css, which the page may draw anew under the click (a
        table row's button while a search is in flight): until a click
        lands on the one on the page."""
        def once():
            try:
                self.find(css).click()
                return True
            except (StaleElementReferenceException, NoSuchElementException):
                return False
        util.wait_until(once, timeout=10, what="a click on %s" % css)

    def fill(self, css, value):
        e = self.find(css)
        e.clear()
        e.send_keys(value)

    def enroll(self, user, code, secret):
        self.b.open(self.webd.origin + "/#/enroll")
        self.b.wait_text("#enroll h2", "")
        self.fill("#enroll-user", user)
        self.fill("#enroll-code", code)
        self.fill("#enroll-secret", secret)
        self.find("#enroll-go").click()

    def sign_in(self, user, secret):
        if "#/signin" not in self.b.d.current_url:
            self.b.open(self.webd.origin + "/#/signin")
        self.fill("#signin-user", user)
        self.fill("#signin-secret", secret)
        self.find("#signin-go").click()

    def notice(self):
        return self.find("#notice").text

    def wait_notice(self, want, timeout=20):
        self.b.wait_text("#notice", want, timeout=timeout)

    def confirm(self, shot=None):
        """Press the dialog's confirm button (the key then signs); its
        text. shot: a screenshot of the dialog by that name first."""
        util.wait_until(lambda: self.find("#dialog").is_displayed(),
                        timeout=20, what=lambda: "the confirmation dialog "
                        "(the page says: %r)" % self.notice())
        body = self.find("#dialog-body").text
        if shot:
            self.b.shot(shot)
        self.find("#dialog-ok").click()
        return body

    def api(self, method, path, body=None):
        """fetch() from the page, as the page's own code would (same
        origin, the cookie): {status, body}."""
        return self.b.d.execute_async_script("""
            const [method, path, body, cb] = arguments;
            const o = {method, credentials: 'same-origin',
                       headers: {'Content-Type': 'application/json'}};
            if (body !== null) o.body = JSON.stringify(body);
            fetch(path, o).then(async r => cb({status: r.status,
                body: await r.text()}), e => cb({status: 0, body: String(e)}));
            """, method, path, body)
