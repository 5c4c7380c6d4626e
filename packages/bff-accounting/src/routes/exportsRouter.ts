import express, { Router, type Request, type Response } from 'express';
import type { Db } from '@accounting/data-pg';
import {
  createExportKeyring,
  EXPORT_SIGNATURE_HEADER,
  ExportSlots,
  getExportSignature,
  requireExportKeyring,
  sha256Of,
  startAuditExport,
  verifyExportSignature,
  type AuditExport,
} from '@accounting/service-core-accounting';
import type { Config } from '../config.js';
import { parseInput } from '../middleware/errors.js';
import { API_ROUTES } from '../policy/permissions.js';
import { addRoute, policyOf } from './route.js';
import { exportParams, exportQuery, signatureHeader, verifyDigestBody } from './schemas/exportsSchemas.js';

export interface ExportsRouterDeps {
  db: Db;
  config: Config;
}

/** Whether the response can end in an HTTP trailer: a chunked body, i.e. HTTP/1.1 or later. */
function supportsTrailers(req: Request): boolean {
  return req.httpVersionMajor > 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1);
}

/** Headers only the streamed export carries; an error answered before any byte drops them. */
const EXPORT_HEADERS = ['Content-Disposition', 'Cache-Control', 'X-Export-Id', 'Trailer'];

/**
 * Streams `exp` as the response body and ends it with the signature as the trailer
 * `X-Export-Signature` (HTTP/1.1; other clients read it from the signature route by `X-Export-Id`).
 * HEAD gets the content type only: no export runs and nothing is recorded.
 */
async function sendExport(req: Request, res: Response, exp: AuditExport): Promise<void> {
  res.status(200).type(exp.contentType);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const trailers = supportsTrailers(req);
  res.set({
    'Content-Disposition': `attachment; filename="${exp.fileName}"`,
    'Cache-Control': 'no-store',
    'X-Export-Id': exp.exportId,
    ...(trailers ? { Trailer: EXPORT_SIGNATURE_HEADER } : {}),
  });
  const receipt = await exp.writeTo(res).catch((err: unknown) => {
    // Nothing sent yet: the error handler answers in JSON, which must not announce a trailer.
    if (!res.headersSent) for (const name of EXPORT_HEADERS) res.removeHeader(name);
    throw err;
  });
  if (!receipt) return; // the client went away; export_aborted is recorded
  if (trailers) {
    // An empty export wrote nothing yet: send the headers now, so the body is chunked and can end in a trailer.
    if (!res.headersSent) res.flushHeaders();
    res.addTrailers({ [EXPORT_SIGNATURE_HEADER]: receipt.signature });
  }
  res.end();
}

/** What to verify: raw bytes with the signature in a header, or JSON `{sha256, signature}`. */
function verifyInput(req: Request): { sha256: Buffer; signature: string } {
  if (Buffer.isBuffer(req.body)) {
    const headers = parseInput(signatureHeader, { 'x-export-signature': req.get(EXPORT_SIGNATURE_HEADER) }, 'headers');
    return { sha256: sha256Of(req.body), signature: headers['x-export-signature'] };
  }
  const body = parseInput(verifyDigestBody, req.body, 'body');
  return { sha256: Buffer.from(body.sha256, 'hex'), signature: body.signature };
}

/** Signed audit exports: the streamed export, its signature, and verification (docs/EXPORTS.md). */
export function createExportsRouter({ db, config }: ExportsRouterDeps): Router {
  const router = Router();
  const keyring = createExportKeyring(config.exportSigning);
  const slots = new ExportSlots(config.exports.maxConcurrent);

  addRoute(router, API_ROUTES.exportAuditEvents, async (req, res) => {
    const signing = requireExportKeyring(keyring);
    const { tenant, role, userId } = policyOf(req);
    const query = parseInput(exportQuery, req.query, 'query');
    // HEAD runs no export, so it takes no slot. A slot comes back when the export ends or
    // fails, or as soon as the client goes away (the export stops at its next slice).
    const slot = req.method === 'HEAD' ? undefined : slots.acquire();
    if (slot) res.once('close', slot.release);
    await startAuditExport(db, signing, { tenant, role: role ?? 'unmapped', userId, requestId: req.requestId }, query)
      .then((exp) => sendExport(req, res, exp))
      .finally(() => slot?.release());
  });

  addRoute(router, API_ROUTES.getExportSignature, async (req, res) => {
    requireExportKeyring(keyring);
    const { tenant } = policyOf(req);
    const { exportId } = parseInput(exportParams, req.params, 'path');
    res.json(await getExportSignature(db, tenant, exportId));
  });

  // Raw bytes to verify arrive as application/octet-stream (JSON bodies are parsed for all of /v1).
  addRoute(router, API_ROUTES.verifyExport, express.raw({ type: 'application/octet-stream', limit: config.requestBodyLimit }));
  addRoute(router, API_ROUTES.verifyExport, async (req, res) => {
    const signing = requireExportKeyring(keyring);
    const { tenant } = policyOf(req);
    const input = verifyInput(req);
    // Checked with the caller's tenant keys: another tenant's export never verifies here.
    const verification = verifyExportSignature(signing, tenant, input.sha256, input.signature);
    res.json({ ...verification, sha256: input.sha256.toString('hex') });
  });

  return router;
}
