"""The relay's flow control between a fast device and a slow engineer
(docs/PERFORMANCE.md): the pump reads a whole batch once the engineer's
window is open and keeps what the window does not take yet, and the
device is stalled through SSH flow control, not by leaving its socket
unread. These tests stop reading the engineer's output for seconds while
the device sends far more than the windows hold, and check that every
byte still arrives, in order and recorded, and that the device's
keepalives are answered meanwhile (a relay that stopped reading the
device's socket while the engineer's window is shut would leave them
unread, and the device would drop the connection: measured with such a
relay, docs/PERFORMANCE.md, "Tried and dropped").
"""

import subprocess
import threading
import time

LINES = 2000000     # `seq 1 LINES`: 14.9 MB, far more than the windows hold


def expected():
    return "".join("%d\n" % i for i in range(1, LINES + 1)).encode()


def pubkey(world):
    return str(world.bastion.state_dir / "recorder.key.pub")


def device_with_keepalives(world, name, interval, count):
    """Restart device name's sshd (same port, same keys) with
    ClientAliveInterval/CountMax: it drops a client that leaves `count`
    keepalives in a row unanswered."""
    dev = world.devices[name]
    write = dev._write_config

    def write_config():
        write()
        with open(dev.config, "a") as f:
            f.write("ClientAliveInterval %d\nClientAliveCountMax %d\n"
                    % (interval, count))
    dev._write_config = write_config
    dev._fixed_port = True
    dev.stop()
    dev.start()
    return dev


def slow_read(person, pause):
    """`seq 1 LINES` on ct-scanner, its first MiB read at once, then
    nothing for pause seconds, then the rest: (returncode, stdout,
    stderr)."""
    p = person.popen("ct-scanner", "seq 1 %d" % LINES,
                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE)
    err = []
    t = threading.Thread(target=lambda: err.append(p.stderr.read()))
    t.start()
    try:
        head = p.stdout.read(1 << 20)
        time.sleep(pause)
        rest = p.stdout.read()
        p.wait(60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)
        t.join(10)
    return p.returncode, head + rest, b"".join(err)


def verified(world, build_dir):
    """The session's recording verifies; the session's end event."""
    rec = world.bastion.wait_audit(event="session.recording", user="alice")
    end = world.bastion.wait_audit(event="session.end", user="alice",
                                   timeout=30)
    v = subprocess.run([str(build_dir / "bastion-verify"), "-k",
                        pubkey(world), rec["path"]], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    assert v.returncode == 0, v.stdout + v.stderr
    return end


def test_slow_engineer_gets_every_byte_in_order_and_recorded(site,
                                                             build_dir):
    world, p = site
    rc, out, err = slow_read(p["alice"], 3.5)
    assert rc == 0, err
    assert len(out) == len(expected())
    assert out == expected()
    end = verified(world, build_dir)
    assert end["bytes_out"] == str(len(expected())), end


def test_device_keepalives_answered_while_the_engineer_does_not_read(
        site, build_dir):
    world, p = site
    # unanswered for about 4 s and the device hangs up; the engineer
    # stops reading for 8
    device_with_keepalives(world, "ct-scanner", 1, 3)
    rc, out, err = slow_read(p["alice"], 8)
    assert rc == 0, err
    assert out == expected()
    assert "Timeout" not in err.decode(errors="replace")
    verified(world, build_dir)
