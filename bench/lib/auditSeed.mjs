// Seeds audit_events for bench/audit.mjs with one INSERT ... SELECT FROM generate_series.
//
// Rows of the benchmarked tenant ("default") are interleaved with rows of two other tenants
// (10 : 2 : 1), as concurrent tenants would write them, so the table is larger than one
// tenant and a tenant's rows are not physically clustered. Everything is derived from the row
// number with hashint8, so the same size gives the same data on every run.
//
// Shape (per tenant):
//   action   recon_decision 45 %, manual_review_request 30 %, external_sync_failed 10 %,
//            export_created 10 %, export_aborted 3 %, external_source_configured 2 %
//   subject  bank transactions tx_<n> from a pool of rows/4 ids (about 3 events per
//            transaction, from reviews and recon decisions), the source bank_sbx, exports
//   summary  what the product writes; a manual review's reason names a counterparty out of
//            15 x 20 = 300 names, so one name is in 0.1 % of a tenant's rows
//   ts       two years up to now, ascending with id, with +-20 s of jitter (ties broken by id)

/** Other tenants' rows per 10 rows of "default". */
export const TENANT_MIX = { default: 10, 'pilot-a': 2, 'pilot-b': 1 };

export const NAME_PREFIXES = [
  'NORDWIND', 'HALLASAN', 'BLUEFIN', 'CEDAR', 'GANGNAM', 'KESTREL', 'MAPLE', 'ORION',
  'PINECONE', 'QUARRY', 'RIVERSIDE', 'SEOUL', 'TAMARACK', 'UMBRA', 'VERDANT',
];
export const NAME_SUFFIXES = [
  'TRADING', 'LOGISTICS', 'FOODS', 'TEXTILES', 'MOTORS', 'PHARMA', 'STUDIO', 'SUPPLY',
  'ELECTRONICS', 'MARINE', 'CERAMICS', 'PRINTING', 'OPTICS', 'ROBOTICS', 'BAKERY',
  'HARDWARE', 'FURNITURE', 'PAPER', 'ACOUSTICS', 'GARDENS',
];
const REASONS = [
  'Amount differs from the invoice', 'Duplicate charge suspected', 'Counterparty not in the vendor list',
  'Receipt missing', 'FX rate looks wrong', 'Booked on the wrong account', 'Refund not matched',
  'Card payment without approval',
];
const SYNC_ERRORS = ['BANK_TIMEOUT', 'BANK_UNAVAILABLE', 'RATE_LIMITED', 'INVALID_CURSOR', 'DEADLINE_EXCEEDED'];

const sqlArray = (items) => `ARRAY[${items.map((s) => `'${s}'`).join(',')}]`;

/**
 * The seeding statement for `defaultRows` rows of tenant "default" (and the other tenants'
 * rows in TENANT_MIX proportion), ending at `now`.
 */
export function auditSeedSql(defaultRows) {
  const per = Object.values(TENANT_MIX).reduce((a, b) => a + b, 0);
  const total = Math.ceil((defaultRows * per) / TENANT_MIX.default);
  const cases = [];
  let upTo = 0;
  for (const [tenant, share] of Object.entries(TENANT_MIX)) {
    upTo += share;
    cases.push(`WHEN g % ${per} < ${upTo} THEN '${tenant}'`);
  }
  const subjectPool = Math.max(10, Math.floor(defaultRows / 4));
  const h = (salt) => `abs(hashint8(g::bigint * 16 + ${salt}))`;
  return `
WITH rows AS (
  SELECT g,
    CASE ${cases.join(' ')} END AS tenant,
    now() - interval '730 days' - interval '1 minute'
      + ((g::float8 / ${total}) * 730 * 86400 + (${h(1)} % 40001 - 20000) / 1000.0) * interval '1 second' AS ts,
    ${h(2)} % 100 AS a,
    ${h(3)} % 40 AS user_no,
    'tx_' || (${h(4)} % ${subjectPool}) AS tx,
    (${sqlArray(NAME_PREFIXES)})[1 + ${h(5)} % ${NAME_PREFIXES.length}] || ' ' ||
      (${sqlArray(NAME_SUFFIXES)})[1 + ${h(6)} % ${NAME_SUFFIXES.length}] AS counterparty,
    (${sqlArray(REASONS)})[1 + ${h(7)} % ${REASONS.length}] AS reason,
    (${sqlArray(SYNC_ERRORS)})[1 + ${h(8)} % ${SYNC_ERRORS.length}] AS sync_error,
    1000 + ${h(9)} % 5000000 AS amount
  FROM generate_series(1, ${total}) AS g
)
INSERT INTO audit_events (tenant, ts, actor_role, actor_id, action, subject_type, subject_id, summary, details, request_id)
SELECT tenant, ts,
  CASE WHEN a >= 75 AND a < 85 THEN 'system' WHEN a >= 85 AND user_no < 4 THEN 'admin' ELSE 'operator' END,
  CASE WHEN a >= 75 AND a < 85 THEN 'worker_sync_external' ELSE 'user_' || user_no END,
  CASE WHEN a < 45 THEN 'recon_decision' WHEN a < 75 THEN 'manual_review_request' WHEN a < 85 THEN 'external_sync_failed'
       WHEN a < 95 THEN 'export_created' WHEN a < 98 THEN 'export_aborted' ELSE 'external_source_configured' END,
  CASE WHEN a < 75 THEN 'bank_transaction' WHEN a < 85 OR a >= 98 THEN 'external_source' ELSE 'audit_export' END,
  CASE WHEN a < 75 THEN tx WHEN a < 85 OR a >= 98 THEN 'bank_sbx' ELSE 'exp_' || g END,
  CASE WHEN a < 45 THEN (CASE WHEN user_no % 5 = 0 THEN 'declined ' ELSE 'confirmed ' END) || tx || ' <-> le_' || (g / 3)
       WHEN a < 75 THEN reason || ': ' || counterparty || ' ' || amount || ' KRW'
       WHEN a < 85 THEN 'sync of bank_sbx failed: ' || sync_error
       WHEN a < 95 THEN 'audit export csv: ' || (amount % 20000) || ' rows, ' || (amount * 37) || ' bytes'
       WHEN a < 98 THEN 'audit export csv aborted (client_closed) after ' || (amount % 5000) || ' rows'
       ELSE 'updated bank_sbx source bank_sbx (enabled)' END,
  CASE WHEN a < 45 THEN jsonb_build_object('decision', CASE WHEN user_no % 5 = 0 THEN 'decline' ELSE 'confirm' END,
                                           'suggestion_id', g, 'source', 'bank_sbx', 'entry_id', 'le_' || (g / 3), 'status_before', 'suggested')
       WHEN a < 75 THEN jsonb_build_object('reason', reason || ': ' || counterparty || ' ' || amount || ' KRW')
       WHEN a < 85 THEN jsonb_build_object('run_id', g, 'error_code', sync_error, 'attempts', 1 + amount % 4)
       WHEN a < 98 THEN jsonb_build_object('format', 'csv', 'rows', amount % 20000)
       ELSE jsonb_build_object('enabled', true) END,
  'req_' || md5(g::text)
FROM rows
ORDER BY g`;
}
