#!/usr/bin/env node
// ort_run.js: time one ONNX model on ONNX Runtime (CPU), edgebench's yardstick for `ref`.
//
//   node scripts/ort_run.js MODEL [--threads N] [--iterations N] [--warmup N]
//                           [--min-time S] [--max-time S] [--input [NAME=]X.npy]...
//                           [--output Y.npy] [--ops] [--no-profile] [--no-spin]
//
// Creates one session (intraOpNumThreads N (default 1), interOpNumThreads 1, sequential
// execution, graph optimization "all", profiling on), runs WARMUP untimed runs (default 10),
// then the timed loop: at least ITERATIONS runs (default 50) and at least MIN_TIME seconds
// (default 0), but no longer than MAX_TIME seconds (default: no limit) once 3 runs are done.
// Each run is timed two ways:
//   wall  process.hrtime.bigint() around `await session.run()` in node (includes the binding's
//         tensor marshalling and the promise hop; what an application sees)
//   ort   ONNX Runtime's own profiler: the "model_run" events' dur (µs) in its JSON trace (what
//         the engine spends inside Run(); the figure to set beside ref's kernel time)
// Prints ONE JSON line on stdout:
//   {"model","threads","warmup","iterations","wall_p50_ms","wall_mean_ms","wall_min_ms",
//    "ort_p50_ms","ort_mean_ms","ort_min_ms","ort_version","inputs":[{name,type,shape}]}
// The profiler's trace holds every node event of every run and slows ORT down itself (its
// figure reads high on many-node models: the transformer 0.16 ms unprofiled, 0.7 ms profiled),
// so time with --no-profile and profile a few hundred runs at most.
// (ort_* are null with --no-profile; --no-spin sets session.intra_op.allow_spinning=0.)  --ops also prints, on stderr, time per operator type
// per run from the same trace (kernel time, i.e. after ORT's own graph fusions).
//
// Inputs: each --input binds an .npy file to the model's inputs in order, or by NAME=; inputs
// left unbound get seeded uniform [-1, 1) data (integer inputs: zeros) shaped like the model's
// declared input, symbolic dimensions taken as 1.  --output writes output 0 of the last run.
//
// ONNX Runtime comes from the npm package onnxruntime-node, installed by scripts/deps.sh into
// scripts/ort/node_modules (`npm ci --ignore-scripts`: the package bundles the CPU library; its
// postinstall only fetches CUDA/TensorRT providers, which cannot be downloaded here).
// Exit status: 0 ok, 1 runtime failure (model rejected, run failed), 2 usage error.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

function fail(code, msg) {
  process.stderr.write(`ort_run: ${msg}\n`);
  process.exit(code);
}

function loadOrt() {
  const candidates = [path.join(__dirname, 'ort', 'node_modules', 'onnxruntime-node'), 'onnxruntime-node'];
  for (const c of candidates) {
    try {
      return require(c);
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') fail(1, `loading ${c}: ${e.message}`);
    }
  }
  return fail(1, 'onnxruntime-node is not installed; run `make ort` (or bash scripts/deps.sh)');
}

// ---- arguments -------------------------------------------------------------------------------

function parseArgs(argv) {
  const a = { model: null, threads: 1, iterations: 50, warmup: 10, minTime: 0, maxTime: Infinity,
              inputs: [], output: null, ops: false, profile: true, spin: true };
  const num = (flag, v, min, integer) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      fail(2, `${flag} needs ${integer ? 'an integer' : 'a number'} >= ${min}, got '${v}'`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => { if (i + 1 >= argv.length) fail(2, `${k} needs a value`); return argv[++i]; };
    switch (k) {
      case '--threads': a.threads = num(k, v(), 1, true); break;
      case '--iterations': a.iterations = num(k, v(), 1, true); break;
      case '--warmup': a.warmup = num(k, v(), 0, true); break;
      case '--min-time': a.minTime = num(k, v(), 0, false); break;
      case '--max-time': a.maxTime = num(k, v(), 0, false); break;
      case '--input': a.inputs.push(v()); break;
      case '--output': a.output = v(); break;
      case '--ops': a.ops = true; break;
      case '--no-profile': a.profile = false; break;
      case '--no-spin': a.spin = false; break;
      case '-h': case '--help':
        process.stdout.write(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 30)
          .map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
        process.exit(0);
        break;
      default:
        if (k.startsWith('-')) fail(2, `unknown option '${k}' (--help lists them)`);
        if (a.model) fail(2, `one model only, got '${a.model}' and '${k}'`);
        a.model = k;
    }
  }
  if (!a.model) fail(2, 'usage: ort_run.js MODEL [--threads N] [--iterations N] [--warmup N] ' +
                        '[--input [NAME=]X.npy] [--output Y.npy] (--help)');
  if (a.ops && !a.profile) fail(2, '--ops needs the profiler; drop --no-profile');
  return a;
}

// ---- .npy ------------------------------------------------------------------------------------

const NPY_TYPES = {   // descr (without byte order) -> [ort type, typed array]
  f4: ['float32', Float32Array], f8: ['float64', Float64Array], i8: ['int64', BigInt64Array],
  i4: ['int32', Int32Array], i2: ['int16', Int16Array], i1: ['int8', Int8Array],
  u1: ['uint8', Uint8Array], u2: ['uint16', Uint16Array], u4: ['uint32', Uint32Array],
  u8: ['uint64', BigUint64Array], b1: ['bool', Uint8Array],
};

function readNpy(file) {
  let buf;
  try { buf = fs.readFileSync(file); } catch (e) { fail(2, `${file}: ${e.message}`); }
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') fail(2, `${file}: not an .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([<>|=])(\w\d)'/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !shape) fail(2, `${file}: unreadable .npy header ${JSON.stringify(header)}`);
  if (/'fortran_order':\s*True/.test(header)) fail(2, `${file}: Fortran order; save it C-contiguous`);
  if (descr[1] === '>' && descr[2][1] !== '1') fail(2, `${file}: big-endian data; save it little-endian`);
  const t = NPY_TYPES[descr[2]];
  if (!t) fail(2, `${file}: dtype ${descr[1]}${descr[2]} not supported (float/int/uint/bool)`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = dims.reduce((x, y) => x * y, 1);
  const start = hstart + hlen;
  if (buf.length - start < count * t[1].BYTES_PER_ELEMENT) fail(2, `${file}: truncated data`);
  // Copy so the typed array is aligned whatever the header length was.
  const bytes = Uint8Array.prototype.slice.call(buf, start, start + count * t[1].BYTES_PER_ELEMENT);
  let data = new t[1](bytes.buffer, 0, count);
  if (t[0] === 'bool') data = Uint8Array.from(data, (x) => (x ? 1 : 0));
  return { type: t[0], dims, data };
}

function writeNpy(file, tensor) {
  const entry = Object.entries(NPY_TYPES).find(([, t]) => t[0] === tensor.type);
  if (!entry) fail(1, `output type ${tensor.type} cannot be written as .npy`);
  const descr = (entry[0] === 'u1' || entry[0] === 'i1' || entry[0] === 'b1' ? '|' : '<') + entry[0];
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const data = tensor.data;
  const body = tensor.type === 'bool' ? Buffer.from(Uint8Array.from(data, (x) => (x ? 1 : 0)))
    : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  try {
    fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
  } catch (e) { fail(1, `${file}: ${e.message}`); }
}

// ---- inputs ----------------------------------------------------------------------------------

function mulberry32(seed) {   // small seeded PRNG: the same random input on every run
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeFeeds(ort, session, args) {
  const meta = session.inputMetadata || session.inputNames.map((name) => ({ name }));
  const bound = {};
  args.inputs.forEach((spec, i) => {
    const eq = spec.indexOf('=');
    let name; let file;
    // NAME=FILE only when NAME is one of the model's inputs (a path may contain '=').
    if (eq > 0 && session.inputNames.includes(spec.slice(0, eq))) {
      name = spec.slice(0, eq); file = spec.slice(eq + 1);
    } else {
      if (i >= session.inputNames.length) fail(2, `--input ${spec}: the model has only ${session.inputNames.length} input(s)`);
      name = session.inputNames[i]; file = spec;
    }
    bound[name] = readNpy(file);
  });
  const rand = mulberry32(20240601);
  const feeds = {};
  const described = [];
  for (const m of meta) {
    const want = m.type || 'float32';
    let t = bound[m.name];
    if (t) {
      if (t.type !== want) {
        const To = Object.values(NPY_TYPES).find((x) => x[0] === want);
        if (!To || t.type === 'bool') fail(2, `input ${m.name}: model wants ${want}, the .npy holds ${t.type}`);
        const big = To[1] === BigInt64Array || To[1] === BigUint64Array;
        const from = Array.from(t.data, (x) => (big ? BigInt(Math.trunc(Number(x))) : Number(x)));
        t = { type: want, dims: t.dims, data: To[1].from(from) };
      }
    } else {
      if (!m.shape) fail(2, `input ${m.name}: no declared shape; give it with --input`);
      const dims = m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
      const n = dims.reduce((x, y) => x * y, 1);
      const To = Object.values(NPY_TYPES).find((x) => x[0] === want);
      if (!To) fail(2, `input ${m.name}: type ${want} needs an --input file`);
      let data;
      if (want === 'float32' || want === 'float64') {
        data = new To[1](n);
        for (let j = 0; j < n; j++) data[j] = rand() * 2 - 1;
      } else {
        data = new To[1](n);   // zeros: valid indices/lengths for most integer inputs
      }
      t = { type: want, dims, data };
    }
    feeds[m.name] = new ort.Tensor(t.type, t.data, t.dims);
    described.push({ name: m.name, type: t.type, shape: t.dims });
  }
  return { feeds, described };
}

// ---- statistics and the profiler trace ---------------------------------------------------------

function median(xs) {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const mean = (xs) => xs.reduce((x, y) => x + y, 0) / xs.length;
const round = (x) => (x === null ? null : Math.round(x * 1e4) / 1e4);

function readTrace(dir, timed) {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  if (files.length !== 1) fail(1, `expected one profiler trace in ${dir}, found ${files.length}`);
  let events;
  try { events = JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8')); } catch (e) {
    fail(1, `profiler trace ${files[0]}: ${e.message}`);
  }
  const runs = events.filter((e) => e.name === 'model_run').sort((x, y) => x.ts - y.ts);
  if (runs.length < timed) fail(1, `profiler trace has ${runs.length} model_run events, expected >= ${timed}`);
  const kept = runs.slice(runs.length - timed);
  // Per operator type, over the timed runs only: kernel events that start inside a kept run.
  const perOp = {};
  const first = kept[0].ts;
  for (const e of events) {
    if (e.cat === 'Node' && e.args && e.args.op_name && e.name.endsWith('_kernel_time') && e.ts >= first) {
      perOp[e.args.op_name] = (perOp[e.args.op_name] || 0) + e.dur;
    }
  }
  return { durs: kept.map((e) => e.dur / 1000), perOp };
}

// ---- main ------------------------------------------------------------------------------------

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(args.model)) fail(2, `${args.model}: no such file`);
  const ort = loadOrt();
  // Failures reach us as exceptions; ORT's own log would add a second, colored copy (and, for
  // a model it cannot parse, a spurious "could not write a profile").
  ort.env.logLevel = 'fatal';
  const profDir = args.profile ? fs.mkdtempSync(path.join(os.tmpdir(), 'ort_run-')) : null;
  // On 'exit' so that fail()'s process.exit() cleans up too.
  if (profDir) process.on('exit', () => fs.rmSync(profDir, { recursive: true, force: true }));
  const options = {
    executionProviders: ['cpu'],
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 4,   // fatal only: errors reach us as exceptions anyway
  };
  // ORT's intra-op workers spin between parallel sections by default; on a machine shared with
  // other work that can cost more than it saves, so --no-spin lets them sleep instead.
  if (!args.spin) options.extra = { session: { intra_op: { allow_spinning: '0' } } };
  if (args.profile) {
    options.enableProfiling = true;
    options.profileFilePrefix = path.join(profDir, 'ort');
  }
  {
    let session;
    try {
      session = await ort.InferenceSession.create(args.model, options);
    } catch (e) {
      fail(1, `${args.model}: ONNX Runtime rejected the model: ${String(e.message).split('\n')[0]}`);
    }
    const { feeds, described } = makeFeeds(ort, session, args);
    let out;
    for (let i = 0; i < args.warmup; i++) out = await session.run(feeds);
    const wall = [];
    const t0 = process.hrtime.bigint();
    for (;;) {
      const s = process.hrtime.bigint();
      out = await session.run(feeds);
      const e = process.hrtime.bigint();
      wall.push(Number(e - s) / 1e6);
      const elapsed = Number(e - t0) / 1e9;
      if (wall.length >= 3 && elapsed >= args.maxTime) break;
      if (wall.length >= args.iterations && elapsed >= args.minTime) break;
    }
    if (args.output) writeNpy(args.output, out[session.outputNames[0]]);
    let ortMs = null;
    if (args.profile) {
      session.endProfiling();
      const trace = readTrace(profDir, wall.length);
      ortMs = trace.durs;
      if (args.ops) {
        const rows = Object.entries(trace.perOp).sort((x, y) => y[1] - x[1]);
        const total = rows.reduce((x, r) => x + r[1], 0);
        process.stderr.write(`op_type,ms_per_run,share\n`);
        for (const [op, us] of rows) {
          process.stderr.write(`${op},${(us / 1000 / wall.length).toFixed(4)},${(us / total).toFixed(3)}\n`);
        }
      }
    }
    if (session.release) await session.release();
    const line = {
      model: args.model, threads: args.threads, warmup: args.warmup, iterations: wall.length,
      wall_p50_ms: round(median(wall)), wall_mean_ms: round(mean(wall)),
      wall_min_ms: round(Math.min(...wall)),
      ort_p50_ms: ortMs ? round(median(ortMs)) : null, ort_mean_ms: ortMs ? round(mean(ortMs)) : null,
      ort_min_ms: ortMs ? round(Math.min(...ortMs)) : null,
      ort_version: ort.env.versions ? ort.env.versions.node || ort.env.versions.common : null,
      inputs: described,
    };
    process.stdout.write(JSON.stringify(line) + '\n');
  }
}

main().catch((e) => fail(1, String(e && e.message ? e.message : e).split('\n')[0]));
