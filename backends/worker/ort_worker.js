#!/usr/bin/env node
// ort_worker.js: ONNX Runtime (CPU, npm onnxruntime-node) behind edgebench's worker protocol,
// version 1 (backends/worker/PROTOCOL.md).  The harness's `onnxruntime` backend starts it as
// `node ort_worker.js`; it reads requests on stdin and answers on stdout.
//
// Session options: intraOpNumThreads = the trial's threads, interOpNumThreads 1, sequential
// execution, graph optimization opt.optimization (default "all"), intra-op spinning unless
// opt.spin=0.  opt.profile=1 turns ONNX Runtime's profiler on: `profile` then answers the
// "model_run" events' mean duration (ORT's own time inside Run()).  The profiler records every
// node of every run and slows ORT (up to 4x on many-node models), so it is off unless asked.
//
// onnxruntime-node is looked for in $EDGEBENCH_ORT_MODULES, ../../scripts/ort/node_modules (the
// source tree: scripts/deps.sh installs it there with `npm ci --ignore-scripts`),
// ../node_modules (an install's lib/edgebench), then node's own resolution.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

const PROTOCOL = 1;

function die(msg) {
  process.stderr.write(`ort_worker: ${msg}\n`);
  process.exit(1);
}

function loadOrt() {
  const dirs = [];
  if (process.env.EDGEBENCH_ORT_MODULES) dirs.push(process.env.EDGEBENCH_ORT_MODULES);
  dirs.push(path.join(__dirname, '..', '..', 'scripts', 'ort', 'node_modules'));
  dirs.push(path.join(__dirname, '..', 'node_modules'));
  const candidates = dirs.map((d) => path.join(d, 'onnxruntime-node')).concat(['onnxruntime-node']);
  for (const c of candidates) {
    try {
      return require(c);
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') die(`loading ${c}: ${e.message}`);
    }
  }
  return die('onnxruntime-node not installed (run scripts/deps.sh)');
}

// ---- messages --------------------------------------------------------------------------------

function enc(v) {
  const b = Buffer.from(String(v), 'utf8');
  let s = '';
  for (const c of b) {
    s += c <= 0x20 || c >= 0x7f || c === 0x25 || c === 0x3d
      ? `%${c.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(c);
  }
  return s;
}

function dec(v) {
  return Buffer.from(v.replace(/%([0-9a-fA-F]{2})/g, (m, h) => String.fromCharCode(parseInt(h, 16))),
    'latin1').toString('utf8');
}

function send(verb, fields, payload) {
  let line = verb;
  for (const [k, v] of fields) line += ` ${k}=${enc(v)}`;
  if (payload) line += ` bytes=${payload.length}`;
  const parts = [Buffer.from(line + '\n', 'latin1')];
  if (payload) parts.push(payload);
  fs.writeSync(1, Buffer.concat(parts));
}

// Reads requests: a header line, then `bytes` raw bytes.
let inbuf = Buffer.alloc(0);
let wake = null;
process.stdin.on('data', (chunk) => {
  inbuf = inbuf.length ? Buffer.concat([inbuf, chunk]) : chunk;
  if (wake) { const w = wake; wake = null; w(); }
});
process.stdin.on('end', () => process.exit(0)); // the trial is gone: so are we

async function readMessage() {
  let nl;
  while ((nl = inbuf.indexOf(10)) < 0) await new Promise((r) => { wake = r; });
  const line = inbuf.toString('latin1', 0, nl);
  inbuf = inbuf.subarray(nl + 1);
  const tokens = line.split(' ').filter((t) => t.length);
  const msg = { verb: tokens[0] || '', fields: new Map(), payload: null };
  for (const t of tokens.slice(1)) {
    const eq = t.indexOf('=');
    if (eq > 0) msg.fields.set(t.slice(0, eq), dec(t.slice(eq + 1)));
  }
  const n = Number(msg.fields.get('bytes') || 0);
  while (inbuf.length < n) await new Promise((r) => { wake = r; });
  msg.payload = Buffer.from(inbuf.subarray(0, n)); // a copy, aligned at 0
  inbuf = inbuf.subarray(n);
  return msg;
}

// ---- the model -------------------------------------------------------------------------------

const TYPES = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array,
  int16: Int16Array, int32: Int32Array, int64: BigInt64Array, bool: Uint8Array,
};

function describe(name, type, dims) {
  return `${name}:${type}:${dims.join(',')}`;
}

class Unsupported extends Error {}

async function openModel(ort, m) {
  const model = m.fields.get('model');
  const threads = Number(m.fields.get('threads') || 1);
  const batch = Number(m.fields.get('batch') || 1);
  const opt = (k, d) => (m.fields.has(`opt.${k}`) ? m.fields.get(`opt.${k}`) : d);
  const s = { profile: opt('profile', '0') === '1', runs: 0, mark: 0, profDir: null, ended: false };
  const spin = opt('spin', '1') === '0' ? 0 : 1;
  const options = {
    executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: opt('optimization', 'all'),
    logSeverityLevel: 4,
  };
  if (!spin) options.extra = { session: { intra_op: { allow_spinning: '0' } } };
  if (s.profile) {
    s.profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ort_worker-'));
    process.on('exit', () => fs.rmSync(s.profDir, { recursive: true, force: true }));
    options.enableProfiling = true;
    options.profileFilePrefix = path.join(s.profDir, 'ort');
  }
  if (!fs.existsSync(model)) throw new Error(`${model}: no such file`);
  try {
    s.session = await ort.InferenceSession.create(model, options);
  } catch (e) {
    const text = String(e.message).split('\n')[0];
    // ORT says NOT_IMPLEMENTED for operators (or versions of them) it has no kernel for.
    if (/NOT_IMPLEMENTED|Could not find an implementation|is not a registered function|Unsupported/i.test(text)) {
      throw new Unsupported(`ONNX Runtime cannot run ${path.basename(model)}: ${text}`);
    }
    throw new Error(`ONNX Runtime rejected ${model}: ${text}`);
  }
  s.inputs = s.session.inputMetadata.map((meta) => {
    if (!TYPES[meta.type]) throw new Unsupported(`input ${meta.name}: type ${meta.type} not supported by the worker`);
    const dims = meta.shape.map((d, i) => {
      if (typeof d === 'number' && d >= 0) return d;
      if (i === 0) return batch;
      throw new Unsupported(`input ${meta.name}: symbolic dimension ${i} ('${d}'); only the leading one binds (to the batch)`);
    });
    return { name: meta.name, type: meta.type, dims };
  });
  // One run on zeros tells the output shapes (the metadata may leave them symbolic).
  const feeds = {};
  for (const t of s.inputs) {
    feeds[t.name] = new ort.Tensor(t.type, new TYPES[t.type](t.dims.reduce((a, b) => a * b, 1)), t.dims);
  }
  const out = await s.session.run(feeds);
  s.runs++;
  s.outputs = s.session.outputNames.map((n) => {
    if (!TYPES[out[n].type]) throw new Unsupported(`output ${n}: type ${out[n].type} not supported by the worker`);
    return { name: n, type: out[n].type, dims: out[n].dims.slice() };
  });
  // The choices that change what runs, for results.csv's backend_plan (PROTOCOL.md).
  s.plan = `cpu EP, graph optimization ${options.graphOptimizationLevel}, intra-op threads ${threads}, spin ${spin}`;
  return s;
}

function feedsFrom(ort, s, payload) {
  const feeds = {};
  let at = 0;
  for (const t of s.inputs) {
    const T = TYPES[t.type];
    const count = t.dims.reduce((a, b) => a * b, 1);
    const len = count * T.BYTES_PER_ELEMENT;
    if (at + len > payload.length) throw new Error(`run: the inputs take more than the ${payload.length} bytes sent`);
    const data = new T(payload.buffer.slice(payload.byteOffset + at, payload.byteOffset + at + len));
    feeds[t.name] = new ort.Tensor(t.type, data, t.dims);
    at += len;
  }
  if (at !== payload.length) throw new Error(`run: ${payload.length} bytes sent, the inputs take ${at}`);
  return feeds;
}

function profilerMean(s) {
  if (!s.profile || s.ended) return null;
  s.session.endProfiling();
  s.ended = true;
  const files = fs.readdirSync(s.profDir).filter((f) => f.endsWith('.json'));
  if (files.length !== 1) return null;
  const events = JSON.parse(fs.readFileSync(path.join(s.profDir, files[0]), 'utf8'));
  const runs = events.filter((e) => e.name === 'model_run').sort((x, y) => x.ts - y.ts).slice(s.mark);
  if (!runs.length) return null;
  return { ms: runs.reduce((a, e) => a + e.dur, 0) / runs.length / 1000, runs: runs.length };
}

// ---- main ------------------------------------------------------------------------------------

async function main() {
  const ort = loadOrt();
  ort.env.logLevel = 'fatal';
  const version = ort.env.versions ? ort.env.versions.common || ort.env.versions.node : 'unknown';
  send('hello', [['protocol', PROTOCOL], ['runtime', 'onnxruntime'], ['version', version]]);
  let s = null;
  for (;;) {
    const m = await readMessage();
    try {
      if (m.verb === 'open') {
        s = await openModel(ort, m);
        send('ok', s.inputs.map((t) => ['in', describe(t.name, t.type, t.dims)])
          .concat(s.outputs.map((t) => ['out', describe(t.name, t.type, t.dims)]))
          .concat([['plan', s.plan]]));
      } else if (m.verb === 'run') {
        if (!s) throw new Error('run before open');
        const feeds = feedsFrom(ort, s, m.payload);
        const k = Number(m.fields.get('n') || 1);
        const times = [];
        let out;
        for (let i = 0; i < k; i++) {
          const t0 = process.hrtime.bigint();
          out = await s.session.run(feeds);
          times.push(Number(process.hrtime.bigint() - t0) / 1e6);
          s.runs++;
        }
        const parts = s.outputs.map((t) => {
          const d = out[t.name].data;
          if (out[t.name].dims.join(',') !== t.dims.join(',')) {
            throw new Error(`output ${t.name} has shape ${out[t.name].dims} now, ${t.dims} at open`);
          }
          return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
        });
        send('ok', [['times', times.map((x) => x.toFixed(6)).join(',')]], Buffer.concat(parts));
      } else if (m.verb === 'profile') {
        if (m.fields.get('reset') === '1') {
          if (s) s.mark = s.runs;
          send('ok', []);
        } else {
          const p = s ? profilerMean(s) : null;
          send('ok', p ? [['runtime_ms', p.ms.toFixed(6)], ['runs', p.runs]] : []);
        }
      } else if (m.verb === 'close') {
        send('ok', []);
        if (s && s.session.release) await s.session.release();
        process.exit(0);
      } else {
        send('error', [['message', `unknown request '${m.verb}' (protocol ${PROTOCOL})`]]);
      }
    } catch (e) {
      const text = String(e && e.message ? e.message : e).split('\n')[0];
      send(e instanceof Unsupported ? 'unsupported' : 'error', [[e instanceof Unsupported ? 'reason' : 'message', text]]);
    }
  }
}

main().catch((e) => die(String(e && e.message ? e.message : e).split('\n')[0]));
