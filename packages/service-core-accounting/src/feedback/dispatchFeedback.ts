import { leaseDueFeedback, markFeedbackDelivered, markFeedbackFailed, type Db, type FeedbackItem } from '@accounting/data-pg';

export interface FeedbackSettings {
  /** `FEEDBACK_WEBHOOK_URL`: a Slack-compatible incoming webhook (JSON with `text`). */
  webhookUrl: string;
  /** `BACKOFFICE_BASE_URL`, e.g. `https://backoffice.example.com/backoffice/`. */
  backofficeBaseUrl: string;
  fetch?: typeof globalThis.fetch;
  timeoutMs?: number;
  /** Attempts before an item is given up (kept with its last error). */
  maxAttempts?: number;
}

/** The Backoffice audit view filtered by the event's subject (the deep link of the feedback loop). */
export function backofficeAuditLink(baseUrl: string, tenant: string, subjectId: string | null): string {
  const url = new URL('audit', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('tenant', tenant);
  if (subjectId) url.searchParams.set('subject_id', subjectId);
  return url.toString();
}

/** Slack-compatible body: `text` with a link; the structured fields serve other receivers. */
export function feedbackPayload(item: FeedbackItem, link: string) {
  const subject = item.subjectId ?? '(no subject)';
  return {
    text: `[${item.tenant}] ${item.action} on ${subject}: ${item.summary} <${link}|open in Backoffice>`,
    tenant: item.tenant,
    action: item.action,
    subject_id: item.subjectId,
    audit_event_id: item.auditEventId,
    summary: item.summary,
    link,
  };
}

/** Exponential backoff between attempts: 10 s, 20 s, 40 s ... capped at 15 minutes. */
const retryDelaySeconds = (attempts: number) => Math.min(900, 10 * 2 ** (attempts - 1));

/**
 * Sends the due feedback items once (at-least-once delivery). Never throws for a webhook
 * failure: the item is rescheduled with backoff, or given up after `maxAttempts`.
 * Answers how many were delivered and how many failed this round.
 */
export async function dispatchFeedbackOnce(db: Db, settings: FeedbackSettings): Promise<{ delivered: number; failed: number }> {
  const fetchFn = settings.fetch ?? globalThis.fetch;
  const maxAttempts = settings.maxAttempts ?? 8;
  const items = await leaseDueFeedback(db, { limit: 20, leaseSeconds: 60, maxAgeHours: 24 });
  let delivered = 0;
  let failed = 0;
  for (const item of items) {
    const link = backofficeAuditLink(settings.backofficeBaseUrl, item.tenant, item.subjectId);
    let error: string | undefined;
    try {
      const res = await fetchFn(settings.webhookUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(feedbackPayload(item, link)),
        signal: AbortSignal.timeout(settings.timeoutMs ?? 5_000),
      });
      await res.body?.cancel();
      if (!res.ok) error = `webhook answered ${res.status}`;
    } catch (err) {
      error = err instanceof Error && err.name === 'TimeoutError' ? 'webhook timed out' : 'webhook unreachable';
    }
    if (error === undefined) {
      await markFeedbackDelivered(db, item.tenant, item.id);
      delivered += 1;
    } else {
      await markFeedbackFailed(db, item.tenant, item.id, error, item.attempts >= maxAttempts ? null : retryDelaySeconds(item.attempts));
      failed += 1;
    }
  }
  return { delivered, failed };
}
