// The page of `ltm serve`: plain JS over the JSON API. Everything the server or the model returns
// is put into the page as text (textContent), never as HTML, so a prompt holding markup shows as typed.
'use strict';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
let model = null;
let stops = [0, 1, 2, 4, 8, 16, 32, 64];
// Replies can arrive out of order when the slider or the boxes move quickly: only the latest one is drawn.
const latest = { probe: 0, bound: 0, thinking: 0 };

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new Error('the server cannot be reached (' + e.message + ')');
  }
  let data;
  try {
    data = await res.json();
  } catch (e) {
    throw new Error('HTTP ' + res.status + ': the reply is not JSON');
  }
  if (!res.ok) throw new Error(data && typeof data.error === 'string' ? data.error : 'HTTP ' + res.status);
  return data;
}

function showError(e) {
  const el = $('error');
  el.textContent = e.message;
  el.hidden = false;
}

function clearError() {
  const el = $('error');
  el.hidden = true;
  el.textContent = '';
}

function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}

function fixed(x, digits) { return x === null || x === undefined ? '-' : Number(x).toFixed(digits); }

function percent(x) { return (100 * x).toFixed(1) + '%'; }

// What the user typed, as a number when it reads as one; otherwise as typed, for the server to refuse with its reason.
function typed(id) {
  const t = $(id).value.trim();
  if (t === '') return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

function checkedLayers() {
  const boxes = [...document.querySelectorAll('#layer-boxes input[type=checkbox]')];
  const kept = boxes.filter((b) => b.checked).map((b) => b.value);
  return kept.length === 0 ? 'none' : kept.join(',');
}

// ---- 1. Layer groups -------------------------------------------------------------------------

function drawLayerBoxes() {
  const box = $('layer-boxes');
  const groups = model.layerGroups;
  const noThoughts = model.ltm.config.latentCount === 0;
  for (const g of groups) {
    const label = el('label');
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.value = g;
    input.checked = true;
    input.disabled = noThoughts;
    input.id = 'layer-' + g;
    input.addEventListener('change', () => { clearError(); refreshProbe(); });
    label.append(input, document.createTextNode(' layer' + (g.includes('-') ? 's ' : ' ') + g));
    box.append(label);
  }
  if (noThoughts) box.append(el('span', 'this model has no thoughts (N_z = 0)', 'hint'));
}

async function generate() {
  clearError();
  const button = $('generate');
  button.disabled = true;
  const request = {
    prompt: $('prompt').value === '' ? null : $('prompt').value,
    layers: checkedLayers(),
    maxTokens: typed('max-tokens'),
    temperature: typed('temperature'),
    topP: typed('top-p'),
    seed: typed('seed'),
  };
  try {
    const r = await api('POST', '/api/generate', request);
    $('output-prompt').textContent = r.prompt;
    $('output-text').textContent = r.text;
    $('output-meta').textContent = describeGeneration(r);
  } catch (e) {
    showError(e);
  } finally {
    button.disabled = false;
  }
}

function describeGeneration(r) {
  const z = r.conditioned
    ? 'z fitted on the prompt (T_fast ' + r.tFast + ', NELBO/token ' + fixed(r.nelboPerToken, 3) + ')'
    : (model.ltm.config.latentCount === 0 ? 'no thoughts' : 'z drawn from the prior N(0, I) (unconditioned)');
  return 'layers kept: ' + r.layers + ' \u00b7 ' + z + ' \u00b7 ' + r.tokens + ' tokens';
}

async function refreshProbe() {
  if (model.ltm.config.latentCount === 0 || model.heldOutDocuments === 0) {
    $('probe-current').textContent = model.heldOutDocuments === 0
      ? 'no held-out documents to probe (serve with --data)' : 'no thoughts to probe (N_z = 0)';
    return;
  }
  const seq = ++latest.probe;
  const layers = checkedLayers();
  $('probe-current').textContent = 'fitting z on the held-out documents\u2026';
  try {
    const r = await api('POST', '/api/probe', { layers });
    if (seq !== latest.probe) return;
    $('probe-current').textContent = 'layers kept: ' + r.layers + ' \u2192 NLL/token ' + fixed(r.nllPerToken, 4)
      + ', accuracy ' + percent(r.accuracy) + ' (' + r.documents + ' documents, ' + r.tokens + ' tokens, T_fast ' + r.tFast + ')';
    $('probe-caption').textContent = r.table === 'every combination'
      ? 'Every combination of layers (the others set to zero)' : 'Layers 1..k kept, and the checked set';
    const rows = r.rows.slice();
    if (!rows.some((x) => x.layers === r.layers)) rows.push({ layers: r.layers, accuracy: r.accuracy, nllPerToken: r.nllPerToken });
    const body = $('probe-table').tBodies[0];
    body.replaceChildren(...rows.map((x) => {
      const tr = el('tr');
      if (x.layers === r.layers) tr.className = 'current';
      tr.append(el('td', x.layers), el('td', percent(x.accuracy)), el('td', fixed(x.nllPerToken, 4)));
      return tr;
    }));
  } catch (e) {
    if (seq === latest.probe) {
      $('probe-current').textContent = '';
      showError(e);
    }
  }
}

// ---- 2. Thinking time -------------------------------------------------------------------------

function selectedTFast() { return stops[Number($('tfast').value)]; }

async function refreshBound() {
  const seq = ++latest.bound;
  const tFast = selectedTFast();
  const asked = stops.filter((t) => t <= tFast);
  try {
    const r = await api('GET', '/api/bound?tFast=' + asked.join(','));
    if (seq !== latest.bound) return;
    const body = $('bound-table').tBodies[0];
    body.replaceChildren(...r.rows.map((x) => {
      const tr = el('tr');
      if (x.tFast === tFast) tr.className = 'current';
      tr.append(el('td', x.tFast), el('td', fixed(x.nelboPerToken, 4)), el('td', fixed(x.perplexityBound, 3)),
        el('td', fixed(x.nllPerToken, 4)), el('td', fixed(x.klPerSequence, 3)));
      return tr;
    }));
    $('bound-baseline').textContent = (r.baseline
      ? 'baseline (N_z=0): perplexity ' + fixed(r.baseline.perplexity, 3) + ', NLL/token ' + fixed(r.baseline.nllPerToken, 4) + '; '
      : 'no baseline served; ') + r.documents + ' held-out documents, ' + r.tokens + ' predicted tokens';
    drawPlot(r, tFast);
  } catch (e) {
    if (seq === latest.bound) showError(e);
  }
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

// About five round tick values covering [lo, hi].
function ticks(lo, hi) {
  const span = hi - lo || 1;
  const raw = span / 5, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= 6);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toPrecision(6)));
  return out;
}

// The values 1, 2, 3 and 5 times a power of ten inside [lo, hi].
function logTicks(lo, hi) {
  const out = [];
  for (let p = Math.floor(Math.log10(lo)); p <= Math.ceil(Math.log10(hi)); p++) {
    for (const m of [1, 2, 3, 5]) {
      const v = Number((m * Math.pow(10, p)).toPrecision(6));
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out;
}

function drawPlot(r, tFast) {
  const plot = $('bound-plot');
  const W = 520, H = 320, left = 56, right = 150, top = 16, bottom = 44;
  const values = r.rows.map((x) => x.perplexityBound);
  if (r.baseline) values.push(r.baseline.perplexity);
  let lo = Math.min(...values), hi = Math.max(...values);
  // A bound falling from tens to near one reads best on a log scale, where equal ratios are equal steps.
  const log = lo > 0 && hi / lo > 4;
  if (log) {
    lo = lo / 1.15;
    hi = hi * 1.15;
  } else {
    const pad = (hi - lo) * 0.08 || hi * 0.05 || 1;
    lo = Math.max(0, lo - pad);
    hi = hi + pad;
  }
  const scale = (v) => (log ? Math.log(v) : v);
  const x = (t) => left + (stops.indexOf(t) / (stops.length - 1)) * (W - left - right);
  const y = (v) => top + (1 - (scale(v) - scale(lo)) / (scale(hi) - scale(lo))) * (H - top - bottom);
  const parts = [];
  for (const v of (log ? logTicks(lo, hi) : ticks(lo, hi))) {
    parts.push(svg('line', { class: 'grid', x1: left, x2: W - right, y1: y(v), y2: y(v) }));
    parts.push(svg('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, v));
  }
  for (const t of stops) {
    parts.push(svg('text', { x: x(t), y: H - bottom + 16, 'text-anchor': 'middle' }, t));
  }
  parts.push(svg('line', { class: 'axis', x1: left, x2: W - right, y1: H - bottom, y2: H - bottom }));
  parts.push(svg('line', { class: 'axis', x1: left, x2: left, y1: top, y2: H - bottom }));
  parts.push(svg('text', { class: 'label', x: (left + W - right) / 2, y: H - 6, 'text-anchor': 'middle' },
    'T_fast (fast steps fitting z)'));
  parts.push(svg('text', { class: 'label', x: 14, y: (top + H - bottom) / 2, 'text-anchor': 'middle',
    transform: 'rotate(-90 14 ' + (top + H - bottom) / 2 + ')' }, 'perplexity bound' + (log ? ' (log scale)' : '')));
  if (r.baseline) {
    const by = y(r.baseline.perplexity);
    parts.push(svg('line', { class: 'baseline', x1: left, x2: W - right, y1: by, y2: by }));
    parts.push(svg('text', { x: W - right + 6, y: by + 4 }, 'baseline ' + fixed(r.baseline.perplexity, 3)));
  }
  const points = r.rows.map((p) => x(p.tFast) + ',' + y(p.perplexityBound)).join(' ');
  parts.push(svg('polyline', { class: 'curve', points }));
  for (const p of r.rows) {
    const current = p.tFast === tFast;
    parts.push(svg('circle', { class: current ? 'point current' : 'point', cx: x(p.tFast), cy: y(p.perplexityBound), r: current ? 6 : 4,
      'data-t-fast': p.tFast }));
  }
  const chosen = r.rows.find((p) => p.tFast === tFast);
  if (chosen) {
    // The chosen point's value in the plot's top right corner, which a falling curve leaves empty.
    parts.push(svg('circle', { class: 'legend-point', cx: W - right - 150, cy: top + 8, r: 5 }));
    parts.push(svg('text', { class: 'current-label', x: W - right - 140, y: top + 12 },
      'LTM bound ' + fixed(chosen.perplexityBound, 3) + ' at T_fast ' + chosen.tFast));
  }
  plot.replaceChildren(...parts);
}

async function thinkingGenerate() {
  clearError();
  const seq = ++latest.thinking;
  const tFast = selectedTFast();
  const button = $('thinking-generate');
  button.disabled = true;
  const prompt = $('thinking-prompt').value;
  try {
    const r = await api('POST', '/api/generate', {
      prompt: prompt === '' ? null : prompt, layers: 'all', maxTokens: typed('max-tokens'),
      temperature: typed('temperature'), topP: typed('top-p'), seed: typed('seed'), tFast,
    });
    if (seq !== latest.thinking) return;
    $('thinking-output-prompt').textContent = r.prompt;
    $('thinking-output-text').textContent = r.text;
    $('thinking-meta').textContent = describeGeneration(r);
  } catch (e) {
    if (seq === latest.thinking) showError(e);
  } finally {
    if (seq === latest.thinking) button.disabled = false;
  }
}

// ---- 3. Model card -----------------------------------------------------------------------------

function flatten(prefix, value, out) {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(prefix ? prefix + '.' + k : k, v, out);
  } else {
    out.push([prefix, value]);
  }
  return out;
}

function number(v) { return typeof v === 'number' && Number.isInteger(v) ? v.toLocaleString('en-US') : String(v); }

function card(title, m) {
  const panel = el('div', null, 'panel');
  panel.append(el('h3', title));
  const dl = el('dl');
  const add = (k, v) => { dl.append(el('dt', k), el('dd', v === null || v === undefined ? '-' : number(v))); };
  add('checkpoint', m.source);
  add('parameters', m.parameters);
  add('tokenizer', m.tokenizer);
  for (const [k, v] of flatten('', m.config, [])) add(k, v);
  if (m.training) {
    add('steps trained', m.training.step);
    add('tokens seen', m.training.tokensSeen);
    add('batch size', m.training.batchSize);
    for (const [k, v] of flatten('', m.training.settings, [])) add('training ' + k, v);
  } else {
    add('training', 'no trainer state in the checkpoint');
  }
  if (m.data) for (const [k, v] of flatten('', m.data, [])) add('data ' + k, v);
  panel.append(dl);
  return panel;
}

function drawCards() {
  const cards = [card('LTM (N_z = ' + model.ltm.config.latentCount + ')', model.ltm)];
  if (model.baseline) cards.push(card('Baseline (N_z = ' + model.baseline.config.latentCount + ')', model.baseline));
  $('cards').replaceChildren(...cards);
  const c = model.ltm.config;
  $('summary').textContent = 'LTM with ' + c.layers + ' layers of width ' + c.width + ', N_z = ' + c.latentCount
    + ' thoughts (' + (c.latentCount / c.layers) + ' per layer), context ' + c.maxSeqLen
    + (c.window > 0 ? ', attention window ' + c.window : '') + ', ' + number(model.ltm.parameters) + ' parameters'
    + (model.ltm.training ? ', trained ' + number(model.ltm.training.step) + ' steps' : '')
    + '; probes and bounds on ' + model.heldOutDocuments + ' held-out documents.';
}

// ---- start -------------------------------------------------------------------------------------

async function init() {
  $('generate').addEventListener('click', generate);
  $('thinking-generate').addEventListener('click', thinkingGenerate);
  const slider = $('tfast');
  slider.addEventListener('input', () => { $('tfast-value').textContent = selectedTFast(); });
  slider.addEventListener('change', () => { clearError(); refreshBound(); thinkingGenerate(); });
  try {
    model = await api('GET', '/api/model');
  } catch (e) {
    showError(e);
    return;
  }
  stops = model.tFastStops;
  slider.max = stops.length - 1;
  const distance = (t) => Math.abs(t - model.ltm.trainedTFast);
  const trained = stops.reduce((best, t) => (distance(t) < distance(best) ? t : best), stops[0]);
  slider.value = stops.indexOf(trained);
  $('tfast-value').textContent = selectedTFast();
  $('prompt').value = model.examplePrompt;
  $('thinking-prompt').value = model.examplePrompt;
  $('max-tokens').max = model.limits.maxTokens;
  $('max-tokens').value = Math.min(100, model.limits.maxTokens);
  drawLayerBoxes();
  drawCards();
  refreshProbe();
  if (model.heldOutDocuments > 0) refreshBound();
}

document.addEventListener('DOMContentLoaded', init);
