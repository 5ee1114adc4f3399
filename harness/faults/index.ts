export * from './nemesis';
export * from './network';
export * from './plugin';
export * from './registry';
export * from './types';
