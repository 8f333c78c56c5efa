"""Drive the bastion with a Python SSH library, as vendors' automation does.

    /usr/bin/python3 pyclient.py LIB MODE --host H --port P --hostkey KEY
        --user USER --secret SECRET (--agent-key PUB | --key FILE)
        [--forward-agent] [--command CMD] [--data FILE]

LIB is paramiko (Debian's python3-paramiko 2.12) or asyncssh
(python3-asyncssh 2.10). MODE:

  exec   run --command, report its output and exit status
  pty    the same on a terminal (a pty is requested first)
  sftp   upload --data to the device's home as pyclient-upload, read it
         back, list the directory, remove it

Authentication is what the bastion asks for: a public key, then the
keyboard-interactive "Password:" (every prompt is answered with
--secret). The key is --key (a private key file), or --agent-key: the key
of that public blob ("type base64") held by the ssh-agent at
$SSH_AUTH_SOCK, which is how an engineer's security key is used (the
library never touches the key: the agent signs, through its provider).
--forward-agent forwards that agent on the session channel, so the
bastion can ask it for a touch (docs/FIDO2.md).

The host key is pinned to --hostkey ("ssh-ed25519 AAAA..."); nothing is
learnt. Prints one JSON object: ok, stdout, stderr, status, error, and for
sftp the sha256 read back and the listing.
"""

import argparse
import asyncio
import base64
import hashlib
import io
import json
import os
import sys
import time
import warnings

warnings.simplefilter("ignore")     # cryptography's deprecation warnings


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("lib", choices=("paramiko", "asyncssh"))
    ap.add_argument("mode", choices=("exec", "pty", "sftp"))
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--hostkey", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--key")
    ap.add_argument("--agent-key")
    ap.add_argument("--forward-agent", action="store_true")
    ap.add_argument("--command", default="")
    ap.add_argument("--data")
    ap.add_argument("--timeout", type=float, default=60)
    return ap.parse_args()


def result(**kw):
    out = {"ok": False, "stdout": "", "stderr": "", "status": None,
           "error": None}
    out.update(kw)
    return out


# -- paramiko ----------------------------------------------------------------------

def paramiko_run(a):
    import paramiko

    keytype, blob = a.hostkey.split()[:2]
    hk = paramiko.PKey.from_type_string(keytype, base64.b64decode(blob)) \
        if hasattr(paramiko.PKey, "from_type_string") else \
        paramiko.Ed25519Key(data=base64.b64decode(blob))
    sock = __import__("socket").create_connection((a.host, a.port),
                                                  timeout=a.timeout)
    t = paramiko.Transport(sock)
    t.banner_timeout = a.timeout
    t.start_client(timeout=a.timeout)
    got = t.get_remote_server_key()
    if got.get_name() != hk.get_name() or got.asbytes() != hk.asbytes():
        t.close()
        return result(error="host key mismatch: %s" % got.get_name())
    if a.key:
        key = paramiko.PKey.from_path(a.key) \
            if hasattr(paramiko.PKey, "from_path") else \
            paramiko.Ed25519Key.from_private_key_file(a.key)
    else:
        want = base64.b64decode(a.agent_key.split()[1])
        keys = [k for k in paramiko.Agent().get_keys()
                if k.asbytes() == want]
        if not keys:
            return result(error="the agent does not hold the key")
        key = keys[0]
    try:
        rest = t.auth_publickey(a.user, key)
    except paramiko.AuthenticationException as e:
        return result(error="publickey: %s" % e)
    if rest and "keyboard-interactive" in rest:
        t.auth_interactive(a.user, lambda title, instr, prompts:
                           [a.secret for _ in prompts])
    if not t.is_authenticated():
        return result(error="not authenticated (left: %s)" % rest)
    neg = {"cipher": t.remote_cipher, "mac": t.remote_mac}
    chan = t.open_session(timeout=a.timeout)
    chan.settimeout(a.timeout)
    fwd = None
    if a.forward_agent:
        fwd = paramiko.agent.AgentRequestHandler(chan)
    try:
        if a.mode == "sftp":
            chan.invoke_subsystem("sftp")
            r = sftp_paramiko(paramiko.SFTPClient(chan), a)
            r.update(neg)
            return r
        if a.mode == "pty":
            chan.get_pty(term="xterm", width=80, height=24)
        chan.exec_command(a.command)
        out, err = io.BytesIO(), io.BytesIO()
        deadline = time.monotonic() + a.timeout
        while True:
            if chan.recv_ready():
                out.write(chan.recv(32768))
            elif chan.recv_stderr_ready():
                err.write(chan.recv_stderr(32768))
            elif chan.exit_status_ready() and chan.closed:
                break
            elif chan.eof_received and chan.exit_status_ready():
                break
            elif time.monotonic() > deadline:
                return result(error="timed out", stdout=out.getvalue().
                              decode("utf-8", "replace"))
            else:
                time.sleep(0.02)
        return result(ok=True, status=chan.recv_exit_status(),
                      stdout=out.getvalue().decode("utf-8", "replace"),
                      stderr=err.getvalue().decode("utf-8", "replace"),
                      **neg)
    finally:
        if fwd is not None:
            fwd.close()
        t.close()


def sftp_paramiko(sftp, a):
    data = open(a.data, "rb").read()
    sftp.putfo(io.BytesIO(data), "pyclient-upload")
    back = io.BytesIO()
    sftp.getfo("pyclient-upload", back)
    names = sftp.listdir(".")
    sftp.remove("pyclient-upload")
    sftp.close()
    return result(ok=True, sha256=hashlib.sha256(back.getvalue()).hexdigest(),
                  listed="pyclient-upload" in names, size=len(back.getvalue()))


# -- asyncssh ------------------------------------------------------------------------

def asyncssh_run(a):
    import asyncssh

    class Client(asyncssh.SSHClient):
        def kbdint_auth_requested(self):
            return ""

        def kbdint_challenge_received(self, name, instructions, lang,
                                      prompts):
            return [a.secret for _ in prompts]

    async def run():
        hk = asyncssh.import_public_key(a.hostkey)
        known = asyncssh.SSHKnownHosts()
        known.load("[%s]:%d %s\n" % (a.host, a.port, a.hostkey))
        opts = dict(username=a.user, known_hosts=known,
                    client_factory=Client, password=None,
                    agent_forwarding=a.forward_agent,
                    preferred_auth="publickey,keyboard-interactive",
                    login_timeout=a.timeout, connect_timeout=a.timeout)
        if a.key:
            opts["client_keys"] = [a.key]
            opts["agent_path"] = os.environ.get("SSH_AUTH_SOCK") \
                if a.forward_agent else None
        else:
            agent = await asyncssh.connect_agent()
            want = base64.b64decode(a.agent_key.split()[1])
            keys = [k for k in await agent.get_keys()
                    if k.public_data == want]
            if not keys:
                return result(error="the agent does not hold the key (it "
                              "lists %s)" % [k.algorithm for k in
                                             await agent.get_keys()])
            opts["client_keys"] = keys
        del hk
        async with asyncssh.connect(a.host, a.port, **opts) as conn:
            neg = {"cipher": conn.get_extra_info("send_cipher"),
                   "mac": conn.get_extra_info("send_mac")}
            if a.mode == "sftp":
                async with conn.start_sftp_client() as sftp:
                    data = open(a.data, "rb").read()
                    async with sftp.open("pyclient-upload", "wb") as f:
                        await f.write(data)
                    async with sftp.open("pyclient-upload", "rb") as f:
                        back = await f.read()
                    names = await sftp.listdir(".")
                    await sftp.remove("pyclient-upload")
                return result(ok=True,
                              sha256=hashlib.sha256(back).hexdigest(),
                              listed="pyclient-upload" in names,
                              size=len(back), **neg)
            r = await conn.run(a.command, term_type="xterm" if
                               a.mode == "pty" else None,
                               term_size=(80, 24) if a.mode == "pty" else
                               None, check=False, encoding="utf-8",
                               errors="replace", timeout=a.timeout)
            return result(ok=True, status=r.exit_status, stdout=r.stdout,
                          stderr=r.stderr, **neg)

    return asyncio.run(run())


def main():
    a = parse()
    try:
        r = paramiko_run(a) if a.lib == "paramiko" else asyncssh_run(a)
    except Exception as e:      # report, do not trace: the test says why
        r = result(error="%s: %s" % (type(e).__name__, e))
    json.dump(r, sys.stdout)
    sys.stdout.write("\n")
    return 0 if r["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
