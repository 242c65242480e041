// Process start time and the shutdown flag that turns /health to "fail".
import { round3 } from './logs.js';

// Process start, not app creation: what the platform and the contract mean by "started".
export const STARTED_AT = new Date(Math.round(performance.timeOrigin)).toISOString();
export const uptimeSeconds = () => round3(process.uptime());

/** Whether the process is shutting down; server.js flips it on SIGTERM/SIGINT. */
export function createLifecycle() {
  return {
    shuttingDown: false,
    beginShutdown() {
      this.shuttingDown = true;
    },
  };
}
