import type { Request, RequestHandler, Router } from 'express';
import type { ApiRoute } from '../policy/permissions.js';
import type { PolicyContext } from '../types.js';

/** Registers `handler` for a policy-table route, so the path exists in one place only. */
export function addRoute(router: Router, route: ApiRoute, handler: RequestHandler): void {
  switch (route.method) {
    case 'GET':
      router.get(route.path, handler);
      break;
    case 'POST':
      router.post(route.path, handler);
      break;
    case 'PUT':
      router.put(route.path, handler);
      break;
    case 'DELETE':
      router.delete(route.path, handler);
      break;
  }
}

/** The tenant and role `osPolicyBridge` resolved; a handler outside the bridge is a bug. */
export function policyOf(req: Request): PolicyContext {
  if (!req.policy) throw new Error('route registered outside osPolicyBridge: no policy context');
  return req.policy;
}
