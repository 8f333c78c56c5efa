"""The console's own browser code, read as text: no way to turn data into
markup or code (innerHTML and friends, eval, document.write, new
Function, inline handlers or scripts), and the two language catalogues
have the same keys, covering every key the code asks for.
"""

import json
import pathlib
import re

STATIC = pathlib.Path(__file__).resolve().parents[2] / "web" / "static"

FORBIDDEN = [
    r"\.innerHTML\b", r"\.outerHTML\b", r"\binsertAdjacentHTML\b",
    r"\beval\s*\(", r"\bdocument\.write(ln)?\b", r"\bnew\s+Function\b",
    r"\bsetTimeout\s*\(\s*['\"`]", r"\bsetInterval\s*\(\s*['\"`]",
    r"\.srcdoc\b", r"\bcreateContextualFragment\b", r"DOMParser",
]


def js_files():
    files = sorted((STATIC / "js").glob("*.js"))
    assert len(files) >= 5, files
    return files


def test_no_markup_or_code_from_strings():
    bad = []
    for f in js_files():
        for n, line in enumerate(f.read_text().splitlines(), 1):
            for pat in FORBIDDEN:
                if re.search(pat, line):
                    bad.append("%s:%d: %s" % (f.name, n, line.strip()))
    assert not bad, "\n".join(bad)


def test_the_lint_would_see_a_forbidden_line():
    line = "el.innerHTML = reason;"
    assert any(re.search(p, line) for p in FORBIDDEN)
    assert any(re.search(p, "document.write(x)") for p in FORBIDDEN)
    assert any(re.search(p, "const f = new Function('a', b)") for p in FORBIDDEN)


def test_html_has_no_inline_script_or_style():
    html = (STATIC / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), \
        "inline <script> in index.html"
    assert "<style" not in html
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html), "inline style attribute"
    assert 'name="style-nonce" content="__NONCE__"' in html
    # the nonce shim comes before xterm.js, which creates <style> elements
    assert html.index("/js/stylenonce.js") < html.index("/vendor/xterm.js")


def test_catalogues_have_the_same_keys_and_every_used_key():
    ja = json.loads((STATIC / "i18n" / "ja.json").read_text())
    en = json.loads((STATIC / "i18n" / "en.json").read_text())
    assert set(ja) == set(en), set(ja) ^ set(en)
    for cat in (ja, en):
        assert all(isinstance(v, str) and v for v in cat.values())
    used = set()
    for f in js_files():
        used |= set(re.findall(r"B\.t\(\s*\"([a-z_.]+)\"", f.read_text()))
        # keys built from a prefix: B.t("action." + verb), etc.
        for prefix in re.findall(r"B\.t\(\s*\"([a-z_]+\.)\"\s*\+", f.read_text()):
            assert any(k.startswith(prefix) for k in ja), prefix
    assert len(used) > 40
    missing = sorted(k for k in used if k not in ja and not k.endswith("."))
    assert not missing, missing
    # the verbs the console can ask for all have a confirmation title
    for verb in ("approve", "deny", "kill", "lock", "unlock", "revoke", "export"):
        assert "action." + verb in ja
    # placeholders match between the languages
    for k in ja:
        assert sorted(re.findall(r"\{\w+\}", ja[k])) == \
            sorted(re.findall(r"\{\w+\}", en[k])), k


def test_japanese_is_japanese():
    ja = json.loads((STATIC / "i18n" / "ja.json").read_text())
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", ja["signin.title"])
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", ja["approve"])
