export type { PhoneAdapterKind } from './db';
export { type AutoTriggers, createPhone, PhoneDevice, type PhoneOptions, type PhoneSyncOutcome } from './phone';
export type { LocalConflict } from './resolver';
