// The settings a visit runs with: config.js and the backends' URLs from
// spaces.json (`wiring`, {SPACE NAME: URL}), overridden by the page's query
// parameters (?python=URL&node=URL&interval=SECONDS). A bad value is reported
// and the default kept, so a typo in a shared link never blanks the page.

function cleanUrl(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.search || url.hash || url.username || url.password) return null;
  // Kept as a base: calls append /health, /echo, ... to it.
  return url.href.replace(/\/+$/, '');
}

export function resolveSettings(config, search, wiring = {}) {
  const params = new URLSearchParams(search);
  const problems = [];

  const backends = config.backends.map((backend) => {
    const raw = params.get(backend.key);
    const wired = typeof wiring[backend.space] === 'string' ? wiring[backend.space] : null;
    const fallback = wired === null ? null : cleanUrl(wired);
    const given = raw === null || raw.trim() === '' ? null : cleanUrl(raw.trim());
    if (raw !== null && raw.trim() !== '' && given === null) {
      problems.push(`?${backend.key}=${raw} is not an http(s) URL without query or fragment; using ${fallback ?? 'none'}.`);
    }
    if (given !== null) return { ...backend, url: given, overridden: true };
    if (fallback === null) {
      problems.push(`spaces.json has no http(s) URL for ${backend.space}: pass ?${backend.key}=URL.`);
    }
    return { ...backend, url: fallback, overridden: false };
  });

  const defaultInterval = Number(config.intervalSeconds) > 0 ? Number(config.intervalSeconds) : 10;
  let intervalSeconds = Number(config.intervalSeconds) >= 0 ? Number(config.intervalSeconds) : defaultInterval;
  const rawInterval = params.get('interval');
  if (rawInterval !== null && rawInterval.trim() !== '') {
    const value = Number(rawInterval);
    if (Number.isFinite(value) && (value === 0 || (value >= 1 && value <= 3600))) {
      intervalSeconds = value;
    } else {
      problems.push(`?interval=${rawInterval} is not 0 (paused) or a number of seconds from 1 to 3600; using ${intervalSeconds}.`);
    }
  }

  return {
    backends,
    intervalSeconds: intervalSeconds || defaultInterval,
    startPaused: intervalSeconds === 0,
    timeoutMs: (Number(config.timeoutSeconds) > 0 ? Number(config.timeoutSeconds) : 5) * 1000,
    history: Number.isInteger(config.history) && config.history > 1 ? config.history : 30,
    problems,
  };
}
