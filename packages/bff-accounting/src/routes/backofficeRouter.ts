import { extname, relative, sep } from 'node:path';
import express, { Router, type Response } from 'express';
import { NotFoundError } from '@accounting/service-core-accounting';

export interface BackofficeRouterDeps {
  /** The built web app (`packages/backoffice-web/dist`): `index.html` and hashed `assets/`. */
  dir: string;
  /** Tell the app to show its tenant/role picker (embedded demo) instead of relying on the gateway. */
  identityPicker?: boolean;
}

/** Vite names every file under `assets/` by its content hash: it can be cached for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** `index.html` names the current hashes, so it is always revalidated. */
const REVALIDATE = 'no-cache';
const INDEX_CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const NOT_BUILT = 'the Backoffice web app is not built (no index.html in BACKOFFICE_DIR): run "pnpm run build"';

function sendIndex(res: Response, dir: string, next: (err?: unknown) => void): void {
  res.sendFile('index.html', { root: dir, headers: { 'Cache-Control': REVALIDATE, 'Content-Security-Policy': INDEX_CSP } }, (err?: NodeJS.ErrnoException) => {
    if (!err || res.headersSent) return;
    next(err.code === 'ENOENT' ? new NotFoundError(NOT_BUILT) : err);
  });
}

/**
 * Serves the Backoffice single-page app under `/backoffice/`: its files as built, `index.html`
 * for every other path without a file extension (the app's own routes, e.g. the feedback deep
 * link `/backoffice/audit?tenant=..&subject_id=..`), and `/backoffice/config.json` telling the
 * app how tenant and role are set. Never gated: the app's API calls carry the tenant and role.
 * An unknown file is the usual 404 `NOT_FOUND`, as is every path while the build is missing.
 */
export function createBackofficeRouter({ dir, identityPicker = false }: BackofficeRouterDeps): Router {
  const router = Router({ strict: true });

  router.use('/backoffice', (_req, res, next) => {
    res.locals.routeLabel = '/backoffice';
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });

  router.get('/backoffice', (req, res) => {
    const query = req.originalUrl.indexOf('?');
    res.redirect(301, `/backoffice/${query >= 0 ? req.originalUrl.slice(query) : ''}`);
  });

  router.get('/backoffice/config.json', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ identity: identityPicker ? 'picker' : 'gateway' });
  });

  router.use(
    '/backoffice',
    express.static(dir, {
      index: false,
      redirect: false,
      setHeaders: (res, path) => {
        res.setHeader('Cache-Control', relative(dir, path).startsWith(`assets${sep}`) ? IMMUTABLE : REVALIDATE);
        if (path.endsWith('.html')) res.setHeader('Content-Security-Policy', INDEX_CSP);
      },
    }),
  );

  router.get('/backoffice/{*route}', (req, res, next) => {
    // A missing file (a stale hash, a typo) is a 404, never the app's HTML under a .js name.
    if (extname(req.path) !== '') {
      next();
      return;
    }
    sendIndex(res, dir, next);
  });

  return router;
}
