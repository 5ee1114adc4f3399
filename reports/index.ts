/** Public surface of reports/: the reporter registry, the report commands and the contract types. */
export { exitCodeFor } from './base';
export { compareRuns, diffRuns, generateReport, mergeReports, readRunResult, serveReport } from './commands';
export { ReportError } from './errors';
export { Multiplexer } from './multiplexer';
export { BUILTIN_REPORTERS, createReporters, defaultReporterSpecs, defaultTerminalReporter } from './registry';
export type * from './types';
