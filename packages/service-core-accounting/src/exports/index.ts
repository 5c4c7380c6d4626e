export * from './exportSigning.js';
export * from './auditExportFormats.js';
export * from './auditExport.js';
export * from './ExportSlots.js';
