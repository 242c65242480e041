// The dashboard's defaults: what `make run` serves on this machine. Edit these
// for a deployed Space (each backend's https://OWNER-NAME.hf.space URL), or
// override them per visit with query parameters: ?python=URL&node=URL&interval=S
export default {
  backends: [
    { key: 'python', name: 'Python backend', url: 'http://localhost:7860' },
    { key: 'node', name: 'Node.js backend', url: 'http://localhost:7861' },
  ],
  // Seconds between automatic refreshes; 0 starts paused.
  intervalSeconds: 10,
  // A call slower than this counts as failed (timed out).
  timeoutSeconds: 5,
  // How many round-trip times each sparkline keeps.
  history: 30,
};
