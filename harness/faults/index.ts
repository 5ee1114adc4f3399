export * from './nemesis';
export * from './network';
export * from './types';
