import express, { type Express } from 'express';
import { createLogger, type Logger } from '../../src/logger.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { requestContext } from '../../src/middleware/requestContext.js';
import { installRequestLog } from '../../src/middleware/requestLogger.js';
import { LogCapture } from '../../../../test/support/app.js';

/**
 * A bare Express app with only what `createApp` puts first: `req.log` and the request context
 * (request id, the access line, the HTTP metrics). Middleware tests add their own routes.
 * `wrapLogger` lets a test observe the logger (e.g. count `child()` calls).
 */
export function contextApp(wrapLogger: (logger: Logger) => Logger = (logger) => logger): { app: Express; logs: LogCapture; metrics: Metrics } {
  const logs = new LogCapture();
  const logger = wrapLogger(createLogger('info', logs));
  const metrics = createMetrics({ defaultMetrics: false });
  const app = express();
  installRequestLog(app, logger);
  app.use(requestContext({ logger, metrics, lifecycle: { shuttingDown: false } }));
  return { app, logs, metrics };
}
