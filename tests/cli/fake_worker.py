#!/usr/bin/python3
"""A worker speaking PROTOCOL.md v1 for tests, with faults on request:
    fake_worker.py ok              y = 2 x on x float32 [batch, 4]
    fake_worker.py die N           killed by SIGKILL at its N-th run
    fake_worker.py unsupported     open answers `unsupported`
    fake_worker.py hang N          stops answering at its N-th run
    fake_worker.py protocol9       says hello with protocol=9
    fake_worker.py nohello         prints an error on stderr and exits before hello
    fake_worker.py error           open answers `error`
"""
import os
import signal
import struct
import sys
import time

mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
at = int(sys.argv[2]) if len(sys.argv) > 2 else 0
out, inp = sys.stdout.buffer, sys.stdin.buffer


def send(line, payload=b""):
    out.write(line.encode() + b"\n" + payload)
    out.flush()


if mode == "nohello":
    sys.stderr.write("Traceback (most recent call last):\nImportError: no module named fakeruntime\n")
    sys.exit(3)
send(f"hello protocol={9 if mode == 'protocol9' else 1} runtime=fake version=0%2E1")
runs = 0
batch = 1
while True:
    line = inp.readline()
    if not line:
        sys.exit(0)
    tok = line.decode().split()
    f = dict(t.split("=", 1) for t in tok[1:])
    payload = inp.read(int(f.get("bytes", 0)))
    if tok[0] == "open":
        batch = int(f["batch"])
        if mode == "unsupported":
            send("unsupported reason=fake%20cannot%20run%20this%20model")
        elif mode == "error":
            send("error message=fake%20refused%3A%20bad%20weights")
        else:
            send(f"ok in=x:float32:{batch},4 out=y:float32:{batch},4")
    elif tok[0] == "run":
        runs += 1
        if mode == "die" and runs == at:
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "hang" and runs == at:
            time.sleep(3600)
        t0 = time.perf_counter()
        x = struct.unpack(f"<{4 * batch}f", payload)
        y = struct.pack(f"<{4 * batch}f", *(2 * v for v in x))
        send(f"ok times={(time.perf_counter() - t0) * 1e3:.6f} bytes={len(y)}", y)
    elif tok[0] == "profile":
        send("ok" if "reset" in f else "ok runtime_ms=0.25 runs=1")
    elif tok[0] == "close":
        send("ok")
        sys.exit(0)
    else:
        send("error message=unknown")
