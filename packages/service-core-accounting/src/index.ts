export * from './errors.js';
export * from './audit/manualReview.js';
