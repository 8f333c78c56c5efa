"""The web console end to end, as the issue's "Done when" says: a real
bastiond (devices, PAM, the software security key for ssh) and
bastion-webd, driven by a headless Chromium whose virtual authenticator
does WebAuthn.

The main flow: bob enrols a browser credential with the code from
`ssh -A bob@bastion web-enroll`, signs in, sees gina's request appear
without a reload, approves it (gina's ssh session starts), watches it
live and ends it; carol searches, replays and verifies the recording,
downloads the bundle, which bastion-verify accepts, and the month's CSV,
which Python's csv module reads; the report page's files section shows a
real sftp upload's totals and its declaration still open; bob opens a notification's link to one
request before signing in and approves it there. And the refusals: no
credential, a wrong secret, an engineer, an action without a fresh
assertion, a replayed assertion, a script in a reason or a command.
Screenshots: build/web-shots/console-*.png.
"""

import base64
import csv
import io
import json
import os
import pwd
import sqlite3
import subprocess
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from selenium.webdriver.common.virtual_authenticator import Credential

from harness import util
from test_approvals import waiting
from test_file_declarations import upload
from test_recording_encryption import MARKER, keys, start, typed_session  # noqa: F401
from webharness import Console, Webd

pytestmark = pytest.mark.timeout(300)

SECRETS = {"bob": "web-bob-1", "carol": "web-carol-1", "gina": "web-gina-1"}
INJECTED = '<img src=x onerror="window.pwned=1">'


def web_pam(world):
    """PAM service bastion-web: pam_matrix with the SECRETS."""
    db = world.pam.workdir / "web-passdb"
    with open(os.open(db, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
              "w") as f:
        for name, secret in SECRETS.items():
            f.write("%s:%s:bastion-web\n" % (name, secret))
    world.pam.write_service("bastion-web", [
        "%s required %s passdb=%s" % (kind, world.pam.matrix, db)
        for kind in ("auth", "account")])


def open_console(cast, webd_bin, web_static, browser, tmp_path, start):
    """The cast with a web: section for a bastion-webd on
    https://localhost:PORT, globex's pacs behind approval, PAM service
    bastion-web; bastiond started by start(world), then webd. (world,
    people, webd, Console)."""
    world, p = cast
    webd = Webd(webd_bin, web_static, tmp_path / "webd", ctl_path=None)
    world.top["web"] = {"origin": webd.origin,
                        "daemon_user": pwd.getpwuid(os.getuid()).pw_name}
    world.vendors["globex"]["approval"] = {"required": True}
    web_pam(world)
    start(world)
    webd.ctl_path = str(world.bastion.run_dir / "web.sock")
    webd.start()
    browser.authenticator()
    return world, p, webd, Console(browser, webd)


@pytest.fixture
def console(cast, webd_bin, web_static, browser, tmp_path):
    """open_console() with the standard policy."""
    c = open_console(cast, webd_bin, web_static, browser, tmp_path,
                     lambda world: world.start_bastion())
    yield c
    c[2].stop()


@pytest.fixture
def console_encrypted(cast, keys, webd_bin, web_static, browser, tmp_path):  # noqa: F811
    """open_console() with recordings encrypted to the auditor's and the
    escrow key, and no server_unlock (the default: forbid)."""
    c = open_console(cast, webd_bin, web_static, browser, tmp_path,
                     lambda world: start(world, keys))
    yield c
    c[2].stop()


def enrol(world, person, con):
    """person's browser credential, with a code from the ssh console."""
    r = person.ssh("web-enroll", "--json")
    assert r.returncode == 0, r.stderr
    code = json.loads(r.stdout)["code"]
    con.enroll(person.name, code, SECRETS[person.name])
    con.wait_notice("登録しました")
    world.bastion.wait_audit(event="web.enroll", person=person.name,
                             result="ok")


def sign_in(con, name, role_text):
    con.sign_in(name, SECRETS[name])
    con.b.wait_text("#who", role_text)


def sign_out(con):
    con.find("#logout").click()
    con.b.wait_text("#signin h2", "サインイン")


def approved_session(world, p, con, command):
    """bob enrolled and signed in; gina's request, seen to arrive without
    a reload, approved in the page; gina's ssh (a Popen) running command
    on pacs. Returns (proc, request id)."""
    b = con.b
    enrol(world, p["bob"], con)
    sign_in(con, "bob", "管理者")
    b.d.execute_script("window.__same_page = 1")
    proc, rid = waiting(world, p["gina"], "pacs", "--reason",
                        "'ticket 4711'", command)
    b.wait_text("#requests-list", "ticket 4711")
    assert b.d.execute_script("return window.__same_page") == 1
    b.shot("console-admin-request")
    # approve for 2h: the dialog shows bastiond's summary, the key signs
    con.find("#duration-%s" % rid).send_keys("2h")
    con.find("#approve-%s" % rid).click()
    body = con.confirm(shot="console-approve-dialog")
    assert "gina" in body and "pacs" in body and "ticket 4711" in body
    con.wait_notice("承認しました")
    ev = world.bastion.wait_audit(event="approval.approve", request=rid,
                                  timeout=20)
    assert ev["via"] == "web" and ev["admin"] == "bob" and ev["assertion"]
    world.bastion.wait_audit(event="web.assertion",
                             challenge=ev["assertion"], result="ok")
    world.bastion.wait_audit(event="device.connect", user="gina",
                             timeout=30)
    return proc, rid


def test_bob_signs_in_sees_the_request_arrive_and_approves_it(console,
                                                             build_dir):
    world, p, webd, con = console
    proc, rid = approved_session(world, p, con, "echo ran-$((6*7))")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and out == "ran-42\n", err
    # decided: it leaves the pending list (the page reads it again)
    util.wait_until(lambda: not con.b.d.find_elements(
        "css selector", "#approve-%s" % rid), timeout=20,
        what="the approved request to leave the pending list")
    assert con.b.violations() == []
    v = subprocess.run([str(build_dir / "bastion-verify"), "--audit",
                        str(world.bastion.state_dir / "audit.log")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=60)
    assert v.returncode == 0, v.stdout


def test_bob_watches_gina_s_session_and_ends_it_with_a_reason(console):
    world, p, webd, con = console
    b = con.b
    proc, rid = approved_session(
        world, p, con, "for i in $(seq 1 60); do echo tick-$i; sleep 1; "
        "done")
    # the running session appears in the list (no reload)
    b.wait_text("#sessions-list", "gina", timeout=30)
    sid = b.d.execute_script(
        "const e = document.querySelector('#sessions-list button.kill');"
        "return e ? e.id.replace('kill-', '') : null")
    assert sid, b.text("#sessions-list")
    b.shot("console-sessions")
    # bob watches it live: gina's output in xterm.js
    con.find("#watch-%s" % sid).click()

    def watched():
        return b.d.execute_script(
            "const t = window.bastionWatch && window.bastionWatch.term();"
            "if (!t) return ''; let s = '';"
            "for (let i = 0; i < t.buffer.active.length; i++)"
            " s += t.buffer.active.getLine(i).translateToString(true) + '|';"
            "return s")
    util.wait_until(lambda: "tick-" in watched(), timeout=30,
                    what=lambda: "gina's output in the watch terminal "
                    "(page: %r, terminal: %r)" % (con.notice(), watched()))
    b.shot("console-watch")
    # and ends it with a reason
    con.fill("#kill-reason-%s" % sid, "maintenance window over")
    con.find("#kill-%s" % sid).click()
    body = con.confirm(shot="console-kill-dialog")
    assert "gina" in body
    con.wait_notice("セッションを終了しました")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "maintenance window over" in err, err
    assert "tick-60" not in out
    ev = world.bastion.wait_audit(event="session.killed", timeout=20)
    assert ev.get("assertion"), ev
    world.bastion.wait_audit(event="web.assertion",
                             challenge=ev["assertion"], result="ok")
    assert b.violations() == []


def test_bob_locks_and_unlocks_an_engineer(console):
    world, p, webd, con = console
    b = con.b
    enrol(world, p["bob"], con)
    sign_in(con, "bob", "管理者")
    con.fill("#engineer-name", "gina")
    con.find("#lock-go").click()
    body = con.confirm(shot="console-lock-dialog")
    assert "gina" in body
    con.wait_notice("ロックしました")
    ev = world.bastion.wait_audit(event="engineer.lock", timeout=20)
    assert ev.get("assertion"), ev
    r = p["gina"].ssh("pacs", "echo never")
    assert r.returncode != 0 and "never" not in r.stdout
    con.find("#unlock-go").click()
    con.confirm()
    con.wait_notice("ロックを解除しました")
    ev = world.bastion.wait_audit(event="engineer.unlock", timeout=20)
    assert ev.get("assertion"), ev
    assert b.violations() == []


def recording_row(b, engineer):
    """The session number of engineer's row in the recordings table."""
    return b.d.execute_script(
        "for (const tr of document.querySelectorAll('#recordings-list tbody tr'))"
        " { const e = tr.querySelector('td[data-col=engineer]');"
        "   if (e && e.textContent === arguments[0])"
        "     return tr.querySelector('td[data-col=session]').textContent; }"
        "return null", engineer)


def complete(f, timeout=30):
    """f, once Chrome has finished writing it (no .crdownload, a size
    that holds still)."""
    util.wait_until(f.exists, timeout=timeout, what="the download %s" % f)
    last = [-1]

    def still():
        n = f.stat().st_size
        done = n > 0 and n == last[0] and not list(
            f.parent.glob("*.crdownload"))
        last[0] = n
        return done
    util.wait_until(still, timeout=timeout, interval=0.5,
                    what="the whole of %s" % f)
    return f


def test_carol_finds_replays_verifies_and_downloads_a_recording(console,
                                                                build_dir):
    world, p, webd, con = console
    b = con.b
    r = p["alice"].ssh("ct-scanner", "echo recorded-$((6*7))")
    assert r.returncode == 0, r.stderr
    end = world.bastion.wait_audit(event="session.end", user="alice",
                                   timeout=30)
    world.bastion.wait_audit(event="recording.sealed", timeout=30)
    enrol(world, p["carol"], con)
    sign_in(con, "carol", "監査者")
    # the search: recordings --json as a table, alice's row with buttons
    b.wait_text("#recordings-list", "alice", timeout=30)
    sid = recording_row(b, "alice")
    assert sid == end["session"], b.text("#recordings-list")
    con.fill("#search-engineer", "gina")
    con.find("#search-go").click()
    b.wait_text("#recordings-list", "ありません", timeout=20)
    con.fill("#search-engineer", "alice")
    con.fill("#search-device", "ct-scanner")
    con.find("#search-go").click()
    util.wait_until(lambda: recording_row(b, "alice") == sid, timeout=20,
                    what="alice's recording found again")
    b.shot("console-auditor")
    # replay it in the browser: seek to the end, the output is there
    con.click("#replay-%s" % sid)
    util.wait_until(lambda: b.d.execute_script(
        "return !!window.bastionReplay"), timeout=30,
        what=lambda: "the player (page: %r)" % con.notice())
    b.d.execute_script("window.bastionReplay.seek(1e9)")
    text = b.d.execute_script(
        "const t = window.bastionReplay.term; let s = '';"
        "for (let i = 0; i < t.buffer.active.length; i++)"
        " s += t.buffer.active.getLine(i).translateToString(true) + '|';"
        "return s")
    assert "recorded-42" in text, text
    b.shot("console-replay")
    world.bastion.wait_audit(event="recording.access", user="carol")
    con.click("#verify-%s" % sid)
    b.wait_text("#verify-status", "署名とハッシュチェーンは正しい",
                timeout=30)
    assert "status-ok" in con.find("#verify-status").get_attribute("class")
    b.shot("console-verify")
    ev = world.bastion.wait_audit(event="console.verb", verb="verify",
                                  user="carol")
    assert ev["role"] == "auditor" and ev["status"] == "ok", ev
    assert ev["recording"] == sid
    # the evidence bundle: prepare, the dialog, the key, the download;
    # bastion-verify accepts what Chrome saved
    con.click("#bundle-%s" % sid)
    body = con.confirm(shot="console-export-dialog")
    assert sid in body
    util.wait_until(lambda: "証拠バンドルを保存しました" in con.notice(),
                    timeout=60, what=lambda: "the bundle saved (page: %r, "
                    "webd: %s, chain: %r)" % (con.notice(), webd.log_text()[-2000:],
                        world.bastion.audit_events(event="web.assertion")
                        + world.bastion.audit_events(event="console.verb")))
    tar = complete(b.downloads / ("bastion-recording-%s.tar" % sid))
    ev = world.bastion.wait_audit(event="web.assertion", person="carol",
                                  result="ok")
    v = subprocess.run([str(build_dir / "bastion-verify"), "-k",
                        str(world.bastion.state_dir / "recorder.key.pub"),
                        str(tar)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    assert v.returncode == 0, v.stdout
    # the month's report in the page, and its CSV for a spreadsheet
    b.wait_text("#report-list", "alice", timeout=30)
    con.find("#report-csv").click()
    f = complete(b.downloads / "bastion-report.csv")
    raw = f.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw[3:].decode("utf-8"),
                                           newline="")))
    [row] = [x for x in rows if x["session"] == sid]
    assert row["engineer"] == "alice" and row["device"] == "ct-scanner"
    assert row["start"].endswith("+09:00"), row
    assert row["recording_status"] == "sealed"
    assert [x["session"] for x in rows if x["engineer"] == "alice"] == [
        sid], rows
    assert b.violations() == []


@pytest.fixture
def console_files(cast, webd_bin, web_static, browser, tmp_path):
    """open_console() with work_record: true, so that every file through
    the airlock opens its session's declaration (docs/FILES.md)."""
    def go(world):
        world.top["work_record"] = True
        world.start_bastion()
    c = open_console(cast, webd_bin, web_static, browser, tmp_path, go)
    yield c
    c[2].stop()


def table_rows(b, css):
    """The rows of the table under css as {data-col: text}."""
    return b.d.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0] + "
        "' tbody tr')).map(tr => Object.fromEntries(Array.from(tr.cells)"
        ".map(td => [td.dataset.col, td.textContent])))", css)


def test_carol_s_report_shows_the_files_moved_and_an_open_declaration(
        console_files, tmp_path):
    """alice's sftp upload (no terminal: nobody could ask her, so its
    declaration stays open) is in the report page's files section: the
    month's files in per vendor, and the open declaration with its
    session, engineer, device and file."""
    world, p, webd, con = console_files
    b = con.b
    sid, dest, _ = upload(world, p["alice"], tmp_path, size=4096)
    enrol(world, p["carol"], con)
    sign_in(con, "carol", "監査者")
    b.wait_text("#report-files-moved", "acme", timeout=30)
    assert table_rows(b, "#report-files-moved") == [{
        "vendor": "acme", "direction": "持ち込み（機器へ）", "files": "1",
        "bytes": "4096", "refused": "0"}]
    assert "今月移動したファイル" in b.text("#report-files")
    assert "未回答のファイル申告" in b.text("#report-files")
    [d] = table_rows(b, "#report-declarations")
    assert d["session"] == sid and d["engineer"] == "alice", d
    assert d["vendor"] == "acme" and d["device"] == "ct-scanner", d
    assert d["files"] == "1" and d["bytes"] == "4096", d
    assert str(dest) in d["list"], d
    assert d["since"], d
    assert b.d.find_elements("css selector", "#report-files-truncated") == []
    b.shot("console-report-files")
    assert b.violations() == []


def test_an_encrypted_recording_is_to_be_replayed_offline(console_encrypted):
    """Without server_unlock the player gets nothing decrypted and the
    page says plainly to replay it offline with the auditor's key; the
    refusal is in the chain."""
    world, p, webd, con = console_encrypted
    b = con.b
    rec, _ = typed_session(world, p["alice"])
    enrol(world, p["carol"], con)
    sign_in(con, "carol", "監査者")
    b.wait_text("#recordings-list", "alice", timeout=30)
    sid = recording_row(b, "alice")
    assert b.d.execute_script(
        "return document.querySelector('#recordings-list "
        "td[data-col=encrypted]').textContent") != ""
    con.click("#replay-%s" % sid)
    b.wait_text("#replay-offline", "監査者の鍵", timeout=30)
    assert "server_unlock" in con.find("#replay-refusal").text
    assert not b.d.execute_script("return !!window.bastionReplay")
    assert MARKER not in b.d.page_source
    b.shot("console-replay-encrypted")
    ev = world.bastion.wait_audit(event="recording.unlock", user="carol")
    assert ev["result"] == "refused" and ev["recording"] == rec
    assert b.violations() == []


def test_the_mail_s_link_opens_the_one_request_after_sign_in(console):
    """#/admin/requests/ID (the notification's link) opened before
    signing in: after the sign-in that request, approved on its page."""
    world, p, webd, con = console
    b = con.b
    enrol(world, p["bob"], con)
    proc, rid = waiting(world, p["gina"], "pacs", "--reason",
                        "'ticket 5150'", "echo linked-$((6*7))")
    b.open(webd.origin + "/#/admin/requests/%s" % rid)
    b.wait_text("#signin h2", "サインイン")
    sign_in(con, "bob", "管理者")
    b.wait_text("#request-detail", "ticket 5150", timeout=20)
    assert b.d.current_url.endswith("#/admin/requests/%s" % rid)
    assert not b.d.find_elements("css selector", "#requests-list")
    b.shot("console-request-page")
    con.find("#approve-%s" % rid).click()
    body = con.confirm()
    assert "ticket 5150" in body
    con.wait_notice("承認しました")
    ev = world.bastion.wait_audit(event="approval.approve", request=rid,
                                  timeout=20)
    assert ev["via"] == "web" and ev["admin"] == "bob"
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and out == "linked-42\n", err
    # decided: the page shows it so, without buttons
    b.wait_text("#request-detail", "approved", timeout=20)
    assert not b.d.find_elements("css selector", "#approve-%s" % rid)
    # a request that does not exist says so
    b.d.execute_script("location.hash = '#/admin/requests/999999'")
    b.wait_text("#request-missing", "999999")
    assert b.violations() == []


def test_sign_in_refused_without_credential_with_a_wrong_secret_and_for_an_engineer(
        console):
    world, p, webd, con = console
    b = con.b
    enrol(world, p["bob"], con)
    # a wrong secret
    con.sign_in("bob", "wrong")
    con.wait_notice("sign-in failed")
    world.bastion.wait_audit(event="web.login", person="bob",
                             result="refused")
    assert not [c for c in b.d.get_cookies()
                if c["name"] == "__Host-bastion"]
    b.shot("console-signin-refused")
    # an engineer, even with a credential of hers slipped into the store
    # and onto the key
    key = ec.generate_private_key(ec.SECP256R1())
    cid = os.urandom(32)
    b.d.add_credential(Credential.create_non_resident_credential(
        cid, "localhost", key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()), 0))
    nums = key.public_key().public_numbers()
    db = sqlite3.connect(str(world.bastion.state_dir / "state.db"),
                         timeout=10)
    db.execute("INSERT INTO web_credential(person, cred_id, alg, pubkey, "
               "created, enrolled_by) VALUES (?, ?, -7, ?, 0, 'test')",
               ("gina", base64.urlsafe_b64encode(cid).rstrip(b"=").decode(),
                "04" + nums.x.to_bytes(32, "big").hex() +
                nums.y.to_bytes(32, "big").hex()))
    db.commit()
    db.close()
    # through the page: bastiond offers her no credential to sign with
    con.sign_in("gina", SECRETS["gina"])
    con.wait_notice("サインインできませんでした")
    # and signed with hers all the same, the sign-in is refused
    r = b.d.execute_async_script("""
        const [user, secret, cid, cb] = arguments;
        (async () => {
          const begin = await B.api('POST', '/api/login/begin', {user});
          const assertion = await B.assert(begin.challenge, [cid], 'localhost');
          const r = await fetch('/api/login/finish', {method: 'POST',
            credentials: 'same-origin',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({user, secret, assertion})});
          return r.status + ' ' + await r.text();
        })().then(cb, e => cb('ERR ' + e));""", "gina", SECRETS["gina"],
        base64.urlsafe_b64encode(cid).rstrip(b"=").decode())
    assert r.startswith("403 ") and "sign-in failed" in r, r
    world.bastion.wait_audit(event="web.login", person="gina",
                             result="refused")
    # no credential on the key any more: the browser has nothing to sign
    b.d.remove_all_credentials()
    con.sign_in("bob", SECRETS["bob"])
    con.wait_notice("サインインできませんでした")
    assert "bob" not in con.find("#who").text


def test_actions_need_a_fresh_assertion_and_show_injected_text_as_text(
        console):
    world, p, webd, con = console
    b = con.b
    enrol(world, p["bob"], con)
    sign_in(con, "bob", "管理者")
    proc, rid = waiting(world, p["gina"], "pacs", "--reason",
                        "'%s'" % INJECTED, "echo x")
    b.wait_text("#requests-list", INJECTED)
    assert b.d.execute_script("return window.pwned") is None
    assert b.d.find_elements("css selector", "#requests-list img") == []
    b.shot("console-injected")
    # a made-up challenge, and a prepared one committed without assertion
    r = con.api("POST", "/api/commit", {"challenge": "A" * 43})
    assert r["status"] == 403, r
    r = con.api("POST", "/api/prepare", {"verb": "approve",
                                         "args": [rid, "1h"]})
    assert r["status"] == 200, r
    ch = json.loads(r["body"])["challenge"]
    r = con.api("POST", "/api/commit", {"challenge": ch})
    assert r["status"] == 403, r
    assert not world.bastion.audit_events(event="approval.approve")
    # a replayed assertion: the page's own approval, kept and sent again
    b.d.execute_script("""
        const get = navigator.credentials.get.bind(navigator.credentials);
        navigator.credentials.get = async o => {
          const a = await get(o);
          window.__kept = {
            id: B.b64u(a.rawId),
            authenticatorData: B.b64u(a.response.authenticatorData),
            clientDataJSON: B.b64u(a.response.clientDataJSON),
            signature: B.b64u(a.response.signature), userHandle: ''};
          window.__kept_challenge = B.b64u(o.publicKey.challenge);
          return a;
        };""")
    con.find("#approve-%s" % rid).click()
    con.confirm()
    con.wait_notice("承認しました")
    world.bastion.wait_audit(event="approval.approve", request=rid)
    proc.communicate(timeout=60)
    r = b.d.execute_async_script("""
        const cb = arguments[arguments.length - 1];
        fetch('/api/commit', {method: 'POST', credentials: 'same-origin',
          headers: {'Content-Type': 'application/json'},
          body: JSON.stringify({challenge: window.__kept_challenge,
                                assertion: window.__kept})})
          .then(r => cb(r.status), e => cb(String(e)));""")
    assert r == 403, r
    world.bastion.wait_audit(event="web.assertion", result="replayed")
    assert len(world.bastion.audit_events(event="approval.approve")) == 1
    assert b.violations() == []
