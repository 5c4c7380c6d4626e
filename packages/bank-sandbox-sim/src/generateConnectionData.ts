import { MS_PER_DAY, startOfUtcDay, toCalendarDate, toTimestamp } from './calendar.js';
import { CENT_TEMPLATES, WHOLE_UNIT_TEMPLATES, type Template } from './catalog.js';
import { formatMinorUnits, minorUnits } from './money.js';
import { createRandom, type Random } from './random.js';
import { inContractOrder } from './transactionShape.js';
import type { Account, Transaction } from './types.js';

/** What one connection of the sandbox holds when it is created. */
export interface ConnectionSpec {
  /** `connection_id`: 1-128 chars of `[A-Za-z0-9_.-]`. */
  id: string;
  /** Default: `acc_1` Operating (KRW) and `acc_2` USD Settlement (USD). */
  accounts?: Account[];
  /** Calendar days of history, ending today (UTC). */
  days: number;
  /** Transactions per day. */
  perDay: number;
}

export interface GeneratedConnection {
  accounts: Account[];
  /** Oldest first; ids `tx_<firstId>`, `tx_<firstId + 1>`, ... in that order. */
  transactions: Transaction[];
}

/** Pending card authorisations only occur this many days back from today. */
const PENDING_WINDOW_DAYS = 2;
const PENDING_CHANCE = 0.3;

function pickWeighted(random: Random, templates: readonly Template[], total: number): Template {
  let roll = random.next() * total;
  for (const template of templates) {
    roll -= template.weight;
    if (roll < 0) return template;
  }
  return templates[templates.length - 1] as Template;
}

function digits(random: Random, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += String(random.int(0, 9));
  return out;
}

function defaultAccounts(random: Random): Account[] {
  return [
    { account_id: 'acc_1', name: 'Operating', currency: 'KRW', mask: digits(random, 4) },
    { account_id: 'acc_2', name: 'USD Settlement', currency: 'USD', mask: digits(random, 4) },
  ];
}

interface AccountPlan {
  account: Account;
  templates: readonly Template[];
  totalWeight: number;
  cards: readonly string[];
}

function planAccount(account: Account, random: Random): AccountPlan {
  const templates = minorUnits(account.currency) === 0 ? WHOLE_UNIT_TEMPLATES : CENT_TEMPLATES;
  return {
    account,
    templates,
    totalWeight: templates.reduce((sum, t) => sum + t.weight, 0),
    cards: [digits(random, 4), digits(random, 4)],
  };
}

interface Texts {
  description: string;
  counterparty: string | null | undefined;
  reference: string | null | undefined;
}

/** Description, counterparty and reference; `undefined` means the key is absent. */
function describe(template: Template, name: string, card: string, area: string, date: string, random: Random): Texts {
  const yyyymm = date.slice(0, 7).replace('-', '');
  const invoice = `INV-${date.slice(0, 4)}-${digits(random, 4)}`;
  switch (template.kind) {
    case 'card':
      return {
        description: `CARD ${card} ${name}${area ? ` ${area}` : ''}`,
        counterparty: random.chance(0.95) ? name : undefined,
        reference: random.chance(0.6) ? undefined : null,
      };
    case 'transfer_out':
      return { description: `TRANSFER TO ${name}`, counterparty: name, reference: invoice };
    case 'transfer_in':
      return { description: `TRANSFER FROM ${name}`, counterparty: name, reference: random.chance(0.6) ? `PO-${digits(random, 6)}` : null };
    case 'wire_in':
      return { description: `WIRE FROM ${name}`, counterparty: name, reference: random.chance(0.7) ? invoice : null };
    case 'auto_debit':
      return { description: `AUTO DEBIT ${name}`, counterparty: name.split(' ')[0] ?? name, reference: `BILL-${yyyymm}-${digits(random, 6)}` };
    case 'fee':
      return { description: `BANK FEE ${name}`, counterparty: random.chance(0.5) ? null : undefined, reference: undefined };
    case 'payroll':
      return { description: `${name} ${yyyymm}`, counterparty: null, reference: `PAY-${yyyymm}-${digits(random, 3)}` };
  }
}

/**
 * The accounts and transaction history of one connection, fully determined by `seed`, the
 * spec and `now`: the same inputs always give the same data, and a connection's data does not
 * depend on which other connections exist. Amounts are decimal strings (KRW sometimes with
 * `.00`), a few recent card purchases are pending, and nothing is dated after `now`.
 */
export function generateConnectionData(spec: ConnectionSpec, seed: string, now: Date, firstId = 1): GeneratedConnection {
  const random = createRandom(`${seed}\u0000${spec.id}`);
  const accounts = spec.accounts ? spec.accounts.map((a) => ({ ...a })) : defaultAccounts(random);
  const plans = accounts.map((account) => planAccount(account, random));
  // The first account is the busy operating one; the others share a smaller part.
  const planWeights = plans.map((_, i) => (i === 0 ? 6 : 1));
  const planTotal = planWeights.reduce((a, b) => a + b, 0);

  const transactions: Transaction[] = [];
  if (plans.length === 0) return { accounts, transactions };
  const today = startOfUtcDay(now);
  const secondsIntoToday = Math.max(1, Math.floor((now.getTime() - today) / 1_000));
  let nextId = firstId;

  for (let day = spec.days - 1; day >= 0; day--) {
    const dayStart = today - day * MS_PER_DAY;
    const date = toCalendarDate(new Date(dayStart));
    const daySeconds = day === 0 ? secondsIntoToday : 86_400;
    const times = Array.from({ length: spec.perDay }, () => random.int(0, daySeconds - 1)).sort((a, b) => a - b);
    for (const second of times) {
      let roll = random.next() * planTotal;
      let plan = plans[0] as AccountPlan;
      for (let i = 0; i < plans.length; i++) {
        roll -= planWeights[i] as number;
        if (roll < 0) {
          plan = plans[i] as AccountPlan;
          break;
        }
      }
      const template = pickWeighted(random, plan.templates, plan.totalWeight);
      const name = random.pick(template.names);
      const area = template.areas ? random.pick(template.areas) : '';
      const card = random.pick(plan.cards);
      const minor = random.int(Math.ceil(template.min / template.step), Math.floor(template.max / template.step)) * template.step;
      const signed = template.direction === 'out' ? -minor : minor;
      const currency = plan.account.currency;
      const amount = formatMinorUnits(signed, currency, minorUnits(currency) === 0 && random.chance(0.3));
      const texts = describe(template, name, card, area, date, random);
      const pending = template.kind === 'card' && day < PENDING_WINDOW_DAYS && random.chance(PENDING_CHANCE);

      const tx: Transaction = {
        transaction_id: `tx_${nextId++}`,
        account_id: plan.account.account_id,
        amount,
        currency,
        booked_date: date,
        status: pending ? 'pending' : 'posted',
        pending_transaction_id: null,
        description: texts.description,
        counterparty: texts.counterparty,
        reference: texts.reference,
        updated_at: toTimestamp(dayStart + second * 1_000),
      };
      transactions.push(inContractOrder(tx));
    }
  }
  return { accounts, transactions };
}
