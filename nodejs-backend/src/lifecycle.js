// Process start time and the shutdown flag that turns /health to "fail".
import { round3 } from './logs.js';

// Process start, not app creation: what the platform and the contract mean by "started".
export const STARTED_AT = new Date(Math.round(performance.timeOrigin)).toISOString();
export const uptimeSeconds = () => round3(process.uptime());

/**
 * Whether the process is shutting down; server.js flips it on SIGTERM/SIGINT. In
 * between, while server.js takes the connections the kernel has queued before it
 * closes the listener (`stopping`), requests wait: an answer now would have its
 * client connect again, into that queue.
 */
export function createLifecycle() {
  const waiting = [];
  return {
    stopping: false,
    shuttingDown: false,
    /** Call `proceed` now, or once shutdown has begun if the listener is being stopped. */
    whenAnswering(proceed) {
      if (this.stopping && !this.shuttingDown) waiting.push(proceed);
      else proceed();
    },
    beginStopping() {
      this.stopping = true;
    },
    beginShutdown() {
      this.shuttingDown = true;
      for (const proceed of waiting.splice(0)) proceed();
    },
  };
}
