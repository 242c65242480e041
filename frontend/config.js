// The dashboard's settings. Each backend's URL comes from spaces.json, by the
// name of its Space in spaces.toml: `make run`'s local ports here, the URLs the
// Hub reports once `hfspace deploy --all` has written it into the deployed
// Space. A visit can override them with query parameters: ?python=URL&node=URL&interval=S
export default {
  backends: [
    { key: 'python', name: 'Python backend', space: 'python-backend' },
    { key: 'node', name: 'Node.js backend', space: 'nodejs-backend' },
  ],
  // Seconds between automatic refreshes; 0 starts paused.
  intervalSeconds: 10,
  // A call slower than this counts as failed (timed out).
  timeoutSeconds: 5,
  // How many round-trip times each sparkline keeps.
  history: 30,
};
