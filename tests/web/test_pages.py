"""The console's pages in a real headless Chromium under webd's headers:
they load with no Content-Security-Policy violation, in Japanese by
default and in English on request; xterm.js renders colours under the
CSP through the style-nonce shim; the page cannot be framed.
"""

import pytest

pytestmark = pytest.mark.timeout(120)


def test_signin_page_loads_clean_in_both_languages(webd, browser):
    browser.open(webd.origin + "/")
    browser.wait_text("#signin h2", "サインイン")
    assert browser.d.execute_script("return document.documentElement.lang") == "ja"
    assert browser.d.current_url.endswith("#/signin")
    browser.shot("signin-ja")
    browser.d.find_element("css selector", "#lang").send_keys("English")
    browser.wait_text("#signin h2", "Sign in")
    browser.shot("signin-en")
    browser.d.find_element("css selector", "#to-enroll").click()
    browser.wait_text("#enroll h2", "Enrol")
    browser.shot("enroll")
    assert browser.violations() == []


def test_xterm_renders_colour_under_the_csp(webd, browser):
    browser.open(webd.origin + "/")
    got = browser.d.execute_async_script("""
        const cb = arguments[arguments.length - 1];
        const box = document.createElement('div');
        document.body.append(box);
        const t = new Terminal({cols: 40, rows: 4});
        t.open(box);
        t.write('plain \\x1b[31mred\\x1b[0m 日本語\\r\\n', () => setTimeout(() => {
          const line = t.buffer.active.getLine(0).translateToString(true);
          const spans = [...box.querySelectorAll('span')];
          const red = spans.find(s => s.textContent.trim() === 'red');
          const plain = spans.find(s => s.textContent.includes('plain'));
          cb({line, colour: red ? getComputedStyle(red).color : null,
              plain: plain ? getComputedStyle(plain).color : null,
              styles: document.querySelectorAll('style').length});
        }, 300));""")
    assert got["line"] == "plain red 日本語"
    assert got["styles"] > 0
    # red is red: the theme's styles were applied (without the nonce
    # the <style> elements are refused and every span has one colour)
    assert got["colour"] is not None and got["colour"] != got["plain"], got
    assert browser.violations() == []


def test_without_the_nonce_a_style_would_be_refused(webd, browser):
    # the CSP is what makes the shim necessary: a <style> element made
    # without the page's nonce is refused (so the test above means
    # something)
    browser.open(webd.origin + "/")
    browser.d.execute_script("""
        const s = document.createElement('style');
        s.removeAttribute('nonce'); s.nonce = 'wrong';
        s.textContent = 'body { background: red }';
        document.head.append(s);""")
    import time
    time.sleep(0.5)
    v = browser.violations()
    assert any(x.startswith("style-src") for x in v), v


def test_the_console_cannot_be_framed(webd, browser):
    browser.open(webd.origin + "/")
    browser.d.execute_script("""
        window.__framed = null;
        const f = document.createElement('iframe');
        f.src = '/';
        f.onload = () => { try { window.__framed =
          f.contentDocument ? f.contentDocument.body.textContent : 'blocked'; }
          catch (e) { window.__framed = 'blocked'; } };
        document.body.append(f);""")
    import time
    time.sleep(1.5)
    framed = browser.d.execute_script("return window.__framed")
    assert framed in (None, "blocked", ""), framed
