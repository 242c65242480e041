// The dashboard: one card per backend, refreshed on an interval and on demand.
import config from './config.js';
import { CallError, getHealth, getStatus, newRequestId, postEcho } from './probe.js';
import { resolveSettings } from './settings.js';
import { drawSparkline, summarize } from './sparkline.js';

const BADGES = {
  checking: { icon: '…', text: 'Checking…' },
  ok: { icon: '✓', text: 'Healthy' },
  degraded: { icon: '!', text: 'Unhealthy' },
  cors: { icon: '⊘', text: 'CORS refused' },
  network: { icon: '✕', text: 'Unreachable' },
  timeout: { icon: '◔', text: 'Timed out' },
};

/** spaces.json: {SPACE NAME: URL}, what `make run` serves or what `hfspace deploy --all` wrote. */
async function loadWiring() {
  try {
    const response = await fetch('spaces.json', { cache: 'no-cache' });
    if (response.ok) return await response.json();
  } catch {
    // reported below, as a backend without a URL
  }
  return {};
}

const settings = resolveSettings(config, window.location.search, await loadWiring());
const cards = new Map(); // key -> {backend, root, samples, state, busy}
let timer = null;
let paused = settings.startPaused;
let refreshing = null;
let refreshes = 0; // finished refreshes, in body[data-refreshes] (started ones in data-started)
let started = 0;

function $(root, selector) {
  return root.querySelector(selector);
}

function setField(root, name, value) {
  $(root, `[data-field="${name}"]`).textContent = value ?? '–';
}

function formatUptime(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return null;
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  const units = [[86400, 'd'], [3600, 'h'], [60, 'min']];
  const parts = [];
  let rest = s;
  for (const [size, unit] of units) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  return parts.slice(0, 2).join(' ');
}

// Changes that happen together (both cards of one refresh) are read out as one
// message; emptying the region first makes a repeated message heard again.
let pendingAnnouncements = [];
function announce(text) {
  pendingAnnouncements.push(text);
  if (pendingAnnouncements.length > 1) return;
  const region = document.getElementById('announcer');
  region.textContent = '';
  window.setTimeout(() => {
    region.textContent = pendingAnnouncements.join(' ');
    pendingAnnouncements = [];
  }, 100);
}

function buildCard(backend) {
  const template = document.getElementById('card-template');
  const root = template.content.firstElementChild.cloneNode(true);
  const titleId = `card-${backend.key}-title`;
  root.id = `card-${backend.key}`;
  root.dataset.backend = backend.key;
  root.setAttribute('aria-labelledby', titleId);
  const title = $(root, '.card-title');
  title.id = titleId;
  title.textContent = backend.name;
  const link = $(root, '.url-link');
  link.href = backend.url ?? '';
  link.textContent = backend.url;
  const preflight = $(root, '.preflight');
  const preflightTitle = $(root, '.preflight-title');
  preflightTitle.id = `card-${backend.key}-preflight`;
  preflight.setAttribute('aria-labelledby', preflightTitle.id);
  const button = $(root, '.preflight-run');
  button.setAttribute('aria-describedby', titleId);
  const card = { backend, root, samples: [], state: 'checking', busy: false };
  button.addEventListener('click', () => runPreflight(card));
  return card;
}

function showState(card, state, message) {
  const { root } = card;
  root.dataset.state = state;
  $(root, '.badge-icon').textContent = BADGES[state].icon;
  $(root, '.badge-text').textContent = BADGES[state].text;
  const line = $(root, '.message');
  line.hidden = !message;
  line.textContent = message || '';
  if (state !== card.state) {
    announce(`${card.backend.name}: ${BADGES[state].text}.${message ? ` ${message}` : ''}`);
    card.state = state;
  }
}

function showStatus(card, status) {
  const { root } = card;
  const runtime = status.runtime || {};
  setField(root, 'service', status.service);
  setField(root, 'version', status.version);
  setField(root, 'environment', status.environment);
  setField(root, 'runtime', runtime.language ? `${runtime.language} ${runtime.language_version}, ${runtime.framework} ${runtime.framework_version}` : null);
  setField(root, 'uptime', formatUptime(status.uptime_seconds));
  setField(root, 'space', status.space && status.space.id ? status.space.id : 'not on a Space');
}

function clearStatus(card) {
  for (const name of ['service', 'version', 'environment', 'runtime', 'uptime', 'space', 'health', 'rtt']) {
    setField(card.root, name, null);
  }
}

function record(card, ms) {
  card.samples.push({ ms });
  if (card.samples.length > settings.history) card.samples.shift();
  drawSparkline($(card.root, '.sparkline'), card.samples, settings.history);
  $(card.root, '.trend-caption').textContent = `Round trip of GET /: ${summarize(card.samples)}.`;
}

function describe(error) {
  return error instanceof CallError ? error : new CallError('network', String(error && error.message ? error.message : error));
}

async function runPreflight(card) {
  const { root, backend } = card;
  const section = $(root, '.preflight');
  const id = newRequestId();
  section.dataset.result = 'pending';
  setField(root, 'preflight-sent', id);
  setField(root, 'preflight-echoed', null);
  setField(root, 'preflight-result', 'Sending…');
  try {
    const echo = await postEcho(backend.url, settings.timeoutMs, id);
    const matches = echo.echoed === id && echo.header === id;
    section.dataset.result = matches ? 'ok' : 'mismatch';
    setField(root, 'preflight-echoed', echo.echoed);
    setField(root, 'preflight-result', matches
      ? `✓ Allowed: preflight passed, id echoed in the body and the X-Request-ID header (${Math.round(echo.ms)} ms).`
      : `! Answered, but the id came back as ${echo.echoed ?? 'nothing'} (body) and ${echo.header ?? 'unreadable'} (header).`);
  } catch (error) {
    const failure = describe(error);
    section.dataset.result = failure.kind;
    const label = failure.kind === 'cors' ? '⊘ Refused (CORS): the browser did not send the POST.' : `✕ Failed (${failure.kind}).`;
    setField(root, 'preflight-result', `${label} ${failure.message}`);
  }
}

async function checkBackend(card) {
  const { backend, root } = card;
  if (backend.url === null) {
    showState(card, 'network', 'No URL for this backend (see above).');
    return;
  }
  root.setAttribute('aria-busy', 'true');
  try {
    let status;
    try {
      status = await getStatus(backend.url, settings.timeoutMs);
    } catch (error) {
      const failure = describe(error);
      record(card, null);
      clearStatus(card);
      // Reachable but refusing this origin: the preflight check still shows how.
      const preflight = failure.kind === 'cors' || failure.kind === 'http' ? runPreflight(card) : null;
      showState(card, failure.kind === 'http' ? 'degraded' : failure.kind, failure.message);
      if (preflight === null) {
        setField(root, 'preflight-result', 'Not sent: the backend is not reachable.');
        $(root, '.preflight').dataset.result = 'skipped';
      }
      await preflight;
      return;
    }
    record(card, status.ms);
    showStatus(card, status.status);
    setField(root, 'rtt', `${Math.round(status.ms)} ms`);
    const [health] = await Promise.all([
      getHealth(backend.url, settings.timeoutMs).catch(describe),
      runPreflight(card),
    ]);
    if (health instanceof CallError) {
      setField(root, 'health', `unknown (${health.kind})`);
      showState(card, health.kind === 'http' ? 'degraded' : health.kind, health.message);
    } else if (health.health === 'pass') {
      setField(root, 'health', '✓ pass');
      showState(card, 'ok', '');
    } else {
      setField(root, 'health', `✕ fail (HTTP ${health.httpStatus})`);
      showState(card, 'degraded', 'GET /health says "fail": the backend is shutting down or unhealthy.');
    }
  } finally {
    root.removeAttribute('aria-busy');
    $(root, '.checked-at').textContent = `Checked at ${new Date().toLocaleTimeString()}.`;
  }
}

function showSchedule() {
  const line = document.getElementById('refresh-status');
  const when = refreshes ? ` Last refresh: ${new Date().toLocaleTimeString()}.` : '';
  line.textContent = paused
    ? `Auto-refresh paused.${when}`
    : `Auto-refresh every ${settings.intervalSeconds} s.${when}`;
  const pause = document.getElementById('pause');
  pause.setAttribute('aria-pressed', String(paused));
}

/** Check every backend once; a refresh asked for while one runs joins it. */
function refresh() {
  if (refreshing) return refreshing;
  const button = document.getElementById('refresh');
  button.disabled = true;
  started += 1;
  document.body.dataset.started = String(started);
  refreshing = Promise.all([...cards.values()].map(checkBackend)).finally(() => {
    refreshes += 1;
    document.body.dataset.refreshes = String(refreshes);
    button.disabled = false;
    refreshing = null;
    showSchedule();
  });
  return refreshing;
}

function schedule() {
  window.clearInterval(timer);
  timer = null;
  if (!paused) {
    timer = window.setInterval(() => {
      if (!document.hidden) refresh();
    }, settings.intervalSeconds * 1000);
  }
  showSchedule();
}

function fillForm() {
  for (const backend of settings.backends) {
    const input = document.getElementById(`url-${backend.key}`);
    if (input) input.value = backend.url ?? '';
  }
  document.getElementById('interval').value = String(settings.startPaused ? 0 : settings.intervalSeconds);
}

function start() {
  document.getElementById('page-origin').textContent = window.location.origin;
  const problems = document.getElementById('config-problems');
  if (settings.problems.length) {
    problems.textContent = settings.problems.join(' ');
    problems.hidden = false;
  }
  const container = document.getElementById('cards');
  for (const backend of settings.backends) {
    const card = buildCard(backend);
    cards.set(backend.key, card);
    container.append(card.root);
  }
  fillForm();
  document.getElementById('refresh').addEventListener('click', () => refresh());
  document.getElementById('pause').addEventListener('click', () => {
    paused = !paused;
    schedule();
    announce(paused ? 'Auto-refresh paused.' : `Auto-refresh every ${settings.intervalSeconds} s.`);
  });
  schedule();
  refresh();
}

start();
