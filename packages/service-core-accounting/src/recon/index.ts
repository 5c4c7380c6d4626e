export * from './types.js';
export {
  DEFAULT_RECON_RULES,
  RECON_RULE_IDS,
  candidateTraces,
  reconcile,
  reconcileTraced,
  type CandidateTrace,
  type ReconRuleId,
  type TracedReconciliation,
} from './reconcile.js';
export { aliasNameKey, sideAliasKey } from './textEvidence.js';
export { parseReconRules, reconEntryWindowDays } from './rules.js';
export { currencyMinorUnits, formatMoney, parseMoney, type Money } from './money.js';
export {
  DEFAULT_DATASET_NOISE,
  generateLabelledDataset,
  type DatasetNoise,
  type LabelledDataset,
  type LabelledDatasetOptions,
} from './labelledDataset.js';
export { formatReconAccuracy, isAutoMatchable, measureReconAccuracy, type ConfusionRow, type EntryAmount, type ReconAccuracy } from './accuracy.js';
