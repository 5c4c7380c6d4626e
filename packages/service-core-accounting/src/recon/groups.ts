import type { CandidateIndex, PreparedEntry, PreparedTransaction } from './candidateIndex.js';
import { absMoney, compareMoney, unitsAt, type Money } from './money.js';
import { compareReferences, compareText } from './textEvidence.js';
import type { ReconRules } from './types.js';

/**
 * Many-to-one suggestions (docs/RECON.md "Groups"): a bank line paying several open entries of
 * one counterparty at once (a batch), or one entry paid by several lines (a split). The parts
 * must add up exactly and be identified with the line by name or reference; a group is only
 * ever suggested, never matched.
 */

/** A batch or split found for one line. */
export interface GroupFinding {
  kind: 'batch' | 'split';
  /** The entries: several for a batch (by date, then id), one for a split. */
  entries: PreparedEntry[];
  /** For a split: every line of it, this one included, sorted. */
  transactionIds: string[];
  /** How many combinations of the parts add up (1 = unambiguous; counted up to 3). */
  combinations: number;
}

/**
 * The entries a line could be grouped with, found before anything is decided (so a line's
 * candidate trace does not depend on the decisions): identified with it, of its currency and
 * sign, dated from `groupWindowDays` before it to `dateSearchDays` after, nearest first.
 */
export interface GroupParts {
  /** Smaller than the line: parts of a batch it may pay. */
  readonly smaller: readonly PreparedEntry[];
  /** Larger than the line: entries it may pay a part of. */
  readonly larger: readonly PreparedEntry[];
}

/** A line that may be part of a group: not matched, not blocked. */
export interface OpenLine {
  tx: PreparedTransaction;
  parts: GroupParts;
}

/** The identity a part must have with the line, by text or reference. */
const MIN_IDENTITY = 0.8;
/** Parts searched per line (the nearest in time). */
const MAX_PARTS_SEARCHED = 16;
/** Combinations counted before giving up (the answer is then "ambiguous" anyway). */
const MAX_COMBINATIONS = 3;

const absUnits = (money: Money, scale: number): bigint => {
  const units = unitsAt(money, scale);
  return units < 0n ? -units : units;
};

function identifies(tx: PreparedTransaction, entry: PreparedEntry, weight: (word: string) => number, aliases?: ReadonlySet<string>): boolean {
  if (compareReferences(tx.text, entry.text).state === 'match') return true;
  return compareText(tx.text, entry.text, weight, aliases).score >= MIN_IDENTITY;
}

/**
 * Combinations of `sizes` (absolute units) of `minParts`..`maxParts` elements that add up to
 * `target`, at most `MAX_COMBINATIONS` of them; indices in ascending order.
 */
function combinationsSumming(sizes: readonly bigint[], target: bigint, minParts: number, maxParts: number): number[][] {
  const found: number[][] = [];
  const chosen: number[] = [];
  const order = sizes.map((_, i) => i).sort((a, b) => (sizes[b]! > sizes[a]! ? 1 : sizes[b]! < sizes[a]! ? -1 : a - b));
  const walk = (from: number, left: bigint): void => {
    if (found.length >= MAX_COMBINATIONS) return;
    if (left === 0n) {
      if (chosen.length >= minParts) found.push([...chosen].sort((a, b) => a - b));
      return;
    }
    if (chosen.length >= maxParts) return;
    for (let k = from; k < order.length; k++) {
      const i = order[k]!;
      const size = sizes[i]!;
      if (size > left || size === 0n) continue;
      chosen.push(i);
      walk(k + 1, left - size);
      chosen.pop();
    }
  };
  walk(0, target);
  return found;
}

/** The entries a line may be grouped with (`GroupParts`). */
export function groupPartsOf(tx: PreparedTransaction, index: CandidateIndex, rules: ReconRules, aliases?: ReadonlySet<string>): GroupParts {
  const weight = index.wordWeightAround(tx.day);
  const smaller: PreparedEntry[] = [];
  const larger: PreparedEntry[] = [];
  for (const entry of index.nearbyByText(tx, rules.groupWindowDays, rules.dateSearchDays)) {
    if (entry.currency !== tx.currency) continue;
    const size = compareMoney(absMoney(entry.money), absMoney(tx.money));
    if (size === 0 || !identifies(tx, entry, weight, aliases)) continue;
    (size < 0 ? smaller : larger).push(entry);
  }
  const nearest = (a: PreparedEntry, b: PreparedEntry): number => Math.abs(tx.day - a.day) - Math.abs(tx.day - b.day) || (a.id < b.id ? -1 : 1);
  return { smaller: smaller.sort(nearest).slice(0, MAX_PARTS_SEARCHED), larger: larger.sort(nearest).slice(0, MAX_PARTS_SEARCHED) };
}

/**
 * The batch a line pays: 2..`groupMaxParts` of its smaller parts, none `excluded` (matched
 * elsewhere), that add up to its amount exactly.
 */
export function findBatch(line: OpenLine, rules: ReconRules, excluded: (entryId: string) => boolean): GroupFinding | null {
  const { tx } = line;
  const parts = line.parts.smaller.filter((entry) => !excluded(entry.id));
  if (parts.length < 2) return null;
  const common = Math.max(tx.money.scale, ...parts.map((entry) => entry.money.scale));
  const combos = combinationsSumming(
    parts.map((entry) => absUnits(entry.money, common)),
    absUnits(tx.money, common),
    2,
    rules.groupMaxParts,
  );
  const first = combos[0];
  if (!first) return null;
  const entries = first.map((i) => parts[i]!).sort((a, b) => a.day - b.day || (a.id < b.id ? -1 : 1));
  return { kind: 'batch', entries, transactionIds: [tx.id], combinations: combos.length };
}

/**
 * Splits: for every entry (not `excluded`) that is a larger part of two or more open lines, the
 * lines (2..`groupMaxParts`) that add up to it exactly. Answers each such line's finding.
 */
export function findSplits(lines: readonly OpenLine[], rules: ReconRules, excluded: (entryId: string) => boolean): Map<string, GroupFinding> {
  const linesByEntry = new Map<PreparedEntry, OpenLine[]>();
  for (const line of lines) {
    for (const entry of line.parts.larger) {
      if (excluded(entry.id)) continue;
      const list = linesByEntry.get(entry);
      if (list) list.push(line);
      else linesByEntry.set(entry, [line]);
    }
  }
  const findings = new Map<string, GroupFinding>();
  const entries = [...linesByEntry.keys()].sort((a, b) => a.day - b.day || (a.id < b.id ? -1 : 1));
  for (const entry of entries) {
    const candidates = (linesByEntry.get(entry) ?? [])
      .filter((line) => !findings.has(line.tx.id))
      .sort((a, b) => a.tx.day - b.tx.day || (a.tx.id < b.tx.id ? -1 : 1))
      .slice(0, MAX_PARTS_SEARCHED);
    if (candidates.length < 2) continue;
    const common = Math.max(entry.money.scale, ...candidates.map((line) => line.tx.money.scale));
    const combos = combinationsSumming(
      candidates.map((line) => absUnits(line.tx.money, common)),
      absUnits(entry.money, common),
      2,
      rules.groupMaxParts,
    );
    const first = combos[0];
    if (!first) continue;
    const transactionIds = first.map((i) => candidates[i]!.tx.id).sort();
    for (const i of first) {
      findings.set(candidates[i]!.tx.id, { kind: 'split', entries: [entry], transactionIds, combinations: combos.length });
    }
  }
  return findings;
}
