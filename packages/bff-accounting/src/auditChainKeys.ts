import { createAuditChainKeyring, DEVELOPMENT_AUDIT_CHAIN_KEY, setAuditChainKeyring, type AuditChainKeyring } from '@accounting/data-pg';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

/** The chain keys of `config`: `AUDIT_CHAIN_KEY` (or, outside production, the public development key) and `AUDIT_CHAIN_KEY_PREV`. */
export function auditChainKeyring(config: Config['auditChain']): AuditChainKeyring {
  return createAuditChainKeyring(config.key ?? DEVELOPMENT_AUDIT_CHAIN_KEY, config.previousKey);
}

/**
 * Makes `config`'s chain keys the ones every audit event of this process is chained with, and
 * says which (by key id, never the key). Without `AUDIT_CHAIN_KEY` (only possible outside
 * production) a warning says the chain proves nothing.
 */
export function installAuditChainKeyring(config: Config['auditChain'], logger: Logger): AuditChainKeyring {
  const keyring = auditChainKeyring(config);
  setAuditChainKeyring(keyring);
  const keyIds = [...keyring.byId.keys()];
  if (config.key) logger.info({ key_id: keyring.current.id, key_ids: keyIds }, 'audit chain keys loaded');
  else logger.warn({ key_id: keyring.current.id }, 'AUDIT_CHAIN_KEY is not set: audit events are chained with the public development key, which proves nothing');
  return keyring;
}
