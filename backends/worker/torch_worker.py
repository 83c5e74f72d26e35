#!/usr/bin/python3
"""torch_worker.py: PyTorch behind edgebench's worker protocol, version 1
(backends/worker/PROTOCOL.md).  The harness's `pytorch` backend starts it as
`/usr/bin/python3 torch_worker.py` (Debian's python3-torch).

For a variant MODEL.onnx it runs the TorchScript file MODEL.pt (`make torchscript`, i.e.
scripts/export_torchscript.py, writes one for every variant of the zoo into build/torchscript/).
It looks, in this order, in:
  1. opt.torchscript_dir (the backend option torchscript_dir), else $EDGEBENCH_TORCHSCRIPT_DIR;
  2. beside the model: DIR/MODEL.pt for DIR/MODEL.onnx (a hand-made export travels with it);
  3. DIR/../build/torchscript/MODEL.pt (the source tree: models/ beside build/).
A file carrying extra/edgebench.json (every export of the script) is taken only when the ONNX
file's sha256 it records is the model's: a MODEL.pt exported from another MODEL.onnx (a
retrained zoo, another directory's model of the same name) is passed over, and when nothing
fits the answer is `unsupported` saying what was found.  Quantized modules are loaded under
the quantized engine the file names (opt.qengine overrides), since their packed weights are
re-packed for the engine at load.  Input and output names, types and shapes come from the ONNX
file (the TorchScript module takes its inputs positionally, in the ONNX graph's order); the
leading symbolic dimension binds to the batch; one run on zeros at open tells the output
shapes.  Unless opt.optimize=0 the module is frozen and passed through
torch.jit.optimize_for_inference at open.  Threads: torch.set_num_threads (intra-op), one inter-op thread; `--no-spin` on the
command line (the backend's option spin=0) makes them sleep between parallel sections.  Runs under
torch.inference_mode().
"""
import hashlib
import json
import os
import sys
import time
import zipfile

PROTOCOL = 1


def die(msg):
    sys.stderr.write(f"torch_worker: {msg}\n")
    sys.exit(1)


# `--no-spin` (option spin=0): OpenMP reads its wait policy when torch loads, so it is set here,
# before the import; the default leaves PyTorch's own behaviour (threads spin a while).
if "--no-spin" in sys.argv[1:]:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

try:
    import numpy as np
    import torch
except ImportError as e:  # the harness quotes this line
    die(f"PyTorch not importable by {sys.executable}: {e} (apt install python3-torch)")

OUT = sys.stdout.buffer
IN = sys.stdin.buffer

# ONNX TensorProto element types -> (protocol name, numpy dtype)
ONNX_TYPES = {1: ("float32", np.float32), 2: ("uint8", np.uint8), 3: ("int8", np.int8),
              5: ("int16", np.int16), 6: ("int32", np.int32), 7: ("int64", np.int64),
              9: ("bool", np.bool_), 11: ("float64", np.float64)}
NP_NAMES = {np.dtype(v[1]): v[0] for v in ONNX_TYPES.values()}


def enc(v):
    out = []
    for c in str(v).encode("utf-8"):
        out.append(f"%{c:02X}" if c <= 0x20 or c >= 0x7F or c in (0x25, 0x3D) else chr(c))
    return "".join(out)


def dec(v):
    b = bytearray()
    i = 0
    raw = v.encode("latin-1")
    while i < len(raw):
        if raw[i] == 0x25 and i + 2 < len(raw):
            try:
                b.append(int(raw[i + 1:i + 3], 16))
                i += 3
                continue
            except ValueError:
                pass
        b.append(raw[i])
        i += 1
    return b.decode("utf-8", "replace")


def send(verb, fields=(), payload=None):
    line = verb + "".join(f" {k}={enc(v)}" for k, v in fields)
    if payload is not None:
        line += f" bytes={len(payload)}"
    OUT.write((line + "\n").encode("latin-1"))
    if payload is not None:
        OUT.write(payload)
    OUT.flush()


def read_message():
    line = IN.readline()
    if not line:
        sys.exit(0)  # stdin closed: the trial is gone
    tokens = line.decode("latin-1").rstrip("\n").split(" ")
    fields = {}
    for t in tokens[1:]:
        k, eq, v = t.partition("=")
        if eq:
            fields[k] = dec(v)
    n = int(fields.get("bytes", "0"))
    payload = bytearray(IN.read(n)) if n else bytearray()
    if len(payload) != n:
        sys.exit(0)
    return tokens[0], fields, payload


class Unsupported(Exception):
    pass


def describe(name, dtype_name, dims):
    return f"{name}:{dtype_name}:{','.join(str(d) for d in dims)}"


def torchscript_meta(pt):
    """extra/edgebench.json of a TorchScript file ({} when it has none), read from the zip
    without loading the module."""
    try:
        with zipfile.ZipFile(pt) as z:
            for n in z.namelist():
                if n.endswith("/extra/edgebench.json"):
                    return json.loads(z.read(n))
    except (OSError, ValueError, zipfile.BadZipFile):
        pass
    return {}


def find_torchscript(model, opt_dir):
    """(path, meta) of the TorchScript file for MODEL.onnx, in the order the docstring gives."""
    name = os.path.splitext(os.path.basename(model))[0] + ".pt"
    here = os.path.dirname(os.path.abspath(model))
    dirs = [opt_dir or os.environ.get("EDGEBENCH_TORCHSCRIPT_DIR") or "", here,
            os.path.join(here, "..", "build", "torchscript")]
    sha, stale = None, []
    for d in dirs:
        pt = os.path.join(d, name)
        if not d or not os.path.isfile(pt):
            continue
        meta = torchscript_meta(pt)
        want = meta.get("onnx_sha256")
        if want:
            if sha is None:
                with open(model, "rb") as f:
                    sha = hashlib.sha256(f.read()).hexdigest()
            if want != sha:
                stale.append(os.path.normpath(pt))
                continue
        return pt, meta
    if stale:
        raise Unsupported(f"{', '.join(stale)} exported from another {os.path.basename(model)} "
                          "(sha256 differs); make torchscript re-exports the zoo")
    raise Unsupported(f"no TorchScript file {name} in torchscript_dir, beside the model or in "
                      "../build/torchscript; make torchscript (scripts/export_torchscript.py) "
                      "writes one per variant")


class Session:
    def __init__(self, fields):
        model = fields["model"]
        threads = int(fields.get("threads", "1"))
        batch = int(fields.get("batch", "1"))
        pt, meta = find_torchscript(model, fields.get("opt.torchscript_dir"))
        engine = fields.get("opt.qengine") or meta.get("qengine")
        if engine:
            if engine not in torch.backends.quantized.supported_engines:
                raise Unsupported(f"{os.path.basename(pt)} needs the quantized engine {engine}; "
                                  f"this torch has {torch.backends.quantized.supported_engines}")
            torch.backends.quantized.engine = engine
        self.pt = pt
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass  # only settable before the first parallel work; a second open keeps it
        self.module = torch.jit.load(pt, map_location="cpu").eval()
        optimize = fields.get("opt.optimize", "1") not in ("0", "false", "no", "off")
        # The choices that change what runs, for results.csv's backend_plan (PROTOCOL.md).
        self.plan = (f"TorchScript {os.path.basename(pt)}, "
                     f"{'frozen + optimize_for_inference' if optimize else 'as exported'}, "
                     f"quantized engine {torch.backends.quantized.engine}, "
                     f"intra-op threads {torch.get_num_threads()}")
        if optimize:
            # What PyTorch prescribes for TorchScript inference (as ONNX Runtime's graph
            # optimization is on by default): weights folded in as constants, then its
            # inference passes (conv+relu fusion, oneDNN layouts).  The zoo's outputs stay
            # identical; float CNNs run 2-4x faster.
            self.module = torch.jit.optimize_for_inference(torch.jit.freeze(self.module))
        self.inputs = self._inputs(model, batch)
        zeros = [torch.zeros(d, dtype=torch.from_numpy(np.zeros(0, t)).dtype)
                 for _, _, t, d in self.inputs]
        outs = self._call(zeros)
        self.outputs = []
        for name, o in zip(self.output_names, outs):
            a = o.detach().contiguous().numpy()
            if a.dtype not in NP_NAMES:
                raise Unsupported(f"output {name}: dtype {a.dtype} not supported by the worker")
            self.outputs.append((name, NP_NAMES[a.dtype], list(a.shape)))

    def _inputs(self, model, batch):
        try:
            import onnx
        except ImportError:
            raise Unsupported("the onnx package is needed to read the model's inputs "
                              "(apt install python3-onnx)")
        g = onnx.load(model, load_external_data=False).graph
        inits = {i.name for i in g.initializer}
        ins = []
        for v in g.input:
            if v.name in inits:
                continue
            tt = v.type.tensor_type
            if tt.elem_type not in ONNX_TYPES:
                raise Unsupported(f"input {v.name}: ONNX element type {tt.elem_type} "
                                  "not supported by the worker")
            dims = []
            for i, d in enumerate(tt.shape.dim):
                if d.HasField("dim_value") and d.dim_value >= 0:
                    dims.append(d.dim_value)
                elif i == 0:
                    dims.append(batch)
                else:
                    raise Unsupported(f"input {v.name}: symbolic dimension {i}; only the "
                                      "leading one binds (to the batch)")
            name, dt = ONNX_TYPES[tt.elem_type]
            ins.append((v.name, name, dt, dims))
        self.output_names = [o.name for o in g.output]
        return ins

    def _call(self, tensors):
        with torch.inference_mode():
            out = self.module(*tensors)
        if isinstance(out, torch.Tensor):
            out = (out,)
        elif isinstance(out, dict):
            out = tuple(out.values())
        if len(out) != len(self.output_names):
            raise RuntimeError(f"the TorchScript module returns {len(out)} outputs, the ONNX "
                               f"model {len(self.output_names)}")
        return out

    def run(self, payload, k):
        tensors = []
        at = 0
        for name, _, dt, dims in self.inputs:
            count = int(np.prod(dims)) if dims else 1
            a = np.frombuffer(payload, dtype=dt, count=count, offset=at).reshape(dims)
            tensors.append(torch.from_numpy(a))
            at += a.nbytes
        if at != len(payload):
            raise RuntimeError(f"run: {len(payload)} bytes sent, the inputs take {at}")
        times = []
        for _ in range(k):
            t0 = time.perf_counter_ns()
            outs = self._call(tensors)
            times.append((time.perf_counter_ns() - t0) / 1e6)
        parts = []
        for (name, _, dims), o in zip(self.outputs, outs):
            a = o.detach().contiguous().numpy()
            if list(a.shape) != dims:
                raise RuntimeError(f"output {name} has shape {list(a.shape)} now, {dims} at open")
            parts.append(a.tobytes())
        return times, b"".join(parts)


def main():
    send("hello", [("protocol", PROTOCOL), ("runtime", "pytorch"), ("version", torch.__version__)])
    s = None
    while True:
        verb, fields, payload = read_message()
        try:
            if verb == "open":
                s = Session(fields)
                send("ok", [("in", describe(n, t, d)) for n, t, _, d in s.inputs] +
                     [("out", describe(n, t, d)) for n, t, d in s.outputs] + [("plan", s.plan)])
            elif verb == "run":
                if s is None:
                    raise RuntimeError("run before open")
                times, out = s.run(payload, int(fields.get("n", "1")))
                send("ok", [("times", ",".join(f"{t:.6f}" for t in times))], out)
            elif verb == "profile":
                send("ok")  # PyTorch's own time is the worker's: no separate profiler figure
            elif verb == "close":
                send("ok")
                return
            else:
                send("error", [("message", f"unknown request '{verb}' (protocol {PROTOCOL})")])
        except Unsupported as e:
            send("unsupported", [("reason", str(e))])
        except Exception as e:  # noqa: BLE001 -- any runtime failure is an answer, not a death
            send("error", [("message", f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")])


if __name__ == "__main__":
    main()
